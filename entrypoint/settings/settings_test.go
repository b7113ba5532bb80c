package settings

import (
	"errors"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func clearPrefixed(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ENTRYPOINT_") {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
	}
}

func TestLoadDefaults(t *testing.T) {
	clearPrefixed(t)
	// Kubernetes- and link-style foreign names must not leak into settings.
	t.Setenv("SPARK_MASTER_PORT", "tcp://10.96.14.7:7077")
	t.Setenv("GRACE", "1s")
	t.Setenv("USER", "mallory")
	s, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	want := Settings{LogLevel: "info", LogFormat: "auto", Grace: 8 * time.Second, User: "spark",
		Discovery: "auto", MasterWait: 5 * time.Minute, FixEtc: true, MasterState: "/var/lib/spark/master",
		ClassArchive: "/usr/local/lib/spark-cds"}
	if s.MasterState != want.MasterState || s.ClassArchive != want.ClassArchive || s.SignalRewrite != nil || s.StopSignals != nil || s.LogLevel != want.LogLevel || s.LogFormat != want.LogFormat ||
		s.Grace != want.Grace || s.User != want.User || s.Discovery != want.Discovery ||
		s.MasterWait != want.MasterWait || s.FixEtc != want.FixEtc || s.SignalGroup {
		t.Errorf("Load() = %+v, want %+v", s, want)
	}
}

func TestLoadValues(t *testing.T) {
	clearPrefixed(t)
	t.Setenv("ENTRYPOINT_GRACE", "2500ms")
	t.Setenv("ENTRYPOINT_LOG_LEVEL", "DEBUG")
	t.Setenv("ENTRYPOINT_SIGNAL_GROUP", "true")
	t.Setenv("ENTRYPOINT_SIGNAL_REWRITE", "TERM:PWR, SIGINT:15")
	t.Setenv("ENTRYPOINT_MASTER_WAIT", "") // empty means default
	t.Setenv("ENTRYPOINT_STOP_SIGNALS", "SIGINT, quit,1")
	s, err := Load()
	if err != nil {
		t.Fatalf("Load() error = %v", err)
	}
	if s.Grace != 2500*time.Millisecond || !s.SignalGroup || s.MasterWait != 5*time.Minute {
		t.Errorf("Load() = %+v", s)
	}
	if s.SignalRewrite[syscall.SIGTERM] != syscall.SIGPWR || s.SignalRewrite[syscall.SIGINT] != syscall.SIGTERM || len(s.SignalRewrite) != 2 {
		t.Errorf("SignalRewrite = %v", s.SignalRewrite)
	}
	if want := (SignalList{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP}); !slices.Equal(s.StopSignals, want) {
		t.Errorf("StopSignals = %v, want %v", s.StopSignals, want)
	}
}

func TestLoadInvalid(t *testing.T) {
	tests := []struct {
		name, key, value, wantInMsg string
	}{
		{"duration without unit", "ENTRYPOINT_GRACE", "30", `ENTRYPOINT_GRACE="30"`},
		{"negative grace", "ENTRYPOINT_GRACE", "-1s", `ENTRYPOINT_GRACE`},
		{"bool", "ENTRYPOINT_SIGNAL_GROUP", "yes please", `ENTRYPOINT_SIGNAL_GROUP="yes please"`},
		{"level warning", "ENTRYPOINT_LOG_LEVEL", "warning", `ENTRYPOINT_LOG_LEVEL="warning"`},
		{"level nolevel", "ENTRYPOINT_LOG_LEVEL", "nolevel", `ENTRYPOINT_LOG_LEVEL`},
		{"format", "ENTRYPOINT_LOG_FORMAT", "xml", `ENTRYPOINT_LOG_FORMAT="xml"`},
		{"rewrite not a pair", "ENTRYPOINT_SIGNAL_REWRITE", "TERM", `ENTRYPOINT_SIGNAL_REWRITE="TERM"`},
		{"rewrite unknown signal", "ENTRYPOINT_SIGNAL_REWRITE", "TERM:NOPE", `ENTRYPOINT_SIGNAL_REWRITE`},
		{"rewrite kill", "ENTRYPOINT_SIGNAL_REWRITE", "KILL:TERM", `KILL`},
		{"stop signal unknown", "ENTRYPOINT_STOP_SIGNALS", "INT,NOPE", `ENTRYPOINT_STOP_SIGNALS="INT,NOPE"`},
		{"stop signal empty item", "ENTRYPOINT_STOP_SIGNALS", "INT,,QUIT", `ENTRYPOINT_STOP_SIGNALS="INT,,QUIT"`},
		{"stop signal kill", "ENTRYPOINT_STOP_SIGNALS", "KILL", `ENTRYPOINT_STOP_SIGNALS="KILL"`},
		{"stop signal a fault", "ENTRYPOINT_STOP_SIGNALS", "INT,SIGSEGV", `ENTRYPOINT_STOP_SIGNALS="INT,SIGSEGV"`},
		{"stop signal the reaper's", "ENTRYPOINT_STOP_SIGNALS", "17", `ENTRYPOINT_STOP_SIGNALS="17"`},
		{"stop signal the runtime's", "ENTRYPOINT_STOP_SIGNALS", "URG", `ENTRYPOINT_STOP_SIGNALS="URG"`},
		{"stop signal a C library's", "ENTRYPOINT_STOP_SIGNALS", "33", `ENTRYPOINT_STOP_SIGNALS="33"`},
		{"blank user", "ENTRYPOINT_USER", "  ", `ENTRYPOINT_USER`},
		{"relative master state", "ENTRYPOINT_MASTER_STATE", "state", `ENTRYPOINT_MASTER_STATE="state"`},
		{"master state not off", "ENTRYPOINT_MASTER_STATE", "false", `ENTRYPOINT_MASTER_STATE="false"`},
		{"relative class archive", "ENTRYPOINT_CLASS_ARCHIVE", "cds", `ENTRYPOINT_CLASS_ARCHIVE="cds"`},
		{"typo", "ENTRYPOINT_GRAEC", "1s", `ENTRYPOINT_GRAEC: no such setting`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clearPrefixed(t)
			t.Setenv(tt.key, tt.value)
			_, err := Load()
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Load() with %s=%q: error = %v, want ErrInvalid", tt.key, tt.value, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.wantInMsg) || msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("Load() error = %q, want it to contain %q and start lowercase", msg, tt.wantInMsg)
			}
		})
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"TERM": syscall.SIGTERM, "sigpwr": syscall.SIGPWR, "9": syscall.SIGKILL, " USR1 ": syscall.SIGUSR1} {
		if got, err := ParseSignal(in); err != nil || got != want {
			t.Errorf("ParseSignal(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "TERMINATE", "0", "65", "1x", "-9"} {
		if _, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q) succeeded, want error", in)
		}
	}
}
