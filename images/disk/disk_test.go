// Package disk_test checks that a worker's disk stays bounded with the
// images' defaults: executor logs roll (spark.executor.logs.rolling.*) and
// the directories of stopped applications go (spark.worker.cleanup.*),
// while a live application's stays. The worker gets a short interval, TTL
// and roll size through SPARK_WORKER_OPTS, as a user would override them;
// the rest (cleanup on, size-based rolling) are the images' own.
package disk_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

const (
	workDir = "/opt/spark/work-dir"
	// rollSize is Spark's smallest size-based roll (SizeBasedRollingPolicy
	// raises anything below 10 x its 8 KiB buffer to that).
	rollSize = 81920
	kept     = 2
)

// logJob has each of its tasks write about 2 MiB to its stderr, the
// executor's stderr file, then, with "hold", keeps the application alive
// for a while so that its directory can be looked at.
const logJob = `import sys, time
from pyspark.sql import SparkSession
sc = SparkSession.builder.getOrCreate().sparkContext
def chatty(i):
    for n in range(2048):
        print("line %d of task %d " % (n, i) + "x" * 1000, file=sys.stderr)
    return i
print("logjob: sum=%d" % sum(sc.parallelize(range(4), 4).map(chatty).collect()), flush=True)
if sys.argv[1:] == ["hold"]:
    time.sleep(45)
`

func TestWorkerDisk(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "disk")
	prefix := e2e.Name("disk")
	res := e2e.NewResources(t, prefix)
	master, worker, connect := prefix+"-spark-master", prefix+"-worker", prefix+"-connect"
	res.Container(master)
	res.Container(worker)
	res.Container(connect)
	e2e.Run(t, "docker", "run", "-d", "--name", master, "-p", "127.0.0.1::8080", "snufkin/spark-master")
	e2e.Run(t, "docker", "run", "-d", "--name", worker, "--link", master+":spark-master", "-e",
		fmt.Sprintf("SPARK_WORKER_OPTS=-Dspark.worker.cleanup.interval=5 -Dspark.worker.cleanup.appDataTtl=5 "+
			"-Dspark.executor.logs.rolling.maxSize=%d -Dspark.executor.logs.rolling.maxRetainedFiles=%d", rollSize, kept),
		"snufkin/spark-worker")
	ui := e2e.Published(t, master, "8080/tcp")
	e2e.RequireAlive(t, m, ui, 1, 4*time.Minute)
	m.Set("discovery", "ok")

	// The live application: a Connect server keeps an executor on the
	// worker for as long as it runs.
	e2e.Run(t, "docker", "run", "-d", "--name", connect, "--link", master+":spark-master", "snufkin/spark-worker", "connect")
	if !e2e.WaitConnectReady(t, connect, 3*time.Minute) {
		t.FailNow()
	}
	live := runningApps(t, ui)
	if len(live) != 1 {
		t.Fatalf("the master lists %v running, want the Connect server's one application", live)
	}

	if _, err := e2e.TryInput(logJob, "docker", "exec", "-i", master, "sh", "-c", "cat > /tmp/logjob.py"); err != nil {
		t.Fatalf("copy the job into %s: %v", master, err)
	}
	submit := func(args ...string) (string, error) {
		return e2e.Try(append([]string{"docker", "exec", master, "spark-submit", "--master", "spark://spark-master:7077",
			"--conf", "spark.executor.cores=1", "/tmp/logjob.py"}, args...)...)
	}

	// Rolling: while the first application holds on, its executor's
	// stderr has been rolled many times over and only the newest rolled
	// files are kept.
	held := make(chan error, 1)
	go func() {
		out, err := submit("hold")
		if err == nil && !strings.Contains(out, "logjob: sum=6") {
			err = fmt.Errorf("no checked sum:\n%s", out)
		}
		held <- err
	}()
	var files []string
	rolled, took := e2e.Poll(2*time.Minute, time.Second, func(time.Duration) bool {
		files = stderrFiles(t, worker, live[0])
		n := 0
		for _, f := range files {
			if strings.Contains(f, "/stderr--") {
				n++
			}
		}
		return n == kept
	})
	t.Logf("executor log files after %s: %s", took.Round(time.Second), strings.Join(files, " "))
	// The executor still writes, so the roller may delete the oldest file
	// between the glob and its stat: only the files still there count.
	sizes, _ := e2e.Try("docker", "exec", worker, "sh", "-c", "for f in "+workDir+"/*/*/stderr--*; do stat -c '%s %n' \"$f\" 2>/dev/null; done; true")
	big, sized := false, 0
	for _, line := range strings.Split(strings.TrimSpace(sizes), "\n") {
		if line == "" {
			continue
		}
		sized++
		var n int
		if _, err := fmt.Sscan(line, &n); err != nil || n > rollSize+64*1024 {
			big = true
			t.Errorf("rolled file larger than %d bytes and a buffer: %s", rollSize, line)
		}
	}
	if sized == 0 {
		big = true
		t.Errorf("no rolled file left to measure: %q", sizes)
	}
	m.OK("rolling", rolled && !big)
	if rolled && !big {
		m.Set("rolling", fmt.Sprintf("ok(%d-kept)", kept))
	}
	m.OK("daemon-opts", checkDaemonOpts(t, worker))
	if err := <-held; err != nil {
		t.Errorf("the held application: %v", err)
	}

	// Cleanup: two more applications come and go; then only the live
	// application's directory is left.
	for i := range 2 {
		if out, err := submit(); err != nil || !strings.Contains(out, "logjob: sum=6") {
			t.Fatalf("application %d: %v\n%s", i+2, err, out)
		}
	}
	var dirs []string
	clean, took := e2e.Poll(2*time.Minute, time.Second, func(time.Duration) bool {
		dirs = strings.Fields(e2e.Run(t, "docker", "exec", worker, "ls", workDir))
		return slices.Equal(dirs, live)
	})
	t.Logf("%s after the applications, %s later: %v (live: %v)", workDir, took.Round(time.Second), dirs, live)
	if !clean {
		t.Errorf("%s holds %v, want only the live application's %v", workDir, dirs, live)
	}
	m.OK("job", true) // three applications ran with their checked sums
	m.OK("cleanup", clean)
	if clean {
		m.Set("cleanup", fmt.Sprintf("ok(live=%d,removed=3)", len(live)))
	}
	m.OK("stop", e2e.Stop(t, []string{connect, worker, master}))
}

