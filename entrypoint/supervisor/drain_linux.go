//go:build linux

package supervisor

import (
	"context"
	"time"
)

// drainMargin is kept between the final SIGTERM and the end of the grace
// period, so the workload's own shutdown still fits before our SIGKILL.
const drainMargin = time.Second

// startDrain runs Drain.Wait in the background and closes s.drainDone when
// SIGTERM is due: the wait is over, or the grace period is nearly out.
func (s *sup) startDrain(ctx context.Context) {
	s.drainPending = false
	margin := drainMargin
	if s.grace <= 2*margin {
		margin = s.grace / 2
	}
	until := s.deadline.Add(-margin)
	done := make(chan struct{})
	s.drainDone = done
	log, wait := s.log, s.cfg.Drain.Wait
	go func() {
		defer close(done)
		ctx, cancel := context.WithDeadline(ctx, until)
		defer cancel()
		log.Info().Str("result", wait(ctx)).Msg("drain over")
	}()
}
