// Package settings reads the entrypoint's own settings from the environment.
//
// Every setting is an ENTRYPOINT_* variable read through envconfig with the
// prefix "entrypoint" and split_words. No field carries an `envconfig:"…"`
// tag, because envconfig then names a bare, unprefixed alternative too, and
// the unprefixed names are exactly the ones Kubernetes and Docker links
// inject (SPARK_MASTER_PORT=tcp://…): only the prefixed name is read. An
// ENTRYPOINT_* variable that is set but empty counts as unset, and an
// ENTRYPOINT_* variable that matches no setting is a typo and an error, so a
// container never starts on a silently ignored value.
package settings

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/template"
	"time"

	"github.com/kelseyhightower/envconfig"
	"github.com/rs/zerolog"
)

// ErrInvalid marks a malformed setting; the command exits 64 for it.
var ErrInvalid = errors.New("invalid setting")

// Prefix is the envconfig prefix of every setting.
const Prefix = "entrypoint"

// Settings are the entrypoint's own knobs. The command's package doc is their
// reference; keep the two in step (a test checks that every field is named
// there).
type Settings struct {
	LogLevel      string        `split_words:"true" default:"info"`
	LogFormat     string        `split_words:"true" default:"auto"`
	Grace         time.Duration `default:"8s"`
	SignalGroup   bool          `split_words:"true" default:"false"`
	SignalRewrite SignalMap     `split_words:"true"`
	StopSignals   SignalList    `split_words:"true"`
	User          string        `default:"spark"`
	Discovery     string        `default:"auto"`
	MasterWait    time.Duration `split_words:"true" default:"5m"`
	FixEtc        bool          `split_words:"true" default:"true"`
	MasterState   string        `split_words:"true" default:"/var/lib/spark/master"`
	EventLog      string        `split_words:"true" default:"/var/lib/spark/events"`
	Metrics       string        `default:"prometheus"`
	UIProxy       string        `split_words:"true" default:"off"`
	ClassArchive  string        `split_words:"true" default:"/usr/local/lib/spark-cds"`
	ExecutorPorts PortRange     `split_words:"true"`

	AmbassadorListen string `split_words:"true" default:":7077"`
	AmbassadorTarget string `split_words:"true"`
}

// MasterStateOff is the ENTRYPOINT_MASTER_STATE value that keeps no master
// state.
const MasterStateOff = "off"

// EventLogOff is the ENTRYPOINT_EVENT_LOG value with which the Connect
// server writes no event log and the history server reads only what
// SPARK_HISTORY_OPTS names.
const EventLogOff = "off"

// The ENTRYPOINT_METRICS values.
const (
	MetricsPrometheus = "prometheus"
	MetricsOff        = "off"
)

// The ENTRYPOINT_UI_PROXY values besides a URL.
const (
	UIProxyOff = "off"
	UIProxyOn  = "on"
)

// ClassArchiveOff is the ENTRYPOINT_CLASS_ARCHIVE value that starts the
// JVMs without a class-data archive.
const ClassArchiveOff = "off"

// Load reads the settings from the process environment.
func Load() (Settings, error) {
	return LoadFrom(os.Environ())
}

// LoadFrom reads the settings from environ (KEY=VALUE), the process's or a
// test's; it never reads or changes the process environment.
//
// envconfig names each setting's variable (the prefix and split_words) and
// holds its default; its Process reads only the process environment, so the
// values are decoded here, with envconfig's rules for the kinds Settings
// has: a Decoder (the signal settings), a time.Duration, a bool, a string.
func LoadFrom(environ []string) (Settings, error) {
	var s Settings
	vars, err := variables(&s)
	if err != nil {
		return s, err
	}
	env := map[string]string{}
	prefix := strings.ToUpper(Prefix) + "_"
	for _, kv := range environ {
		k, v, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if !slices.ContainsFunc(vars, func(v variable) bool { return v.key == k }) {
			return s, fmt.Errorf("%w: unknown environment variable %s: no such setting", ErrInvalid, k)
		}
		if v != "" {
			env[k] = v
		}
	}
	for _, v := range vars {
		key := v.key
		value, set := env[key]
		if !set {
			if value, set = v.def, v.def != ""; !set {
				continue
			}
		}
		if err := decode(v.field, value); err != nil {
			return s, fmt.Errorf("%w: %s=%q: %v", ErrInvalid, key, value, err)
		}
	}
	return s, s.validate()
}

// variable is one setting: its variable, the field it fills and its
// default.
type variable struct {
	key   string
	field reflect.Value
	def   string
}

