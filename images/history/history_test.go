// Package history_test runs the history server the way a hardened
// platform does (an arbitrary uid in group 0, a read-only root, a tmpfs
// /tmp) on a volume that a driver of another uid writes its event log to,
// and checks that the server lists the driver's application as completed.
package history_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// job is a classic driver's application; it prints its id.
const job = `from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("history-check").getOrCreate()
n = spark.sparkContext.parallelize(range(1000), 4).map(lambda x: x * 2).sum()
print("history-job: app=%s sum=%d" % (spark.sparkContext.applicationId, n), flush=True)
spark.stop()
`

func TestHistoryServer(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "history")
	prefix := e2e.Name("hist")
	res := e2e.NewResources(t, prefix)
	master, worker, history, events := prefix+"-spark-master", prefix+"-worker", prefix+"-history", prefix+"-events"
	for _, c := range []string{master, worker, history} {
		res.Container(c)
	}
	res.Volume(events)
	e2e.Run(t, "docker", "volume", "create", events)
	e2e.Run(t, "docker", "run", "-d", "--name", master, "-p", "127.0.0.1::8080", "snufkin/spark-master")
	e2e.Run(t, "docker", "run", "-d", "--name", worker, "--link", master+":spark-master", "snufkin/spark-worker")
	// The history server as OpenShift runs it: no passwd entry, group 0,
	// nothing writable but its tmpfs and the volume. The tmpfs must allow
	// exec (Docker's default is noexec): Spark 4 compresses event logs with
	// zstd, whose JNI library zstd-jni extracts to java.io.tmpdir and maps.
	e2e.Run(t, "docker", "run", "-d", "--name", history, "--user", "12345:0", "--read-only", "--tmpfs", "/tmp:exec",
		"-v", events+":/var/lib/spark/events", "-p", "127.0.0.1::18080", "snufkin/spark-master", "history")
	e2e.RequireAlive(t, m, e2e.Published(t, master, "8080/tcp"), 1, 4*time.Minute)
	m.Set("discovery", "ok")
	hostPort := "127.0.0.1:" + e2e.Published(t, history, "18080/tcp")

	ready, took := e2e.Poll(2*time.Minute, time.Second, func(time.Duration) bool {
		_, err := e2e.Try("docker", "exec", history, "/usr/local/bin/entrypoint", "ready", "history")
		return err == nil
	})
	if !ready {
		out, _ := e2e.Try("docker", "exec", history, "/usr/local/bin/entrypoint", "ready", "history")
		t.Fatalf("history server not ready after %s: %s", took.Round(time.Second), out)
	}
	t.Logf("history server ready after %s: %s", took.Round(time.Second),
		strings.TrimSpace(e2e.Run(t, "docker", "exec", history, "/usr/local/bin/entrypoint", "ready", "history")))

	// A classic driver in its own container, as the spark user's uid in
	// group 0 (what the history server's group can read: Spark's files in
	// an application's log directory take their writer's primary group),
	// with the volume and the two settings a driver needs.
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "job.py"), []byte(job), 0o644); err != nil {
		t.Fatal(err)
	}
	driver := prefix + "-driver"
	res.Container(driver)
	out, err := e2e.Try("docker", "run", "--name", driver, "--user", "185:0", "--link", master+":spark-master",
		"-v", events+":/var/lib/spark/events", "-v", dir+":/job:ro", "snufkin/spark-worker",
		"spark-submit", "--master", "spark://spark-master:7077",
		"--conf", "spark.eventLog.enabled=true", "--conf", "spark.eventLog.dir=file:/var/lib/spark/events", "/job/job.py")
	match := regexp.MustCompile(`history-job: app=(\S+) sum=999000`).FindStringSubmatch(out)
	if err != nil || match == nil {
		t.Fatalf("driver: %v\n%s", err, e2e.JobErrors(out))
	}
	app := match[1]
	m.OK("job", true)
	t.Logf("driver ran %s", app)
	files := e2e.Run(t, "docker", "exec", history, "ls", "-lnR", "/var/lib/spark/events")
	t.Logf("event logs as the history server (12345:0) sees them:\n%s", files)

	if listed, took := e2e.WaitHistoryLists(t, hostPort, app, true, 2*time.Minute); listed {
		t.Logf("%s listed as completed %s after the driver ended", app, took.Round(time.Second))
		m.Set("history", fmt.Sprintf("ok(completed,uid=12345:0,read-only,listed=%s)", took.Round(time.Second)))
	} else {
		m.Set("history", "fail")
	}

	// Nothing was written outside the tmpfs: the root is read-only.
	for _, line := range strings.Split(e2e.Run(t, "docker", "diff", history), "\n") {
		if line != "" && !strings.Contains(line, "/tmp") {
			t.Errorf("the history server wrote outside its tmpfs: %s", line)
		}
	}
	m.OK("stop", e2e.Stop(t, []string{history, worker, master}))
}
