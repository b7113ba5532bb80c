// Package compose_test runs the compose files end to end with the real
// images: the classic v1 file exactly as users have it and the Compose
// Specification file, each scaled to three workers, a job from a driver on
// the host, and a clean stop.
package compose_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

const workers = e2e.Workers

func TestClassicComposeV1(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: needs docker and the images (make test runs it)")
	}
	m := e2e.NewMatrix(t, "compose-v1")
	e2e.Run(t, "make", "-C", e2e.Root, "images")
	project := fmt.Sprintf("ssv1e2e%d", os.Getpid())
	env := append(os.Environ(), "COMPOSE_PROJECT="+project, fmt.Sprintf("WORKERS=%d", workers))
	file := filepath.Join(e2e.Root, "images", "compose", "docker-compose.v1.yml")
	t.Cleanup(func() { e2e.CheckClean(t, project) }) // runs after down
	dc := e2e.NewCompose(t, project, file, nil)

	dc.Run(t, "up", "-d")
	dc.Run(t, "scale", fmt.Sprintf("worker=%d", workers))
	master := strings.TrimSpace(dc.Run(t, "ps", "-q", "master"))
	ids := dc.IDs(t, "worker")
	if master == "" || len(ids) != workers {
		t.Fatalf("compose started master %q and workers %q, want 1 and %d", master, ids, workers)
	}
	m.OK("discovery", e2e.CheckDiscovery(t, ids[0], "docker-links", "spark://spark-master:7077"))

	e2e.RunEnv(t, env, "bash", filepath.Join(e2e.Root, "scripts", "cluster.sh"), "wait-alive")
	state := e2e.MasterState(t, e2e.Published(t, master, "8080/tcp"))
	m.Set("alive", fmt.Sprintf("%d/%d", state.Alive(), workers))
	// cpu_quota 200000 and mem_limit 3g.
	m.Set("offers", e2e.Offers(t, state, 2, 2048))
	if !e2e.LogWorkers(t, state, workers) {
		t.Fatalf("master /json/ lists %d ALIVE workers (status %s), want %d", state.Alive(), state.Status, workers)
	}

	job := func() bool {
		out, err := e2e.TryEnv(env, "bash", filepath.Join(e2e.Root, "scripts", "cluster.sh"), "job")
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, "job:") || strings.HasPrefix(line, "cluster:") {
				t.Log(line)
			}
		}
		if err != nil || !strings.Contains(out, "result=500000500000 expected=500000500000") || !strings.Contains(out, "job: OK") {
			t.Errorf("job did not report the checked result (%v):\n%s", err, out)
			return false
		}
		return true
	}
	m.OK("job", job())

	// The v1 file's workers know the master through links, which Docker
	// keeps current when the linked container restarts: the master is
	// stopped and started again on another address.
	e2e.CheckMasterRestartFrom(t, m, e2e.Published(t, master, "8080/tcp"), workers, func() e2e.Restarted {
		oldIP := e2e.IP(t, master)
		dc.Run(t, "stop", "-t", "10", "master")
		release := e2e.HoldAddress(t, project+"_filler", "bridge", "snufkin/spark-worker")
		defer release()
		dc.Run(t, "start", "master")
		return e2e.Restarted{OldIP: oldIP, NewIP: e2e.IP(t, master), UI: e2e.Published(t, master, "8080/tcp")}
	}, job)

	ids = killWorker(t, m, dc, e2e.Published(t, master, "8080/tcp"), ids, "scale", fmt.Sprintf("worker=%d", workers))
	ids = append(ids, master)
	for _, id := range ids {
		e2e.CheckProcesses(t, id)
	}

	dc.Run(t, "stop", "-t", "10")
	m.OK("stop", e2e.ExitCodes(t, ids))
}

