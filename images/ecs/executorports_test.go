package ecs_test

import (
	"strconv"
	"strings"
	"testing"
)

// checkExecutorPorts wants a bridge-mode worker's executors reachable from
// other instances: ENTRYPOINT_EXECUTOR_PORTS set, and each of its ports in
// a portMappings entry of its own with hostPort equal to containerPort. An
// executor advertises the instance's name and the port its block manager
// bound; a containerPortRange would not do, as in bridge mode the agent
// picks its host ports in the ephemeral range (ECS PortMapping,
// containerPortRange), and neither would hostPort 0.
func checkExecutorPorts(t *testing.T, w cdef) {
	t.Helper()
	v, ok := w.env("ENTRYPOINT_EXECUTOR_PORTS")
	if !ok {
		t.Error("bridge worker: ENTRYPOINT_EXECUTOR_PORTS unset: the executors' block managers bind random ports no mapping reaches, and shuffles between instances fail")
		return
	}
	first, last, isRange := strings.Cut(v, "-")
	if !isRange {
		last = first
	}
	a, err1 := strconv.Atoi(first)
	b, err2 := strconv.Atoi(last)
	if err1 != nil || err2 != nil || a < 1 || b > 65535 || a > b {
		t.Errorf("bridge worker: ENTRYPOINT_EXECUTOR_PORTS=%q: want PORT or FIRST-LAST", v)
		return
	}
	for p := a; p <= b; p++ {
		if m, mapped := w.port(p); !mapped || m.HostPort == nil || *m.HostPort != p {
			t.Errorf("bridge worker: executor port %d (ENTRYPOINT_EXECUTOR_PORTS=%s) should be mapped to the same, fixed host port", p, v)
		}
	}
}
