package discovery

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// backoff is a capped exponential backoff with "equal jitter": attempt n
// sleeps a random duration in [d/2, d) where d = min(initial·2ⁿ, max).
// Jitter keeps a fleet of workers that restarted together from querying
// the DNS server or metadata endpoint in lockstep.
type backoff struct {
	initial, max time.Duration
}

// lastAttempt bounds the attempt made at the deadline.
const lastAttempt = time.Second

// defaultBackoff: 250 ms doubling to 5 s.
var defaultBackoff = backoff{initial: 250 * time.Millisecond, max: 5 * time.Second}

func (b backoff) delay(attempt int) time.Duration {
	d := b.initial
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	half := d / 2
	return half + rand.N(d-half)
}

// Wait calls Find until it finds a master or maxWait has passed, sleeping
// with capped exponential backoff and jitter (250 ms doubling to 5 s)
// between attempts. maxWait <= 0 means one attempt. log, if not nil, is
// called after every failed attempt with its 1-based number and error.
//
// An error wrapping ErrInvalid ends the wait at once (retrying cannot fix
// a malformed setting). Cancelling ctx returns at once with an error
// wrapping ctx.Err(). When maxWait runs out, the error wraps the last
// attempt's error and ErrNotFound.
func Wait(ctx context.Context, in Inputs, sources []string, maxWait time.Duration, log func(attempt int, err error)) (Master, error) {
	return wait(ctx, in, sources, maxWait, log, defaultBackoff)
}

func wait(ctx context.Context, in Inputs, sources []string, maxWait time.Duration, log func(int, error), b backoff) (Master, error) {
	start := time.Now()
	deadline := start.Add(maxWait)
	// Bound each attempt too, so a silent DNS server or metadata endpoint
	// cannot hold Wait much past maxWait: the last attempt starts at the
	// deadline and gets lastAttempt of its own.
	attemptCtx, cancel := context.WithDeadline(ctx, deadline.Add(lastAttempt))
	defer cancel()
	for attempt := 1; ; attempt++ {
		actx := attemptCtx
		if maxWait <= 0 {
			actx = ctx
		}
		m, err := Find(actx, in, sources)
		if err == nil {
			return m, nil
		}
		if ctx.Err() != nil {
			return Master{}, fmt.Errorf("wait for master: %w", ctx.Err())
		}
		if errors.Is(err, ErrInvalid) {
			return Master{}, err
		}
		if log != nil {
			log(attempt, err)
		}
		// The wait lasts what maxWait says: the last sleep is cut to end at
		// the deadline, where one more attempt is made.
		remaining := time.Until(deadline)
		if maxWait <= 0 || remaining <= 0 {
			return Master{}, fmt.Errorf("%w after %d attempts in %v; last attempt: %w",
				ErrNotFound, attempt, time.Since(start).Round(time.Millisecond), err)
		}
		d := min(b.delay(attempt), remaining)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return Master{}, fmt.Errorf("wait for master: %w", ctx.Err())
		case <-t.C:
		}
	}
}
