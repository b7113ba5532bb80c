package e2e

import (
	"strings"
	"testing"
	"time"
)

func TestMatrixLine(t *testing.T) {
	m := &Matrix{fields: []string{"path", "discovery", "alive", "job", "stop"}, values: map[string]string{"path": "x"}}
	m.OK("discovery", true)
	m.Set("alive", "3/3")
	m.OK("job", false)
	if got, want := m.String(), "path=x discovery=ok alive=3/3 job=fail stop=-"; got != want {
		t.Errorf("matrix line %q, want %q", got, want)
	}
	m.Set("restart", "ok(new-ip,7.2s)")
	m.OK("kill", true)
	if got, want := m.String(), "path=x discovery=ok alive=3/3 job=fail restart=ok(new-ip,7.2s) kill=ok stop=-"; got != want {
		t.Errorf("matrix line %q, want %q", got, want)
	}
}

func TestShort(t *testing.T) {
	id := strings.Repeat("ab12", 16)
	if Short(id) != id[:12] || Short("sslink1-worker-1") != "sslink1-worker-1" {
		t.Errorf("Short(%s) = %s", id, Short(id))
	}
}

func TestCheckPS(t *testing.T) {
	good := `    PID USER     STAT COMMAND
      1 root     Ssl  /usr/local/bin/entrypoint worker
     22 spark    Sl   /usr/lib/jvm/java-17-openjdk-amd64/bin/java -cp /opt/spark/conf org.apache.spark.deploy.worker.Worker spark://spark-master:7077
     90 root     Rs   ps -eo pid,user,stat,args`
	if p := psProblems(good); len(p) > 0 {
		t.Errorf("a healthy process table was rejected: %q", p)
	}
	for name, ps := range map[string]string{
		"zombie":   good + "\n     77 spark    Z    [python3] <defunct>",
		"root JVM": strings.Replace(good, "22 spark", "22 root ", 1),
		"no PID 1": strings.Replace(good, "/usr/local/bin/entrypoint worker", "tini -- worker", 1),
	} {
		if len(psProblems(ps)) == 0 {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestPoll(t *testing.T) {
	cases := []struct {
		name    string
		doneAt  int // the call that reports done; 0: never
		timeout time.Duration
		want    bool
		calls   int
	}{
		{"done at once", 1, time.Second, true, 1},
		{"done on the third call", 3, time.Second, true, 3},
		// Never done: calls until the timeout, and once more at its end.
		{"never", 0, 25 * time.Millisecond, false, 0},
	}
	for _, c := range cases {
		calls := 0
		var last time.Duration
		ok, took := Poll(c.timeout, 10*time.Millisecond, func(elapsed time.Duration) bool {
			calls++
			if elapsed < last {
				t.Errorf("%s: elapsed went back from %s to %s", c.name, last, elapsed)
			}
			last = elapsed
			return calls == c.doneAt
		})
		if ok != c.want || (c.calls > 0 && calls != c.calls) || (!ok && (took < c.timeout || calls < 2)) {
			t.Errorf("%s: Poll = %v after %s and %d calls; want %v after %d calls", c.name, ok, took, calls, c.want, c.calls)
		}
	}
}
