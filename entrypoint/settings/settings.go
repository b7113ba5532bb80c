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
	UIAuth        string        `split_words:"true" default:"auto"`
	UIKill        bool          `split_words:"true" default:"false"`
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

// The ENTRYPOINT_UI_AUTH values: auto protects the web UIs whenever a key
// is known (SPARK_UI_KEY, or one derived from SPARK_AUTH_SECRET).
const (
	UIAuthAuto = "auto"
	UIAuthOff  = "off"
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
	if s.UIAuth != UIAuthAuto && s.UIAuth != UIAuthOff {
		return fmt.Errorf("%w: ENTRYPOINT_UI_AUTH=%q: want auto or off", ErrInvalid, s.UIAuth)
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
