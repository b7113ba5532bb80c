//go:build linux

package supervisor

// What reaches the event loop from outside the workload: relayed signals
// and reaped orphans.

import (
	"os"
	"os/signal"
	"sync"
	"sync/atomic"
	"syscall"

	reap "github.com/hashicorp/go-reap"
)

var (
	relayOnce sync.Once
	relayCh   chan os.Signal
	keepEarly atomic.Bool // Listen was called: the next Run keeps what was caught
)

// Listen catches the relayed signals from now on instead of from Run's
// start, and keeps what arrives for the next Run, which hands it to the
// workload once it has started.  A process that prepares for seconds before
// Run (the launcher JVM, /etc, waiting for a port) calls it first: until a
// signal is caught, Go's runtime handles it by its default action, which for
// an init in a PID namespace is no death at all (the kernel drops a signal
// its own init has no handler for), so the runtime falls back to exit 2.
func Listen() {
	relayOnce.Do(registerRelay)
	keepEarly.Store(true)
}

// registerRelay is made once and kept: each signal costs the Go runtime a
// round trip to its signal thread to enable and another to disable, about a
// millisecond for the whole list, and a process that has run a supervisor is
// about to exit anyway.
func registerRelay() {
	relayCh = make(chan os.Signal, 64)
	// The stop signals first: they are the ones a platform sends at once.
	signal.Notify(relayCh, syscall.SIGTERM, syscall.SIGINT)
	signal.Notify(relayCh, relayed()...)
}

// relayedSignals returns the channel the relayed signals arrive on, emptied
// of anything caught between two Runs unless Listen asked to keep it.
func relayedSignals() <-chan os.Signal {
	relayOnce.Do(registerRelay)
	if keepEarly.Swap(false) {
		return relayCh
	}
	for {
		select {
		case <-relayCh:
		default:
			return relayCh
		}
	}
}

// startReaper runs go-reap without its lock: nothing in this process waits
// for a specific child, so there is nothing for it to steal.
func (s *sup) startReaper(done chan struct{}, wake chan struct{}) {
	pids := make(reap.PidCh, 1024)
	errs := make(reap.ErrorCh, 16)
	go reap.ReapChildren(pids, errs, done, nil)
	go func() {
		for {
			select {
			case <-pids:
				select {
				case wake <- struct{}{}:
				default:
				}
			case err := <-errs:
				s.log.Error().Err(err).Msg("reaping failed")
			case <-done:
				return
			}
		}
	}()
}

// reapPass reaps whatever is ready.  Only used once the workload's status is
// known, so it cannot take anything that matters; it covers a SIGCHLD that
// arrived before go-reap had registered for it.
func reapPass() (reaped int) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil || pid <= 0 {
			return reaped
		}
		reaped++
	}
}
