package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/discovery/discoverytest"
)

// fakeJava stands in for the JDK: asked for the launcher's class it prints
// a command line naming itself (after a pause, as the real launcher JVM
// takes a while), and run as that command it is the workload, a sleep that
// a SIGTERM ends with 143.
const fakeJava = `#!/bin/sh
case " $* " in
*" org.apache.spark.launcher.Main "*)
  sleep 0.2
  printf '\000\n%s\000%s\000' "$0" workload
  exit 0 ;;
esac
exec sleep 600
`

// TestStopAtEveryStepOfTheStart stops a worker, run as PID 1 of a new PID
// namespace, at delays that reach every step of its start (discovery, the
// launcher, /etc, the master's port, the supervisor, the workload): each
// stop must end it with 143. An init in a PID namespace that dies of a
// signal's default action is not killed by the kernel, so a step with no
// handler made Go's runtime exit 2 instead.
func TestStopAtEveryStepOfTheStart(t *testing.T) {
	if out, err := exec.Command("unshare", "-p", "-f", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("cannot run as PID 1 of a new PID namespace: %v: %s", err, bytes.TrimSpace(out))
	}
	home, jdk := t.TempDir(), t.TempDir()
	for _, d := range []string{filepath.Join(home, "jars"), filepath.Join(jdk, "bin")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(jdk, "bin", "java"), []byte(fakeJava), 0o755); err != nil {
		t.Fatal(err)
	}
	// The master's port, so that the wait for it ends at once.
	ln := discoverytest.MasterPort(t)
	env := []string{"PATH=/usr/bin:/bin", "SPARK_HOME=" + home, "JAVA_HOME=" + jdk, "SPARK_CONF_DIR=" + t.TempDir(),
		"ENTRYPOINT_USER=0", "ENTRYPOINT_FIX_ETC=false", "ENTRYPOINT_DISCOVERY=static",
		"SPARK_MASTER_URL=spark://" + ln.Addr().String(), "ENTRYPOINT_GRACE=5s"}

	delays := []time.Duration{0, time.Millisecond, 3 * time.Millisecond, 10 * time.Millisecond, 30 * time.Millisecond,
		60 * time.Millisecond, 100 * time.Millisecond, 150 * time.Millisecond, 200 * time.Millisecond,
		250 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond, 600 * time.Millisecond, time.Second}
	for _, d := range delays {
		status, last, err := stopAfter(env, d)
		if err != nil {
			t.Fatalf("stop after %s: %v", d, err)
		}
		t.Logf("stop after %s: exit %d; last line: %s", d, status, last)
		if status != 143 {
			t.Errorf("stop after %s: exit %d, want 143; last line: %s", d, status, last)
		}
	}
}

// stopAfter runs `entrypoint worker` as PID 1 of a new PID namespace,
// sends it SIGTERM after d and returns its exit status and the last line
// it wrote.
func stopAfter(env []string, d time.Duration) (int, string, error) {
	cmd := exec.Command("unshare", "-p", "-f", "--mount-proc", binary, "worker")
	cmd.Env = env
	var out lockedBuffer
	out.first = make(chan struct{})
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		return 0, "", err
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	// The delay counts from the entrypoint's first line. Before it, in the
	// millisecond of Go's own start (the runtime, package initialisation)
	// no code of ours can run: a signal then meets the runtime's default
	// action, which for a namespace's init is exit 2 once the runtime's
	// handler is in, and nothing at all before (the kernel drops it).
	select {
	case <-out.first:
	case err := <-waited:
		return 0, "", fmt.Errorf("ended before writing anything: %v", err)
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	if pid == 0 {
		cmd.Process.Kill()
		<-waited
		return 0, "", errors.New("unshare has no child")
	}
	time.Sleep(d)
	syscall.Kill(pid, syscall.SIGTERM)
	var err error
	select {
	case err = <-waited:
	case <-time.After(30 * time.Second):
		syscall.Kill(pid, syscall.SIGKILL)
		<-waited
		return 0, "", errors.New("still running 30 s after SIGTERM")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	last := lines[len(lines)-1]
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, last, nil
	case errors.As(err, &ee):
		return ee.ExitCode(), last, nil
	}
	return 0, last, err
}

// lockedBuffer collects a process's output from both its streams and
// closes first when the first bytes arrive.
type lockedBuffer struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	first chan struct{}
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf.Len() == 0 && len(p) > 0 {
		close(b.first)
	}
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
