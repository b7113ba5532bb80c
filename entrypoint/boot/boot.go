// Package boot is the entrypoint's start-up sequence: settings, logging,
// finding the master, the node's command line and environment, and handing
// the JVM (or any command) to the supervisor.
package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
	"github.com/snufkin/swarming-spark/entrypoint/supervisor"
)

// ExitStatus is an exit status to pass on as is: the child's own, or
// 128+N after a stop signal N. It is an error only so that it can travel
// through run() error; main prints nothing for it.
type ExitStatus int

func (s ExitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// ErrUsage marks a command line that names no known subcommand (exit 64).
var ErrUsage = errors.New("usage")

// ErrNoMaster means discovery gave up after ENTRYPOINT_MASTER_WAIT (exit 69).
var ErrNoMaster = errors.New("no master found")

// Usage is the one-screen help; the settings reference is the command's
// package doc.
const Usage = `usage:
  entrypoint master            run a Spark standalone master
  entrypoint worker            find the master and run a Spark worker
  entrypoint connect           find the master and run a Spark Connect server (gRPC port 15002)
  entrypoint history           run Spark's history server on the event-log directory (port 18080)
  entrypoint explain [ROLE]    print what would be done, as JSON; change nothing
  entrypoint CMD [ARG...]      run CMD (spark-submit, pyspark, bash...) as the spark user with the
                               JVMs' environment, supervised (no discovery, no /etc changes)
  entrypoint -- CMD [ARG...]   supervise CMD as an init, as the container's user (root: -- bash)
  entrypoint version           print the entrypoint's, Spark's, Java's and Python's versions
  entrypoint ui-token [TTL]    print a token for the web UIs, valid for TTL (default 1h)
  entrypoint ambassador        forward TCP connections to the master
  entrypoint ready [ROLE]      exit 0 when this master is ALIVE / this worker is ALIVE at its master /
                               this Connect server accepts and its application RUNS at its master /
                               this history server's REST API lists applications
                               (default: the role PID 1 runs)
  entrypoint doctor [--json] [ROLE]  check this container (default role: worker); 1 when a check fails
  entrypoint doctor [--json] driver HOST:PORT[,PORT...]
                               dial a driver's ports from here as an executor would; 1 when one fails
  entrypoint driver-conf [--json]    print the --conf lines a classic driver outside the cluster needs
  entrypoint class-archive ROLE      write the class-data archive of ROLE's JVM (image build)
  entrypoint help|-h|--help    print this text
settings are ENTRYPOINT_* and SPARK_* environment variables; see the README.`

// Main runs the subcommand in args (os.Args[1:]).
func Main(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: no subcommand\n%s", ErrUsage, Usage)
	}
	switch args[0] {
	case "-h", "--help", "help":
		fmt.Fprintln(stdout, Usage)
		return nil
	case "--", "master", "worker", "connect", "history":
		// What these run is supervised: every signal is caught from here
		// on, and one that arrives before the workload starts is not lost.
		supervisor.Listen()
	default:
		if isCommand(args) {
			supervisor.Listen()
		}
	}
	s, err := settings.Load()
	if err != nil {
		return err
	}
	log, err := newLogger(s, stderr)
	if err != nil {
		return err
	}
	switch args[0] {
	case "--":
		if len(args) < 2 {
			return fmt.Errorf("%w: -- needs a command\n%s", ErrUsage, Usage)
		}
		return supervise(supervisor.Config{Args: args[1:], Env: os.Environ()}, s, log)
	case "master", "worker", "connect", "history":
		if len(args) > 1 {
			return fmt.Errorf("%w: %s takes no arguments (got %q); use SPARK_*_OPTS for Spark options", ErrUsage, args[0], args[1:])
		}
		return startNode(sparkenv.Role(args[0]), s, log)
	case "ambassador":
		if len(args) > 1 {
			return fmt.Errorf("%w: ambassador takes no arguments (got %q); use ENTRYPOINT_AMBASSADOR_*", ErrUsage, args[1:])
		}
		return ambassador(s, log)
	case "ready":
		if len(args) > 2 {
			return fmt.Errorf("%w: ready takes master, worker, connect or history", ErrUsage)
		}
		role := sparkenv.Role("")
		if len(args) == 2 {
			role = sparkenv.Role(args[1])
		}
		return ready(role, stdout)
	case "explain":
		role := sparkenv.Worker
		if len(args) > 1 {
			role = sparkenv.Role(args[1])
		}
		if !isRole(string(role)) || len(args) > 2 {
			return fmt.Errorf("%w: explain takes master, worker, connect or history, got %q", ErrUsage, args[1:])
		}
		return explain(role, s, stdout)
	case "doctor":
		return doctorCommand(args[1:], s, stdout)
	case "driver-conf":
		return driverConfCommand(args[1:], s, stdout)
	case "version":
		return versionCommand(args[1:], stdout)
	case "ui-token":
		return uiTokenCommand(args[1:], os.Environ(), stdout)
	case "class-archive":
		if len(args) != 2 || args[1] != string(sparkenv.Master) && args[1] != string(sparkenv.Worker) {
			return fmt.Errorf("%w: class-archive takes master or worker, got %q", ErrUsage, args[1:])
		}
		return writeClassArchive(sparkenv.Role(args[1]), s, log)
	}
	if isCommand(args) {
		return runCommand(args, s, log)
	}
	return fmt.Errorf("%w: unknown subcommand %q\n%s", ErrUsage, args[0], Usage)
}

