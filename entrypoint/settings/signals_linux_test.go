package settings

import (
	"syscall"
	"testing"
)

func TestParseLinuxSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"PWR": syscall.SIGPWR, "sigpwr": syscall.SIGPWR, "STKFLT": syscall.SIGSTKFLT} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}
