package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
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
	return WaitConnectReadyIn(t, []string{"docker"}, container, timeout)
}

// WaitConnectReadyIn is WaitConnectReady with the docker command docker
// (see ExplainIn).
func WaitConnectReadyIn(t *testing.T, docker []string, container string, timeout time.Duration) bool {
	t.Helper()
	var out string
	var err error
	ready, took := Poll(timeout, time.Second, func(time.Duration) bool {
		out, err = Try(append(slices.Clone(docker), "exec", container, "/usr/local/bin/entrypoint", "ready", "connect")...)
		return err == nil
	})
	if !ready {
		t.Errorf("connect server %s not ready after %s: %v: %s", Short(container), timeout, err, strings.TrimSpace(out))
		return false
	}
	t.Logf("connect server ready after %s: %s", took.Round(time.Second), strings.TrimSpace(out))
	return true
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

// CheckDriversInMaster runs, in the master container, the drivers of the
// 2015 recipe without a flag beyond the master URL: spark-shell (Scala, on
// standard input) and spark-submit of a Python file, both against
// spark://spark-master:7077, and reports whether both printed the checked
// sum. The executors must dial those drivers back from the workers.
func CheckDriversInMaster(t *testing.T, master string) bool {
	t.Helper()
	const url = "spark://spark-master:7077"
	shell, err := TryEnv(nil, "docker", "exec", master, "bash", "-c",
		`echo 'println("shell: sum=" + sc.parallelize(1L to 1000000L, 12).sum.toLong)' | spark-shell --master `+url+` 2>&1`)
	shellOK := err == nil && strings.Contains(shell, "shell: sum=500000500000")
	if !shellOK {
		t.Errorf("spark-shell --master %s in %s (%v):\n%s", url, Short(master), err, JobErrors(shell))
	}
	submit, err := TryEnv(nil, "docker", "exec", master, "bash", "-c",
		`printf '%s\n' 'from pyspark.sql import SparkSession' 's = SparkSession.builder.getOrCreate()' \
		  'print("submit: sum=%d" % s.sparkContext.parallelize(range(1, 1000001), 12).sum())' > /tmp/submit-check.py &&
		 spark-submit --master `+url+` /tmp/submit-check.py 2>&1; rm -f /tmp/submit-check.py`)
	submitOK := err == nil && strings.Contains(submit, "submit: sum=500000500000")
	if !submitOK {
		t.Errorf("spark-submit --master %s in %s (%v):\n%s", url, Short(master), err, JobErrors(submit))
	}
	t.Logf("drivers in the master container: spark-shell %v, spark-submit %v", shellOK, submitOK)
	return shellOK && submitOK
}

// StopLine returns the entrypoint's log line in log that says it stopped
// the workload, and whether its reason names the application: what a
// Connect server that exits by itself owes whoever reads its log. The line
// is text (the default) or JSON (ENTRYPOINT_LOG_FORMAT=json, as the
// Kubernetes and ECS files set).
func StopLine(log string) (string, bool) {
	for _, line := range strings.Split(log, "\n") {
		var l struct {
			Message string `json:"message"`
			Reason  string `json:"reason"`
		}
		if json.Unmarshal([]byte(strings.TrimSpace(line)), &l) == nil {
			if l.Message == "stopping the workload" {
				return strings.TrimSpace(line), strings.Contains(l.Reason, "application")
			}
			continue
		}
		if _, after, ok := strings.Cut(line, " entrypoint: stopping the workload "); ok {
			_, reason, _ := strings.Cut(after, "reason=")
			return strings.TrimSpace(line), strings.Contains(reason, "application")
		}
	}
	return "", false
}
