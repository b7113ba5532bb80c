//go:build linux

package supervisor

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"
)

// decommissionMargin is kept between the final SIGTERM and the end of the
// grace period, so the JVM's own shutdown still fits before our SIGKILL.
const decommissionMargin = time.Second

// startDecommission polls the worker UI in the background and closes
// s.decommDone when SIGTERM is due.
func (s *sup) startDecommission(ctx context.Context) {
	s.decommission = false
	d := *s.cfg.Decommission
	if d.Poll <= 0 {
		d.Poll = defaultPoll
	}
	margin := decommissionMargin
	if s.grace <= 2*margin {
		margin = s.grace / 2
	}
	until := s.deadline.Add(-margin)
	done := make(chan struct{})
	s.decommDone = done
	log := s.log
	go func() {
		defer close(done)
		ctx, cancel := context.WithDeadline(ctx, until)
		defer cancel()
		reason := d.waitIdle(ctx)
		log.Info().Str("result", reason).Msg("decommission wait over")
	}()
}

// waitIdle polls until the worker reports no executors, or ctx ends.  It
// returns a short word for the log.
func (d Decommission) waitIdle(ctx context.Context) string {
	url := strings.TrimRight(d.WorkerUI, "/") + "/json/"
	client := &http.Client{Timeout: max(d.Poll, time.Second)}
	t := time.NewTicker(d.Poll)
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

// executors returns how many executors the worker still runs.  A reply
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
