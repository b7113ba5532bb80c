//go:build linux

package supervisor

import (
	"os"
	"strconv"
	"syscall"
)

// relayed lists the signals the supervisor catches and forwards.  It is built
// on use, not at package initialisation, which every start of the binary
// pays, whatever its subcommand.
//
// Left out on purpose:
//   - SIGKILL and SIGSTOP cannot be caught.
//   - SIGCHLD belongs to the reaper.
//   - SIGURG is the Go runtime's own preemption signal; catching it would
//     forward the runtime's internal signals to the workload.
//   - SIGPIPE: the only SIGPIPEs a PID 1 sees in practice are its own, from
//     writing a log line to a closed pipe, and those must not reach the JVM.
//   - SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP and SIGSYS are synchronous
//     faults; tini leaves them unblocked for the same reason.
//   - 32 and 33 (glibc) and 34 (musl) are reserved by C libraries for their
//     threads, and Go's runtime never delivers them to a channel: 34 was
//     listed here once and its Notify silently did nothing.  Sent to an
//     entrypoint that is not PID 1 they end it by their default action
//     (as PID 1 the kernel drops them); no workload uses them.
//
// SIGTTIN and SIGTTOU are caught but dropped (see ignored).
func relayed() []os.Signal {
	s := make([]os.Signal, 0, 64)
	for n := syscall.Signal(1); n <= 64; n++ {
		switch n {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG, syscall.SIGPIPE,
			syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGILL, syscall.SIGTRAP, syscall.SIGSYS,
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

// isStop reports whether s starts (or, the second time, hurries) a stop.
func isStop(s syscall.Signal) bool {
	return s == syscall.SIGTERM || s == syscall.SIGINT
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
