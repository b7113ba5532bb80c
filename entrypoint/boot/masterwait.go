package boot

import (
	"context"
	"net"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// A worker JVM that asks a master which is not up yet gets no answer and
// asks again only at its next registration retry, a random 5-15 s later
// (Worker.scala, hardcoded). Where the platform starts master and workers
// together (links, compose, a Swarm stack, a Kubernetes rollout), that
// retry, not the JVMs, decides when the cluster is formed. So the worker's
// JVM starts once the master accepts connections on its RPC port: by the
// time the JVM has started (seconds), the master has its endpoint up.

// masterPortPoll is the pause between two connection attempts.
const masterPortPoll = 250 * time.Millisecond

// awaitMasterPort returns once one of the masters of a spark:// URL accepts
// a TCP connection, limit has passed (the JVM then starts anyway and
// retries by itself), or ctx ends. It reports whether the master answered.
func awaitMasterPort(ctx context.Context, masterURL string, limit time.Duration, log zerolog.Logger) bool {
	addrs := sparkenv.MasterAddrs(masterURL)
	start := time.Now()
	deadline := start.Add(limit)
	d := net.Dialer{Timeout: time.Second}
	var last error
	for attempt := 1; ; attempt++ {
		for _, a := range addrs {
			c, err := d.DialContext(ctx, "tcp", a)
			if err == nil {
				c.Close()
				if attempt > 1 {
					log.Info().Str("master", a).Dur("waited", time.Since(start).Round(time.Millisecond)).Msg("master accepts connections")
				}
				return true
			}
			last = err
		}
		if attempt == 1 {
			log.Info().Str("url", masterURL).Err(last).Msg("waiting for the master to accept connections before starting the jvm")
		}
		// The wait lasts what limit says: the last pause is cut to end at
		// the deadline, where one more attempt is made.
		remaining := time.Until(deadline)
		if remaining <= 0 {
			log.Warn().Str("url", masterURL).Dur("waited", time.Since(start).Round(time.Millisecond)).Err(last).
				Msg("master still not accepting connections; starting the jvm, which keeps retrying")
			return false
		}
		t := time.NewTimer(min(masterPortPoll, remaining))
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
}
