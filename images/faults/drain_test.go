package faults_test

import (
	"bufio"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// TestDrainMidJob stops a worker while tasks of a job run on it, with the
// images' defaults and a driver on the host that runs with exactly the
// confs `entrypoint driver-conf` prints. The stop must be a decommission
// that loses no task attempt: every task has one attempt and it succeeded,
// those on the stopped worker after its stop began, in the job's only stage
// attempt; the worker then exits 0.
//
// The job has two waves of tasks on four cores, and the worker's grace
// period covers one task but not two, so a second-wave task on the stopped
// worker would be cut off. Under a driver without spark.decommission.enabled
// (tried by hand) Spark 4.3 still gives the decommissioned worker's
// executor no new task, but the executor stays: the drain times out, the
// worker is stopped with it at the end of the grace period and exits 143.
func TestDrainMidJob(t *testing.T) {
	e2e.Require(t)
	const (
		tasks = 8
		sleep = 12 // seconds per task
		grace = "25s"
	)
	m := e2e.NewMatrix(t, "decommission")
	prefix := e2e.Name("drain")
	res := e2e.NewResources(t, prefix)
	master := prefix + "-spark-master"
	res.Container(master)
	e2e.Run(t, "docker", "run", "-d", "--name", master, "-p", "127.0.0.1::7077", "-p", "127.0.0.1::8080", "snufkin/spark-master")
	// Two cores each: four tasks run at once, two per worker.
	var workers []string
	for i := 1; i <= 2; i++ {
		name := fmt.Sprintf("%s-worker-%d", prefix, i)
		res.Container(name)
		e2e.Run(t, "docker", "run", "-d", "--name", name, "--link", master+":spark-master",
			"-e", "SPARK_WORKER_CORES=2", "-e", "ENTRYPOINT_GRACE="+grace, "--stop-timeout", "35", "snufkin/spark-worker")
		workers = append(workers, name)
	}
	e2e.RequireAlive(t, m, e2e.Published(t, master, "8080/tcp"), len(workers), waitTimeout)
	m.Set("discovery", "ok") // the workers found the master through the links
	victim := workers[0]

	d, port := e2e.HostDriverConf(t, victim)
	if d.Conf("spark.decommission.enabled") != "true" {
		t.Errorf("driver-conf prints no spark.decommission.enabled=true: %v", d.Confs)
	}
	argv := append(d.Argv("drainjob.py", "spark://127.0.0.1:"+e2e.Published(t, master, "7077/tcp"), port, len(workers)),
		"--victim", e2e.IP(t, victim), "--tasks", strconv.Itoa(tasks), "--seconds", strconv.Itoa(sleep))
	cmd := exec.Command(e2e.Python(t), argv...)
	cmd.Env = e2e.DriverEnv()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The stop runs beside the job, as a platform's would.
	type stopped struct {
		at   time.Time
		took time.Duration
		out  string
		err  error
	}
	stop := make(chan stopped, 1)
	var final string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "drain: ") {
			continue
		}
		t.Log(line)
		if strings.HasPrefix(line, "drain: running ") {
			go func() {
				at := time.Now()
				out, err := e2e.Try("docker", "stop", victim)
				stop <- stopped{at, time.Since(at), out, err}
			}()
		}
		if strings.HasPrefix(line, "drain: result=") {
			final = line
		}
	}
	jobErr := cmd.Wait()
	var st stopped
	select {
	case st = <-stop:
	case <-time.After(waitTimeout):
		t.Fatalf("the job ended without a stop of %s, or its stop never returned:\n%s", victim, stderr.String())
	}
	if jobErr != nil || final == "" {
		t.Fatalf("drainjob.py: %v\n%s", jobErr, tail(stderr.String(), 40))
	}
	if st.err != nil {
		t.Errorf("docker stop %s: %v\n%s", victim, st.err, st.out)
	}
	f := fields(final)
	lastEnd, _ := strconv.ParseFloat(f["victim_last_end"], 64)
	stopAt := float64(st.at.UnixNano()) / 1e9
	m.OK("job", f["result"] == f["expected"])
	ok := true
	if f["attempts"] != strconv.Itoa(tasks) || f["succeeded"] != strconv.Itoa(tasks) || f["stage_attempts"] != "1" {
		t.Errorf("the job lost task attempts to the stop: %s", final)
		ok = false
	}
	if n, _ := strconv.Atoi(f["on_victim"]); n == 0 || lastEnd <= stopAt {
		t.Errorf("no task finished on %s after its stop began (stop at %.3f): %s", victim, stopAt, final)
		ok = false
	}
	code := strings.TrimSpace(e2e.Run(t, "docker", "inspect", "-f", "{{.State.ExitCode}}", victim))
	logs, _ := e2e.Try("docker", "logs", victim)
	if code != "0" || !strings.Contains(logs, "no executors left") || !strings.Contains(logs, "stopped cleanly after a complete drain") {
		t.Errorf("%s exited %s after the drain, want 0 after \"no executors left\":\n%s", victim, code, tail(logs, 12))
		ok = false
	}
	t.Logf("%s stopped in %s, exit %s; its last task ended %.1fs after the stop began",
		victim, st.took.Round(100*time.Millisecond), code, lastEnd-stopAt)
	m.OK("drain", ok)
	if ok {
		m.Set("drain", fmt.Sprintf("ok(%d/%d-attempts,on-stopped=%s,stop=%.1fs)", tasks, tasks, f["on_victim"], st.took.Seconds()))
	}
	m.Set("exit", code)
	m.OK("stop", e2e.Stop(t, []string{master, workers[1]}))
}

// fields reads the key=value words of one of drainjob.py's lines.
func fields(line string) map[string]string {
	f := map[string]string{}
	for _, w := range strings.Fields(line) {
		if k, v, ok := strings.Cut(w, "="); ok {
			f[k] = v
		}
	}
	return f
}
