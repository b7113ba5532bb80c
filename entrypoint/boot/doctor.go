package boot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// ErrFindings is doctor's answer when at least one check failed (exit 1).
var ErrFindings = errors.New("doctor found problems")

// Severities of a finding. Only fail makes doctor exit non-zero: warn is
// something the entrypoint works around, worth knowing but not wrong.
const (
	sevOK   = "ok"
	sevWarn = "warn"
	sevFail = "FAIL"
	sevSkip = "skip"
)

// finding is one line of doctor's report.
type finding struct {
	Severity string `json:"severity"`
	Check    string `json:"check"`
	Detail   string `json:"detail"`
	Fix      string `json:"fix,omitempty"`
}

// doctorInputs is what the checks read; systemDoctorInputs fills it from
// this container, the tests from fixtures and loopback servers.
type doctorInputs struct {
	in         discovery.Inputs
	uid        int
	hostsFile  string
	resolvFile string
	passwdFile string
	nssLibs    []string
	// lookup resolves a name the way the JVM does after /etc/hosts
	// (getaddrinfo through nsswitch: files, then dns).
	lookup   func(ctx context.Context, host string) ([]string, error)
	ownAddrs []netip.Addr
}

func systemDoctorInputs() doctorInputs {
	return doctorInputs{
		in:         systemInputs(),
		uid:        os.Geteuid(),
		hostsFile:  hostsPath,
		resolvFile: resolvPath,
		passwdFile: "/etc/passwd",
		nssLibs:    nssWrapperLibs,
		lookup:     net.DefaultResolver.LookupHost,
		ownAddrs:   interfaceAddrs(),
	}
}

// doctor checks this container as a master or worker would need it, prints
// one line per check (or JSON with asJSON) and fails with ErrFindings when a
// check failed. It writes nothing and needs no root.
func doctor(role sparkenv.Role, s settings.Settings, asJSON bool, w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	fs := diagnose(ctx, role, s, systemDoctorInputs())
	return report(fs, asJSON, w)
}

func report(fs []finding, asJSON bool, w io.Writer) error {
	var fails, warns int
	for _, f := range fs {
		switch f.Severity {
		case sevFail:
			fails++
		case sevWarn:
			warns++
		}
	}
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(fs); err != nil {
			return err
		}
	} else {
		for _, f := range fs {
			fmt.Fprintf(w, "%-4s  %s: %s\n", f.Severity, f.Check, f.Detail)
			if f.Fix != "" {
				fmt.Fprintf(w, "      fix: %s\n", f.Fix)
			}
		}
		fmt.Fprintf(w, "problems: %d, warnings: %d\n", fails, warns)
	}
	if fails > 0 {
		return fmt.Errorf("%w: %d", ErrFindings, fails)
	}
	return nil
}

// diagnose runs every check in the order a start would meet them.
func diagnose(ctx context.Context, role sparkenv.Role, s settings.Settings, d doctorInputs) []finding {
	var fs []finding
	env, f := checkEnv(d.in.Env)
	fs = append(fs, f)
	fs = append(fs, checkUser(s, env, d)...)
	fs = append(fs, checkEtc(d)...)
	if role == sparkenv.Worker {
		fs = append(fs, checkDrain(env, sparkenv.IntOr(env, "SPARK_WORKER_WEBUI_PORT", 8081), s.Grace))
	}
	if role == sparkenv.Connect || role == sparkenv.History {
		fs = append(fs, checkEventLog(role, s, d.uid))
	}
	fs = append(fs, checkUIAuth(role, s, env))
	if role == sparkenv.History {
		// It needs no master.
		return fs
	}
	var host string
	var port int
	switch role {
	case sparkenv.Master:
		host = sparkenv.Get(env, "SPARK_MASTER_HOST")
		if host == "" {
			host, _ = os.Hostname()
		}
		port = sparkenv.IntOr(env, "SPARK_MASTER_PORT", 7077)
	case sparkenv.Worker, sparkenv.Connect:
		m, err := findMaster(ctx, s, d.in, zerolog.Nop(), false)
		if err != nil {
			fix := "start the master, or name it: SPARK_MASTER_URL=spark://HOST:7077, or SPARK_MASTER_SERVICE for the platform sources; " +
				"`entrypoint explain` shows what each source looked at"
			if errors.Is(err, discovery.ErrInvalid) {
				fix = "correct the setting named above"
			}
			return append(fs, finding{sevFail, "master", err.Error(), fix})
		}
		fs = append(fs, finding{sevOK, "master", fmt.Sprintf("%s found by %s", m.URL, m.Source), ""})
		// Standby masters: the first is the one to check; the others are
		// expected to be quiet.
		hp := strings.Split(strings.TrimPrefix(m.URL, "spark://"), ",")[0]
		h, p, err := net.SplitHostPort(hp)
		if err != nil {
			return append(fs, finding{sevFail, "master", fmt.Sprintf("%s: %v", m.URL, err), "give SPARK_MASTER_URL as spark://host:port"})
		}
		host = h
		port, _ = strconv.Atoi(p)
	}
	addrs, nf := checkNames(ctx, role, host, d)
	fs = append(fs, nf...)
	fs = append(fs, checkDial(ctx, role, host, port, addrs))
	if role != sparkenv.Master {
		fs = append(fs, checkClock(ctx, host, addrs, sparkenv.IntOr(env, "SPARK_MASTER_WEBUI_PORT", 8080)))
	}
	return fs
}

