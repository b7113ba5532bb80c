//go:build linux

package supervisor

import (
	"debug/elf"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
)

func TestStatusOf(t *testing.T) {
	cases := []struct {
		name string
		ws   syscall.WaitStatus
		want int
	}{
		{"exit 0", 0, 0},
		{"exit 3", 3 << 8, 3},
		{"exit 255", 255 << 8, 255},
		{"SIGTERM", syscall.WaitStatus(syscall.SIGTERM), 143},
		{"SIGKILL with core flag", syscall.WaitStatus(syscall.SIGKILL) | 0x80, 137},
		{"SIGRTMAX", 64, 192},
	}
	for _, c := range cases {
		if got := statusOf(c.ws); got != c.want {
			t.Errorf("statusOf(%s = %#x) = %d, want %d", c.name, uint32(c.ws), got, c.want)
		}
	}
}

func TestRelayedSignals(t *testing.T) {
	for _, s := range relayed() {
		switch s {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG, syscall.SIGPIPE, syscall.Signal(32), syscall.Signal(33), syscall.Signal(34):
			t.Errorf("relayed contains %v", s)
		}
	}
	for _, s := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH, syscall.SIGPWR, syscall.SIGCONT, syscall.SIGALRM,
		syscall.SIGTTIN, syscall.SIGTTOU, 35, 64,
		// Caught to be dropped: uncaught, a kill -SEGV crashes the Go runtime.
		syscall.SIGILL, syscall.SIGTRAP, syscall.SIGBUS, syscall.SIGFPE, syscall.SIGSEGV, syscall.SIGSYS} {
		if !slices.Contains(relayed(), os.Signal(s)) {
			t.Errorf("relayed lacks %s", signalName(s))
		}
	}
}

func TestIsStop(t *testing.T) {
	listed := []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT}
	cases := []struct {
		stops []syscall.Signal
		sig   syscall.Signal
		want  bool
	}{
		{nil, syscall.SIGTERM, true},
		{nil, syscall.SIGINT, false}, // a terminal's Ctrl-C: forwarded only
		{nil, syscall.SIGQUIT, false},
		{listed, syscall.SIGINT, true},
		{listed, syscall.SIGQUIT, true},
		{listed, syscall.SIGTERM, true},
		{listed, syscall.SIGHUP, false},
	}
	for _, c := range cases {
		if got := (&sup{cfg: Config{StopSignals: c.stops}}).isStop(c.sig); got != c.want {
			t.Errorf("StopSignals %v: isStop(%s) = %v, want %v", c.stops, signalName(c.sig), got, c.want)
		}
	}
}

// TestStopSignalsSetting keeps ENTRYPOINT_STOP_SIGNALS in step with the
// supervisor: it accepts exactly the signals that reach onSignal and are
// not dropped there, so no listed signal is silently ignored.
func TestStopSignalsSetting(t *testing.T) {
	for n := syscall.Signal(1); n <= 64; n++ {
		var l settings.SignalList
		err := l.Decode(strconv.Itoa(int(n)))
		acted := slices.Contains(relayed(), os.Signal(n)) && !ignored(n) && !fault(n)
		if (err == nil) != acted {
			t.Errorf("ENTRYPOINT_STOP_SIGNALS=%d (%s): error %v, but the supervisor acts on it: %v", int(n), signalName(n), err, acted)
		}
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, d := range []string{a, b} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p string, mode os.FileMode) {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(a, "tool"), 0o644) // shadowed by b/tool, which can run
	write(filepath.Join(b, "tool"), 0o755)
	write(filepath.Join(a, "only-a"), 0o644)
	if err := os.Mkdir(filepath.Join(a, "dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := "PATH=" + a + ":" + b
	cases := []struct {
		file    string
		env     []string
		want    string
		wantErr error
	}{
		{"tool", []string{path}, filepath.Join(b, "tool"), nil},
		{"only-a", []string{path}, "", ErrNotExecutable},
		{"dir", []string{path}, "", ErrNotFound},
		{"missing", []string{path}, "", ErrNotFound},
		{"sh", nil, "/usr/bin/sh", nil}, // PATH unset: execvp's default list
		{"tool", []string{"PATH=/nowhere", path}, filepath.Join(b, "tool"), nil},
		{"./rel", []string{path}, "./rel", nil},
		{"", []string{path}, "", ErrNotFound},
	}
	for _, c := range cases {
		got, err := lookPath(c.file, c.env, "")
		if c.wantErr != nil {
			if !errors.Is(err, c.wantErr) {
				t.Errorf("lookPath(%q, %q) error = %v, want %v", c.file, c.env, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			if c.file == "sh" && err == nil && got == "/bin/sh" {
				continue // merged-/usr or not, both are right
			}
			t.Errorf("lookPath(%q, %q) = %q, %v; want %q", c.file, c.env, got, err, c.want)
		}
	}
}

func TestReleaseAtLeast(t *testing.T) {
	cases := []struct {
		release string
		want    bool
	}{
		{"6.15.0", true},
		{"6.18.44-fc-v782", true},
		{"7.0", true},
		{"6.14.11-300.fc42.x86_64", false},
		{"5.15.0-139-generic", false},
		{"6.1", false},
		{"6", false},
		{"", false},
		{"linux", false},
	}
	for _, c := range cases {
		if got := releaseAtLeast(c.release, 6, 15); got != c.want {
			t.Errorf("releaseAtLeast(%q, 6, 15) = %v, want %v", c.release, got, c.want)
		}
	}
}

func TestFixedAddress(t *testing.T) {
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got, want := fixedAddress(), f.Type == elf.ET_EXEC; got != want {
		t.Errorf("fixedAddress() = %v, but this test binary's ELF type is %v", got, f.Type)
	}
}

func TestSignalName(t *testing.T) {
	cases := []struct {
		sig  syscall.Signal
		want string
	}{
		{syscall.SIGHUP, "SIGHUP"},
		{syscall.SIGTERM, "SIGTERM"},
		{syscall.SIGSYS, "SIGSYS"},
		{34, "SIGRT34"},
		{64, "SIGRT64"},
		{32, "signal 32"},
		{0, "signal 0"},
		{65, "signal 65"},
		{-1, "signal -1"},
	}
	for _, c := range cases {
		if got := signalName(c.sig); got != c.want {
			t.Errorf("signalName(%d) = %q, want %q", int(c.sig), got, c.want)
		}
	}
}
