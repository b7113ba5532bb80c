// Package sparkenv turns a container's environment into the command line and
// environment of a Spark standalone master or worker JVM.
//
// Platforms inject variables whose names Spark also uses: a Kubernetes
// Service called spark-master, or a Docker link with the alias spark-master,
// sets SPARK_MASTER_PORT=tcp://10.96.14.7:7077, and both Spark's scripts and
// the Master JVM parse SPARK_MASTER_PORT with toInt, so the JVM dies with a
// NumberFormatException. Scrub removes those values before the JVM sees them
// and rejects values that are neither a link nor a number.
package sparkenv

import (
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// ErrInvalid marks a variable Spark would misread and that is not a
// platform-injected link either; the command exits 64 for it.
var ErrInvalid = errors.New("invalid spark setting")

// intVars are the variables Spark's launch scripts or the Master and Worker
// JVMs parse as integers (MasterArguments, WorkerArguments).
var intVars = map[string]struct{ min, max int }{
	"SPARK_MASTER_PORT":       {1, 65535},
	"SPARK_MASTER_WEBUI_PORT": {0, 65535},
	"SPARK_WORKER_PORT":       {0, 65535},
	"SPARK_WORKER_WEBUI_PORT": {0, 65535},
	"SPARK_WORKER_CORES":      {1, 1 << 20},
	"SPARK_WORKER_INSTANCES":  {1, 1},
}

// Removal is one variable Scrub took out, with why; Value is safe to log
// (link values are addresses, never secrets).
type Removal struct {
	Name   string `json:"name"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
	// Numeric marks one of Spark's integer settings that held a link
	// value; the rest of a link family is removed with it.
	Numeric bool `json:"-"`
}

// Scrub returns env without the variables Spark would misread. A numeric
// variable holding a link value (proto://addr:port) is removed together with
// the rest of its link family (NAME_PORT_*, NAME_NAME, NAME_ENV_*), since those
// are the other half of the same injection and NAME_ENV_* copies the linked
// container's environment, secrets included. Any other non-integer value is
// the user's mistake and an error naming the variable and the value.
func Scrub(env []string) ([]string, []Removal, error) {
	families := map[string]bool{}
	var removed []Removal
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		lim, ok := intVars[k]
		if !ok || v == "" {
			continue
		}
		if isLinkValue(v) {
			families[strings.TrimSuffix(k, "_PORT")] = true
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lim.min || n > lim.max {
			return nil, nil, fmt.Errorf("%w: %s=%q: spark reads it as an integer from %d to %d", ErrInvalid, k, v, lim.min, lim.max)
		}
	}
	if v, ok := Lookup(env, "SPARK_WORKER_MEMORY"); ok && v != "" {
		if _, err := MemoryMiB(v); err != nil {
			return nil, nil, fmt.Errorf("%w: SPARK_WORKER_MEMORY=%q: %w", ErrInvalid, v, err)
		}
	}
	out := make([]string, 0, len(env))
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if fam := linkFamily(k, families); fam != "" {
			reason := "link variable of " + fam
			_, numeric := intVars[k]
			if numeric {
				reason = "platform link value where spark expects a number"
			}
			if strings.HasPrefix(k, fam+"_ENV_") {
				v = "(not shown)"
			}
			removed = append(removed, Removal{Name: k, Value: v, Reason: reason, Numeric: numeric})
			continue
		}
		out = append(out, kv)
	}
	sort.Slice(removed, func(i, j int) bool { return removed[i].Name < removed[j].Name })
	return out, removed, nil
}

// sizeUnits are the units of Spark's size strings (JavaUtils.byteStringAsBytes).
var sizeUnits = map[string]int64{"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
	"g": 1 << 30, "gb": 1 << 30, "t": 1 << 40, "tb": 1 << 40, "p": 1 << 50, "pb": 1 << 50}

// MemoryMiB reads a size as Spark's worker reads SPARK_WORKER_MEMORY
// (Utils.memoryStringToMb): digits and an optional unit, case aside, with
// no unit meaning bytes, in whole MiB, which must be at least 1
// (WorkerArguments.checkWorkerMemory).
func MemoryMiB(v string) (int64, error) {
	s := strings.ToLower(strings.TrimSpace(v))
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(s)
	}
	unit, ok := sizeUnits[s[i:]]
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if !ok || err != nil || n > (1<<62)/unit {
		return 0, errors.New("spark reads it as a size: digits and a unit (512m, 2g)")
	}
	mib := n * unit >> 20
	if mib < 1 {
		return 0, errors.New("spark needs at least 1 MiB, and reads a number without a unit as bytes")
	}
	return mib, nil
}

// linkFamily reports which scrubbed family k belongs to, or "".
func linkFamily(k string, families map[string]bool) string {
	for fam := range families {
		switch {
		case k == fam+"_PORT", k == fam+"_NAME",
			strings.HasPrefix(k, fam+"_PORT_"), strings.HasPrefix(k, fam+"_ENV_"):
			return fam
		}
	}
	return ""
}

func isLinkValue(v string) bool {
	for _, p := range []string{"tcp://", "udp://", "sctp://"} {
		if strings.HasPrefix(v, p) {
			return true
		}
	}
	return false
}

// Get returns the last value of key in env, as the C library's getenv would
// see the first; env built by this package never holds duplicates.
func Get(env []string, key string) string {
	v, _ := Lookup(env, key)
	return v
}

// Lookup is Get that also reports presence.
func Lookup(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// Set returns env with key set to value, replacing every earlier value.
func Set(env []string, key, value string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+value)
}

// Unset returns env without keys.
func Unset(env []string, keys ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, key := range keys {
			drop = drop || k == key
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}

// Role is what the JVM runs.
type Role string

// The roles the images run: the two standalone daemons, and the Spark
// Connect server, a driver that lives beside them.
const (
	Master  Role = "master"
	Worker  Role = "worker"
	Connect Role = "connect"
	History Role = "history"
)

// Node describes the JVM to start.
type Node struct {
	Role      Role
	SparkHome string // default /opt/spark
	Host      string // --host: the name the node binds and advertises; "" lets Spark pick its IP
	Port      int    // master RPC port (--port); 0 = 7077 for a master, random for a worker
	WebUIPort int    // --webui-port; 0 = 8080 / 8081
	MasterURL string // worker and connect: spark://host:port[,host:port]
	// PropertiesFile is the JVM's --properties-file: the Spark settings
	// that must not show on a command line (the driver's secret, the web
	// UIs' key). It replaces spark-defaults.conf for the daemons, which read
	// one file or the other.
	PropertiesFile string
}

// Classes of the standalone daemons.
const (
	MasterClass  = "org.apache.spark.deploy.master.Master"
	WorkerClass  = "org.apache.spark.deploy.worker.Worker"
	HistoryClass = "org.apache.spark.deploy.history.HistoryServer"
)

// HistoryOpts is the history server's JVM options variable: Spark's
// launcher gives it to HistoryServer (with SPARK_DAEMON_JAVA_OPTS and
// SPARK_DAEMON_MEMORY), and the server reads its settings from the -D
// options there.
const HistoryOpts = "SPARK_HISTORY_OPTS"

// Argv is the command that runs the node in the foreground. spark-class
// execs the JVM itself, so the supervisor's child is the JVM; it goes through
// bash because pip installs drop the scripts' exec bits.
func (n Node) Argv() ([]string, error) {
	home := n.SparkHome
	if home == "" {
		home = "/opt/spark"
	}
	argv := []string{"bash", filepath.Join(home, "bin", "spark-class")}
	switch n.Role {
	case Master:
		port, ui := n.Port, n.WebUIPort
		if port == 0 {
			port = 7077
		}
		if ui == 0 {
			ui = 8080
		}
		argv = append(argv, MasterClass)
		if n.Host != "" {
			argv = append(argv, "--host", n.Host)
		}
		return append(n.propertiesArgs(argv), "--port", strconv.Itoa(port), "--webui-port", strconv.Itoa(ui)), nil
	case Worker:
		if n.MasterURL == "" {
			return nil, errors.New("worker needs a master url")
		}
		ui := n.WebUIPort
		if ui == 0 {
			ui = 8081
		}
		argv = append(argv, WorkerClass, "--webui-port", strconv.Itoa(ui))
		if n.Host != "" {
			argv = append(argv, "--host", n.Host)
		}
		if n.Port != 0 {
			argv = append(argv, "--port", strconv.Itoa(n.Port))
		}
		return append(n.propertiesArgs(argv), n.MasterURL), nil
	case Connect:
		return n.connectArgv(argv)
	case History:
		// HistoryServerArguments takes only --properties-file.
		return n.propertiesArgs(append(argv, HistoryClass)), nil
	}
	return nil, fmt.Errorf("unknown role %q", n.Role)
}

// propertiesArgs adds a daemon's --properties-file, when it has one
// (MasterArguments, WorkerArguments and HistoryServerArguments take it).
func (n Node) propertiesArgs(argv []string) []string {
	if n.PropertiesFile == "" {
		return argv
	}
	return append(argv, "--properties-file", n.PropertiesFile)
}

// AddJavaOption appends -Dkey=value to the *_OPTS variable name in env
// unless the variable already sets key, so a user's explicit choice wins.
func AddJavaOption(env []string, name, key, value string) []string {
	opts := Get(env, name)
	if strings.Contains(opts, "-D"+key+"=") {
		return env
	}
	return Set(env, name, strings.TrimSpace(opts+" -D"+key+"="+value))
}

// JavaOption returns the value a *_OPTS variable gives -Dkey, if any (the
// last one wins, as in the JVM).
func JavaOption(env []string, name, key string) (string, bool) {
	val, found := "", false
	for _, f := range strings.Fields(Get(env, name)) {
		if v, ok := strings.CutPrefix(f, "-D"+key+"="); ok {
			val, found = v, true
		}
	}
	return val, found
}

// IntOr returns env's integer value of key, or def when unset or scrubbed.
// Call it after Scrub, which has rejected malformed values.
func IntOr(env []string, key string, def int) int {
	if n, err := strconv.Atoi(Get(env, key)); err == nil {
		return n
	}
	return def
}

// MasterAddrs are the host:port entries of a spark:// master URL, in order.
func MasterAddrs(masterURL string) []string {
	var out []string
	for _, a := range strings.Split(strings.TrimPrefix(masterURL, "spark://"), ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