// checkEnv finds platform link values in Spark's integer settings with the
// entrypoint's own scrub. The JVM never sees them, but anything else run
// in the container (spark-submit, spark-shell, a script) does.
func checkEnv(m map[string]string) ([]string, finding) {
	env, removed, err := sparkenv.Scrub(environ(m))
	if err != nil {
		return environ(m), finding{sevFail, "env", err.Error(), "set it to an integer or unset it; the entrypoint refuses to start (exit 64) until then"}
	}
	var names []string
	for _, r := range removed {
		if r.Numeric {
			names = append(names, r.Name+"="+r.Value)
		}
	}
	if len(names) == 0 {
		return env, finding{sevOK, "env", "no platform link value in Spark's integer settings", ""}
	}
	family := ""
	if n := len(removed) - len(names); n > 0 {
		family = fmt.Sprintf(" and %d more variables of the link family", n)
	}
	return env, finding{sevWarn, "env",
		fmt.Sprintf("port-variable collision: %s%s; the entrypoint removes them from the JVM's environment, other commands in this container still see them",
			strings.Join(names, " "), family),
		"name the Docker link alias or the Kubernetes Service something other than spark-master/spark-worker, " +
			"or set enableServiceLinks: false in the pod spec; or unset them before running spark-submit here"}
}

// checkUser mirrors ensurePasswdEntry's decision for the uid the JVM will
// run as, without writing anything.
func checkUser(s settings.Settings, env []string, d doctorInputs) []finding {
	uid := d.uid
	if uid == 0 {
		_, cred, _, err := workloadUser(s.User, env)
		if err != nil {
			return []finding{{sevFail, "user", err.Error(), "set ENTRYPOINT_USER to a user of the image or to uid[:gid]"}}
		}
		if cred == nil {
			return []finding{{sevOK, "user", "the JVM runs as root", ""}}
		}
		uid = int(cred.Uid)
	}
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return []finding{{sevOK, "user", fmt.Sprintf("uid %d has a passwd entry (%s)", uid, u.Username), ""}}
	}
	if lib := firstExisting(d.nssLibs); lib != "" {
		return []finding{{sevWarn, "user", fmt.Sprintf("uid %d has no passwd entry; the entrypoint gives the JVM one through %s", uid, lib),
			"none needed for the JVM; other commands run here (spark-submit) fail with \"invalid null input: name\" unless run with LD_PRELOAD and NSS_WRAPPER_PASSWD as the JVM's"}}
	}
	if writable(d.passwdFile) == nil {
		return []finding{{sevWarn, "user", fmt.Sprintf("uid %d has no passwd entry; the entrypoint will add one to %s", uid, d.passwdFile), ""}}
	}
	return []finding{{sevFail, "user", fmt.Sprintf("uid %d has no passwd entry, no nss_wrapper and %s is not writable: spark fails with \"invalid null input: name\"", uid, d.passwdFile),
		"install libnss-wrapper in the image, or run with a uid that has an entry, or make /etc/passwd group-writable (OpenShift's chmod g=u)"}}
}