// variables lists the settings of s in the order of their fields, named as
// envconfig names them (its usage template gets each field's name, key and
// tags).
func variables(s *Settings) ([]variable, error) {
	var b strings.Builder
	tmpl := template.Must(template.New("vars").Parse("{{range .}}{{.Name}}\t{{.Key}}\t{{.Tags.Get \"default\"}}\n{{end}}"))
	if err := envconfig.Usaget(Prefix, s, &b, tmpl); err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	var vars []variable
	sv := reflect.ValueOf(s).Elem()
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		name, rest, _ := strings.Cut(line, "\t")
		key, def, _ := strings.Cut(rest, "\t")
		vars = append(vars, variable{key, sv.FieldByName(name), def})
	}
	return vars, nil
}

// decode sets field from value as envconfig.Process would.
func decode(field reflect.Value, value string) error {
	if d, ok := field.Addr().Interface().(envconfig.Decoder); ok {
		return d.Decode(value)
	}
	switch field.Interface().(type) {
	case time.Duration:
		d, err := time.ParseDuration(value)
		if err != nil {
			return err
		}
		field.SetInt(int64(d))
	case bool:
		b, err := strconv.ParseBool(value)
		if err != nil {
			return err
		}
		field.SetBool(b)
	case string:
		field.SetString(value)
	default:
		return fmt.Errorf("settings: no decoder for %s", field.Type())
	}
	return nil
}

func (s Settings) validate() error {
	if _, err := s.Level(); err != nil {
		return err
	}
	switch s.LogFormat {
	case "auto", "text", "console", "json":
	default:
		return fmt.Errorf("%w: ENTRYPOINT_LOG_FORMAT=%q: want text or json", ErrInvalid, s.LogFormat)
	}
	if s.Grace < 0 {
		return fmt.Errorf("%w: ENTRYPOINT_GRACE=%q: must not be negative", ErrInvalid, s.Grace)
	}
	if s.MasterWait < 0 {
		return fmt.Errorf("%w: ENTRYPOINT_MASTER_WAIT=%q: must not be negative", ErrInvalid, s.MasterWait)
	}
	if s.MasterState != MasterStateOff && !filepath.IsAbs(s.MasterState) {
		return fmt.Errorf("%w: ENTRYPOINT_MASTER_STATE=%q: want an absolute directory or off", ErrInvalid, s.MasterState)
	}
	if s.Metrics != MetricsPrometheus && s.Metrics != MetricsOff {
		return fmt.Errorf("%w: ENTRYPOINT_METRICS=%q: want prometheus or off", ErrInvalid, s.Metrics)
	}
	if err := checkUIProxy(s.UIProxy); err != nil {
		return fmt.Errorf("%w: ENTRYPOINT_UI_PROXY=%q: %w", ErrInvalid, s.UIProxy, err)
	}
	if s.EventLog != EventLogOff && !filepath.IsAbs(s.EventLog) {
		return fmt.Errorf("%w: ENTRYPOINT_EVENT_LOG=%q: want an absolute directory or off", ErrInvalid, s.EventLog)
	}
	if s.ClassArchive != ClassArchiveOff && !filepath.IsAbs(s.ClassArchive) {
		return fmt.Errorf("%w: ENTRYPOINT_CLASS_ARCHIVE=%q: want an absolute directory or off", ErrInvalid, s.ClassArchive)
	}
	if strings.TrimSpace(s.User) == "" {
		return fmt.Errorf("%w: ENTRYPOINT_USER=%q: must name a user", ErrInvalid, s.User)
	}
	return nil
}

// Level is the zerolog level of ENTRYPOINT_LOG_LEVEL. zerolog.ParseLevel
// turns "" into NoLevel, which silences everything, so the empty string never
// reaches it (Load has already replaced it with the default).
func (s Settings) Level() (zerolog.Level, error) {
	l, err := zerolog.ParseLevel(strings.ToLower(s.LogLevel))
	if err != nil || s.LogLevel == "" || l == zerolog.NoLevel {
		return 0, fmt.Errorf("%w: ENTRYPOINT_LOG_LEVEL=%q: want trace, debug, info, warn, error or disabled", ErrInvalid, s.LogLevel)
	}
	return l, nil
}

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

// checkUIProxy accepts on, off, or what Spark takes as
// spark.ui.reverseProxyUrl: an http(s) URL or a path, which must not
// contain proxy or history (SparkContext refuses those).
func checkUIProxy(v string) error {
	if v == UIProxyOn || v == UIProxyOff {
		return nil
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		return err
	case u.Scheme == "" && !strings.HasPrefix(v, "/"), u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https",
		u.Scheme != "" && u.Host == "", u.RawQuery != "" || u.Fragment != "":
		return errors.New("want on, off, an http(s) URL or a path")
	case strings.Contains(u.Path, "proxy") || strings.Contains(u.Path, "history"):
		return errors.New("spark refuses a reverse proxy URL that contains proxy or history")
	}
	return nil
}
