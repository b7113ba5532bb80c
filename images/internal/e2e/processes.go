package e2e

// PID 1, the JVM's user, zombies, and how containers stop.

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// CheckProcesses wants, in container id, the entrypoint as PID 1, the JVM
// under it as the spark user, and no zombie. It reports whether all held.
func CheckProcesses(t *testing.T, id string) bool {
	t.Helper()
	ps := Run(t, "docker", "exec", id, "ps", "-eo", "pid,user,stat,args")
	problems := psProblems(ps)
	for _, p := range problems {
		t.Errorf("container %s %s", Short(id), p)
	}
	return len(problems) == 0
}

// psProblems checks `ps -eo pid,user,stat,args` output.
func psProblems(ps string) []string {
	var problems []string
	var pid1, jvm bool
	for _, line := range strings.Split(strings.TrimSpace(ps), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		pid, user, stat, args := f[0], f[1], f[2], strings.Join(f[3:], " ")
		if strings.HasPrefix(stat, "Z") {
			problems = append(problems, "has a zombie: "+line)
		}
		if pid == "1" && strings.Contains(args, "entrypoint") {
			pid1 = true
		}
		if strings.Contains(args, "org.apache.spark.deploy.") {
			jvm = true
			if user != "spark" {
				problems = append(problems, fmt.Sprintf("runs the JVM as %s, want spark: %s", user, line))
			}
		}
	}
	if !pid1 || !jvm {
		problems = append(problems, fmt.Sprintf("entrypoint as PID 1 = %v, spark JVM = %v:\n%s", pid1, jvm, ps))
	}
	return problems
}

// ExitCodes checks that every container exited 0 or 143 (SIGTERM) and
// reports whether they all did.
func ExitCodes(t *testing.T, ids []string) bool {
	t.Helper()
	ok := true
	for _, id := range ids {
		code := strings.TrimSpace(Run(t, "docker", "inspect", "-f", "{{.State.ExitCode}}", id))
		t.Logf("container %s exited %s", Short(id), code)
		if code != "0" && code != "143" {
			t.Errorf("container %s exited %s, want 0 or 143", Short(id), code)
			ok = false
		}
	}
	return ok
}

// Stop runs `docker stop -t 10` on ids (in parallel, as a platform stops a
// service's tasks), then checks the exit codes.
func Stop(t *testing.T, ids []string) bool {
	t.Helper()
	start := time.Now()
	if out, err := Try(append([]string{"docker", "stop", "-t", "10"}, ids...)...); err != nil {
		t.Errorf("docker stop: %v\n%s", err, out)
		return false
	}
	t.Logf("stopped %d containers in %s", len(ids), time.Since(start).Round(100*time.Millisecond))
	return ExitCodes(t, ids)
}

// Exposures is everything of container a secret must not show in, by
// name: its log, explain of role, and every process's command line.
func Exposures(container, role string) map[string]string {
	logs, _ := Try("docker", "logs", container)
	explain, _ := Try("docker", "exec", container, "/usr/local/bin/entrypoint", "explain", role)
	cmdlines, _ := Try("docker", "exec", container, "bash", "-c", `for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' < "$f"; echo; done`)
	return map[string]string{"logs": logs, "explain": explain, "command lines": cmdlines}
}
