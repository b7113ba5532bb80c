package boot

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
	"github.com/snufkin/swarming-spark/entrypoint/supervisor"
	"github.com/snufkin/swarming-spark/entrypoint/uitoken"
)

// decommissionPoll is how often the worker's UI is asked for its executors.
const decommissionPoll = 500 * time.Millisecond

// The Spark settings of a worker's decommission (Spark's configuration
// docs; Worker.scala registers the signal's handler only when the first is
// true, and its default signal is PWR).
const (
	decommissionKey       = "spark.decommission.enabled"
	decommissionSignalKey = "spark.worker.decommission.signal"
)

// driverSide is what a drain needs from each application: an executor
// leaves a decommissioned worker only when its own conf, which it takes
// from its driver, has spark.decommission.enabled (Spark's
// CoarseGrainedExecutorBackend ignores the request otherwise), and then
// once its running tasks have ended.
const driverSide = "executors leave only if their driver sets spark.decommission.enabled=true " +
	"(the Connect server and the drivers started in the images do; driver-conf prints it for others); " +
	"the rest run until the grace period ends"

// drainPlan is how a stop of a worker empties it first: explain's
// "decommission", doctor's check and the supervisor's Drain.
type drainPlan struct {
	// OnStop: the first SIGTERM starts a decommission.
	OnStop bool `json:"on_stop"`
	// Source is where spark.decommission.enabled comes from:
	// SPARK_WORKER_OPTS or the entrypoint's default.
	Source string `json:"source"`
	// Signal starts the decommission in the worker JVM, in Spark's form
	// (spark.worker.decommission.signal).
	Signal string `json:"signal,omitempty"`
	// WorkerUI is polled until the worker runs no executor.
	WorkerUI string `json:"worker_ui,omitempty"`
	// Why a stop cannot drain, when it cannot.
	Why string `json:"why,omitempty"`
	// Drivers is what the applications must do for their executors to
	// leave.
	Drivers string `json:"drivers,omitempty"`
	sig     syscall.Signal
	// key signs the poll's requests when the worker's UI is behind
	// JWSFilter (planUIAuth).
	key []byte
}

// planDrain reads the worker's decommission from SPARK_WORKER_OPTS as the
// user gave it: on unless it says otherwise.
func planDrain(env []string, webUIPort int) drainPlan {
	d := drainPlan{Source: "entrypoint default"}
	name, sig := "PWR", decommissionSignal
	if v, ok := sparkenv.JavaOption(env, "SPARK_WORKER_OPTS", decommissionKey); ok {
		d.Source = "SPARK_WORKER_OPTS"
		if v != "true" {
			d.Why = fmt.Sprintf("SPARK_WORKER_OPTS sets %s=%s: a stop ends the worker's executors at once and their running tasks are re-run elsewhere", decommissionKey, v)
			return d
		}
	}
	if v, ok := sparkenv.JavaOption(env, "SPARK_WORKER_OPTS", decommissionSignalKey); ok {
		var err error
		if sig, err = settings.ParseSignal(v); err != nil {
			d.Why = fmt.Sprintf("SPARK_WORKER_OPTS sets %s=%s, which is no signal the entrypoint can send", decommissionSignalKey, v)
			return d
		}
		name = v
	}
	if sig == 0 {
		d.Why = "decommission signals exist on linux only"
		return d
	}
	d.OnStop, d.Signal, d.sig, d.Drivers = true, name, sig, driverSide
	d.WorkerUI = "http://127.0.0.1:" + strconv.Itoa(webUIPort)
	return d
}

// checkDrain is doctor's word on a worker's stop: whether it can drain,
// and what it needs from the drivers.
func checkDrain(env []string, webUIPort int, grace time.Duration) finding {
	d := planDrain(env, webUIPort)
	if !d.OnStop {
		return finding{sevWarn, "decommission", "a stop cannot drain this worker: " + d.Why,
			"leave " + decommissionKey + " and " + decommissionSignalKey + " out of SPARK_WORKER_OPTS (on, with PWR, by default)"}
	}
	if grace <= 0 {
		grace = supervisor.DefaultGrace
	}
	return finding{sevOK, "decommission", fmt.Sprintf("a stop sends %s and waits up to ENTRYPOINT_GRACE=%s for the executors to leave; %s", d.Signal, grace, d.Drivers), ""}
}

// workerDecommission is a Spark worker's drain for the supervisor: the
// signal starts the worker's graceful decommission, and the wait polls the
// worker's own d.WorkerUI+"/json/" until its "executors" array is empty.
func workerDecommission(d drainPlan, poll time.Duration) *supervisor.Drain {
	url := strings.TrimRight(d.WorkerUI, "/") + "/json/"
	return &supervisor.Drain{
		Signal: d.sig,
		Wait:   func(ctx context.Context) (string, bool) { return waitIdle(ctx, url, d.key, poll) },
	}
}

// waitIdle polls url, with tokens of key if not nil, until the worker reports no executors, or ctx ends.
// It returns a short word for the log and whether the worker is empty.
func waitIdle(ctx context.Context, url string, key []byte, poll time.Duration) (string, bool) {
	client := &http.Client{Timeout: max(poll, time.Second), Transport: &uitoken.Transport{Key: key}}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if n, err := executors(ctx, client, url); err == nil && n == 0 {
			return "no executors left", true
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return "timed out", false
			}
			return "workload exited", false
		case <-t.C:
		}
	}
}

// executors returns how many executors the worker still runs. A reply
// without an "executors" array (wrong URL, worker still starting) counts
// as busy rather than idle.
func executors(ctx context.Context, client *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var v struct {
		Executors *[]json.RawMessage `json:"executors"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&v); err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK || v.Executors == nil {
		return -1, nil
	}
	return len(*v.Executors), nil
}
