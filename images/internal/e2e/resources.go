package e2e

// What a test creates in Docker, and the check that it left nothing behind.

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
)

// Resources tracks the containers and networks a test creates and
// removes them at the end, then checks that `docker ps -a` and
// `docker network ls` hold nothing named with Prefix any more.
type Resources struct {
	t          *testing.T
	Prefix     string
	mu         sync.Mutex
	containers []string
	networks   []string
	volumes    []string
}

// NewResources registers the teardown for everything named with prefix.
func NewResources(t *testing.T, prefix string) *Resources {
	t.Helper()
	r := &Resources{t: t, Prefix: prefix}
	t.Cleanup(r.teardown)
	return r
}

// Container records a container to remove.
func (r *Resources) Container(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.containers = append(r.containers, name)
}

// Volume records a named volume to remove (after the containers).
func (r *Resources) Volume(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.volumes = append(r.volumes, name)
}

// Network records a network to remove (after the containers).
func (r *Resources) Network(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.networks = append(r.networks, name)
}

func (r *Resources) teardown() {
	t := r.t
	if t.Failed() {
		for _, c := range r.containers {
			out, _ := Try("docker", "logs", "--tail", "30", c)
			t.Logf("logs of %s:\n%s", c, out)
		}
	}
	if len(r.containers) > 0 {
		if out, err := Try(append([]string{"docker", "rm", "-f", "-v"}, r.containers...)...); err != nil && !strings.Contains(out, "No such container") {
			t.Errorf("docker rm: %v\n%s", err, out)
		}
	}
	for _, v := range r.volumes {
		if out, err := Try("docker", "volume", "rm", v); err != nil && !strings.Contains(out, "no such volume") {
			t.Errorf("docker volume rm %s: %v\n%s", v, err, out)
		}
	}
	for _, n := range r.networks {
		if out, err := Try("docker", "network", "rm", n); err != nil && !strings.Contains(out, "No such network") && !strings.Contains(out, "not found") {
			t.Errorf("docker network rm %s: %v\n%s", n, err, out)
		}
	}
	CheckClean(t, r.Prefix)
}

// CheckClean fails t if any container, network or volume named with prefix
// (followed by "-" or "_", as every name these tests make is) is left.
func CheckClean(t *testing.T, prefix string) {
	t.Helper()
	for _, what := range []struct{ kind, name string }{
		{"containers", "docker ps -a --format {{.Names}}"},
		{"networks", "docker network ls --format {{.Name}}"},
		{"volumes", "docker volume ls --format {{.Name}}"},
	} {
		argv := strings.Fields(what.name)
		argv = append(argv[:len(argv)-2], "--filter", "name="+prefix, argv[len(argv)-2], argv[len(argv)-1])
		out, err := Try(argv...)
		if err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
			continue
		}
		var left []string
		for _, n := range strings.Fields(out) {
			if rest, ok := strings.CutPrefix(n, prefix); ok && (strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "_")) {
				left = append(left, n)
			}
		}
		if len(left) > 0 {
			t.Errorf("%s left behind: %s", what.kind, strings.Join(left, " "))
		}
	}
}

// SubnetNetwork makes a bridge network with a /24 subnet of
// 10.<second>.0.0/16
// that no other network uses, and returns the subnet's first three octets.
// Docker hands out .128-.254; .2-.127 stay free for the fixed addresses a
// test assigns (ClusterIPs, task ENIs). Paths pick different second octets so
// that tests running at once never race for the same subnet.
func SubnetNetwork(t *testing.T, res *Resources, second int, name string) string {
	t.Helper()
	pid := os.Getpid()
	var last string
	for i := range 40 {
		subnet := fmt.Sprintf("10.%d.%d", second, (pid+i*37)%250+1)
		out, err := Try("docker", "network", "create", "--driver", "bridge",
			"--subnet", subnet+".0/24", "--gateway", subnet+".1", "--ip-range", subnet+".128/25", name)
		if err == nil {
			res.Network(name)
			return subnet
		}
		last = out
	}
	t.Fatalf("docker network create: no free 10.%d.x.0/24: %s", second, last)
	return ""
}
