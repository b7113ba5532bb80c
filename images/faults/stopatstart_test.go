package faults_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// TestStopAtStart stops a master as soon as `docker run -d` returns, 20
// times: wherever its start is (settings, the launcher JVM, /etc, the
// master state, the JVM itself), docker kill -s TERM must end it with 143,
// not with Go's exit 2 of an init that had no handler yet.
func TestStopAtStart(t *testing.T) {
	e2e.Require(t)
	const tries = 20
	prefix := e2e.Name("stopstart")
	res := e2e.NewResources(t, prefix)
	counts := map[string]int{}
	for i := 1; i <= tries; i++ {
		name := fmt.Sprintf("%s-%d", prefix, i)
		res.Container(name)
		e2e.Run(t, "docker", "run", "-d", "--name", name, "snufkin/spark-master")
		e2e.Run(t, "docker", "kill", "-s", "TERM", name)
		status := strings.TrimSpace(e2e.Run(t, "docker", "wait", name))
		counts[status]++
		if status != "143" {
			logs, _ := e2e.Try("docker", "logs", name)
			t.Errorf("try %d: exit %s, want 143:\n%s", i, status, tail(logs, 5))
		}
		e2e.Run(t, "docker", "rm", name)
	}
	t.Logf("stop at start: %d of %d tries exited 143 (%v)", counts["143"], tries, counts)
}