// TestComposeSpec runs images/compose/docker-compose.yml: a user-defined
// network, where the workers find the master by its service name through
// Docker's embedded DNS (source docker-dns), no fixed host port.
func TestComposeSpec(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "compose-spec")
	start := time.Now()
	project := e2e.Name("cspec")
	file := filepath.Join(e2e.Root, "images", "compose", "docker-compose.yml")
	// Empty publish variables: random loopback ports, so that another
	// cluster (the classic one holds 7077) can run at the same time.
	env := append(os.Environ(), "MASTER_RPC_PUBLISH=", "MASTER_UI_PUBLISH=", "CONNECT_PUBLISH=", "HISTORY_PUBLISH=", "PUBLISH_ADDR=127.0.0.1")
	t.Cleanup(func() { e2e.CheckClean(t, project) }) // runs after down
	dc := e2e.NewCompose(t, project, file, env)

	dc.Run(t, "up", "-d", "--scale", fmt.Sprintf("worker=%d", workers))
	t.Logf("compose up (master and workers started) in %s", time.Since(start).Round(time.Second))
	masters := dc.IDs(t, "spark-master")
	ids := dc.IDs(t, "worker")
	if len(masters) != 1 || len(ids) != workers {
		t.Fatalf("compose started masters %q and workers %q, want 1 and %d", masters, ids, workers)
	}
	master := masters[0]

	ok := true
	for _, id := range ids {
		ok = e2e.CheckDiscovery(t, id, "docker-dns", "spark://spark-master:7077") && ok
	}
	m.OK("discovery", ok)

	ui := e2e.Published(t, master, "8080/tcp")
	e2e.RequireAlive(t, m, ui, workers, 3*time.Minute)
	// The file's limits (cpus 2, mem_limit 3g) are what each worker offers.
	m.Set("offers", e2e.Offers(t, e2e.MasterState(t, ui), 2, 2048))
	m.OK("class-archive", e2e.CheckClassArchive(t, master, "master") && e2e.CheckClassArchive(t, ids[0], "worker"))

	// What the file's healthchecks run.
	for _, id := range ids {
		e2e.CheckReady(t, id, "worker")
	}
	e2e.CheckReady(t, master, "master")
	connects := dc.IDs(t, "connect")
	if len(connects) != 1 {
		t.Fatalf("compose started connect servers %q, want 1", connects)
	}
	connect := connects[0]
	connectReady := e2e.WaitConnectReady(t, connect, 3*time.Minute)

	rpc := e2e.Published(t, master, "7077/tcp")
	jobOK, _ := e2e.Job(t, "spark://127.0.0.1:"+rpc, e2e.Gateway(t, master), workers)
	m.OK("job", jobOK)

	// A redeployed master: a new container on another address, which
	// the workers find again under the service name.
	e2e.CheckMasterRestartFrom(t, m, e2e.Published(t, master, "8080/tcp"), workers, func() e2e.Restarted {
		oldIP := e2e.IP(t, master)
		dc.Run(t, "rm", "-s", "-f", "spark-master")
		release := e2e.HoldAddress(t, project+"_filler", project+"_spark", "snufkin/spark-worker")
		defer release()
		dc.Run(t, "up", "-d", "--no-deps", "spark-master")
		masters := dc.IDs(t, "spark-master")
		if len(masters) != 1 {
			t.Fatalf("compose up started masters %q, want 1", masters)
		}
		master = masters[0]
		return e2e.Restarted{OldIP: oldIP, NewIP: e2e.IP(t, master), UI: e2e.Published(t, master, "8080/tcp")}
	}, func() bool {
		ok, _ := e2e.Job(t, "spark://127.0.0.1:"+e2e.Published(t, master, "7077/tcp"), e2e.Gateway(t, master), workers)
		return ok
	})

	// After the master's restart: the server's application came through
	// it (the master's state keeps it), and the classic jobs are done, so
	// the server's executors take no cores they need.
	connectOK, _ := e2e.ConnectJob(t, "sc://localhost:"+e2e.Published(t, connect, e2e.ConnectPort+"/tcp"), "", workers)
	m.OK("connect", connectReady && connectOK)

	// The history service reads the Connect server's event log from the
	// volume they share: the server's application, still running.
	histories := dc.IDs(t, "history")
	if len(histories) != 1 {
		t.Fatalf("compose started history servers %q, want 1", histories)
	}
	e2e.CheckReady(t, histories[0], "history")
	connectApp := ""
	for _, a := range e2e.MasterState(t, e2e.Published(t, master, "8080/tcp")).ActiveApps {
		if a.Name == "Spark Connect server" {
			connectApp = a.ID
		}
	}
	listed, _ := e2e.WaitHistoryLists(t, "127.0.0.1:"+e2e.Published(t, histories[0], "18080/tcp"), connectApp, false, 2*time.Minute)
	m.OK("history", connectApp != "" && listed)

	// One UI entry: every worker's UI and the Connect server's application
	// through the master's published port, the only UI port published.
	state := e2e.MasterState(t, e2e.Published(t, master, "8080/tcp"))
	var pages []string
	for _, w := range state.Workers {
		if w.State == "ALIVE" {
			pages = append(pages, w.ID)
		}
	}
	m.Set("ui-proxy", e2e.CheckUIProxy(t, e2e.Published(t, master, "8080/tcp"), append(pages, connectApp)))

	ids = killWorker(t, m, dc, e2e.Published(t, master, "8080/tcp"), ids, "up", "-d", "--no-recreate", "--scale", fmt.Sprintf("worker=%d", workers))
	all := append(ids, master, connect, histories[0])
	for _, id := range all {
		e2e.CheckProcesses(t, id)
	}

	stopStart := time.Now()
	dc.Run(t, "stop", "-t", "10")
	t.Logf("compose stop in %s", time.Since(stopStart).Round(100*time.Millisecond))
	m.OK("stop", e2e.ExitCodes(t, all))
	t.Logf("compose-spec path took %s", time.Since(start).Round(time.Second))
}

// killWorker kills the first of the workers ids with SIGKILL, removes its
// container and has compose bring the service back to its scale with
// args; it returns the workers then running.
func killWorker(t *testing.T, m *e2e.Matrix, dc *e2e.Compose, ui string, ids []string, args ...string) []string {
	t.Helper()
	e2e.CheckWorkerKill(t, m, ui, workers, ids[0], func() string {
		e2e.Run(t, "docker", "rm", "-f", ids[0])
		dc.Run(t, args...)
		for _, id := range dc.IDs(t, "worker") {
			if !slices.Contains(ids, id) {
				return id
			}
		}
		t.Errorf("docker-compose %s started no new worker", strings.Join(args, " "))
		return ""
	})
	return dc.IDs(t, "worker")
}
