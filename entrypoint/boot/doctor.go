package boot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
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
	"github.com/snufkin/swarming-spark/discovery/etcformat"
	"github.com/snufkin/swarming-spark/entrypoint/etcfiles"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// ErrFindings is doctor's answer when at least one check failed (exit 1).
var ErrFindings = errors.New("doctor found problems")

// maxSkew is the clock difference doctor calls a problem. The HTTP Date
// header has one-second resolution and the round trip adds some more, so
// anything below a few seconds is noise; Spark's own timeouts (heartbeats,
// the worker timeout of 60 s) and the event log's timestamps start to lie
// well before a minute.
const maxSkew = 5 * time.Second

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

// checkNames compares the master's name as this container resolves it
// (/etc/hosts first, as getaddrinfo does) with what the DNS server in
// resolv.conf says. Inside a container "outside" can only honestly mean
// the platform's DNS: the view every other container on the network
// shares, where /etc/hosts is this container's alone. They differ when a
// hosts line went stale (a linked master restarted on a new address) or an
// --add-host pins the name elsewhere.
func checkNames(ctx context.Context, role sparkenv.Role, host string, d doctorInputs) ([]netip.Addr, []finding) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, []finding{{sevOK, "names", host + " is an address: nothing to resolve", ""}}
	}
	var fs []finding
	inside, where := etcfiles.LookupHosts(d.in.Hosts, host), d.hostsFile
	if len(inside) == 0 {
		where = "resolver"
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		got, err := d.lookup(lctx, host)
		cancel()
		for _, a := range got {
			if ip, err := netip.ParseAddr(a); err == nil {
				inside = append(inside, ip.Unmap())
			}
		}
		if len(inside) == 0 {
			fix := "make the name resolvable here: use a network the master is on (Docker DNS), the Service name (Kubernetes), or SPARK_MASTER_URL with an address"
			if role == sparkenv.Master {
				return nil, []finding{{sevWarn, "names", fmt.Sprintf("%s does not resolve here (%v): the master will bind and advertise its address instead", host, err),
					"let the entrypoint map it in /etc/hosts (run as root, writable /etc), or set SPARK_MASTER_HOST to a name that resolves to this container"}}
			}
			return nil, []finding{{sevFail, "names", fmt.Sprintf("%s does not resolve here: %v", host, err), fix}}
		}
	}
	outside, server, err := discovery.LookupHost(ctx, d.in, host)
	switch {
	case err != nil:
		fs = append(fs, finding{sevWarn, "names", fmt.Sprintf("%s is %s here (%s); the DNS server could not be asked: %v", host, etcformat.JoinAddrs(inside), where, err),
			"check the nameserver lines of resolv.conf"})
	case len(outside) == 0:
		fs = append(fs, finding{sevOK, "names", fmt.Sprintf("%s is %s here (%s); DNS at %s does not know it, so only this container uses that answer", host, etcformat.JoinAddrs(inside), where, server), ""})
	case !overlap(inside, outside):
		fs = append(fs, finding{sevFail, "names", fmt.Sprintf("%s is %s here (%s) but %s at the DNS server %s", host, etcformat.JoinAddrs(inside), where, etcformat.JoinAddrs(outside), server),
			"a stale /etc/hosts line (a linked master that restarted on a new address, or --add-host): recreate this container, or drop the link and use the service name on a user-defined network"})
	default:
		fs = append(fs, finding{sevOK, "names", fmt.Sprintf("%s is %s here (%s) and at the DNS server %s", host, etcformat.JoinAddrs(inside), where, server), ""})
	}
	if role == sparkenv.Master && len(d.ownAddrs) > 0 && !overlap(inside, d.ownAddrs) {
		fs = append(fs, finding{sevWarn, "names", fmt.Sprintf("%s is not an address of this container (%s): the master binds and advertises its address instead", host, etcformat.JoinAddrs(d.ownAddrs)),
			"set SPARK_MASTER_HOST to this container's name, or leave it unset (the hostname)"})
	}
	return inside, fs
}

// checkDial opens a TCP connection to the master's RPC port, as the worker
// will; for a master, nothing listening is normal before it starts.
func checkDial(ctx context.Context, role sparkenv.Role, host string, port int, addrs []netip.Addr) finding {
	if len(addrs) == 0 {
		return finding{sevSkip, "connect", host + " does not resolve", ""}
	}
	var d net.Dialer
	var last error
	for _, a := range addrs {
		dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		c, err := d.DialContext(dctx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
		cancel()
		if err == nil {
			c.Close()
			return finding{sevOK, "connect", fmt.Sprintf("%s:%d (%s) accepts connections", host, port, a), ""}
		}
		last = err
	}
	if role == sparkenv.Master {
		return finding{sevSkip, "connect", fmt.Sprintf("nothing listens on %s:%d yet (%v): normal before the master starts", host, port, last), ""}
	}
	return finding{sevFail, "connect", fmt.Sprintf("the master at %s:%d does not answer: %v", host, port, last),
		"start the master, or put this container on the master's network; check SPARK_MASTER_PORT and firewalls (security groups, NetworkPolicy)"}
}

// checkClock compares this container's clock with the master's: its web UI
// stamps every answer with a Date header. Containers share their host's
// clock, so a skew means two hosts disagree.
func checkClock(ctx context.Context, host string, addrs []netip.Addr, uiPort int) finding {
	if len(addrs) == 0 {
		return finding{sevSkip, "clock", "the master's name does not resolve", ""}
	}
	url := "http://" + netip.AddrPortFrom(addrs[0], uint16(uiPort)).String() + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return finding{sevSkip, "clock", err.Error(), ""}
	}
	c := &http.Client{Timeout: 3 * time.Second}
	start := time.Now()
	resp, err := c.Do(req)
	end := time.Now()
	if err != nil {
		return finding{sevSkip, "clock", fmt.Sprintf("the master's web UI at %s does not answer (SPARK_MASTER_WEBUI_PORT): %v", url, err), ""}
	}
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return finding{sevSkip, "clock", fmt.Sprintf("%s sent no usable Date header", url), ""}
	}
	// Date is truncated to the second: its middle is half a second later.
	// The server stamped it somewhere in the round trip: compare with the
	// middle of that, too.
	skew := date.Add(500 * time.Millisecond).Sub(start.Add(end.Sub(start) / 2))
	if skew.Abs() > maxSkew {
		return finding{sevFail, "clock", fmt.Sprintf("the master's clock is %s %s this container's (Date header of %s)", skew.Abs().Round(time.Second), aheadBehind(skew), url),
			"run NTP (chrony, systemd-timesyncd) on the hosts of both containers; containers use their host's clock"}
	}
	return finding{sevOK, "clock", fmt.Sprintf("within %s of the master's (%s apart)", maxSkew, skew.Abs().Round(time.Second)), ""}
}

func aheadBehind(d time.Duration) string {
	if d > 0 {
		return "ahead of"
	}
	return "behind"
}

func overlap(a, b []netip.Addr) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// doctorCommand parses doctor's arguments: [--json] [master|worker|connect],
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
			return fmt.Errorf("%w: doctor takes [--json] [master|worker|connect], got %q", ErrUsage, args)
		}
	}
	return doctor(role, s, asJSON, w)
}
