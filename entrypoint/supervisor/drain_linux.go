//go:build linux

package supervisor

import (
	"context"
	"time"
)

// drainMargin is kept between the final SIGTERM and the end of the grace
// period, so the workload's own shutdown still fits before our SIGKILL.
const drainMargin = time.Second

// startDrain runs Drain.Wait in the background and sends on s.drainDone
// whether the drain is complete when SIGTERM is due: the wait is over, or
// the grace period is nearly out.
func (s *sup) startDrain(ctx context.Context) {
	margin := drainMargin
	if s.grace <= 2*margin {
		margin = s.grace / 2
	}
	until := s.deadline.Add(-margin)
	done := make(chan bool, 1)
	s.drainDone = done
	log, wait := s.log, s.cfg.Drain.Wait
	go func() {
		ctx, cancel := context.WithDeadline(ctx, until)
		defer cancel()
		result, drained := wait(ctx)
		log.Info().Str("result", result).Msg("drain over")
		done <- drained
	}()
}
