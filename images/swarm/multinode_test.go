package swarm_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

const bedNodes = 3

// TestSwarmNodes deploys images/swarm/stack.yml, as shipped, on a swarm
// of three Docker engines (scripts/swarm-bed.sh) and proves the cluster
// across them: the master on one node and workers spread over the others,
// each worker reachable from the other nodes at the address it
// advertises, a shuffle through the stack's Connect server whose reducers
// fetch blocks written on other nodes, a node whose engine dies mid-job
// (the job ends right, Swarm starts its workers elsewhere), and the
// master's node drained (Swarm starts the master on another node, without
// its state, and the workers and the Connect server find it).
func TestSwarmNodes(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "swarm-3-nodes")
	tag := e2e.Versions(t)["SPARK_VERSION_DEFAULT"]
	if tag == "" {
		t.Fatal("scripts/versions.env names no SPARK_VERSION_DEFAULT")
	}
	b := upBed(t, bedNodes, "snufkin/spark-master:"+tag, "snufkin/spark-worker:"+tag)
	m.Set("nodes", fmt.Sprint(len(b.nodes)))
	t.Logf("bed of %d engines up in %s (not counted below)", len(b.nodes), b.Took.Round(time.Second))

	stackFile, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := e2e.TryInput(string(stackFile), "docker", "exec", "-i", b.ctr[b.nodes[0]], "sh", "-c", "mkdir -p /root/stack && cat > /root/stack/stack.yml"); err != nil {
		t.Fatalf("copy the stack file: %v\n%s", err, out)
	}
	start := time.Now()
	b.manager("stack", "deploy", "-c", "/root/stack/stack.yml", b.stack)
	t.Cleanup(func() {
		if t.Failed() {
			for _, s := range []string{"spark-master", "worker", "connect", "history"} {
				out, _ := b.tryManager("service", "ps", "--no-trunc", b.stack+"_"+s)
				t.Logf("tasks of %s:\n%s", s, out)
			}
		}
	})

	masters := b.waitRunning("spark-master", 1, 3*time.Minute, func(task) bool { return true })
	workers := b.waitRunning("worker", e2e.Workers, 3*time.Minute, func(task) bool { return true })
	ui := b.masterUI(masters[0])
	state := e2e.RequireAlive(t, m, ui, e2e.Workers, 4*time.Minute)
	m.Set("offers", e2e.Offers(t, state, 2, 2048))
	t.Logf("formation: %d workers ALIVE %s after the deploy", state.Alive(), time.Since(start).Round(time.Second))

	discoveryOK := true
	for _, w := range workers {
		e, _ := e2e.ExplainIn(t, b.cli(w.Node), w.Container)
		if e.Master == nil || e.Master.Source != "swarm" {
			discoveryOK = false
			t.Errorf("worker on %s: explain says %+v, want source swarm", w.Node, e.Master)
		}
	}
	m.OK("discovery", discoveryOK)

	m.OK("spread", checkSpread(t, masters[0], workers))
	m.OK("reach", b.checkReach(state, workers))

	connects := b.waitRunning("connect", 1, 3*time.Minute, func(task) bool { return true })
	connect := connects[0]
	if !e2e.WaitConnectReadyIn(t, b.cli(connect.Node), connect.Container, 3*time.Minute) {
		t.Fatal("the Connect server did not become ready")
	}
	shuffle := b.checkShuffle(ui, connect, workers)
	m.OK("job", shuffle != "fail")
	m.Set("shuffle", shuffle)
	m.Set("scale-down", b.checkScaleDown(ui, connect))
	workers = b.running("worker")

	m.Set("node-loss", b.checkNodeLoss(ui, masters[0], connect, workers))
	m.Set("master-moved", b.checkMasterMoved(masters[0]))
	m.OK("stop", b.checkStop())
}

// checkSpread: the workers run on at least two nodes besides the
// master's, Swarm's spread of a service's replicas over the nodes.
func checkSpread(t *testing.T, master task, workers []task) bool {
	t.Helper()
	others := map[string]bool{}
	for _, w := range workers {
		t.Logf("worker %s on %s at %s", e2e.Short(w.Container), w.Node, w.IP)
		if w.Node != master.Node {
			others[w.Node] = true
		}
	}
	t.Logf("master on %s at %s", master.Node, master.IP)
	if len(others) < 2 {
		t.Errorf("workers on %d nodes besides the master's %s, want 2 or more", len(others), master.Node)
		return false
	}
	return true
}

