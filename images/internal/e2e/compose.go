package e2e

// docker-compose projects and the ports and gateways Docker gives their
// containers.

import (
	"strings"
	"testing"
)

// Compose runs docker-compose on one project and file.
type Compose struct {
	Project, File string
	// Env is the environment docker-compose runs with (interpolation);
	// nil inherits the test's.
	Env []string
}

// NewCompose registers `down` (and the logs on failure) for project.
func NewCompose(t *testing.T, project, file string, env []string) *Compose {
	t.Helper()
	c := &Compose{Project: project, File: file, Env: env}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := c.try("logs", "--tail", "40")
			t.Logf("cluster logs:\n%s", out)
		}
		if out, err := c.try("down", "-t", "10", "-v", "--remove-orphans"); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	return c
}

// Run runs docker-compose -p Project -f File args...; a failure is fatal.
func (c *Compose) Run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.try(args...)
	if err != nil {
		t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *Compose) try(args ...string) (string, error) {
	return TryEnv(c.Env, append([]string{"docker-compose", "-p", c.Project, "-f", c.File}, args...)...)
}

// IDs returns the container ids of service.
func (c *Compose) IDs(t *testing.T, service string) []string {
	t.Helper()
	return strings.Fields(c.Run(t, "ps", "-q", service))
}

// Published returns the host port docker publishes for the container
// port port ("8080/tcp") of container, preferring an IPv4 binding.
func Published(t *testing.T, container, port string) string {
	t.Helper()
	out := Run(t, "docker", "port", container, port)
	var first string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		line = strings.TrimSpace(line)
		i := strings.LastIndex(line, ":")
		if i < 0 {
			continue
		}
		p := line[i+1:]
		if first == "" {
			first = p
		}
		if !strings.HasPrefix(line, "[") {
			return p
		}
	}
	if first == "" {
		t.Fatalf("docker port %s %s: nothing published:\n%s", container, port, out)
	}
	return first
}

// Gateway returns the gateway of the container's first network: the
// host's address on that network, which the executors dial back.
func Gateway(t *testing.T, container string) string {
	t.Helper()
	out := Run(t, "docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.Gateway}} {{end}}", container)
	f := strings.Fields(out)
	if len(f) == 0 {
		t.Fatalf("container %s has no network gateway", container)
	}
	return f[0]
}