// checkDaemonOpts wants the images' daemon options (SPARK_DAEMON_JAVA_OPTS)
// in the worker's JVM and in none of its executors' JVMs, which Spark's
// worker starts with the application's options: read from each JVM's
// /proc/PID/cmdline while the held application runs.
func checkDaemonOpts(t *testing.T, worker string) bool {
	t.Helper()
	// The options the worker's entrypoint chose (explain's daemon, the
	// images' default, which the explain goldens pin), each of which would
	// hurt an executor: a C1-only JIT, one GC thread, an 8 MiB young
	// generation.
	var view struct {
		Daemon struct {
			JavaOpts string `json:"java_opts"`
		} `json:"daemon"`
	}
	explained := e2e.Output(t, "docker", "exec", worker, "/usr/local/bin/entrypoint", "explain", "worker")
	if err := json.Unmarshal([]byte(explained), &view); err != nil || view.Daemon.JavaOpts == "" {
		t.Errorf("explain names no daemon options (%v):\n%s", err, explained)
		return false
	}
	daemonOpts := strings.Fields(view.Daemon.JavaOpts)
	out := e2e.Run(t, "docker", "exec", worker, "sh", "-c", `for p in /proc/[0-9]*; do
  c=$(tr '\0' ' ' < "$p/cmdline" 2>/dev/null)
  case "$c" in
  */bin/java\ *org.apache.spark.deploy.worker.Worker*) echo "worker $c" ;;
  */bin/java\ *CoarseGrainedExecutorBackend*) echo "executor $c" ;;
  esac
done`)
	ok, workers, executors := true, 0, 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		kind, cmd, _ := strings.Cut(line, " ")
		args := strings.Fields(cmd)
		switch {
		case kind == "worker":
			workers++
			for _, o := range daemonOpts {
				if !slices.Contains(args, o) {
					t.Errorf("the worker's JVM runs without the daemon option %s: %s", o, cmd)
					ok = false
				}
			}
		case kind == "executor":
			executors++
			for _, o := range daemonOpts {
				if slices.Contains(args, o) {
					t.Errorf("an executor's JVM got the daemon option %s: %s", o, cmd)
					ok = false
				}
			}
		}
	}
	if workers != 1 || executors == 0 {
		t.Errorf("want the worker's JVM and at least one executor's, found %d and %d:\n%s", workers, executors, out)
		return false
	}
	t.Logf("daemon options in the worker's JVM, in none of %d executors' JVMs", executors)
	return ok
}

// runningApps lists the ids of the applications the master runs.
func runningApps(t *testing.T, ui string) []string {
	t.Helper()
	var ids []string
	for _, a := range e2e.MasterState(t, ui).ActiveApps {
		ids = append(ids, a.ID)
	}
	return ids
}

// stderrFiles lists the executors' stderr files of every application in
// the worker's directory but skip's.
func stderrFiles(t *testing.T, worker, skip string) []string {
	t.Helper()
	out, _ := e2e.Try("docker", "exec", worker, "sh", "-c", "ls -d "+workDir+"/*/*/stderr* 2>/dev/null")
	var files []string
	for _, f := range strings.Fields(out) {
		if !strings.HasPrefix(f, workDir+"/"+skip+"/") {
			files = append(files, f)
		}
	}
	return files
}
