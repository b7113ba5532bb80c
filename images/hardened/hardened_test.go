// Package hardened_test runs the images the way OpenShift and hardened
// Kubernetes do: an arbitrary uid in group 0 with no passwd entry, a
// read-only root file system and a tmpfs /tmp. The cluster must still form
// and the master must still serve its UI, with /etc untouched.
package hardened_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

func docker(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command("docker", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("docker %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func TestArbitraryUIDReadOnlyRoot(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: needs docker and the images (make test runs it)")
	}
	name := fmt.Sprintf("sshard%d", os.Getpid())
	hardened := []string{"--user", "12345:0", "--read-only", "--tmpfs", "/tmp", "--tmpfs", "/opt/spark/work-dir:uid=12345,gid=0,mode=0770"}
	t.Cleanup(func() {
		if t.Failed() {
			for _, c := range []string{name + "-master", name + "-worker"} {
				out, _ := exec.Command("docker", "logs", "--tail", "30", c).CombinedOutput()
				t.Logf("%s logs:\n%s", c, out)
			}
		}
		exec.Command("docker", "rm", "-f", name+"-master", name+"-worker").Run()
	})
	docker(t, append(append([]string{"run", "-d", "--name", name + "-master", "--hostname", "spark-master", "-p", "127.0.0.1::8080"}, hardened...), "snufkin/spark-master")...)
	docker(t, append(append([]string{"run", "-d", "--name", name + "-worker", "--link", name + "-master:spark-master"}, hardened...), "snufkin/spark-worker")...)
	port := docker(t, "port", name+"-master", "8080/tcp")
	port = port[strings.LastIndex(port, ":")+1:]

	var state e2e.MasterJSON
	var err error
	if ok, _ := e2e.Poll(3*time.Minute, time.Second, func(time.Duration) bool {
		state, err = e2e.GetMasterState(port)
		return err == nil && state.Status == "ALIVE" && len(state.Workers) == 1 && state.Alive() == 1
	}); !ok {
		t.Fatalf("uid 12345 on a read-only root: master status %q workers %+v after 3m (last error %v)", state.Status, state.Workers, err)
	}
	t.Logf("uid 12345, read-only root: master ALIVE with 1 worker ALIVE")
	for role, c := range map[string]string{"master": name + "-master", "worker": name + "-worker"} {
		t.Logf("entrypoint ready %s: %s", role, docker(t, "exec", c, "/usr/local/bin/entrypoint", "ready", role))
	}
	for _, c := range []string{name + "-master", name + "-worker"} {
		logs, _ := exec.Command("docker", "logs", c).CombinedOutput()
		if strings.Contains(string(logs), "invalid null input") {
			t.Errorf("%s: the JVM had no user name:\n%s", c, logs)
		}
		ps := docker(t, "exec", c, "ps", "-eo", "user,stat,args")
		if strings.Contains(ps, " Z") {
			t.Errorf("%s has a zombie:\n%s", c, ps)
		}
		// Nothing outside the tmpfs mounts was written: the root is read-only,
		// so docker diff lists only the mount points Docker made itself.
		for _, line := range strings.Split(docker(t, "diff", c), "\n") {
			if line != "" && !strings.Contains(line, "/tmp") && !strings.Contains(line, "/opt/spark/work-dir") {
				t.Errorf("%s wrote outside its tmpfs: %s", c, line)
			}
		}
	}
	docker(t, "stop", "-t", "10", name+"-worker", name+"-master")
	for _, c := range []string{name + "-worker", name + "-master"} {
		if code := docker(t, "inspect", "-f", "{{.State.ExitCode}}", c); code != "0" && code != "143" {
			t.Errorf("%s exited %s, want 0 or 143", c, code)
		}
	}
}
