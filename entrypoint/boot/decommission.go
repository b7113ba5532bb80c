package boot

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/snufkin/swarming-spark/entrypoint/supervisor"
)

// decommissionPoll is how often the worker's UI is asked for its executors.
const decommissionPoll = 500 * time.Millisecond

// workerDecommission is a Spark worker's drain for the supervisor: SIGPWR
// starts the worker's graceful decommission (Worker.scala handles PWR when
// spark.decommission.enabled), and the wait polls the worker's own
// workerUI+"/json/" until its "executors" array is empty.
func workerDecommission(workerUI string, poll time.Duration) *supervisor.Drain {
	url := strings.TrimRight(workerUI, "/") + "/json/"
	return &supervisor.Drain{
		Signal: decommissionSignal,
		Wait:   func(ctx context.Context) string { return waitIdle(ctx, url, poll) },
	}
}

// waitIdle polls url until the worker reports no executors, or ctx ends.
// It returns a short word for the log.
func waitIdle(ctx context.Context, url string, poll time.Duration) string {
	client := &http.Client{Timeout: max(poll, time.Second)}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if n, err := executors(ctx, client, url); err == nil && n == 0 {
			return "no executors left"
		}
		select {
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return "timed out"
			}
			return "workload exited"
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
