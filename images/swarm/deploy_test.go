package swarm_test

import (
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// TestStackDeploy deploys the stack on a single-node swarm (made with
// `docker swarm init --advertise-addr 127.0.0.1` when the daemon is not in
// one, and left again afterwards), checks discovery, three ALIVE workers,
// a job from a driver container outside the stack, and a clean stop.
func TestStackDeploy(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "swarm")
	if state, _ := e2e.Try("docker", "info", "-f", "{{.Swarm.LocalNodeState}}"); strings.TrimSpace(state) != "active" {
		e2e.Run(t, "docker", "swarm", "init", "--advertise-addr", "127.0.0.1")
		t.Cleanup(func() {
			if out, err := e2e.Try("docker", "swarm", "leave", "--force"); err != nil {
				t.Errorf("docker swarm leave: %v\n%s", err, out)
			}
		})
	}
	stack := e2e.Name("stack")
	ui, connectPort, historyPort := freePort(t), freePort(t), freePort(t)
	env := append(os.Environ(), "SPARK_UI_PORT="+strconv.Itoa(ui), "SPARK_CONNECT_PORT="+strconv.Itoa(connectPort),
		"SPARK_HISTORY_PORT="+strconv.Itoa(historyPort))
	e2e.RunEnv(t, env, "docker", "stack", "deploy", "-c", file, stack)
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := e2e.Try("docker", "service", "logs", "--tail", "30", stack+"_worker")
			t.Logf("worker logs:\n%s", out)
			out, _ = e2e.Try("docker", "service", "ps", "--no-trunc", stack+"_spark-master", stack+"_worker")
			t.Logf("tasks:\n%s", out)
		}
		e2e.Try("docker", "stack", "rm", stack)
		// The stack's network goes once its containers are gone.
		if gone, _ := e2e.Poll(time.Minute, time.Second, func(time.Duration) bool {
			out, _ := e2e.Try("docker", "network", "ls", "-q", "-f", "name="+stack+"_")
			return strings.TrimSpace(out) == ""
		}); !gone {
			t.Errorf("network of stack %s still there after docker stack rm", stack)
			return
		}
		// docker stack rm keeps the stack's volumes, in use until the last
		// container of the master is gone.
		var out string
		var err error
		for _, v := range []string{stack + "_master-state", stack + "_spark-events"} {
			if removed, _ := e2e.Poll(time.Minute, time.Second, func(time.Duration) bool {
				out, err = e2e.Try("docker", "volume", "rm", v)
				return err == nil
			}); !removed {
				t.Errorf("docker volume rm %s: %v\n%s", v, err, out)
			}
		}
	})

	state := e2e.RequireAlive(t, m, strconv.Itoa(ui), e2e.Workers, 4*time.Minute)
	// The stack's limits (cpus 2, memory 3G) are what each worker offers.
	m.Set("offers", e2e.Offers(t, state, 2, 2048))
	workers := containers(t, stack+"_worker")
	masters := containers(t, stack+"_spark-master")
	if len(workers) != e2e.Workers || len(masters) != 1 {
		t.Fatalf("running containers: workers %q, master %q", workers, masters)
	}
	ok := true
	for _, w := range workers {
		e, _ := e2e.Explain(t, w)
		if e.Master == nil || (e.Master.Source != "swarm" && e.Master.Source != "docker-dns") {
			ok = false
			t.Errorf("worker %s: explain says %+v, want source swarm or docker-dns", e2e.Short(w), e.Master)
			continue
		}
		t.Logf("worker %s: master %s from %s", e2e.Short(w), e.Master.URL, e.Master.Source)
	}
	m.OK("discovery", ok)

	// The master binds the address its name has on the overlay, so the
	// host-mode published 7077 (which lands on the container's
	// docker_gwbridge address) reaches its UI but not its RPC port. The
	// driver therefore sits outside the cluster in its own container on
	// the attachable overlay network, as the stack file's comment tells
	// users, and the executors dial it back by its container name.
	driver := stack + "-driver"
	job := func() bool {
		out, err := e2e.Try("docker", "run", "--rm", "--name", driver, "--network", stack+"_spark",
			"-v", filepath.Join(e2e.Root, "scripts")+":/job:ro", "--entrypoint", "bash", "snufkin/spark-worker", "-c",
			`PYTHONPATH=$(ls /opt/spark/python/lib/*.zip | paste -sd:) exec python3 /job/sparkjob.py --master spark://spark-master:7077 --driver-host `+driver+` --executors `+strconv.Itoa(e2e.Workers))
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "job:") {
				t.Log(line)
			}
		}
		ok := err == nil && strings.Contains(out, "result=500000500000 expected=500000500000") && strings.Contains(out, "job: OK")
		if !ok {
			t.Errorf("job from a driver container on the overlay (%v):\n%s", err, out)
		}
		return ok
	}
	m.OK("job", job())

	// What Swarm does to a master whose node or task fails, forced: a new
	// task, a new container, a new address on the overlay
	// (tasks.spark-master follows it); stop-first, never two masters.
	overlayIP := func(id string) string {
		return strings.TrimSpace(e2e.Run(t, "docker", "inspect", "-f", `{{(index .NetworkSettings.Networks "`+stack+`_spark").IPAddress}}`, id))
	}
	e2e.CheckMasterRestartFrom(t, m, strconv.Itoa(ui), e2e.Workers, func() e2e.Restarted {
		old := masters[0]
		oldIP := overlayIP(old)
		e2e.Run(t, "docker", "service", "update", "--force", "--detach", stack+"_spark-master")
		masters = []string{newTask(t, stack+"_spark-master", masters)}
		return e2e.Restarted{OldIP: oldIP, NewIP: overlayIP(masters[0]), UI: strconv.Itoa(ui)}
	}, job)

	// A task killed: Swarm's restart policy starts another one.
	// The Connect server, through the port its node publishes, from the
	// host, after the master's restart (its application came through it).
	connects := containers(t, stack+"_connect")
	if len(connects) != 1 {
		t.Fatalf("running connect servers: %q, want 1", connects)
	}
	connectOK := e2e.WaitConnectReady(t, connects[0], 3*time.Minute)
	if connectOK {
		connectOK, _ = e2e.ConnectJob(t, "sc://localhost:"+strconv.Itoa(connectPort), "", e2e.Workers)
	}
	m.OK("connect", connectOK)

	// The history service reads the Connect server's event log from the
	// volume they share (one engine: one local volume).
	histories := containers(t, stack+"_history")
	historyOK := len(histories) == 1 && e2e.CheckReady(t, histories[0], "history")
	connectApp := ""
	for _, a := range e2e.MasterState(t, strconv.Itoa(ui)).ActiveApps {
		if a.Name == "Spark Connect server" {
			connectApp = a.ID
		}
	}
	if historyOK {
		historyOK, _ = e2e.WaitHistoryLists(t, "127.0.0.1:"+strconv.Itoa(historyPort), connectApp, false, 2*time.Minute)
	}
	m.OK("history", historyOK && connectApp != "")

	workers = containers(t, stack+"_worker")
	e2e.CheckWorkerKill(t, m, strconv.Itoa(ui), e2e.Workers, workers[0], func() string {
		return newTask(t, stack+"_worker", workers)
	})
	workers = containers(t, stack+"_worker")
	all := append(append(append(workers, masters...), connects...), histories...)
	for _, id := range all {
		e2e.CheckProcesses(t, id)
	}

	// Scaled to zero, the tasks' containers get SIGTERM, then their stop
	// grace period; swarm removes them, so their exit codes come from the
	// daemon's die events.
	since := time.Now().Add(-time.Second).Unix()
	e2e.Run(t, "docker", "service", "scale", "--detach=false", stack+"_worker=0", stack+"_spark-master=0", stack+"_connect=0", stack+"_history=0")
	events := e2e.Run(t, "docker", "events", "--since", strconv.FormatInt(since, 10), "--until", strconv.FormatInt(time.Now().Unix()+1, 10),
		"--filter", "type=container", "--filter", "event=die", "--format", `{{.Actor.ID}} {{index .Actor.Attributes "exitCode"}}`)
	stopOK := true
	for _, id := range all {
		code := ""
		for _, line := range strings.Split(events, "\n") {
			if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[0], id) {
				code = f[1]
			}
		}
		t.Logf("container %s exited %s", e2e.Short(id), code)
		if code != "0" && code != "143" {
			stopOK = false
			t.Errorf("container %s exited %q, want 0 or 143", e2e.Short(id), code)
		}
	}
	m.OK("stop", stopOK)
}

// newTask waits until service runs a container that is not one of old
// and none of old still runs, and returns it.
func newTask(t *testing.T, service string, old []string) string {
	t.Helper()
	var task string
	if ok, _ := e2e.Poll(3*time.Minute, 200*time.Millisecond, func(time.Duration) bool {
		var fresh []string
		stale := false
		for _, id := range containers(t, service) {
			if slices.Contains(old, id) {
				stale = true
			} else {
				fresh = append(fresh, id)
			}
		}
		if len(fresh) == 1 && (!stale || len(old) > 1) {
			task = fresh[0]
			return true
		}
		return false
	}); !ok {
		t.Fatalf("service %s started no new task in 3 minutes", service)
	}
	return task
}

func containers(t *testing.T, service string) []string {
	t.Helper()
	return strings.Fields(e2e.Run(t, "docker", "ps", "-q", "-f", "label=com.docker.swarm.service.name="+service))
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
