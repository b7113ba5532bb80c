package boot

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery/discoverytest"
)

func TestAwaitMasterPort(t *testing.T) {
	t.Run("master comes up", func(t *testing.T) {
		addr := discoverytest.UnusedAddr(t)
		up := make(chan net.Listener, 1)
		go func() {
			time.Sleep(600 * time.Millisecond)
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Error(err)
			}
			up <- ln
		}()
		ok := awaitMasterPort(context.Background(), "spark://"+addr, time.Minute, zerolog.Nop())
		if ln := <-up; ln != nil {
			ln.Close()
		}
		if !ok {
			t.Error("awaitMasterPort() = false, want true once the port listens")
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
	t.Run("limit", func(t *testing.T) {
		if awaitMasterPort(context.Background(), "spark://"+discoverytest.UnusedAddr(t), 300*time.Millisecond, zerolog.Nop()) {
			t.Error("awaitMasterPort() = true with nothing listening")
		}
	})
	t.Run("stopped", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(300*time.Millisecond, cancel)
		done := make(chan bool)
		go func() { done <- awaitMasterPort(ctx, "spark://"+discoverytest.UnusedAddr(t), time.Hour, zerolog.Nop()) }()
		select {
		case ok := <-done:
			if ok {
				t.Error("awaitMasterPort() = true after a stop")
			}
		case <-time.After(time.Minute):
			t.Fatal("awaitMasterPort() ignored the end of its context")
		}
	})
}
