//go:build linux

package supervisor

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	reap "github.com/hashicorp/go-reap"
	"github.com/rs/zerolog"
)

// internalStatus is returned with an internal error (EX_SOFTWARE).
const internalStatus = 70

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

type sup struct {
	cfg    Config
	log    zerolog.Logger
	grace  time.Duration
	pid1   bool
	procOK bool

	waiterPid int
	childPid  int
	target    int // childPid, or -childPid when signalling its group
	pending   []syscall.Signal

	childDone bool // status (or failure) known; no workload to signal any more
	status    int
	runErr    error

	stopping     bool // a stop signal arrived, or the workload exited
	deadline     time.Time
	deadlineSet  bool
	hurried      bool // SIGKILL everything that is left
	termSent     bool // SIGTERM sent to what was left after the workload exited
	decommission bool // start the decommission poll once the pid is known
	decommDone   chan struct{}
	stop         <-chan string // Config.Stop until it has fired
	cancel       context.CancelFunc
	trim         *time.Timer   // trimMemory once the workload has started
	wake         chan struct{} // go-reap reaped something
	sigReady     <-chan (<-chan os.Signal)
	reportsDone  bool // the report channel has ended
}

// Run starts the workload, supervises it and returns the exit status the
// container should exit with: the child's code, 128+N when it died by signal
// N.  err != nil only when the workload could not be started (wrapping
// ErrNotFound or ErrNotExecutable) or on an internal failure.
//
// Run reaps every orphan while it runs, and before it returns it stops every
// other process (as PID 1: the whole namespace; otherwise: its descendants),
// first with SIGTERM and after the grace period with SIGKILL.
func Run(cfg Config) (status int, err error) {
	if len(cfg.Args) == 0 {
		return internalStatus, errors.New("no command to run")
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
	var reports <-chan report
	var err error
	if s.direct() {
		reports, err = s.startDirect()
	} else {
		reports, err = s.startWaiter()
	}
	if err != nil {
		return internalStatus, err
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
		if (s.childDone || s.hurried) && !ticking {
			// Processes can exit without a SIGCHLD reaching us (they may not
			// be our children yet), so poll as a backstop while stopping.
			tick.Reset(25 * time.Millisecond)
			ticking = true
		}
		if !s.childDone {
			if s.hurried {
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
	case <-s.decommDone:
		s.decommDone = nil
		if !s.childDone && s.target != 0 {
			s.send(syscall.SIGTERM, "decommission finished")
		}
	case <-s.wake:
	case <-tick.C:
	}
}

var (
	relayOnce sync.Once
	relayCh   chan os.Signal
)

// relayedSignals returns the channel the relayed signals arrive on, emptied
// of anything caught between two Runs.  The registration is made once and
// kept: each signal costs the Go runtime a round trip to its signal thread
// to enable and another to disable, about a millisecond for the whole list,
// and a process that has run a supervisor is about to exit anyway.
func relayedSignals() <-chan os.Signal {
	relayOnce.Do(func() {
		relayCh = make(chan os.Signal, 64)
		signal.Notify(relayCh, relayed()...)
	})
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

func (s *sup) startWaiter() (<-chan report, error) {
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("waiter pipe: %w", err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		specR.Close()
		specW.Close()
		return nil, fmt.Errorf("waiter pipe: %w", err)
	}
	// The waiter's pipes go above the inherited descriptors.
	files := inheritedFiles()
	specFD, reportFD := len(files), len(files)+1
	files = append(files, specR.Fd(), repW.Fd())
	// /proc/self/exe, not a path: it still works after the binary was
	// replaced or when the workload's user cannot traverse its directory.
	pid, err := syscall.ForkExec("/proc/self/exe",
		[]string{os.Args[0], WaiterArg, strconv.Itoa(specFD), strconv.Itoa(reportFD)},
		&syscall.ProcAttr{
			Env:   os.Environ(),
			Files: files,
			Sys:   &syscall.SysProcAttr{Credential: s.cfg.Credential},
		})
	specR.Close()
	repW.Close()
	if err != nil {
		specW.Close()
		repR.Close()
		return nil, fmt.Errorf("start waiter: %w", err)
	}
	s.waiterPid = pid

	ch := make(chan report, 4)
	go readReports(repR, ch)

	data, _ := json.Marshal(spec{Args: s.cfg.Args, Env: s.cfg.Env, Dir: s.cfg.Dir, Setpgid: s.cfg.SignalGroup})
	// A write error means the waiter died; its missing report says so.
	_, _ = specW.Write(data)
	specW.Close()
	return ch, nil
}

// inheritedFiles lists the descriptors the workload gets: stdio and those
// we inherited (socket activation, a harness's pipe), at their own numbers,
// as tini and dumb-init pass them.
func inheritedFiles() []uintptr {
	files := []uintptr{0, 1, 2}
	for _, fd := range inheritedFDs() {
		for len(files) < fd {
			files = append(files, ^uintptr(0)) // closed in the child
		}
		files = append(files, uintptr(fd))
	}
	return files
}

// direct reports whether the workload can be started without the waiter:
// the kernel keeps its exit status for us (see awaitExit), and nothing of
// the start has to be judged with the workload's own credentials (a PATH
// search or a working directory, which the waiter checks as that user).
func (s *sup) direct() bool {
	if forceWaiter || !kernelKeepsExitStatus() {
		return false
	}
	return s.cfg.Credential == nil || strings.Contains(s.cfg.Args[0], "/") && s.cfg.Dir == ""
}

// startDirect starts the workload as our own child, with a pidfd through
// which its exit status survives go-reap reaping it.  It reports like the
// waiter does, on a channel that ends with "eof".
func (s *sup) startDirect() (<-chan report, error) {
	ch := make(chan report, 4)
	pidfd := -1
	pid, kind, err := startChild(spec{Args: s.cfg.Args, Env: s.cfg.Env, Dir: s.cfg.Dir, Setpgid: s.cfg.SignalGroup},
		inheritedFiles(), s.cfg.Credential, &pidfd)
	if err != nil {
		ch <- report{kind: "error", err: startError(kind, oneLine(err))}
		ch <- report{kind: "eof"}
		return ch, nil
	}
	ch <- report{kind: "pid", n: pid}
	if pidfd < 0 {
		// Cannot happen on the kernels direct() admits; without a pidfd the
		// status could be lost, so do not pretend.
		ch <- report{kind: "error", err: errors.New("no pidfd for the workload")}
		ch <- report{kind: "eof"}
		return ch, nil
	}
	go func() {
		defer syscall.Close(pidfd)
		ws, err := awaitExit(pidfd)
		if err != nil {
			ch <- report{kind: "error", err: fmt.Errorf("wait for the workload: %w", err)}
		} else {
			ch <- report{kind: "status", ws: ws}
		}
		ch <- report{kind: "eof"}
	}()
	return ch, nil
}

func readReports(r *os.File, ch chan<- report) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		word, rest, _ := strings.Cut(sc.Text(), " ")
		switch word {
		case "pid":
			n, err := strconv.Atoi(rest)
			if err != nil || n <= 0 {
				ch <- report{kind: "error", err: fmt.Errorf("waiter sent bad pid %q", rest)}
				continue
			}
			ch <- report{kind: "pid", n: n}
		case "status":
			n, err := strconv.ParseUint(rest, 10, 32)
			if err != nil {
				ch <- report{kind: "error", err: fmt.Errorf("waiter sent bad status %q", rest)}
				continue
			}
			ch <- report{kind: "status", ws: syscall.WaitStatus(n)}
		case "error":
			kind, msg, _ := strings.Cut(rest, " ")
			ch <- report{kind: "error", err: startError(kind, msg)}
		}
	}
	ch <- report{kind: "eof"}
}

// startError rebuilds a start failure from its kind and message.
func startError(kind, msg string) error {
	switch kind {
	case errKindNotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, strings.TrimPrefix(msg, ErrNotFound.Error()+": "))
	case errKindNotExec:
		return fmt.Errorf("%w: %s", ErrNotExecutable, strings.TrimPrefix(msg, ErrNotExecutable.Error()+": "))
	}
	return fmt.Errorf("start workload: %s", msg)
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
		if s.trim == nil {
			s.trim = time.AfterFunc(trimDelay, trimMemory)
		}
		for _, sig := range s.pending {
			s.send(sig, "")
		}
		s.pending = nil
		if s.decommission {
			s.startDecommission(ctx)
		}
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
		s.cancel()
	case "error":
		if s.childDone {
			return
		}
		s.childDone = true
		s.runErr = r.err
		switch {
		case errors.Is(r.err, ErrNotFound):
			s.status = 127
		case errors.Is(r.err, ErrNotExecutable):
			s.status = 126
		default:
			s.status = internalStatus
		}
		s.log.Error().Err(r.err).Int("status", s.status).Msg("workload could not be started")
	case "eof":
		if s.childDone {
			return
		}
		s.childDone = true
		s.status = internalStatus
		s.runErr = errors.New("waiter exited without reporting the workload's status")
		s.log.Error().Err(s.runErr).Msg("lost the workload")
		s.cancel()
	}
}

