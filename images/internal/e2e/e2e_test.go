package e2e

import (
	"strings"
	"testing"
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
