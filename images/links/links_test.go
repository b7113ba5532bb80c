// Package links_test runs the images with plain `docker run --link` on the
// default bridge: the oldest way to wire a Spark cluster with Docker, where
// the workers find the master through the link's environment variables
// and its /etc/hosts line (source docker-links).
package links_test

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

func TestDockerRunLinks(t *testing.T) {
	e2e.Require(t)
	runLinks(t, "docker-links", "link", "latest", e2e.Python(t))
}

// TestDockerRunLinks35 runs the same path on Spark's other line (3.5.x,
// images tagged with its version, `make images-35`), with a driver of the
// same pyspark.
func TestDockerRunLinks35(t *testing.T) {
	version := e2e.Versions(t)["SPARK_VERSION_35"]
	if version == "" {
		t.Fatal("scripts/versions.env sets no SPARK_VERSION_35")
	}
	e2e.RequireTag(t, version, "images-35")
	runLinks(t, "docker-links-"+version[:strings.LastIndex(version, ".")], "link35", version, e2e.PythonFor(t, version))
}

// runLinks runs the path with the images tagged tag and the driver's
// Python py, and prints its matrix line as path.
func runLinks(t *testing.T, path, kind, tag, py string) {
	m := e2e.NewMatrix(t, path)
	start := time.Now()
	prefix := e2e.Name(kind)
	res := e2e.NewResources(t, prefix)
	masterImage, workerImage := "snufkin/spark-master:"+tag, "snufkin/spark-worker:"+tag

	master := prefix + "-spark-master"
	res.Container(master)
	// Random loopback ports: another cluster may hold 7077 and 8080.
	e2e.Run(t, "docker", "run", "-d", "--name", master,
		"-p", "127.0.0.1::7077", "-p", "127.0.0.1::8080", "--stop-timeout", "10",
		masterImage)
	ids := startWorkers(t, res, prefix, master, workerImage)
	checkFormation(t, m, master, ids)

	// What the images' HEALTHCHECK runs.
	for _, id := range ids {
		e2e.CheckReady(t, id, "worker")
	}
	e2e.CheckReady(t, master, "master")

	// The 2015 post's drivers, typed into the master's container.
	m.OK("shell", e2e.CheckDriversInMaster(t, master))

	// The Connect server, linked as the workers are; Spark 3.5 has none
	// in its jars, and connect says so at once.
	connect := prefix + "-connect"
	connectReady := false
	if hasConnect(t, workerImage) {
		res.Container(connect)
		e2e.Run(t, "docker", "run", "-d", "--name", connect, "--link", master+":spark-master",
			"-p", "127.0.0.1::"+e2e.ConnectPort, "--stop-timeout", "10", workerImage, "connect")
		connectReady = e2e.WaitConnectReady(t, connect, 3*time.Minute)
	} else {
		out, err := e2e.Try("docker", "run", "--rm", "--link", master+":spark-master", workerImage, "connect")
		refused := strings.Contains(out, "has no jars/spark-connect_*.jar")
		if code := exitCode(err); code != 64 || !refused {
			t.Errorf("connect on %s: exit %d, want 64 naming the missing jar:\n%s", workerImage, code, out)
		}
		m.Set("connect", "refused(no-connect-in-"+tag+")")
		connect = ""
	}

	jobOK, _ := e2e.JobWith(t, py, "spark://127.0.0.1:"+e2e.Published(t, master, "7077/tcp"), e2e.Gateway(t, master), e2e.Workers)
	m.OK("job", jobOK)
	// The same driver, from what `entrypoint driver-conf` prints in a worker.
	m.OK("driver-conf", e2e.CheckDriverConf(t, ids[0], master, py, e2e.Workers))

	job := func() bool {
		ok, _ := e2e.JobWith(t, py, "spark://127.0.0.1:"+e2e.Published(t, master, "7077/tcp"), e2e.Gateway(t, master), e2e.Workers)
		return ok
	}
	e2e.CheckMasterRestartFrom(t, m, e2e.Published(t, master, "8080/tcp"), e2e.Workers, func() e2e.Restarted { return restartMaster(t, prefix, master, workerImage) }, job)

	// The server's application came through the master's restart on a
	// new address; the classic jobs are done, so its executors take no
	// cores they need.
	if connect != "" {
		ok, _ := e2e.ConnectJob(t, "sc://localhost:"+e2e.Published(t, connect, e2e.ConnectPort+"/tcp"), "", e2e.Workers)
		// The worker image's HEALTHCHECK names no role: it checks the one
		// PID 1 runs, connect here.
		health := strings.TrimSpace(e2e.Run(t, "docker", "inspect", "-f", "{{.State.Health.Status}}", connect))
		if health != "healthy" {
			t.Errorf("connect container's health is %q, want healthy", health)
		}
		m.OK("connect", connectReady && ok && health == "healthy")
	}

	// A lost worker is replaced by hand: docker run has no controller.
	replacement, _ := e2e.CheckWorkerKill(t, m, e2e.Published(t, master, "8080/tcp"), e2e.Workers, ids[0], func() string {
		name := fmt.Sprintf("%s-worker-%d", prefix, e2e.Workers+1)
		res.Container(name)
		e2e.Run(t, "docker", "run", "-d", "--name", name, "--link", master+":spark-master",
			"--stop-timeout", "10", workerImage)
		return name
	})
	if replacement != "" {
		ids = append(ids[1:], replacement)
	}

	all := append(ids, master)
	if connect != "" {
		all = append(all, connect)
	}
	for _, id := range all {
		e2e.CheckProcesses(t, id)
	}
	m.OK("stop", e2e.Stop(t, all))
	t.Logf("%s path took %s", path, time.Since(start).Round(time.Second))
}

