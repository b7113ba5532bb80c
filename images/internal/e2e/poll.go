package e2e

import "time"

// Poll calls try, with the time since the first call, every interval until
// it reports done or timeout has passed, and returns whether it did and
// how long the polling took. Every wait of the end-to-end tests for a
// state (a master's workers, a server's readiness, a log line) is one.
func Poll(timeout, interval time.Duration, try func(elapsed time.Duration) bool) (bool, time.Duration) {
	start := time.Now()
	for {
		if try(time.Since(start)) {
			return true, time.Since(start)
		}
		if time.Since(start) >= timeout {
			return false, time.Since(start)
		}
		time.Sleep(interval)
	}
}
