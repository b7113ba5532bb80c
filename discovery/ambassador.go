package discovery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// findAmbassador recognises a Docker link whose target is an ambassador
// container (svendowideit/ambassador, ctlc/ambassador): the client-side
// ambassador is started with -e <ALIAS>_PORT_<n>_TCP=tcp://<remote>:<n>,
// and Docker passes the environment of a linked container through as
// <ALIAS>_ENV_<VAR>, so this container sees
//
//	SPARK_MASTER_ENV_SPARK_MASTER_PORT_7077_TCP=tcp://master.example:7077
//
// next to the ordinary link variables. The URL is the same as for
// docker-links (the ambassador's alias); the remote target goes into
// Detail so logs show where traffic really goes.
func findAmbassador(_ context.Context, in Inputs) (Master, error) {
	p := in.envPrefix()
	if !hasAmbassadorVar(in.Env, p) {
		return Master{}, notFound("no %s_ENV_%s_PORT_<n>_TCP: not a link to an ambassador", p, p)
	}
	l, err := readLink(in)
	if err != nil {
		return Master{}, err
	}
	name := fmt.Sprintf("%s_ENV_%s_PORT_%d_TCP", p, p, l.port)
	v, ok := in.Env[name]
	if !ok {
		return Master{}, notFound("link to %s is not an ambassador (no %s)", in.Service, name)
	}
	if !strings.HasPrefix(v, "tcp://") {
		return Master{}, invalid(name, v, "want tcp://host:port")
	}
	m := l.master(in)
	m.Detail = append(m.Detail, "ambassador target "+name+"="+v)
	return m, nil
}

func hasAmbassadorVar(env map[string]string, p string) bool {
	for k := range env {
		if rest, ok := strings.CutPrefix(k, p+"_ENV_"+p+"_PORT_"); ok && strings.HasSuffix(rest, "_TCP") {
			return true
		}
	}
	return false
}

// Forward is an in-process ambassador: it accepts TCP connections on
// listen and copies each one to the address target returns at that moment
// ("host:port"), so a master that moved is picked up by the next
// connection, as with cpuguy83/docker-grand-ambassador, without a socat
// restart. log, if not nil, receives per-connection failures (nil err
// never). Forward returns when ctx ends (nil after a clean shutdown,
// having closed the listener and every open connection) or when listen
// fails.
func Forward(ctx context.Context, listen string, target func(ctx context.Context) (string, error), log func(err error)) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", listen)
	if err != nil {
		return fmt.Errorf("ambassador listen %s: %w", listen, err)
	}
	return serveForward(ctx, ln, target, log)
}

// dialTimeout bounds connecting to the target for one client.
const dialTimeout = 10 * time.Second

func serveForward(ctx context.Context, ln net.Listener, target func(context.Context) (string, error), log func(error)) error {
	if log == nil {
		log = func(error) {}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	defer wg.Wait()
	// Closing the listener is what unblocks Accept on shutdown.
	wg.Go(func() {
		<-ctx.Done()
		ln.Close()
	})
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("ambassador accept on %s: %w", ln.Addr(), err)
		}
		wg.Go(func() {
			if err := forwardConn(ctx, c, target); err != nil {
				log(err)
			}
		})
	}
}

// forwardConn resolves the target for this client, dials it and copies both
// ways until either side closes or ctx ends.
func forwardConn(ctx context.Context, c net.Conn, target func(context.Context) (string, error)) error {
	defer c.Close()
	addr, err := target(ctx)
	if err != nil {
		return fmt.Errorf("ambassador: resolve target for %s: %w", c.RemoteAddr(), err)
	}
	d := net.Dialer{Timeout: dialTimeout}
	up, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("ambassador: %s -> %s: %w", c.RemoteAddr(), addr, err)
	}
	defer up.Close()
	stop := context.AfterFunc(ctx, func() {
		c.Close()
		up.Close()
	})
	defer stop()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		// Pass the half-close on, so a client that shuts down writing
		// still gets the rest of the answer.
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		} else {
			dst.Close()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
	return nil
}
