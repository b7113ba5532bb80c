package discovery

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/discovery/discoverytest"
)

// upstream is a loopback TCP server that greets each client with its name
// and then echoes.
func upstream(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, name+"\n")
				io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestForwardReresolvesPerConnection(t *testing.T) {
	t.Parallel()
	a, b := upstream(t, "master-a"), upstream(t, "master-b")
	var current atomic.Value
	current.Store(a)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var logged atomic.Int64
	go func() {
		done <- serveForward(ctx, ln, func(context.Context) (string, error) {
			return current.Load().(string), nil
		}, func(error) { logged.Add(1) })
	}()

	talk := func(want string) net.Conn {
		t.Helper()
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		r := bufio.NewReader(c)
		if got, err := r.ReadString('\n'); err != nil || got != want+"\n" {
			t.Fatalf("greeting = %q, %v; want %q", got, err, want)
		}
		io.WriteString(c, "ping\n")
		if got, err := r.ReadString('\n'); err != nil || got != "ping\n" {
			t.Fatalf("echo = %q, %v; want ping", got, err)
		}
		return c
	}
	first := talk("master-a")
	current.Store(b) // the master moved
	second := talk("master-b")

	// Shutdown closes the listener and the open connections.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serveForward after cancel = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("serveForward did not return after cancel")
	}
	for _, c := range []net.Conn{first, second} {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("client connection after shutdown: %v, want EOF", err)
		}
		c.Close()
	}
	if n := logged.Load(); n != 0 {
		t.Errorf("logged %d errors, want 0", n)
	}
}

func TestForwardTargetErrors(t *testing.T) {
	t.Parallel()
	refused := discoverytest.UnusedAddr(t)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errs := make(chan error, 2)
	var calls atomic.Int64
	go serveForward(ctx, ln, func(context.Context) (string, error) {
		if calls.Add(1) == 1 {
			return "", ErrNotFound
		}
		return refused, nil
	}, func(err error) { errs <- err })
	for i := range 2 {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
			t.Errorf("connection %d: read %q, %v; want immediate EOF", i, b, err)
		}
		c.Close()
		select {
		case err := <-errs:
			if i == 0 && !errors.Is(err, ErrNotFound) {
				t.Errorf("connection %d logged %v, want ErrNotFound", i, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("connection %d: nothing logged", i)
		}
	}
}

func TestForwardListenError(t *testing.T) {
	t.Parallel()
	err := Forward(context.Background(), "127.0.0.1:99999", nil, nil)
	if err == nil {
		t.Fatal("Forward(127.0.0.1:99999) = nil, want a listen error")
	}
}
