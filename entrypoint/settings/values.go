package settings

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"
)

// The decoders of the settings whose values are more than a word.

// PortRange is ENTRYPOINT_EXECUTOR_PORTS: "PORT" or "FIRST-LAST", TCP
// ports 1-65535 with FIRST <= LAST; the zero value is unset.
type PortRange struct{ First, Last int }

// Decode implements envconfig.Decoder.
func (r *PortRange) Decode(v string) error {
	first, last, isRange := strings.Cut(strings.TrimSpace(v), "-")
	if !isRange {
		last = first
	}
	a, err1 := strconv.Atoi(first)
	b, err2 := strconv.Atoi(last)
	switch {
	case err1 != nil || err2 != nil:
		return fmt.Errorf("want PORT or FIRST-LAST, e.g. 7100-7103")
	case a < 1 || b > 65535:
		return fmt.Errorf("ports are 1-65535")
	case a > b:
		return fmt.Errorf("the first port is above the last")
	}
	*r = PortRange{a, b}
	return nil
}

// Set says whether the range was given.
func (r PortRange) Set() bool { return r.First != 0 }

// Ports is how many ports the range holds.
func (r PortRange) Ports() int {
	if !r.Set() {
		return 0
	}
	return r.Last - r.First + 1
}

func (r PortRange) String() string {
	switch {
	case !r.Set():
		return ""
	case r.First == r.Last:
		return strconv.Itoa(r.First)
	}
	return fmt.Sprintf("%d-%d", r.First, r.Last)
}

// SignalMap is ENTRYPOINT_SIGNAL_REWRITE: "FROM:TO[,FROM:TO…]" with signal
// names with or without the SIG prefix, or numbers (dumb-init's -r); TO 0
// drops FROM.
type SignalMap map[syscall.Signal]syscall.Signal

// Decode implements envconfig.Decoder.
func (m *SignalMap) Decode(v string) error {
	out := SignalMap{}
	for _, pair := range strings.Split(v, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(pair), ":")
		if !ok {
			return fmt.Errorf("%q is not FROM:TO", pair)
		}
		f, err := ParseSignal(from)
		if err != nil {
			return err
		}
		var t syscall.Signal
		if strings.TrimSpace(to) != "0" {
			if t, err = ParseSignal(to); err != nil {
				return err
			}
		}
		if why := neverReceived(f); why != "" {
			return fmt.Errorf("%s cannot be rewritten: %s", strings.TrimSpace(from), why)
		}
		out[f] = t
	}
	*m = out
	return nil
}

// SignalList is ENTRYPOINT_STOP_SIGNALS: "SIG[,SIG…]", each a name with or
// without the SIG prefix, or a number: the signals that, besides SIGTERM,
// start the stop sequence.
type SignalList []syscall.Signal

// Decode implements envconfig.Decoder.
func (l *SignalList) Decode(v string) error {
	var out SignalList
	for _, name := range strings.Split(v, ",") {
		sig, err := ParseSignal(name)
		if err != nil {
			return err
		}
		if why := cannotStop(sig); why != "" {
			return fmt.Errorf("%s cannot be a stop signal: %s", strings.TrimSpace(name), why)
		}
		out = append(out, sig)
	}
	*l = out
	return nil
}

// cannotStop says why the supervisor would never act on sig as a stop
// signal, or "" when it can.  It mirrors the supervisor's relayed and
// dropped signals (entrypoint/supervisor/signals_linux.go; a test there
// keeps the two in step): a listed signal that never arrives would be a
// silently ignored setting.
func cannotStop(sig syscall.Signal) string {
	if why := neverReceived(sig); why != "" {
		return why
	}
	switch sig {
	case syscall.SIGTTIN, syscall.SIGTTOU:
		return "the entrypoint drops it (job control)"
	case syscall.SIGILL, syscall.SIGTRAP, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGSEGV, syscall.SIGSYS:
		return "the entrypoint drops it (a program fault's signal)"
	}
	return ""
}

// neverReceived says why the supervisor never gets sig to act on, or ""
// when it does; a signal it drops (job control, faults) still arrives, and
// a rewrite of it is honoured.
func neverReceived(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGKILL, syscall.SIGSTOP:
		return "it cannot be caught"
	case syscall.SIGCHLD:
		return "it belongs to the reaper"
	case syscall.SIGURG:
		return "it is the Go runtime's"
	case syscall.SIGPROF:
		return "it is the Go runtime's (its profiler takes it)"
	case syscall.SIGPIPE:
		return "the entrypoint does not catch it"
	case 32, 33, 34:
		return "the C library reserves it"
	}
	return ""
}

var signalNames = map[string]syscall.Signal{
	"HUP": syscall.SIGHUP, "INT": syscall.SIGINT, "QUIT": syscall.SIGQUIT,
	"ILL": syscall.SIGILL, "TRAP": syscall.SIGTRAP, "ABRT": syscall.SIGABRT,
	"BUS": syscall.SIGBUS, "FPE": syscall.SIGFPE, "KILL": syscall.SIGKILL,
	"USR1": syscall.SIGUSR1, "SEGV": syscall.SIGSEGV, "USR2": syscall.SIGUSR2,
	"PIPE": syscall.SIGPIPE, "ALRM": syscall.SIGALRM, "TERM": syscall.SIGTERM,
	"CHLD": syscall.SIGCHLD, "CONT": syscall.SIGCONT,
	"STOP": syscall.SIGSTOP, "TSTP": syscall.SIGTSTP, "TTIN": syscall.SIGTTIN,
	"TTOU": syscall.SIGTTOU, "URG": syscall.SIGURG, "XCPU": syscall.SIGXCPU,
	"XFSZ": syscall.SIGXFSZ, "VTALRM": syscall.SIGVTALRM, "PROF": syscall.SIGPROF,
	"WINCH": syscall.SIGWINCH, "IO": syscall.SIGIO,
	"SYS": syscall.SIGSYS,
}

// ParseSignal accepts "TERM", "SIGTERM", "sigterm" or "15".
func ParseSignal(s string) (syscall.Signal, error) {
	name := strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(s)), "SIG")
	if sig, ok := signalNames[name]; ok {
		return sig, nil
	}
	if sig, ok := linuxSignal(name); ok {
		return sig, nil
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && fmt.Sprint(n) == strings.TrimSpace(s) && n > 0 && n < 65 {
		return syscall.Signal(n), nil
	}
	return 0, fmt.Errorf("%q is not a signal", s)
}
