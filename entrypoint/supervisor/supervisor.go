package supervisor

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// WaiterArg is os.Args[1] of the binary re-executed as the waiter.
const WaiterArg = "__entrypoint_waiter"

// DefaultGrace is used when Config.Grace is zero.  It leaves two seconds of
// Docker's default ten-second stop timeout for our own SIGKILL and reaping.
const DefaultGrace = 8 * time.Second

// Config describes the workload and how to stop it.
type Config struct {
	// Args is the argv; Args[0] is looked up in the PATH of Env, or used as
	// a path if it contains a slash.
	Args []string
	// Shown, when set, stands for Args in the log: the caller's form of
	// the command, with secrets hidden and long lists shortened.
	Shown []string
	// Env is the child's environment, exactly.
	Env []string
	// Dir is the child's working directory; "" inherits ours, which Run
	// leaves for "/" (see Run).
	Dir string
	// Credential, when non-nil, runs the workload as this user.
	Credential *syscall.Credential
	// Grace is how long other processes get between SIGTERM and SIGKILL;
	// 0 means DefaultGrace.
	Grace time.Duration
	// SignalGroup forwards signals to the child's whole process group
	// (tini -g); the child then gets a process group of its own.
	SignalGroup bool
	// Rewrite maps a received signal to the one forwarded (dumb-init -r);
	// mapping to 0 drops the signal.  A rewritten stop signal (SIGTERM or
	// one of StopSignals) still starts the stop sequence.  Signals the
	// supervisor sends on its own (Drain's signal and the SIGTERM after it, the
	// stop sequence's SIGTERM and SIGKILL) are not rewritten.
	Rewrite map[syscall.Signal]syscall.Signal
	// StopSignals start the stop sequence, besides SIGTERM, which always
	// does: the signal is forwarded, the rest get Grace, and a second stop
	// signal kills everything at once.  Any other signal, SIGINT included,
	// is only forwarded: a terminal's Ctrl-C is for an interactive workload
	// (a shell, a REPL cancelling a job) that handles it and carries on, as
	// tini and dumb-init leave it.
	StopSignals []syscall.Signal
	// Drain, when non-nil, turns the first SIGTERM into a drain: its
	// Signal goes to the workload, and SIGTERM only once its Wait is over.
	// A workload that has no handler for Signal (SigCgt in /proc), not yet
	// started or early in its start, gets SIGTERM at once instead.
	// A workload that drained completely and then ended on that SIGTERM
	// (status 128+SIGTERM, by the signal or by an exit code that says so,
	// as the JVM's does) stopped cleanly: Run returns 0, so that an
	// orchestrator tells a finished drain from a crash or a cut-off one.
	Drain *Drain
	// Stop, when a reason arrives on it, starts the stop sequence as a
	// SIGTERM would (the caller's own judgement that the workload must
	// end); the reason is logged. nil: only signals stop the workload.
	Stop <-chan string
	// Log receives one line per lifecycle event.
	Log zerolog.Logger
}

// Drain is how a workload is emptied before it is stopped, for one that has
// such a protocol (a Spark worker's decommission: SIGPWR, then wait until
// it runs no executors). The supervisor knows only the signal and when the
// wait is over.
type Drain struct {
	// Signal asks the workload to drain.
	Signal syscall.Signal
	// Wait returns once the workload has drained, with a short word for
	// the log and whether the drain is complete (false: it gave up). Its
	// context ends when the grace period is nearly over (the stop signal
	// must still fit before the SIGKILL) or the workload exits.
	Wait func(ctx context.Context) (result string, drained bool)
}

// ErrNotFound reports that the command does not exist (StatusNotFound).
var ErrNotFound = errors.New("command not found")

// ErrNotExecutable reports that the command exists but cannot be executed
// (StatusCannotRun).
var ErrNotExecutable = errors.New("command not executable")

// The exit statuses the supervisor gives when the workload has none of its
// own, the shell's: an internal failure (EX_SOFTWARE), a command that
// cannot be executed, a command that does not exist.
const (
	StatusInternal  = 70
	StatusCannotRun = 126
	StatusNotFound  = 127
)

// StartStatus is the status for err, a failure to start the workload:
// StatusNotFound for ErrNotFound, StatusCannotRun for ErrNotExecutable,
// StatusInternal for anything else.
func StartStatus(err error) int {
	switch {
	case errors.Is(err, ErrNotFound):
		return StatusNotFound
	case errors.Is(err, ErrNotExecutable):
		return StatusCannotRun
	}
	return StatusInternal
}

// statusOf maps a raw wait status to a shell-style exit status.
func statusOf(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	// Stopped/continued statuses are never reported because the waiter
	// does not ask for them; treat one as an internal failure.
	return StatusInternal
}
