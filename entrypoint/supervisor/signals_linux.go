//go:build linux

package supervisor

import (
	"os"
	"slices"
	"strconv"
	"syscall"
)

// relayed lists the signals the supervisor catches, nearly all to forward
// them.  It is built on use, not at package initialisation, which every
// start of the binary pays, whatever its subcommand.
//
// Left out on purpose:
//   - SIGKILL and SIGSTOP cannot be caught.
//   - SIGCHLD belongs to the reaper.
//   - SIGURG is the Go runtime's own preemption signal; catching it would
//     forward the runtime's internal signals to the workload.
//   - SIGPROF is the Go runtime's too: its profiler takes it, and Notify
//     never gets it (runtime/signal_unix.go), so catching it did nothing.
//   - SIGPIPE: the only SIGPIPEs a PID 1 sees in practice are its own, from
//     writing a log line to a closed pipe, and those must not reach the JVM.
//   - 32 and 33 (glibc) and 34 (musl) are reserved by C libraries for their
//     threads, and Go's runtime never delivers them to a channel: 34 was
//     listed here once and its Notify silently did nothing.  Sent to an
//     entrypoint that is not PID 1 they end it by their default action
//     (as PID 1 the kernel drops them); no workload uses them.
//
// SIGTTIN and SIGTTOU are caught but dropped (see ignored), and so are the
// fault signals (see fault), unless Config.Rewrite names them.
func relayed() []os.Signal {
	s := make([]os.Signal, 0, 64)
	for n := syscall.Signal(1); n <= 64; n++ {
		switch n {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG, syscall.SIGPROF, syscall.SIGPIPE,
			32, 33, 34:
			continue
		}
		s = append(s, n)
	}
	return s
}

// ignored are caught and dropped rather than forwarded.  A PID 1 that touches
// the terminal from a background process group would otherwise be stopped by
// them (tini ignores them for this reason).  They are caught with Notify, not
// signal.Ignore, because an ignored disposition survives fork and exec and the
// workload would inherit it.
func ignored(s syscall.Signal) bool {
	return s == syscall.SIGTTIN || s == syscall.SIGTTOU
}

// fault reports whether s is the signal of a program fault.  One of these
// reaches the channel only when another process sent it (kill -SEGV): the
// Go runtime hands a fault signal from kill(2) to Notify when it is
// registered (sighandler in runtime/signal_unix.go), and otherwise crashes
// with a goroutine dump, taking the container and its JVM with it; our own
// real faults still panic or crash as they should.  So they are caught, and
// dropped, not forwarded: without a handler the kernel drops them for any
// PID 1, and a JVM takes a SIGSEGV for a fault of its own and crashes.
func fault(s syscall.Signal) bool {
	switch s {
	case syscall.SIGILL, syscall.SIGTRAP, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGSEGV, syscall.SIGSYS:
		return true
	}
	return false
}

// isStop reports whether sig starts (or, the second time, hurries) a stop:
// SIGTERM, which every orchestrator sends, or one of Config.StopSignals.
func (s *sup) isStop(sig syscall.Signal) bool {
	return sig == syscall.SIGTERM || slices.Contains(s.cfg.StopSignals, sig)
}

// signalName gives a short name for logs.
func signalName(s syscall.Signal) string {
	if s > 0 && int(s) < len(sigNames) && sigNames[s] != "" {
		return sigNames[s]
	}
	if s >= 34 && s <= 64 {
		return "SIGRT" + strconv.Itoa(int(s))
	}
	return "signal " + strconv.Itoa(int(s))
}

// sigNames is an array, not a map, so that it costs nothing at start-up.
var sigNames = [...]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGILL: "SIGILL", syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT",
	syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE", syscall.SIGKILL: "SIGKILL",
	syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM",
	syscall.SIGSTKFLT: "SIGSTKFLT", syscall.SIGCHLD: "SIGCHLD", syscall.SIGCONT: "SIGCONT",
	syscall.SIGSTOP: "SIGSTOP", syscall.SIGTSTP: "SIGTSTP", syscall.SIGTTIN: "SIGTTIN",
	syscall.SIGTTOU: "SIGTTOU", syscall.SIGURG: "SIGURG", syscall.SIGXCPU: "SIGXCPU",
	syscall.SIGXFSZ: "SIGXFSZ", syscall.SIGVTALRM: "SIGVTALRM", syscall.SIGPROF: "SIGPROF",
	syscall.SIGWINCH: "SIGWINCH", syscall.SIGIO: "SIGIO", syscall.SIGPWR: "SIGPWR",
	syscall.SIGSYS: "SIGSYS",
}
