package swarm_test

// The multi-node bed of scripts/swarm-bed.sh as the tests drive it: its
// nodes, commands on their engines, the tasks of a service with their node
// and overlay address, and the REST API of a driver inside a task.

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// bed is a swarm of Docker engines, each in a container of the host.
type bed struct {
	t     *testing.T
	name  string
	nodes []string          // node1..N, the nodes' hostnames in `docker node ls`
	ctr   map[string]string // node -> its container on the host
	ip    map[string]string // node -> its address on the bed's network
	stack string            // the stack deployed, its network stack_spark
	down  map[string]bool   // nodes whose engine was killed
	Took  time.Duration     // bringing it up: engines, images, swarm
}

// upBed brings up n nodes with images loaded and removes them at the end
// of t, checking that nothing named after the bed is left.
func upBed(t *testing.T, n int, images ...string) *bed {
	t.Helper()
	b := &bed{t: t, name: e2e.Name("bed"), ctr: map[string]string{}, ip: map[string]string{}, stack: "spark", down: map[string]bool{}}
	script := filepath.Join(e2e.Root, "scripts", "swarm-bed.sh")
	t.Cleanup(func() {
		if out, err := e2e.Try("bash", script, "down", b.name); err != nil {
			t.Errorf("swarm-bed.sh down %s: %v\n%s", b.name, err, out)
		}
		e2e.CheckClean(t, b.name)
	})
	start := time.Now()
	out := e2e.Run(t, append([]string{"bash", script, "up", b.name, strconv.Itoa(n)}, images...)...)
	b.Took = time.Since(start)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 2 || !strings.HasPrefix(f[0], b.name+"-") {
			continue
		}
		node := strings.TrimPrefix(f[0], b.name+"-")
		b.nodes = append(b.nodes, node)
		b.ctr[node], b.ip[node] = f[0], f[1]
	}
	if len(b.nodes) != n {
		t.Fatalf("swarm-bed.sh up printed %d nodes, want %d:\n%s", len(b.nodes), n, out)
	}
	return b
}

// cli is the docker command of node's engine, for e2e helpers.
func (b *bed) cli(node string) []string { return []string{"docker", "exec", b.ctr[node], "docker"} }

// docker runs a docker command on node's engine.
func (b *bed) docker(node string, args ...string) (string, error) {
	return e2e.Try(append(b.cli(node), args...)...)
}

// tryManager runs a docker command on a manager whose engine runs (every
// node is one).
func (b *bed) tryManager(args ...string) (string, error) {
	var out string
	var err error
	// A manager answers "context deadline exceeded" or "does not have a
	// leader" while the managers elect a new Raft leader, after the
	// leader's engine died (about 10 s: Swarm's election tick): ask the
	// others, then again, for a while.
	e2e.Poll(time.Minute, 2*time.Second, func(time.Duration) bool {
		err = errors.New("no node of the bed runs")
		for _, n := range b.nodes {
			if b.down[n] {
				continue
			}
			if out, err = b.docker(n, args...); err == nil {
				return true
			}
			err = fmt.Errorf("%s: docker %s: %w", n, strings.Join(args, " "), err)
			if !electing(out) {
				return true
			}
		}
		return false
	})
	return out, err
}

// electing says whether a manager's error is the Raft election's, which
// passes.
func electing(out string) bool {
	return strings.Contains(out, "DeadlineExceeded") || strings.Contains(out, "context deadline exceeded") ||
		strings.Contains(out, "does not have a leader") || strings.Contains(out, "rpc error: code = Unavailable")
}

// manager is tryManager, fatal on error.
func (b *bed) manager(args ...string) string {
	b.t.Helper()
	out, err := b.tryManager(args...)
	if err != nil {
		b.t.Fatalf("%v\n%s", err, out)
	}
	return out
}

// task is a running task of a service.
type task struct {
	Node, Container, IP string
}

// running lists service's tasks that Swarm wants running and that run, on
// nodes whose engines run, with their containers and overlay addresses.
func (b *bed) running(service string) []task {
	b.t.Helper()
	out := b.manager("service", "ps", "--no-trunc", "--filter", "desired-state=running",
		"--format", "{{.ID}} {{.Name}} {{.Node}} {{.CurrentState}}", b.stack+"_"+service)
	var tasks []task
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || f[3] != "Running" || b.down[f[2]] {
			continue
		}
		tk := task{Node: f[2], Container: f[1] + "." + f[0]}
		ip, err := b.docker(tk.Node, "inspect", "-f", `{{(index .NetworkSettings.Networks "`+b.stack+`_spark").IPAddress}}`, tk.Container)
		if err != nil {
			continue // between the task's Running and its container's start
		}
		tk.IP = strings.TrimSpace(ip)
		tasks = append(tasks, tk)
	}
	return tasks
}

// waitRunning waits until service runs want tasks, each accepted by ok,
// and returns them.
func (b *bed) waitRunning(service string, want int, timeout time.Duration, ok func(task) bool) []task {
	b.t.Helper()
	var tasks []task
	done, _ := e2e.Poll(timeout, time.Second, func(time.Duration) bool {
		tasks = b.running(service)
		return len(tasks) == want && !slices.ContainsFunc(tasks, func(tk task) bool { return !ok(tk) })
	})
	if !done {
		out, _ := b.tryManager("service", "ps", b.stack+"_"+service)
		b.t.Fatalf("service %s: %d running tasks %v after %s, want %d acceptable ones:\n%s", service, len(tasks), tasks, timeout, want, out)
	}
	return tasks
}

// nodeOf is the node whose task has the overlay address ip.
func nodeOf(tasks []task, ip string) string {
	for _, tk := range tasks {
		if tk.IP == ip {
			return tk.Node
		}
	}
	return ""
}

// hostOf is the host of a HOST:PORT, as executors list their hostPort.
func hostOf(hostPort string) string {
	return hostPort[:max(0, strings.LastIndex(hostPort, ":"))]
}

// rest reads path of the REST API of the driver in tk (its web UI, port
// 4040, inside the task's container) into v.
func (b *bed) rest(tk task, path string, v any) error {
	out, err := b.docker(tk.Node, "exec", tk.Container, "python3", "-c",
		"import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())",
		"http://127.0.0.1:4040/api/v1"+path)
	if err != nil {
		return fmt.Errorf("%s: %v: %s", path, err, out)
	}
	if err := json.Unmarshal([]byte(out), v); err != nil {
		return fmt.Errorf("%s: %v: %.200s", path, err, out)
	}
	return nil
}

// masterUI is the master's web UI as the host reaches it: the port the
// stack publishes in host mode (8080) on the master's node.
func (b *bed) masterUI(master task) string { return b.ip[master.Node] + ":8080" }

// connectURL is the Connect server's gRPC port (15002, host mode) on its
// node.
func (b *bed) connectURL(connect task) string { return "sc://" + b.ip[connect.Node] + ":15002" }
