//go:build linux

package supervisor

import (
	"context"
	"errors"
	"os"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// reapBound bounds the wait for the last zombies after everything is dead,
// so a kernel that is slow to release a process cannot hang the container.
const reapBound = 2 * time.Second

// report is one line from the waiter.
type report struct {
	kind string // "pid", "status", "error", "eof"
	n    int
	ws   syscall.WaitStatus
	err  error
}

// phase is how far the stop has got; it only moves forward.
type phase int

const (
	running  phase = iota // no stop asked for
	draining              // the drain's signal went out; SIGTERM once its wait is over
	stopping              // SIGTERM went out, to the workload or to what outlived it: the grace period runs
	killing               // SIGKILL to everything that is left
)

// advance moves the stop on to p, never back.
func (s *sup) advance(p phase) {
	s.phase = max(s.phase, p)
}

type sup struct {
	cfg      Config
	log      zerolog.Logger
	grace    time.Duration
	pid1     bool
	procOK   bool
	startDir string // the directory left before the start, where the workload starts

	waiterPid int
	childPid  int
	target    int // childPid, or -childPid when signalling its group
	pending   []syscall.Signal

	childDone bool // status (or failure) known; no workload to signal any more
	status    int
	runErr    error

	phase       phase
	deadline    time.Time
	deadlineSet bool
	termSent    bool // SIGTERM sent to what was left after the workload exited
	// killed are the pids already sent SIGKILL: a dying process stays
	// listed (and killable) until it is reaped, and counting it again made
	// "killed late processes" repeat for the same processes.
	killed      map[int]bool
	drainDone   chan bool     // the drain's wait is over: whether it is complete
	drained     bool          // SIGTERM followed a complete drain
	stop        <-chan string // Config.Stop until it has fired
	cancel      context.CancelFunc
	trim        *time.Timer   // trimMemory once the workload has started
	wake        chan struct{} // go-reap reaped something
	sigReady    <-chan (<-chan os.Signal)
	reportsDone bool // the report channel has ended
}

// Run starts the workload, supervises it and returns the exit status the
// container should exit with: the child's code, 128+N when it died by signal
// N.  err != nil only when the workload could not be started (wrapping
// ErrNotFound or ErrNotExecutable) or on an internal failure.
//
// Run reaps every orphan while it runs, and before it returns it stops every
// other process (as PID 1: the whole namespace; otherwise: its descendants),
// first with SIGTERM and after the grace period with SIGKILL.
//
// Run changes the process's working directory to "/" and does not change
// it back: before it starts the workload (in the directory it left) when
// the workload runs as the process's own user, else once it has started.
func Run(cfg Config) (status int, err error) {
	if len(cfg.Args) == 0 {
		return StatusInternal, errors.New("no command to run")
	}
	// Catching the relayed signals costs the runtime a round trip to its
	// signal thread per signal: done while the rest is prepared, and always
	// finished before the workload starts.
	sigReady := make(chan (<-chan os.Signal), 1)
	go func() { sigReady <- relayedSignals() }()
	s := &sup{cfg: cfg, log: cfg.Log, grace: cfg.Grace, pid1: os.Getpid() == 1, sigReady: sigReady}
	if s.grace <= 0 {
		s.grace = DefaultGrace
	}
	s.procOK = procMatches()
	if !s.pid1 {
		// Under docker --init or a shared PID namespace someone else is
		// PID 1; as a subreaper the orphans of our workload still come to us.
		if err := setSubreaper(); err != nil {
			s.log.Warn().Err(err).Msg("not PID 1 and cannot become a child subreaper; orphans will not be reaped")
		} else {
			s.log.Warn().Int("pid", os.Getpid()).Msg("not running as PID 1; registered as child subreaper")
		}
	}
	if !s.procOK {
		s.log.Warn().Msg("/proc does not belong to this PID namespace; only the workload can be stopped gracefully")
	}
	return s.run()
}

func (s *sup) run() (int, error) {
	done := make(chan struct{})
	defer close(done)
	s.wake = make(chan struct{}, 1)
	s.stop = s.cfg.Stop
	s.startReaper(done, s.wake)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s.cancel = cancel

	defer func() {
		if s.trim != nil {
			s.trim.Stop()
		}
	}()
	// Registered before the workload starts so no early signal is lost.
	sigs := <-s.sigReady
	s.leaveBeforeStart()
	var reports <-chan report
	var err error
	direct := s.direct()
	if direct {
		reports, err = s.startDirect()
	}
	if !direct || errors.Is(err, errPidfdRefused) {
		reports, err = s.startWaiter()
	}
	if err != nil {
		return StatusInternal, err
	}

	deadline := time.NewTimer(time.Hour)
	deadline.Stop()
	defer deadline.Stop()
	tick := time.NewTicker(time.Hour)
	tick.Stop()
	defer tick.Stop()
	ticking := false
	var reapStart time.Time

	armed := false
	recheck := false // look again at once: the last pass reaped something
	for {
		if s.deadlineSet && !armed {
			deadline.Reset(time.Until(s.deadline))
			armed = true
		}
		if recheck {
			recheck = false
		} else {
			s.wait(ctx, sigs, reports, deadline, tick, &armed)
		}
		if s.reportsDone {
			reports = nil
		}
		if (s.childDone || s.phase == killing) && !ticking {
			// Processes can exit without a SIGCHLD reaching us (they may not
			// be our children yet), so poll as a backstop while stopping.
			tick.Reset(25 * time.Millisecond)
			ticking = true
		}
		if !s.childDone {
			if s.phase == killing {
				s.killRest()
			}
			continue
		}
		live, any := s.rest()
		if len(live) > 0 {
			s.stopRest(live)
			continue
		}
		if !any {
			break
		}
		// Only zombies are left, and all of them are ours by now.
		if reapStart.IsZero() {
			reapStart = time.Now()
		}
		recheck = reapPass() > 0
		if time.Since(reapStart) > reapBound {
			s.log.Warn().Msg("zombies left after stopping; giving up on them")
			break
		}
	}
	if s.runErr != nil {
		return s.status, s.runErr
	}
	return s.status, nil
}

// wait handles the next event.
func (s *sup) wait(ctx context.Context, sigs <-chan os.Signal, reports <-chan report, deadline *time.Timer, tick *time.Ticker, armed *bool) {
	select {
	case sig := <-sigs:
		s.onSignal(ctx, sig.(syscall.Signal))
	case r := <-reports:
		s.onReport(ctx, r)
		if r.kind == "eof" {
			s.reportsDone = true
		}
	case <-deadline.C:
		s.deadlineSet, *armed = false, false
		s.log.Warn().Dur("grace", s.grace).Msg("grace period expired")
		s.killAll()
	case why := <-s.stop:
		s.stop = nil
		s.log.Warn().Str("reason", why).Msg("stopping the workload")
		s.onSignal(ctx, syscall.SIGTERM)
	case complete := <-s.drainDone:
		s.drainDone = nil
		if !s.childDone && s.target != 0 && s.phase == draining {
			s.advance(stopping)
			s.send(syscall.SIGTERM, "drain over")
			s.drained = complete
		}
	case <-s.wake:
	case <-tick.C:
	}
}

func (s *sup) onReport(ctx context.Context, r report) {
	switch r.kind {
	case "pid":
		s.childPid = r.n
		s.target = r.n
		if s.cfg.SignalGroup {
			s.target = -r.n
		}
		shown := s.cfg.Args
		if s.cfg.Shown != nil {
			shown = s.cfg.Shown
		}
		s.log.Info().Int("pid", r.n).Strs("args", shown).Msg("workload started")
		s.leaveStartDir()
		if s.trim == nil {
			s.trim = time.AfterFunc(trimDelay, trimMemory)
		}
		for _, sig := range s.pending {
			s.send(sig, "")
		}
		s.pending = nil
	case "status":
		if s.childDone {
			return
		}
		s.childDone = true
		s.status = statusOf(r.ws)
		ev := s.log.Info().Int("pid", s.childPid).Int("status", s.status)
		if r.ws.Signaled() {
			ev = ev.Str("signal", signalName(r.ws.Signal()))
		}
		ev.Msg("workload exited")
		if s.drained && s.status == 128+int(syscall.SIGTERM) {
			s.status = 0
			s.log.Info().Msg("stopped cleanly after a complete drain; exit status 0")
		}
		s.cancel()
	case "error":
		if s.childDone {
			return
		}
		s.childDone = true
		s.runErr = r.err
		s.status = StartStatus(r.err)
		s.log.Error().Err(r.err).Int("status", s.status).Msg("workload could not be started")
	case "eof":
		if s.childDone {
			return
		}
		s.childDone = true
		s.status = StatusInternal
		s.runErr = errors.New("waiter exited without reporting the workload's status")
		s.log.Error().Err(s.runErr).Msg("lost the workload")
		s.cancel()
	}
}

func (s *sup) onSignal(ctx context.Context, sig syscall.Signal) {
	// A rewrite is the user's word on a signal, even one dropped by
	// default (dumb-init's -r 21:19 for job control).
	_, rewritten := s.cfg.Rewrite[sig]
	if ignored(sig) && !rewritten {
		return
	}
	if fault(sig) && !rewritten {
		s.log.Warn().Str("signal", signalName(sig)).Msg("dropped a fault signal sent by another process")
		return
	}
	if s.isStop(sig) {
		if s.phase != running {
			if s.phase != killing {
				s.log.Warn().Str("signal", signalName(sig)).Msg("second stop signal; killing at once")
				s.killAll()
			}
			return
		}
		s.setDeadline()
		if s.childDone {
			s.advance(stopping)
			return // the stop sequence for the rest is already running
		}
		if sig == syscall.SIGTERM && s.drainable() {
			s.advance(draining)
			s.log.Info().Str("signal", signalName(s.cfg.Drain.Signal)).Msg("stop requested; draining the workload first")
			s.send(s.cfg.Drain.Signal, "drain")
			s.startDrain(ctx)
			return
		}
		s.advance(stopping)
	}
	if s.childDone {
		return
	}
	if to, ok := s.cfg.Rewrite[sig]; ok {
		if to == 0 {
			s.log.Info().Str("signal", signalName(sig)).Msg("dropped signal")
			return
		}
		sig = to
	}
	s.send(sig, "")
}

// drainable reports whether a stop can start with the drain: there is one,
// and the workload handles its signal. A workload that has not started, or
// not yet installed its handler (a JVM early in its start), would die of
// the signal's default action instead of draining: it gets SIGTERM.
func (s *sup) drainable() bool {
	if s.cfg.Drain == nil {
		return false
	}
	if s.childPid == 0 {
		s.log.Info().Msg("stop requested before the workload started; no drain")
		return false
	}
	if !s.procOK {
		return true // no way to look: the drain's signal it is
	}
	ok, err := catches(s.childPid, s.cfg.Drain.Signal)
	if err == nil && !ok {
		s.log.Info().Str("signal", signalName(s.cfg.Drain.Signal)).Msg("stop requested; the workload does not handle the drain's signal yet, so no drain")
	}
	return ok || err != nil
}

func (s *sup) setDeadline() {
	if s.deadline.IsZero() {
		s.deadline = time.Now().Add(s.grace)
		s.deadlineSet = true
	}
}

// send delivers sig to the workload (or its group), or queues it until the
// workload's pid is known.
func (s *sup) send(sig syscall.Signal, why string) {
	if s.target == 0 {
		s.pending = append(s.pending, sig)
		return
	}
	err := syscall.Kill(s.target, sig)
	ev := s.log.Info().Str("signal", signalName(sig)).Int("to", s.target)
	if why != "" {
		ev = ev.Str("reason", why)
	}
	if err != nil && err != syscall.ESRCH {
		ev = ev.Err(err)
	}
	ev.Msg("forwarded signal")
}
