package settings

import (
	"errors"
	"os"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// environ is env as LoadFrom takes it.
func environ(env map[string]string) []string {
	var kvs []string
	for k, v := range env {
		kvs = append(kvs, k+"="+v)
	}
	return kvs
}

// defaults is Settings as Load returns it from an environment without
// ENTRYPOINT_* variables.
var defaults = Settings{LogLevel: "info", LogFormat: "auto", Grace: 8 * time.Second, User: "spark",
	Discovery: "auto", MasterWait: 5 * time.Minute, FixEtc: true, MasterState: "/var/lib/spark/master",
	EventLog: "/var/lib/spark/events", Metrics: "prometheus", UIProxy: "off", UIAuth: "auto",
	ClassArchive: "/usr/local/lib/spark-cds", AmbassadorListen: ":7077"}

// TestLoad compares whole values (reflect.DeepEqual), so a field added to
// Settings is compared without anyone having to remember it; and the
// "values" case must set every field to something other than its default,
// so a field that Load does not read cannot pass as a default.
func TestLoad(t *testing.T) {
	with := func(change func(*Settings)) Settings {
		s := defaults
		change(&s)
		return s
	}
	tests := []struct {
		name   string
		env    map[string]string
		want   Settings
		allSet bool // every field differs from defaults
	}{
		{"defaults", map[string]string{
			// Kubernetes- and link-style foreign names must not leak into settings.
			"SPARK_MASTER_PORT": "tcp://10.96.14.7:7077", "GRACE": "1s", "USER": "mallory",
			"AMBASSADOR_TARGET": "elsewhere:7077",
		}, defaults, false},
		{"empty is unset", map[string]string{"ENTRYPOINT_MASTER_WAIT": "", "ENTRYPOINT_USER": "", "ENTRYPOINT_STOP_SIGNALS": ""}, defaults, false},
		{"values", map[string]string{
			"ENTRYPOINT_GRACE":             "2500ms",
			"ENTRYPOINT_LOG_LEVEL":         "DEBUG",
			"ENTRYPOINT_LOG_FORMAT":        "json",
			"ENTRYPOINT_SIGNAL_GROUP":      "true",
			"ENTRYPOINT_SIGNAL_REWRITE":    "TERM:USR2, SIGINT:15",
			"ENTRYPOINT_MASTER_WAIT":       "90s",
			"ENTRYPOINT_STOP_SIGNALS":      "SIGINT, quit,1",
			"ENTRYPOINT_USER":              "1000:1000",
			"ENTRYPOINT_DISCOVERY":         "static,docker-dns",
			"ENTRYPOINT_FIX_ETC":           "false",
			"ENTRYPOINT_MASTER_STATE":      "off",
			"ENTRYPOINT_EVENT_LOG":         "off",
			"ENTRYPOINT_METRICS":           "off",
			"ENTRYPOINT_UI_PROXY":          "https://spark.example.com/cluster1",
			"ENTRYPOINT_UI_AUTH":           "off",
			"ENTRYPOINT_UI_KILL":           "true",
			"ENTRYPOINT_CLASS_ARCHIVE":     "/cds",
			"ENTRYPOINT_AMBASSADOR_LISTEN": "127.0.0.1:7078",
			"ENTRYPOINT_AMBASSADOR_TARGET": "spark-master:7077",
			"ENTRYPOINT_EXECUTOR_PORTS":    "7100-7103",
		}, with(func(s *Settings) {
			s.Grace = 2500 * time.Millisecond
			s.LogLevel = "DEBUG"
			s.LogFormat = "json"
			s.SignalGroup = true
			s.MasterWait = 90 * time.Second
			s.SignalRewrite = SignalMap{syscall.SIGTERM: syscall.SIGUSR2, syscall.SIGINT: syscall.SIGTERM}
			s.StopSignals = SignalList{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGHUP}
			s.User = "1000:1000"
			s.Discovery = "static,docker-dns"
			s.FixEtc = false
			s.MasterState = MasterStateOff
			s.EventLog = EventLogOff
			s.Metrics = MetricsOff
			s.UIProxy = "https://spark.example.com/cluster1"
			s.UIAuth = UIAuthOff
			s.UIKill = true
			s.ClassArchive = "/cds"
			s.AmbassadorListen = "127.0.0.1:7078"
			s.AmbassadorTarget = "spark-master:7077"
			s.ExecutorPorts = PortRange{7100, 7103}
		}), true},
		{"one executor port", map[string]string{"ENTRYPOINT_EXECUTOR_PORTS": "7100"}, with(func(s *Settings) { s.ExecutorPorts = PortRange{7100, 7100} }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.allSet {
				want, def := reflect.ValueOf(tt.want), reflect.ValueOf(defaults)
				for i := range want.NumField() {
					if reflect.DeepEqual(want.Field(i).Interface(), def.Field(i).Interface()) {
						t.Errorf("%s is left at its default: set it in this case", want.Type().Field(i).Name)
					}
				}
			}
			s, err := LoadFrom(environ(tt.env))
			if err != nil {
				t.Fatalf("LoadFrom() error = %v", err)
			}
			if !reflect.DeepEqual(s, tt.want) {
				t.Errorf("LoadFrom() = %+v, want %+v", s, tt.want)
			}
		})
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
		{"relative event log", "ENTRYPOINT_EVENT_LOG", "events", `ENTRYPOINT_EVENT_LOG="events"`},
		{"metrics sink", "ENTRYPOINT_METRICS", "graphite", `ENTRYPOINT_METRICS="graphite"`},
		{"ui proxy word", "ENTRYPOINT_UI_PROXY", "yes", `ENTRYPOINT_UI_PROXY="yes"`},
		{"ui proxy scheme", "ENTRYPOINT_UI_PROXY", "ftp://host/", `ENTRYPOINT_UI_PROXY="ftp://host/"`},
		{"ui proxy no host", "ENTRYPOINT_UI_PROXY", "http:///x", `ENTRYPOINT_UI_PROXY="http:///x"`},
		{"ui proxy path spark refuses", "ENTRYPOINT_UI_PROXY", "/spark/proxy", `contains proxy or history`},
		{"ui auth word", "ENTRYPOINT_UI_AUTH", "on", `ENTRYPOINT_UI_AUTH="on": want auto or off`},
		{"ui kill not a bool", "ENTRYPOINT_UI_KILL", "maybe", `ENTRYPOINT_UI_KILL`},
		{"executor ports not a number", "ENTRYPOINT_EXECUTOR_PORTS", "7100:7103", `ENTRYPOINT_EXECUTOR_PORTS="7100:7103"`},
		{"executor ports open range", "ENTRYPOINT_EXECUTOR_PORTS", "7100-", `ENTRYPOINT_EXECUTOR_PORTS="7100-"`},
		{"executor ports reversed", "ENTRYPOINT_EXECUTOR_PORTS", "7103-7100", `ENTRYPOINT_EXECUTOR_PORTS="7103-7100"`},
		{"executor port zero", "ENTRYPOINT_EXECUTOR_PORTS", "0-3", `ENTRYPOINT_EXECUTOR_PORTS="0-3"`},
		{"executor port too high", "ENTRYPOINT_EXECUTOR_PORTS", "65535-65536", `ENTRYPOINT_EXECUTOR_PORTS="65535-65536"`},
		{"typo", "ENTRYPOINT_GRAEC", "1s", `ENTRYPOINT_GRAEC: no such setting`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFrom([]string{"PATH=/bin", tt.key + "=" + tt.value})
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("LoadFrom() with %s=%q: error = %v, want ErrInvalid", tt.key, tt.value, err)
			}
			if msg := err.Error(); !strings.Contains(msg, tt.wantInMsg) || msg != strings.ToLower(msg[:1])+msg[1:] {
				t.Errorf("LoadFrom() error = %q, want it to contain %q and start lowercase", msg, tt.wantInMsg)
			}
		})
	}
}