// checkReach dials, from a worker's container on each node, every worker
// of another node at the host and port it registered with.
func (b *bed) checkReach(state e2e.MasterJSON, workers []task) bool {
	t := b.t
	t.Helper()
	ok := true
	dials := 0
	for _, from := range workers {
		for _, w := range state.Workers {
			if nodeOf(workers, w.Host) == from.Node {
				continue
			}
			dials++
			if out, err := b.docker(from.Node, "exec", from.Container, "bash", "-c",
				fmt.Sprintf("exec 3<>/dev/tcp/%s/%d", w.Host, w.Port)); err != nil {
				ok = false
				t.Errorf("from %s: worker %s at %s:%d: %v %s", from.Node, w.ID, w.Host, w.Port, err, out)
			}
		}
	}
	t.Logf("reach: %d dials across nodes", dials)
	return ok && dials > 0
}

// checkShuffle runs the shuffle job through the Connect server and checks
// in its driver's REST API that reducers fetched blocks written on
// another node.
func (b *bed) checkShuffle(ui string, connect task, workers []task) string {
	t := b.t
	t.Helper()
	app, before := b.stagesSoFar(ui, connect)
	if !startShuffle(t, b.connectURL(connect), 0).wait(t, 5*time.Minute) {
		return "fail"
	}
	stages, err := b.stages(connect, app, before)
	if err != nil {
		t.Error(err)
		return "fail"
	}
	remote, cross, err := b.crossNode(connect, app, stages, workers)
	if err != nil {
		t.Error(err)
		return "fail"
	}
	t.Logf("shuffle: %d stages, %d remote blocks fetched, across nodes %v", len(stages), remote, cross)
	if remote == 0 || !cross {
		t.Errorf("shuffle: %d remote blocks, across nodes %v: want a reducer reading another node's map output", remote, cross)
		return "fail"
	}
	return fmt.Sprintf("ok(remote,%d-blocks)", remote)
}

// checkNodeLoss kills the engine of a node that runs a worker, and
// neither the master nor the Connect server, while the job's map tasks
// run there: the job must end with the right answer, and Swarm must start
// the lost workers on the surviving nodes, where they register. The node
// is started again at the end and must rejoin.
func (b *bed) checkNodeLoss(ui string, master, connect task, workers []task) string {
	t := b.t
	t.Helper()
	victim := ""
	for _, w := range workers {
		if w.Node != master.Node && w.Node != connect.Node {
			victim = w.Node
		}
	}
	if victim == "" {
		t.Errorf("node loss: every worker shares a node with the master (%s) or the Connect server (%s)", master.Node, connect.Node)
		return "fail"
	}
	var lost []string
	for _, w := range workers {
		if w.Node == victim {
			lost = append(lost, w.IP)
		}
	}
	app := connectApp(t, ui)
	job := startShuffle(t, b.connectURL(connect), 20)
	// Kill once a task runs on the victim's executor.
	busy, _ := e2e.Poll(3*time.Minute, time.Second, func(time.Duration) bool {
		hosts := b.busyHosts(connect, app)
		return slices.ContainsFunc(lost, func(ip string) bool { return hosts[ip] })
	})
	if !busy {
		t.Errorf("node loss: no task ran on %s's workers %v within 3 minutes", victim, lost)
		job.wait(t, time.Minute)
		return "fail"
	}
	e2e.Run(t, "docker", "kill", b.ctr[victim])
	b.down[victim] = true
	t.Logf("node loss: killed the engine of %s (workers %v) while its tasks ran", victim, lost)

	// The job's end, Swarm's replacement of the lost workers and their
	// registration with the master, each timed from the kill.
	jobDone := make(chan bool, 1)
	go func() { jobDone <- job.wait(t, 8*time.Minute) }()
	var jobOK bool
	var jobTook, moved, registered time.Duration
	e2e.Poll(9*time.Minute, time.Second, func(elapsed time.Duration) bool {
		select {
		case jobOK = <-jobDone:
			jobTook = elapsed.Round(time.Second)
		default:
		}
		if moved == 0 {
			tasks := b.running("worker")
			if len(tasks) == e2e.Workers && !slices.ContainsFunc(tasks, func(tk task) bool { return tk.Node == victim }) {
				moved = elapsed.Round(time.Second)
			}
		}
		if s, err := e2e.GetMasterState(ui); registered == 0 && err == nil {
			n := 0
			for _, w := range s.Workers {
				if w.State == "ALIVE" && !slices.Contains(lost, w.Host) {
					n++
				}
			}
			if n == e2e.Workers {
				registered = elapsed.Round(time.Second)
			}
		}
		return jobTook > 0 && moved > 0 && registered > 0
	})
	t.Logf("node loss, after the kill: the job ended after %s, Swarm ran %d workers on the other nodes after %s, the master listed them ALIVE after %s", jobTook, e2e.Workers, moved, registered)
	alive := moved > 0 && registered > 0
	if !alive {
		t.Errorf("node loss: no %d workers running and ALIVE off %s", e2e.Workers, victim)
	}
	if jobTook == 0 {
		t.Error("node loss: the job did not end")
	}

	e2e.Run(t, "docker", "start", b.ctr[victim])
	rejoined, took := e2e.Poll(3*time.Minute, time.Second, func(time.Duration) bool {
		out, err := b.tryManager("node", "ls", "--filter", "name="+victim, "--format", "{{.Status}}")
		return err == nil && strings.TrimSpace(out) == "Ready"
	})
	delete(b.down, victim)
	t.Logf("node loss: %s Ready again %s after its engine started", victim, took.Round(time.Second))
	if !rejoined {
		t.Errorf("node loss: %s did not rejoin the swarm", victim)
	}
	if !jobOK || !alive || !rejoined {
		return "fail"
	}
	return fmt.Sprintf("ok(job=%s,rescheduled=%s,alive=%s,rejoined=%s)", jobTook, moved, registered, took.Round(time.Second))
}

