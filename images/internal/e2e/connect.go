package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// ConnectPort is the Connect server's gRPC port in the containers.
const ConnectPort = "15002"

// WaitConnectReady runs `entrypoint ready connect` in container until it
// answers ready or timeout passes, and reports whether it did.
func WaitConnectReady(t *testing.T, container string, timeout time.Duration) bool {
	t.Helper()
	start := time.Now()
	var out string
	var err error
	for time.Since(start) < timeout {
		if out, err = Try("docker", "exec", container, "/usr/local/bin/entrypoint", "ready", "connect"); err == nil {
			t.Logf("connect server ready after %s: %s", time.Since(start).Round(time.Second), strings.TrimSpace(out))
			return true
		}
		time.Sleep(time.Second)
	}
	t.Errorf("connect server %s not ready after %s: %v: %s", Short(container), timeout, err, strings.TrimSpace(out))
	return false
}

// ConnectJob runs scripts/connectjob.py from the host with the thin
// client (pyspark-client, no JVM) against remote (sc://localhost:PORT),
// with token in SPARK_CONNECT_AUTHENTICATE_TOKEN when it is not "", logs
// its connect: lines and reports whether it printed the checked result
// with rows on every one of workers.
func ConnectJob(t *testing.T, remote, token string, workers int) (bool, string) {
	t.Helper()
	env := os.Environ()
	if token != "" {
		env = append(env, "SPARK_CONNECT_AUTHENTICATE_TOKEN="+token)
	}
	return runChecked(t, env, "connect:", "result=500000500000 expected=500000500000", ClientPython(t),
		filepath.Join(Root, "scripts", "connectjob.py"), "--remote", remote, "--workers", strconv.Itoa(workers))
}