// TestLoadReadsTheProcess: Load is LoadFrom of the process environment,
// which it leaves as it found it (an empty ENTRYPOINT_* variable included).
func TestLoadReadsTheProcess(t *testing.T) {
	t.Setenv("ENTRYPOINT_GRACE", "3s")
	t.Setenv("ENTRYPOINT_USER", "")
	before := os.Environ()
	s, err := Load()
	if err != nil || s.Grace != 3*time.Second || s.User != "spark" {
		t.Errorf("Load() = grace %s, user %q, %v; want 3s, spark", s.Grace, s.User, err)
	}
	if after := os.Environ(); !slices.Equal(before, after) {
		t.Errorf("Load() changed the process environment")
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]syscall.Signal{"TERM": syscall.SIGTERM, "sigusr2": syscall.SIGUSR2, "9": syscall.SIGKILL, " USR1 ": syscall.SIGUSR1} {
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

// TestSignalRewrite: TO 0 drops FROM, as dumb-init's -r 2:0 does; a
// signal the supervisor drops by default (job control, faults) can be
// rewritten, one it never receives cannot.
func TestSignalRewrite(t *testing.T) {
	cases := []struct {
		in   string
		want SignalMap
		err  string
	}{
		{"TERM:0", SignalMap{syscall.SIGTERM: 0}, ""},
		{"15:3,2:0,28:0", SignalMap{syscall.SIGTERM: syscall.SIGQUIT, syscall.SIGINT: 0, syscall.SIGWINCH: 0}, ""},
		{"TTIN:STOP", SignalMap{syscall.SIGTTIN: syscall.SIGSTOP}, ""},
		{"SYS:USR1", SignalMap{syscall.SIGSYS: syscall.SIGUSR1}, ""},
		{"PROF:TERM", nil, "PROF cannot be rewritten: it is the Go runtime's"},
		{"CHLD:TERM", nil, "CHLD cannot be rewritten"},
		{"0:TERM", nil, `"0"`},
	}
	for _, c := range cases {
		var m SignalMap
		err := m.Decode(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Decode(%q) = %v, %v; want an error containing %q", c.in, m, err, c.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(m, c.want) {
			t.Errorf("Decode(%q) = %v, %v; want %v", c.in, m, err, c.want)
		}
	}
}

func TestCheckUIProxy(t *testing.T) {
	for _, v := range []string{"on", "off", "http://localhost:8080", "https://spark.example.com/cluster1/", "/spark"} {
		if err := checkUIProxy(v); err != nil {
			t.Errorf("checkUIProxy(%q) = %v, want nil", v, err)
		}
	}
}
