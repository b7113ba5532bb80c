// Package compose_test runs the classic compose file end to end with the
// real images: the v1 file exactly as users have it, scaled to three workers,
// a job from a driver on the host, and a clean stop.
package compose_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}()

const workers = 3

func TestClassicComposeV1(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: needs docker and the images (make test runs it)")
	}
	run(t, "make", "-C", root, "images")
	project := fmt.Sprintf("ssv1e2e%d", os.Getpid())
	env := append(os.Environ(), "COMPOSE_PROJECT="+project, fmt.Sprintf("WORKERS=%d", workers))
	file := filepath.Join(root, "images", "compose", "docker-compose.v1.yml")
	dc := func(args ...string) string {
		return run(t, append([]string{"docker-compose", "-p", project, "-f", file}, args...)...)
	}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := exec.Command("docker-compose", "-p", project, "-f", file, "logs", "--tail", "40").CombinedOutput()
			t.Logf("cluster logs:\n%s", out)
		}
		out, err := exec.Command("docker-compose", "-p", project, "-f", file, "down", "-t", "10", "--remove-orphans").CombinedOutput()
		if err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})

	dc("up", "-d")
	dc("scale", fmt.Sprintf("worker=%d", workers))
	master := strings.TrimSpace(dc("ps", "-q", "master"))
	ids := strings.Fields(dc("ps", "-q", "worker"))
	if master == "" || len(ids) != workers {
		t.Fatalf("compose started master %q and workers %q, want 1 and %d", master, ids, workers)
	}
	ids = append(ids, master)

	runEnv(t, env, "bash", filepath.Join(root, "scripts", "cluster.sh"), "wait-alive")
	state := masterState(t, master)
	alive := 0
	for _, w := range state.Workers {
		t.Logf("worker %s %s:%d cores=%d state=%s", w.ID, w.Host, w.Port, w.Cores, w.State)
		if w.State == "ALIVE" {
			alive++
		}
	}
	t.Logf("master %s status=%s: %d workers ALIVE", state.URL, state.Status, alive)
	if alive != workers || state.Status != "ALIVE" {
		t.Fatalf("master /json/ lists %d ALIVE workers (status %s), want %d", alive, state.Status, workers)
	}

	out := runEnv(t, env, "bash", filepath.Join(root, "scripts", "cluster.sh"), "job")
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "job:") || strings.HasPrefix(line, "cluster:") {
			t.Log(line)
		}
	}
	if !strings.Contains(out, "result=500000500000 expected=500000500000") || !strings.Contains(out, "job: OK") {
		t.Fatalf("job did not report the checked result:\n%s", out)
	}

	for _, id := range ids {
		ps := run(t, "docker", "exec", id, "ps", "-eo", "pid,user,stat,args")
		checkProcesses(t, id, ps)
	}

	dc("stop", "-t", "10")
	for _, id := range ids {
		code := strings.TrimSpace(run(t, "docker", "inspect", "-f", "{{.State.ExitCode}}", id))
		t.Logf("container %.12s exited %s", id, code)
		if code != "0" && code != "143" {
			t.Errorf("container %.12s exited %s, want 0 or 143", id, code)
		}
	}
}

// checkProcesses wants the entrypoint as PID 1, the JVM under it as the
// spark user, and no zombie.
func checkProcesses(t *testing.T, id, ps string) {
	t.Helper()
	var pid1, jvm bool
	for _, line := range strings.Split(strings.TrimSpace(ps), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		pid, user, stat, args := f[0], f[1], f[2], strings.Join(f[3:], " ")
		if strings.HasPrefix(stat, "Z") {
			t.Errorf("container %.12s has a zombie: %s", id, line)
		}
		if pid == "1" && strings.Contains(args, "entrypoint") {
			pid1 = true
		}
		if strings.Contains(args, "org.apache.spark.deploy.") {
			jvm = true
			if user != "spark" {
				t.Errorf("container %.12s runs the JVM as %s, want spark: %s", id, user, line)
			}
		}
	}
	if !pid1 || !jvm {
		t.Errorf("container %.12s: entrypoint as PID 1 = %v, spark JVM = %v:\n%s", id, pid1, jvm, ps)
	}
}

type masterJSON struct {
	URL     string `json:"url"`
	Status  string `json:"status"`
	Workers []struct {
		ID, Host, State string
		Port, Cores     int
	} `json:"workers"`
}

func masterState(t *testing.T, master string) masterJSON {
	t.Helper()
	port := strings.TrimSpace(run(t, "docker", "port", master, "8080/tcp"))
	port = port[strings.LastIndex(strings.Split(port, "\n")[0], ":")+1:]
	port = strings.Split(port, "\n")[0]
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + port + "/json/")
	if err != nil {
		t.Fatalf("master /json/: %v", err)
	}
	defer resp.Body.Close()
	var s masterJSON
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		t.Fatalf("master /json/: %v", err)
	}
	return s
}

func run(t *testing.T, argv ...string) string {
	t.Helper()
	return runEnv(t, nil, argv...)
}

func runEnv(t *testing.T, env []string, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out.String())
	}
	return out.String()
}
