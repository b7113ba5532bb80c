package boot

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
)

// ambassador runs the forwarder in this process until SIGTERM or SIGINT,
// then exits 0: it has no child to wait for and nothing to drain beyond the
// open connections, which Forward closes.
func ambassador(s settings.Settings, log zerolog.Logger) error {
	if _, _, err := net.SplitHostPort(s.AmbassadorListen); err != nil {
		return fmt.Errorf("%w: ENTRYPOINT_AMBASSADOR_LISTEN=%q: want [host]:port", settings.ErrInvalid, s.AmbassadorListen)
	}
	target, err := ambassadorTarget(s)
	if err != nil {
		return err
	}
	ctx, stop, caught := stopContext()
	defer stop()
	log.Info().Str("listen", s.AmbassadorListen).Msg("ambassador listening")
	err = discovery.Forward(ctx, s.AmbassadorListen, func(ctx context.Context) (string, error) {
		addr, err := target(ctx)
		if err == nil {
			log.Debug().Str("target", addr).Msg("forwarding a connection")
		}
		return addr, err
	}, func(err error) { log.Warn().Err(err).Msg("connection not forwarded") })
	if sig := caught(); sig != 0 {
		log.Info().Str("signal", sig.String()).Msg("ambassador stopped")
	}
	return err
}

// ambassadorTarget is a fixed ENTRYPOINT_AMBASSADOR_TARGET or, without one,
// the first master address discovery finds, asked again for each connection
// so that a master that moved is followed.
func ambassadorTarget(s settings.Settings) (func(context.Context) (string, error), error) {
	if t := s.AmbassadorTarget; t != "" {
		if _, _, err := net.SplitHostPort(t); err != nil {
			return nil, fmt.Errorf("%w: ENTRYPOINT_AMBASSADOR_TARGET=%q: want host:port", settings.ErrInvalid, t)
		}
		return func(context.Context) (string, error) { return t, nil }, nil
	}
	sources := strings.Split(s.Discovery, ",")
	return func(ctx context.Context) (string, error) {
		m, err := discovery.Find(ctx, systemInputs(), sources)
		if err != nil {
			return "", err
		}
		return firstHostPort(m.URL)
	}, nil
}

// firstHostPort is the first host:port of spark://a:1[,b:2].
func firstHostPort(url string) (string, error) {
	rest, ok := strings.CutPrefix(url, "spark://")
	if !ok || rest == "" {
		return "", errors.New("master url " + url + " is not spark://host:port")
	}
	first, _, _ := strings.Cut(rest, ",")
	return first, nil
}
