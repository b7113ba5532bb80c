package swarm_test

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// checkScaleDown scales the workers from 3 to 2 while the job's map tasks
// run on every worker: the worker Swarm stops decommissions (the stack
// enables it), so its running tasks end and succeed, it gets no new ones
// and its container exits 0. No task attempt of the job may fail or be
// killed. The service is scaled back to 3 at the end.
func (b *bed) checkScaleDown(ui string, connect task) string {
	t := b.t
	t.Helper()
	app, before := b.stagesSoFar(ui, connect)
	workers := b.running("worker")
	// Short tasks: a drain ends when the running tasks do, and must within
	// the stack's ENTRYPOINT_GRACE (60 s) on a loaded machine, where a
	// new executor's first task also starts its Python worker.
	job := startShuffle(t, b.connectURL(connect), 8)
	busy, _ := e2e.Poll(3*time.Minute, time.Second, func(time.Duration) bool {
		hosts := b.busyHosts(connect, app)
		return !slices.ContainsFunc(workers, func(w task) bool { return !hosts[w.IP] })
	})
	if !busy {
		t.Errorf("scale down: tasks not running on all %d workers within 3 minutes", len(workers))
		job.wait(t, time.Minute)
		return "fail(not-busy)"
	}
	since := time.Now().Add(-time.Second).Unix()
	scaled := time.Now()
	b.manager("service", "scale", "--detach", b.stack+"_worker=2")
	left := b.waitRunning("worker", 2, 2*time.Minute, func(task) bool { return true })
	i := slices.IndexFunc(workers, func(w task) bool { return !slices.Contains(left, w) })
	if i < 0 {
		t.Errorf("scale down: no worker of %v stopped (running: %v)", workers, left)
		return "fail(none-stopped)"
	}
	gone := workers[i]
	// Its log goes with its container: follow it until the container ends.
	var log strings.Builder
	follow := exec.Command("docker", "exec", b.ctr[gone.Node], "docker", "logs", "-f", gone.Container)
	follow.Stdout, follow.Stderr = &log, &log
	followErr := follow.Start()
	jobOK := job.wait(t, 5*time.Minute)
	code := b.exitCode(gone, since)
	stopTook := time.Since(scaled).Round(time.Second)
	if followErr == nil {
		follow.Wait()
	}
	stopping := false
	for _, line := range strings.Split(log.String(), "\n") {
		stopping = stopping || strings.Contains(line, "stop requested")
		if stopping && (strings.Contains(line, "entrypoint:") || strings.Contains(line, "Decommission")) {
			t.Logf("stopped worker: %s", line)
		}
	}

	stages, err := b.stages(connect, app, before)
	if err != nil {
		t.Error(err)
		return "fail(stages)"
	}
	// A task that ran on the stopped worker succeeded, but the map output
	// it wrote there goes with the worker (unless the driver migrates it:
	// spark.storage.decommission.enabled), so the driver runs it again
	// for the reducers: a second attempt that is not a lost one. A reducer
	// that started after the scale may still have asked the stopped
	// worker for that output before the driver knew it gone: its attempt
	// fails with a fetch failure and runs again once the map output is
	// recomputed. Neither was running when the scale began; every attempt
	// that was must succeed.
	attempts, onGone, bad, recomputed, refetched := 0, 0, 0, 0, 0
	for _, s := range stages {
		for _, tk := range s.Tasks {
			attempts++
			if tk.Host == gone.IP {
				onGone++
			}
			launched, _ := time.Parse(sparkTime, tk.LaunchTime)
			switch {
			case tk.Status != "SUCCESS" && launched.After(scaled) && strings.Contains(tk.ErrorMessage, "FetchFailed"):
				refetched++
				t.Logf("scale down: stage %d task %d attempt %d on %s, launched %s after the scale, found its map output gone: %s",
					s.StageID, tk.Index, tk.Attempt, tk.Host, launched.Sub(scaled).Round(time.Millisecond), firstLine(tk.ErrorMessage))
			case tk.Status != "SUCCESS":
				bad++
				t.Errorf("scale down: stage %d task attempt %d on %s (launched %s): %s: %s", s.StageID, tk.Attempt, tk.Host, tk.LaunchTime, tk.Status, firstLine(tk.ErrorMessage))
			case tk.Attempt > 0:
				recomputed++
				t.Logf("scale down: stage %d task %d run again (attempt %d on %s): its map output went with the stopped worker", s.StageID, tk.Index, tk.Attempt, tk.Host)
			}
		}
	}
	t.Logf("scale down: %s on %s exited %s, %s after the scale; %d task attempts, %d on it, %d failed or killed, %d run again for their lost map output, %d refetched", e2e.Short(gone.Container), gone.Node, code, stopTook, attempts, onGone, bad, recomputed, refetched)
	// Why it failed goes into the path line too: CI shows only the end of
	// a long log.
	var why []string
	if !jobOK {
		why = append(why, "job")
	}
	if bad > 0 {
		why = append(why, fmt.Sprintf("lost=%d", bad))
	}
	if onGone == 0 {
		why = append(why, "none-on-stopped")
		t.Errorf("scale down: no task attempt ran on the stopped worker %s", gone.IP)
	}
	if code != "0" {
		why = append(why, "exit="+code)
		t.Errorf("scale down: the stopped worker exited %q, want 0 (drained)", code)
	}

	b.manager("service", "scale", "--detach", b.stack+"_worker=3")
	workers = b.waitRunning("worker", e2e.Workers, 3*time.Minute, func(task) bool { return true })
	if back, _ := e2e.Poll(3*time.Minute, time.Second, func(time.Duration) bool {
		s, err := e2e.GetMasterState(ui)
		return err == nil && aliveAmong(s, workers) == e2e.Workers
	}); !back {
		t.Errorf("scale down: %d workers not ALIVE after scaling back", e2e.Workers)
		why = append(why, "not-back")
	}
	if len(why) > 0 {
		return fmt.Sprintf("fail(%s,stop=%s)", strings.Join(why, ","), stopTook)
	}
	return fmt.Sprintf("ok(%d/%d-attempts,on-stopped=%d,recomputed=%d,refetched=%d,stop=%s)", attempts-refetched, attempts, onGone, recomputed, refetched, stopTook)
}

// sparkTime is how Spark's REST API writes times (launchTime).
const sparkTime = "2006-01-02T15:04:05.000GMT"

// firstLine is the first line of a task's error (its stack trace follows).
func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// exitCode is the exit code of tk's container after since, from its
// engine's die events.
func (b *bed) exitCode(tk task, since int64) string {
	var code string
	e2e.Poll(time.Minute, time.Second, func(time.Duration) bool {
		out, err := b.docker(tk.Node, "events", "--since", fmt.Sprint(since), "--until", fmt.Sprint(time.Now().Unix()),
			"--filter", "type=container", "--filter", "event=die", "--filter", "container="+tk.Container,
			"--format", `{{index .Actor.Attributes "exitCode"}}`)
		code = strings.TrimSpace(out)
		return err == nil && code != ""
	})
	return code
}
