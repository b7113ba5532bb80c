package settings

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// FuzzSignalRewrite feeds arbitrary ENTRYPOINT_SIGNAL_REWRITE values to the
// one hand-written parser of the settings: it must not panic, must accept
// only signals 1-64 (and 0, drop, as the target) and never rewrite a signal
// the supervisor never receives (SIGKILL, SIGSTOP, the runtime's), and what
// it accepts, written back as numbers, must parse to the same map.
func FuzzSignalRewrite(f *testing.F) {
	for _, seed := range []string{"TERM:PWR", "SIGTERM:SIGQUIT, 15:10", "sigint:term", "9:15", "1:64,64:1", ":", ",", "TERM:PWR,", "+15:10", " 015 :10", "INT:0", "PROF:1", "0:1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var m SignalMap
		if err := m.Decode(v); err != nil {
			return
		}
		var pairs []string
		for from, to := range m {
			if from < 1 || from > 64 || to < 0 || to > 64 {
				t.Fatalf("Decode(%q) accepted %d:%d, outside 1-64 (or 0 as the target)", v, from, to)
			}
			switch from {
			case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG, syscall.SIGPROF, syscall.SIGPIPE, 32, 33, 34:
				t.Fatalf("Decode(%q) rewrites %v, which the supervisor never receives", v, from)
			}
			pairs = append(pairs, fmt.Sprintf("%d:%d", int(from), int(to)))
		}
		var again SignalMap
		if err := again.Decode(strings.Join(pairs, ",")); len(pairs) > 0 && (err != nil || !maps.Equal(again, m)) {
			t.Fatalf("Decode(%q) = %v; written back as %q it gives %v, %v", v, m, strings.Join(pairs, ","), again, err)
		}
	})
}

// FuzzStopSignals feeds arbitrary ENTRYPOINT_STOP_SIGNALS values to their
// parser: it must not panic, must accept only signals 1-64 the supervisor
// can act on, and what it accepts, written back as numbers, must parse to
// the same list.
func FuzzStopSignals(f *testing.F) {
	for _, seed := range []string{"INT", "SIGINT,SIGQUIT", "int, quit ,1", "9", "SEGV", ",", "INT,", "+2", " 015 ", "64"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, v string) {
		var l SignalList
		if err := l.Decode(v); err != nil {
			return
		}
		var nums []string
		for _, sig := range l {
			if sig < 1 || sig > 64 {
				t.Fatalf("Decode(%q) accepted %d, outside 1-64", v, sig)
			}
			if why := cannotStop(sig); why != "" {
				t.Fatalf("Decode(%q) accepted %v, which %s", v, sig, why)
			}
			nums = append(nums, fmt.Sprint(int(sig)))
		}
		var again SignalList
		if err := again.Decode(strings.Join(nums, ",")); err != nil || !slices.Equal(again, l) {
			t.Fatalf("Decode(%q) = %v; written back as %q it gives %v, %v", v, l, strings.Join(nums, ","), again, err)
		}
	})
}
