package ecs_test

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// checkShuffle runs testdata/shufflejob.py from the host against the
// bridge-mode cluster at masterURL, with two executors on each worker of
// state (one where a worker has one core): a groupByKey over data on
// every executor, whose reduce tasks fetch the map output of executors on
// other instances, through each instance's host ports, at the instance's
// name and the port the executor's block manager bound; then a job whose
// task results are too large to travel with the status update, so that
// the driver fetches them from the executors the same way. It wants both
// answers right, two block managers at each instance's name on two ports
// (of ENTRYPOINT_EXECUTOR_PORTS when the task definition sets it), and the
// driver's REST API counting remote shuffle blocks and bytes, and blocks
// that reduce tasks read from map tasks of other instances.
//
// The driver on the host is no instance of the VPC and cannot ask its
// resolver; its JVM gets the instances' names from a hosts file instead
// (jdk.net.hosts.file, the JDK's own property for a resolver backed by a
// hosts file), as the VPC resolver would answer them.
func checkShuffle(t *testing.T, m *e2e.Matrix, worker cdef, masterURL, driverHost string, insts []*instance, state e2e.MasterJSON) {
	t.Helper()
	start := time.Now()
	// Two executors per worker where the workers have the cores for them
	// (one each): their block managers need two ports of each instance.
	perWorker := 2
	for _, w := range state.Workers {
		perWorker = min(perWorker, w.Cores)
	}
	hosts := filepath.Join(t.TempDir(), "hosts")
	hostname, _ := os.Hostname()
	lines := []string{"127.0.0.1 localhost " + hostname}
	for _, in := range insts {
		lines = append(lines, in.ip+" "+in.dnsName)
	}
	if err := os.WriteFile(hosts, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := append(e2e.DriverEnv(), "SPARK_SUBMIT_OPTS="+strings.TrimSpace(os.Getenv("SPARK_SUBMIT_OPTS")+" -Djdk.net.hosts.file="+hosts))
	port := e2e.FreePortPair(t)
	argv := []string{e2e.Python(t), filepath.Join(e2e.Root, "images", "ecs", "testdata", "shufflejob.py"),
		"--master", masterURL, "--driver-host", driverHost, "--driver-port", strconv.Itoa(port),
		"--executors", strconv.Itoa(perWorker * len(insts)), "--per-worker", strconv.Itoa(perWorker)}
	t.Logf("shuffle: driver on the host: master %s, spark.driver.host=%s, driver ports %d/%d", masterURL, driverHost, port, port+1)
	out, err := e2e.TryEnv(env, argv...)
	var managers []string
	remote, cross := -1, -1
	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, "shuffle:") {
			continue
		}
		t.Log(line)
		f := strings.Fields(line)
		if len(f) >= 3 && f[1] == "block_manager" {
			managers = append(managers, f[2])
		}
		for _, w := range f {
			if v, ok := strings.CutPrefix(w, "remote_blocks_fetched="); ok {
				remote, _ = strconv.Atoi(v)
			}
			if v, ok := strings.CutPrefix(w, "cross_host_blocks="); ok {
				cross, _ = strconv.Atoi(v)
			}
		}
	}
	ok := err == nil && strings.Contains(out, "shuffle: result=ok") && strings.Contains(out, "shuffle: OK") && remote > 0 && cross > 0
	if !ok {
		t.Errorf("shufflejob.py: %v, remote_blocks_fetched=%d cross_host_blocks=%d; want the checked result and reads across instances:\n%s", err, remote, cross, e2e.JobErrors(out))
	}
	if !checkBlockManagers(t, worker, managers, insts, perWorker) {
		ok = false
	}
	t.Logf("shuffle check took %s", time.Since(start).Round(time.Second))
	if ok {
		m.Set("shuffle", "ok(cross-instance)")
	} else {
		m.Set("shuffle", "fail")
	}
}

// checkBlockManagers wants perWorker block managers (HOST:PORT) at each
// instance's name, on as many ports, of ENTRYPOINT_EXECUTOR_PORTS when the
// worker's task definition sets it.
func checkBlockManagers(t *testing.T, worker cdef, managers []string, insts []*instance, perWorker int) bool {
	t.Helper()
	r, _, _, _ := executorPorts(worker) // checkExecutorPorts reports a bad one
	ports := map[string][]int{}
	ok := true
	for _, hp := range managers {
		host, p, _ := strings.Cut(hp, ":")
		port, _ := strconv.Atoi(p)
		if r.Set() && (port < r.First || port > r.Last) {
			t.Errorf("block manager %s: port outside ENTRYPOINT_EXECUTOR_PORTS=%d-%d", hp, r.First, r.Last)
			ok = false
		}
		if slices.Contains(ports[host], port) {
			t.Errorf("block manager %s listed twice", hp)
			ok = false
		}
		ports[host] = append(ports[host], port)
	}
	for _, in := range insts {
		if len(ports[in.dnsName]) != perWorker {
			t.Errorf("instance %s: block managers on ports %v, want %d", in.dnsName, ports[in.dnsName], perWorker)
			ok = false
		}
	}
	if len(managers) != perWorker*len(insts) {
		t.Errorf("block managers %q: want %d at the instances' names", managers, perWorker*len(insts))
		ok = false
	}
	return ok
}
