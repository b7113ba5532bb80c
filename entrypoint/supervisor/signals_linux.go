//go:build linux

package supervisor

import (
	"os"
	"strconv"
	"syscall"
)

// relayed lists the signals the supervisor catches and forwards.
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
//   - 32 and 33 are reserved by the C library for its threads.
//
// SIGTTIN and SIGTTOU are caught but dropped (see ignored).
var relayed = func() []os.Signal {
	skip := map[syscall.Signal]bool{
		syscall.SIGKILL: true, syscall.SIGSTOP: true, syscall.SIGCHLD: true,
		syscall.SIGURG: true, syscall.SIGPIPE: true,
		syscall.SIGSEGV: true, syscall.SIGBUS: true, syscall.SIGFPE: true,
		syscall.SIGILL: true, syscall.SIGTRAP: true, syscall.SIGSYS: true,
	}
	var s []os.Signal
	for n := syscall.Signal(1); n <= 64; n++ {
		if skip[n] || n == 32 || n == 33 {
			continue
		}
		s = append(s, n)
	}
	return s
}()

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
	if n, ok := sigNames[s]; ok {
		return n
	}
	if s >= 34 && s <= 64 {
		return "SIGRT" + strconv.Itoa(int(s))
	}
	return "signal " + strconv.Itoa(int(s))
}

var sigNames = map[syscall.Signal]string{
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
