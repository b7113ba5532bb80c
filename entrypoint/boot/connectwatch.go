package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"
)

// A master that restarts with its state (ENTRYPOINT_MASTER_STATE, a volume
// that follows it) tells the server's application where it now is, as it
// tells its workers. One that comes back without it (a new Kubernetes pod
// or ECS task with no volume) knows nothing of the application, kills its
// executors, and Spark's driver never registers again
// (StandaloneAppClient only waits for the master it had): the server would
// accept queries that never get an executor. So the entrypoint watches,
// and once the master has gone on not listing the application for a
// while, it stops the server with a line that says why; the platform's
// restart policy then starts a new one, which registers afresh.
const (
	connectWatchEvery  = 10 * time.Second
	connectOrphanAfter = time.Minute
)

// watchConnect sends the reason on stop once an ALIVE master has not listed
// the server's application for after, checked every every, after it had
// listed it at least once; it returns when ctx ends or it has sent.
func watchConnect(ctx context.Context, env []string, every, after time.Duration, stop chan<- string) {
	c := uiClient(env, 3*time.Second)
	t := time.NewTicker(every)
	defer t.Stop()
	var seen bool
	var since time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := readyConnect(env, c, io.Discard)
		switch {
		case err == nil:
			seen, since = true, time.Time{}
		case seen && errors.Is(err, errAppUnknown):
			if since.IsZero() {
				since = time.Now()
			}
			if time.Since(since) >= after {
				stop <- fmt.Sprintf("%v for %s: the master came back without its state, and Spark's driver does not register again; a new server will (the platform's restart policy starts it)", err, after)
				return
			}
		default:
			// The master away or recovering: it may yet list the
			// application again.
			since = time.Time{}
		}
	}
}