// checkMasterMoved drains the master's node: Swarm stops the master and
// starts it on another node, where the local state volume is a new, empty
// one. The workers must find it (tasks.spark-master) and register again,
// and the Connect server, whose application the new master does not know,
// must end up registered with it and answer a query.
func (b *bed) checkMasterMoved(old task) string {
	t := b.t
	t.Helper()
	drained := time.Now()
	b.manager("node", "update", "--availability", "drain", old.Node)
	masters := b.waitRunning("spark-master", 1, 3*time.Minute, func(tk task) bool { return tk.Node != old.Node })
	started := time.Since(drained).Round(time.Second)
	ui := b.masterUI(masters[0])
	// The drained node's workers are replaced too: wait for the workers
	// Swarm runs off it, all ALIVE at the new master.
	workers := b.waitRunning("worker", e2e.Workers, 5*time.Minute, func(tk task) bool { return tk.Node != old.Node })
	var state e2e.MasterJSON
	ok, _ := e2e.Poll(5*time.Minute, time.Second, func(time.Duration) bool {
		var err error
		state, err = e2e.GetMasterState(ui)
		return err == nil && aliveAmong(state, workers) == e2e.Workers
	})
	alive := time.Since(drained).Round(time.Second)
	e2e.LogWorkers(t, state, e2e.Workers)
	t.Logf("master moved: %s -> %s; started %s after the drain, the workers off %s ALIVE after %s", old.Node, masters[0].Node, started, old.Node, alive)
	if !ok {
		t.Errorf("master moved: %d of the running workers ALIVE at the new master, want %d", aliveAmong(state, workers), e2e.Workers)
		return "fail"
	}
	b.waitRunning("connect", 1, 5*time.Minute, func(tk task) bool { return tk.Node != old.Node })
	registered, _ := e2e.Poll(6*time.Minute, time.Second, func(time.Duration) bool {
		s, err := e2e.GetMasterState(ui)
		_, state := connectAppIn(s)
		return err == nil && state == "RUNNING"
	})
	connects := b.waitRunning("connect", 1, time.Minute, func(tk task) bool { return tk.Node != old.Node })
	ready := registered && e2e.WaitConnectReadyIn(t, b.cli(connects[0].Node), connects[0].Container, 3*time.Minute)
	connectTook := time.Since(drained).Round(time.Second)
	if !ready {
		t.Errorf("master moved: the Connect server is not registered with the new master after %s", connectTook)
		return "fail"
	}
	if !startShuffle(t, b.connectURL(connects[0]), 0).wait(t, 5*time.Minute) {
		return "fail"
	}
	t.Logf("master moved: Connect server registered and ready %s after the drain", connectTook)
	return fmt.Sprintf("ok(%s-to-%s,alive=%s,connect=%s)", old.Node, masters[0].Node, alive, connectTook)
}

// checkStop scales every service to zero: each task's container gets
// SIGTERM and its grace period, and must exit 0 or 143 (the engines'
// die events); then the stack goes.
func (b *bed) checkStop() bool {
	t := b.t
	t.Helper()
	since := time.Now().Add(-time.Second).Unix()
	var tasks []task
	for _, s := range []string{"spark-master", "worker", "connect", "history"} {
		tasks = append(tasks, b.running(s)...)
	}
	b.manager("service", "scale", "--detach=false", b.stack+"_worker=0", b.stack+"_spark-master=0", b.stack+"_connect=0", b.stack+"_history=0")
	ok := len(tasks) > 0
	for _, tk := range tasks {
		code := b.exitCode(tk, since)
		t.Logf("%s on %s exited %s", tk.Container, tk.Node, code)
		if code != "0" && code != "143" {
			ok = false
			t.Errorf("%s on %s exited %q, want 0 or 143", tk.Container, tk.Node, code)
		}
	}
	b.manager("stack", "rm", b.stack)
	return ok
}

// aliveAmong counts the workers ALIVE in s that are among tasks.
func aliveAmong(s e2e.MasterJSON, tasks []task) int {
	n := 0
	for _, w := range s.Workers {
		if w.State == "ALIVE" && nodeOf(tasks, w.Host) != "" {
			n++
		}
	}
	return n
}
