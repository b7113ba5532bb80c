// Package e2e holds what the end-to-end tests under images/ share: running
// docker and docker-compose, unique names and their teardown, the master's
// /json/ state, `entrypoint explain` in a container, the host driver job
// (scripts/sparkjob.py), the PID-1 and zombie checks, the exit codes after a
// stop, and the one matrix line each platform path prints.
//
// Every test that uses it creates only uniquely named containers and
// networks (pid-based), publishes container ports on random loopback ports,
// gives its driver free ports, and removes everything it created in
// t.Cleanup, so several end-to-end runs can share one Docker daemon.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Root is the repository root.
var Root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}()

// Images are the two images every path runs.
var Images = []string{"snufkin/spark-master", "snufkin/spark-worker"}

// Workers is how many workers every path starts.
const Workers = 3

// cmdTimeout bounds one docker or docker-compose command.
const cmdTimeout = 5 * time.Minute

// Require skips the test under -short and makes sure docker answers and
// the images exist, building them with `make images` only when one is
// missing (never pulling).
func Require(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: needs docker and the images (make test runs it)")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("end-to-end: no docker on PATH")
	}
	if out, err := Try("docker", "version", "--format", "{{.Server.Version}}"); err != nil {
		t.Fatalf("docker daemon: %v\n%s", err, out)
	}
	for _, img := range Images {
		if _, err := Try("docker", "image", "inspect", "--format", "{{.Id}}", img); err != nil {
			t.Logf("image %s missing: make images", img)
			Run(t, "make", "-C", Root, "images")
			return
		}
	}
}

// Name returns a name unique to this test process for kind, e.g.
// "sslink12345": docker container, network and compose project names
// are built from it, and teardown checks look for it.
func Name(kind string) string {
	return fmt.Sprintf("ss%s%d", kind, os.Getpid())
}

// Run runs argv and returns its combined output; a failure is fatal.
func Run(t *testing.T, argv ...string) string {
	t.Helper()
	return RunEnv(t, nil, argv...)
}

// RunEnv is Run with env as the command's environment (nil: inherit).
func RunEnv(t *testing.T, env []string, argv ...string) string {
	t.Helper()
	out, err := TryEnv(env, argv...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return out
}

// Output runs argv and returns its standard output alone, what a script
// prints for its caller; its standard error is logged (progress) or, with
// a failure, fatal.
func Output(t *testing.T, argv ...string) string {
	t.Helper()
	var out, errs bytes.Buffer
	if err := runTo(nil, &out, &errs, argv...); err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(argv, " "), err, out.String(), errs.String())
	}
	if errs.Len() > 0 {
		t.Log(strings.TrimSpace(errs.String()))
	}
	return out.String()
}

// Try runs argv and returns its combined output and error.
func Try(argv ...string) (string, error) {
	return TryEnv(nil, argv...)
}

// TryEnv is Try with env as the command's environment (nil: inherit).
func TryEnv(env []string, argv ...string) (string, error) {
	var out bytes.Buffer
	err := runTo(env, &out, &out, argv...)
	return out.String(), err
}

// TryInput is Try with stdin as the command's standard input.
func TryInput(stdin string, argv ...string) (string, error) {
	var out bytes.Buffer
	err := runFrom(strings.NewReader(stdin), nil, &out, &out, argv...)
	return out.String(), err
}

// runTo runs argv with env (nil: inherit) and its output streams written
// to stdout and stderr, killed after cmdTimeout.
func runTo(env []string, stdout, stderr io.Writer, argv ...string) error {
	return runFrom(nil, env, stdout, stderr, argv...)
}

// runFrom is runTo with stdin (nil: none).
func runFrom(stdin io.Reader, env []string, stdout, stderr io.Writer, argv ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin = stdin
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

// Short shortens a 64-digit container id to Docker's 12 digits and leaves
// names alone.
func Short(id string) string {
	if len(id) == 64 && strings.Trim(id, "0123456789abcdef") == "" {
		return id[:12]
	}
	return id
}
