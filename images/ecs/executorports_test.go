package ecs_test

import (
	"testing"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
)

// executorPorts is the worker's ENTRYPOINT_EXECUTOR_PORTS as the
// entrypoint reads it; set is false when the task definition leaves it
// out, err says why a value it sets is no range.
func executorPorts(w cdef) (r settings.PortRange, v string, set bool, err error) {
	if v, set = w.env("ENTRYPOINT_EXECUTOR_PORTS"); set {
		err = r.Decode(v)
	}
	return r, v, set, err
}

// checkExecutorPorts wants a bridge-mode worker's executors reachable from
// other instances: ENTRYPOINT_EXECUTOR_PORTS set, and each of its ports in
// a portMappings entry of its own with hostPort equal to containerPort. An
// executor advertises the instance's name and the port its block manager
// bound; a containerPortRange would not do, as in bridge mode the agent
// picks its host ports in the ephemeral range (ECS PortMapping,
// containerPortRange), and neither would hostPort 0.
func checkExecutorPorts(t *testing.T, w cdef) {
	t.Helper()
	r, v, set, err := executorPorts(w)
	if !set {
		t.Error("bridge worker: ENTRYPOINT_EXECUTOR_PORTS unset: the executors' block managers bind random ports no mapping reaches, and shuffles between instances fail")
		return
	}
	if err != nil {
		t.Errorf("bridge worker: ENTRYPOINT_EXECUTOR_PORTS=%q: %v", v, err)
		return
	}
	for p := r.First; p <= r.Last; p++ {
		if !w.mappedOneToOne(p) {
			t.Errorf("bridge worker: executor port %d (ENTRYPOINT_EXECUTOR_PORTS=%s) should be mapped to the same, fixed host port", p, v)
		}
	}
}