// startWorkers runs e2e.Workers workers of image linked to master, as the
// 2015 post did, and returns their names.
func startWorkers(t *testing.T, res *e2e.Resources, prefix, master, image string) []string {
	t.Helper()
	var ids []string
	for i := 1; i <= e2e.Workers; i++ {
		name := fmt.Sprintf("%s-worker-%d", prefix, i)
		res.Container(name)
		e2e.Run(t, "docker", "run", "-d", "--name", name, "--link", master+":spark-master",
			"--stop-timeout", "10", image)
		ids = append(ids, name)
	}
	return ids
}

// checkFormation checks that every worker found the master through the
// link, that all are ALIVE at it, and that master and worker JVMs map
// their class-data archives.
func checkFormation(t *testing.T, m *e2e.Matrix, master string, ids []string) {
	t.Helper()
	ok := true
	for _, id := range ids {
		ok = e2e.CheckDiscovery(t, id, "docker-links", "spark://spark-master:7077") && ok
	}
	m.OK("discovery", ok)
	e2e.RequireAlive(t, m, e2e.Published(t, master, "8080/tcp"), e2e.Workers, 3*time.Minute)
	m.OK("class-archive", e2e.CheckClassArchive(t, master, "master") && e2e.CheckClassArchive(t, ids[0], "worker"))
}

// restartMaster stops the master, lets another container take its address
// and starts it again, so it comes back on a new IP. Docker rewrites the
// link's /etc/hosts line in every worker; the workers dial the configured
// name again (preferConfiguredMasterAddress, a 1 s JVM address cache).
func restartMaster(t *testing.T, prefix, master, image string) e2e.Restarted {
	t.Helper()
	oldIP := e2e.IP(t, master)
	e2e.Run(t, "docker", "stop", "-t", "10", master)
	release := e2e.HoldAddress(t, prefix+"-filler", "bridge", image)
	defer release()
	e2e.Run(t, "docker", "start", master)
	return e2e.Restarted{OldIP: oldIP, NewIP: e2e.IP(t, master), UI: e2e.Published(t, master, "8080/tcp")}
}

// hasConnect reports whether image's Spark ships the Connect server.
func hasConnect(t *testing.T, image string) bool {
	t.Helper()
	out := e2e.Run(t, "docker", "run", "--rm", "--entrypoint", "sh", image, "-c", "ls /opt/spark/jars/ | grep -c '^spark-connect_' || true")
	return strings.TrimSpace(out) != "0"
}

// exitCode is the exit status in err, 0 for nil, -1 when there is none.
func exitCode(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	return -1
}