func (s *sup) onSignal(ctx context.Context, sig syscall.Signal) {
	if ignored(sig) {
		return
	}
	if isStop(sig) {
		if s.stopping {
			if !s.hurried {
				s.log.Warn().Str("signal", signalName(sig)).Msg("second stop signal; killing at once")
				s.killAll()
			}
			return
		}
		s.stopping = true
		s.setDeadline()
		if s.childDone {
			return // the stop sequence for the rest is already running
		}
		if sig == syscall.SIGTERM && s.cfg.Decommission != nil {
			s.log.Info().Msg("stop requested; decommissioning the worker first")
			s.send(syscall.SIGPWR, "decommission")
			s.decommission = true
			if s.target != 0 {
				s.startDecommission(ctx)
			}
			return
		}
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

// rest lists the live processes the stop sequence still has to end, and
// whether any process at all (zombies included) is left.  The waiter is
// excluded while it still has to report the workload's status.
func (s *sup) rest() (live []int, any bool) {
	if !s.procOK {
		if !s.pid1 {
			return nil, false
		}
		// kill(-1) reaches every other process in the namespace; it cannot
		// tell zombies from the living, so wait for go-reap to clear them.
		if syscall.Kill(-1, 0) == syscall.ESRCH {
			return nil, false
		}
		if s.childDone {
			return []int{-1}, true
		}
		return nil, true
	}
	l, all := others(s.pid1)
	for _, p := range l {
		if p == s.waiterPid && !s.childDone {
			continue
		}
		live = append(live, p)
	}
	return live, all > 0
}

// stopRest runs the stop sequence on what outlived the workload: SIGTERM
// once, then SIGKILL when the deadline passes.  Neither tini nor dumb-init
// does this; they leave the rest to the kernel's SIGKILL (tini #180).
func (s *sup) stopRest(live []int) {
	var targets []int
	for _, p := range live {
		if p != s.waiterPid {
			targets = append(targets, p)
		}
	}
	if len(targets) == 0 {
		return // only the waiter, on its way out
	}
	if s.hurried {
		s.killPids(targets)
		return
	}
	if s.termSent {
		return
	}
	s.termSent = true
	s.stopping = true
	s.setDeadline()
	s.log.Info().Int("count", len(targets)).Msg("sending SIGTERM to remaining processes")
	for _, p := range targets {
		_ = syscall.Kill(p, syscall.SIGTERM)
	}
}

// killAll SIGKILLs the workload and everything else.
func (s *sup) killAll() {
	s.hurried = true
	n := 0
	if !s.childDone && s.target != 0 {
		if syscall.Kill(s.target, syscall.SIGKILL) == nil {
			n++
		}
	}
	live, _ := s.rest()
	var targets []int
	for _, p := range live {
		if p != s.childPid && p != s.waiterPid {
			targets = append(targets, p)
		}
	}
	n += s.killPids(targets)
	s.log.Warn().Int("count", n).Msg("killed remaining processes")
}

// killRest catches processes forked after killAll while we still wait for
// the workload's status.
func (s *sup) killRest() {
	live, _ := s.rest()
	var targets []int
	for _, p := range live {
		if p != s.childPid && p != s.waiterPid {
			targets = append(targets, p)
		}
	}
	if n := s.killPids(targets); n > 0 {
		s.log.Warn().Int("count", n).Msg("killed late processes")
	}
}

func (s *sup) killPids(pids []int) int {
	n := 0
	for _, p := range pids {
		if syscall.Kill(p, syscall.SIGKILL) == nil {
			n++
		}
	}
	return n
}