// isRole reports whether a names a role the entrypoint runs.
func isRole(a string) bool {
	switch sparkenv.Role(a) {
	case sparkenv.Master, sparkenv.Worker, sparkenv.Connect, sparkenv.History:
		return true
	}
	return false
}

func supervise(cfg supervisor.Config, s settings.Settings, log zerolog.Logger) error {
	cfg.Grace = s.Grace
	cfg.SignalGroup = s.SignalGroup
	cfg.Rewrite = s.SignalRewrite
	cfg.StopSignals = s.StopSignals
	cfg.Log = log
	status, err := supervisor.Run(cfg)
	if err != nil {
		return err
	}
	return exitStatus(status)
}

func exitStatus(status int) error {
	if status == 0 {
		return nil
	}
	return ExitStatus(status)
}

// startNode is the whole start of a master, worker or Connect server. One
// stop context covers every step up to the supervisor: a SIGTERM or SIGINT
// at any of them ends the start with 128+N, and one that arrives after the
// last look is the supervisor's to hand to the JVM (Listen in Main).
func startNode(role sparkenv.Role, s settings.Settings, log zerolog.Logger) error {
	ctx, stop, caught := stopContext()
	defer stop()
	stopped := func() error {
		if sig := caught(); sig != 0 {
			return stoppedEarly(log, sig)
		}
		return nil
	}
	p, err := plan(ctx, role, s, systemInputs(), log, true)
	if e := stopped(); e != nil {
		return e
	}
	if err != nil {
		return err
	}
	logRemovals(log, p.Removed, "the jvm's")
	uid, gid := workloadIDs(p.Credential)
	if p.Connect != nil {
		log.Info().Str("driver_host", p.Node.Host).Str("source", p.Advertise.Source).Int("port", p.Connect.Port).Bool("token", p.Connect.Token).
			Msg("spark connect server: executors dial the driver at driver_host, clients connect to port")
	}
	props := p.secretProps
	if p.Connect != nil && p.Auth {
		props = append([]javaOption{{"spark.authenticate.secret", sparkenv.Get(p.Env, "_SPARK_AUTH_SECRET")}}, props...)
	}
	if body := nodeProperties(p, props); body != nil {
		file, cleanup, err := writeProperties(body, uid, gid)
		if err != nil {
			return err
		}
		defer cleanup()
		p.Node.PropertiesFile = file
	}
	// Spark's launcher refuses some settings (an -Xmx in SPARK_WORKER_OPTS):
	// ask it before /etc is touched, so bad input leaves nothing written.
	java, env, err := javaCommand(ctx, p)
	if e := stopped(); e != nil {
		return e
	}
	if err != nil {
		return err
	}
	if err := applyEtc(p, s, log); err != nil {
		return err
	}
	bound, err := bindableHost(p, net.DefaultResolver, log)
	if err != nil {
		return err
	}
	if bound.Node != p.Node {
		java, env, err = javaCommand(ctx, bound)
		if e := stopped(); e != nil {
			return e
		}
		if err != nil {
			return err
		}
	}
	p = bound
	java, why := withClassArchive(p, java, env)
	if why == "" {
		log.Info().Str("file", p.ClassArchive).Msg("class-data archive in use: spark's jars first in the class path, in sorted order")
	} else {
		log.Info().Str("why", why).Msg("no class-data archive")
	}
	if p.Master != nil && s.MasterWait > 0 {
		awaitMasterPort(ctx, p.Master.URL, s.MasterWait, log)
	}
	if e := stopped(); e != nil {
		return e
	}
	if p.eventLogDir != "" {
		if err := prepareStateDir(p.eventLogDir, uid, 0, eventLogMode); err == nil {
			log.Info().Str("dir", p.eventLogDir).Bool("writes", p.EventLog.Writes).Msg("event logs")
		} else if role == sparkenv.Connect {
			log.Warn().Err(err).Msg("connect: no event log: the history server will not list this server's application")
			java = withoutOptions(java, connectEventLogOptions(p.eventLogDir))
		} else {
			log.Warn().Err(err).Msg("history: the event-log directory may not be readable")
		}
	}
	if p.MasterState != "" {
		if err := prepareStateDir(p.MasterState, uid, gid, 0o770); err != nil {
			log.Warn().Err(err).Msg("master state not kept: after a restart, workers come back at their next registration retry (5-15 s)")
			java = withoutOptions(java, masterStateOptions(p.MasterState))
		} else {
			log.Info().Str("dir", p.MasterState).Msg("master keeps its workers and applications for its next start")
		}
	}
	env = ensurePasswdEntry(uid, gid, env, log)
	if e := stopped(); e != nil {
		return e
	}
	stop()
	shown := sparkenv.ShortClasspath(sparkenv.Redact(java), env)
	// The command itself is the supervisor's "workload started" line.
	log.Info().Str("role", string(role)).Str("user", p.User).Msg("starting spark")
	cfg := supervisor.Config{Args: java, Shown: shown, Env: env, Credential: p.Credential}
	if p.Decommission != nil && p.Decommission.OnStop {
		cfg.Drain = workerDecommission(*p.Decommission, decommissionPoll)
	}
	if p.Connect != nil {
		stop := make(chan string, 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go watchConnect(ctx, os.Environ(), connectWatchEvery, connectOrphanAfter, stop)
		cfg.Stop = stop
	}
	return supervise(cfg, s, log)
}

// javaCommand does what bin/spark-class would: source spark-env.sh when
// there is one, then ask Spark's launcher for the java command line.
func javaCommand(ctx context.Context, p Plan) ([]string, []string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	env, err := sparkenv.SourceSparkEnv(ctx, p.Env)
	if err != nil {
		return nil, nil, err
	}
	// spark-env.sh may set what the platform's variables collide with.
	if env, _, err = sparkenv.Scrub(env); err != nil {
		return nil, nil, err
	}
	env = sparkenv.WithScalaVersion(env)
	java, err := p.Node.JavaCommand(ctx, env)
	return java, env, err
}

// stoppedEarly is the exit of a node stopped before its JVM started.
func stoppedEarly(log zerolog.Logger, sig syscall.Signal) error {
	log.Info().Str("signal", sig.String()).Msg("stopped before the jvm started")
	return ExitStatus(128 + int(sig))
}

// stopContext is cancelled by SIGTERM or SIGINT, so a container stopped
// while it waits for its master exits at once instead of after the wait.
// caught returns the signal once the context is done, and 0 before: the
// signal is written before the cancel that makes Done readable.
func stopContext() (context.Context, func(), func() syscall.Signal) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGTERM, syscall.SIGINT)
	var got syscall.Signal
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case sig := <-ch:
			got = sig.(syscall.Signal)
			cancel()
		case <-ctx.Done():
		}
	}()
	stop := func() {
		signal.Stop(ch)
		cancel()
		<-done
	}
	var once sync.Once
	stopOnce := func() { once.Do(stop) }
	return ctx, stopOnce, func() syscall.Signal {
		select {
		case <-done:
			return got
		default:
			return 0
		}
	}
}

// systemInputs reads what discovery looks at from this container.
func systemInputs() discovery.Inputs {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	in := discovery.Inputs{Env: env, Service: env["SPARK_MASTER_SERVICE"]}
	in.Hosts, _ = os.ReadFile("/etc/hosts")
	in.Resolv, _ = os.ReadFile("/etc/resolv.conf")
	return in
}
