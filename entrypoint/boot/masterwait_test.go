package boot

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery/discoverytest"
)

// slack bounds how long after its deadline or stop awaitMasterPort may
// return: one dial (a second at most) and a loaded machine's scheduling.
const slack = 3 * time.Second

func TestAwaitMasterPort(t *testing.T) {
	t.Run("master comes up", func(t *testing.T) {
		addr := discoverytest.UnusedAddr(t)
		type listening struct {
			ln net.Listener
			at time.Time
		}
		up := make(chan listening, 1)
		go func() {
			time.Sleep(600 * time.Millisecond)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Error(err)
			}
			up <- listening{ln, time.Now()}
		}()
		ok := awaitMasterPort(context.Background(), "spark://"+addr, time.Minute, zerolog.Nop())
		returned := time.Now()
		l := <-up
		if l.ln != nil {
			l.ln.Close()
		}
		if !ok {
			t.Error("awaitMasterPort() = false, want true once the port listens")
		}
		// A true before the port listened would be a wait that did not
		// wait (or something else on the port).
		if returned.Before(l.at) {
			t.Errorf("awaitMasterPort() returned %v before the master listened", l.at.Sub(returned))
		}
	})
	t.Run("second of two masters", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		if !awaitMasterPort(context.Background(), "spark://"+discoverytest.UnusedAddr(t)+","+ln.Addr().String(), time.Minute, zerolog.Nop()) {
			t.Error("awaitMasterPort() = false with the second master listening")
		}
	})
	// The wait lasts what the limit says, wherever the polls fall: shorter
	// than one poll, between two, and a few polls long.
	for _, limit := range []time.Duration{masterPortPoll / 2, masterPortPoll + masterPortPoll/5, 3*masterPortPoll - masterPortPoll/2} {
		t.Run("limit "+limit.String(), func(t *testing.T) {
			start := time.Now()
			ok := awaitMasterPort(context.Background(), "spark://"+discoverytest.UnusedAddr(t), limit, zerolog.Nop())
			took := time.Since(start)
			if ok {
				t.Error("awaitMasterPort() = true with nothing listening")
			}
			if took < limit || took > limit+slack {
				t.Errorf("awaitMasterPort(limit %v) gave up after %v, want between %v and %v", limit, took, limit, limit+slack)
			}
		})
	}
	t.Run("stopped", func(t *testing.T) {
		const stopAfter = 300 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		start := time.Now()
		time.AfterFunc(stopAfter, cancel)
		done := make(chan bool)
		go func() { done <- awaitMasterPort(ctx, "spark://"+discoverytest.UnusedAddr(t), time.Hour, zerolog.Nop()) }()
		select {
		case ok := <-done:
			took := time.Since(start)
			if ok {
				t.Error("awaitMasterPort() = true after a stop")
			}
			if took < stopAfter {
				t.Errorf("awaitMasterPort() returned after %v, before the stop at %v", took, stopAfter)
			}
		case <-time.After(stopAfter + slack):
			t.Fatal("awaitMasterPort() ignored the end of its context")
		}
	})
}