// checkEtc says whether the entrypoint can fix names in /etc. A read-only
// /etc is a legitimate choice (read-only root, non-root user): the
// entrypoint degrades, so it is a warning, not a problem.
func checkEtc(d doctorInputs) []finding {
	var fs []finding
	for _, path := range []string{d.hostsFile, d.resolvFile} {
		if err := writable(path); err != nil {
			fs = append(fs, finding{sevWarn, "etc", fmt.Sprintf("%s is not writable (%v): a master whose name does not resolve to itself binds its address instead; "+
				"a worker on Kubernetes keeps the platform's resolv.conf", path, err),
				"run the container as root (the default) without --read-only, or ENTRYPOINT_FIX_ETC=false to say it is on purpose"})
			continue
		}
		fs = append(fs, finding{sevOK, "etc", path + " is writable", ""})
	}
	return fs
}

// writable asks the kernel (access(2) with W_OK) whether this process may
// write path: it sees permissions and read-only mounts alike, and writes
// nothing.
func writable(path string) error {
	return syscall.Access(path, 2)
}

// checkEventLog: the Connect server can write its event log, the history
// server can read the directory. As root the entrypoint makes a directory
// it finds there the JVM's; under another uid the directory must already
// be usable (the images' own is, for any uid of group 0).
func checkEventLog(role sparkenv.Role, s settings.Settings, uid int) finding {
	if !eventLogOn(s) {
		return finding{sevOK, "event-log", "ENTRYPOINT_EVENT_LOG=off", ""}
	}
	dir := s.EventLog
	fi, err := os.Stat(dir)
	switch {
	case err != nil && uid == 0:
		return finding{sevOK, "event-log", dir + " does not exist yet: the entrypoint creates it for the JVM's user", ""}
	case err != nil:
		return finding{sevWarn, "event-log", fmt.Sprintf("%s: %v", dir, err), "mount the volume the drivers and the history server share at " + dir}
	case !fi.IsDir():
		return finding{sevWarn, "event-log", dir + " is not a directory", "mount a directory there, or set ENTRYPOINT_EVENT_LOG"}
	case uid == 0:
		return finding{sevOK, "event-log", dir + ": the entrypoint makes it the JVM's user's if it cannot write it", ""}
	}
	mode, what := uint32(2|1), "write"
	if role == sparkenv.History {
		mode, what = 4|1, "read"
	}
	if err := syscall.Access(dir, mode); err != nil {
		fix := "run with a gid of the directory's group (the images' own is group 0, setgid), or mount one this uid can use"
		if role == sparkenv.Connect {
			return finding{sevWarn, "event-log", fmt.Sprintf("uid %d cannot %s %s (%v): the Connect server starts without an event log", uid, what, dir, err), fix}
		}
		return finding{sevFail, "event-log", fmt.Sprintf("uid %d cannot %s %s (%v): the history server lists nothing", uid, what, dir, err), fix}
	}
	return finding{sevOK, "event-log", fmt.Sprintf("uid %d can %s %s", uid, what, dir), ""}
}

// doctorCommand parses doctor's arguments: [--json] [master|worker|connect|history],
// or [--json] driver HOST:PORT[,PORT...].
func doctorCommand(args []string, s settings.Settings, w io.Writer) error {
	if slices.Contains(args, "driver") {
		asJSON := false
		var rest []string
		for _, a := range args {
			if a == "--json" {
				asJSON = true
				continue
			}
			rest = append(rest, a)
		}
		if len(rest) != 2 || rest[0] != "driver" {
			return fmt.Errorf("%w: doctor driver takes [--json] driver HOST:PORT[,PORT...], got %q", ErrUsage, args)
		}
		t, err := parseDriverTarget(rest[1])
		if err != nil {
			return err
		}
		return doctorDriver(t, asJSON, w)
	}
	role, asJSON := sparkenv.Worker, false
	for i, a := range args {
		switch {
		case a == "--json":
			asJSON = true
		case isRole(a) && i == len(args)-1:
			role = sparkenv.Role(a)
		default:
			return fmt.Errorf("%w: doctor takes [--json] [master|worker|connect|history], got %q", ErrUsage, args)
		}
	}
	return doctor(role, s, asJSON, w)
}
