package boot

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/etcfiles"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// Plan is everything the entrypoint decided before starting the JVM; explain
// prints it, startNode carries it out.
type Plan struct {
	Role         sparkenv.Role        `json:"role"`
	Master       *discovery.Master    `json:"-"`
	Host         string               `json:"-"`
	Advertise    advertise            `json:"advertise"`
	Argv         []string             `json:"command"`
	Removed      []sparkenv.Removal   `json:"env_removed"`
	JavaOptions  map[string]string    `json:"java_options,omitempty"`
	User         string               `json:"user"`
	Auth         bool                 `json:"authenticate"`
	Decommission *drainPlan           `json:"decommission,omitempty"`
	Daemon       *daemonView          `json:"daemon,omitempty"`
	MasterState  string               `json:"master_state,omitempty"`
	Connect      *connectView         `json:"connect,omitempty"`
	Executors    *executorsView       `json:"executors,omitempty"`
	Resources    *resourcesView       `json:"resources,omitempty"`
	EventLog     *eventLogView        `json:"event_log,omitempty"`
	Metrics      *metricsView         `json:"metrics,omitempty"`
	UIProxy      *uiProxyView         `json:"ui_proxy,omitempty"`
	UIAuth       *uiAuthView          `json:"ui_auth,omitempty"`
	ClassArchive string               `json:"-"`
	Hosts        []etcfiles.HostEntry `json:"-"`
	Resolv       *etcfiles.Resolv     `json:"-"`
	Env          []string             `json:"-"`
	Node         sparkenv.Node        `json:"-"`
	Credential   *syscall.Credential  `json:"-"`
	// Warnings say what the plan could not do and why; plan logs them,
	// explain lists them.
	Warnings []string `json:"-"`
	// localName: Host is a name that must resolve to this container's own
	// address for the JVM to bind it, while others resolve it elsewhere.
	localName bool
	// service is a master's service name (SPARK_MASTER_SERVICE).
	service string
	// eventLogDir is the event-log directory the entrypoint prepares
	// for the JVM's user before it starts (ENTRYPOINT_EVENT_LOG).
	eventLogDir string
	// uiKey is the web UIs' key (planUIAuth); secretProps are the Spark
	// settings that go to the JVM's properties file, off its command line.
	uiKey       []byte
	secretProps []javaOption
}

// plan works out the node's command, environment and user. Only a worker
// and the Connect server look for the master; wait says whether to retry until
// ENTRYPOINT_MASTER_WAIT (start) or ask once (explain).
func plan(ctx context.Context, role sparkenv.Role, s settings.Settings, in discovery.Inputs, log zerolog.Logger, wait bool) (Plan, error) {
	return planOn(ctx, role, s, systemMachine(in), log, wait)
}

// planOn is plan for the container m describes.
func planOn(ctx context.Context, role sparkenv.Role, s settings.Settings, m machine, log zerolog.Logger, wait bool) (Plan, error) {
	p := Plan{Role: role, JavaOptions: map[string]string{}, ClassArchive: classArchiveFile(s, role)}
	in := m.in
	env, removed, err := sparkenv.Scrub(environ(in.Env))
	if err != nil {
		return p, err
	}
	p.Removed = removed
	if _, ok := sparkenv.Lookup(env, "SPARK_HOME"); !ok {
		env = sparkenv.Set(env, "SPARK_HOME", "/opt/spark")
	}
	node := sparkenv.Node{Role: role, SparkHome: sparkenv.Get(env, "SPARK_HOME")}
	// Settings that are wrong end the start before discovery waits.
	if env, p.Auth, err = authEnv(role, env); err != nil {
		return p, err
	}
	var keySource string
	if p.uiKey, keySource, env, err = uiKeyOf(env); err != nil {
		return p, err
	}
	var cv *connectView
	if role == sparkenv.Connect {
		if env, cv, err = checkConnect(env, p.Auth, m); err != nil {
			return p, err
		}
	}
	if p.User, p.Credential, env, err = workloadUserAs(m.euid, s.User, env); err != nil {
		return p, err
	}
	if role == sparkenv.Worker || role == sparkenv.Connect {
		if err := discovery.CheckSources(discoverySources(s)); err != nil {
			return p, fmt.Errorf("%w: ENTRYPOINT_DISCOVERY=%q: %w", settings.ErrInvalid, s.Discovery, err)
		}
		master, err := findMaster(ctx, s, in, log, wait)
		if err != nil {
			return p, err
		}
		p.Master = &master
		node.MasterURL = master.URL
	}
	switch role {
	case sparkenv.Master:
		if p.service = in.Service; p.service == "" {
			p.service = discovery.DefaultService
		}
		node.Host = sparkenv.Get(env, "SPARK_MASTER_HOST")
		p.Advertise.Source = "SPARK_MASTER_HOST"
		if node.Host == "" {
			// The container's hostname: Docker, Compose and Kubernetes all
			// map it to the container's address in /etc/hosts, so the JVM
			// can bind it, and it is stable across restarts where an IP is
			// not.
			if node.Host = m.hostname; node.Host == "" {
				return p, errors.New("hostname: this container has none")
			}
			p.Advertise.Source = "hostname"
		}
		node.Port = sparkenv.IntOr(env, "SPARK_MASTER_PORT", 7077)
		node.WebUIPort = sparkenv.IntOr(env, "SPARK_MASTER_WEBUI_PORT", 8080)
		if in.Env["ECS_CONTAINER_METADATA_URI_V4"] != "" {
			if env, err = ecsBridgeMasterAdvertise(ctx, &p, env, m, wait, node.WebUIPort); err != nil {
				return p, err
			}
		}
		if p.MasterState = masterStateDir(s.MasterState, env); p.MasterState != "" {
			env = addJavaOptions(env, optsOf(role), masterStateOptions(p.MasterState))
		}
	case sparkenv.Connect:
		env = planConnect(&p, &node, env, m, cv)
		env = connectEventLog(&p, env, s)
	case sparkenv.History:
		env = planHistory(&p, &node, env, s)
		p.Advertise.Source = "spark-default"
	case sparkenv.Worker:
		if _, ok := sparkenv.Lookup(env, "SPARK_WORKER_DIR"); !ok {
			// Spark's default, $SPARK_HOME/work, belongs to root in the
			// official image; work-dir is the one directory both images
			// give the spark user.
			env = sparkenv.Set(env, "SPARK_WORKER_DIR", filepath.Join(node.SparkHome, "work-dir"))
		}
		node.Host = sparkenv.Get(env, "SPARK_WORKER_HOST")
		node.Port = sparkenv.IntOr(env, "SPARK_WORKER_PORT", 0)
		node.WebUIPort = sparkenv.IntOr(env, "SPARK_WORKER_WEBUI_PORT", 8081)
		p.Node = node
		switch {
		case node.Host != "":
			p.Advertise.Source = "SPARK_WORKER_HOST"
		case sparkenv.Get(env, "SPARK_LOCAL_HOSTNAME") != "":
			p.Advertise.Source = "SPARK_LOCAL_HOSTNAME"
		default:
			p.Advertise.Source = "spark-default"
			if in.Env["ECS_CONTAINER_METADATA_URI_V4"] != "" {
				if env, err = ecsBridgeAdvertise(ctx, &p, env, m, wait, s.ExecutorPorts); err != nil {
					return p, err
				}
				node = p.Node
			}
		}
		if s.ExecutorPorts.Set() {
			env, p.Executors = executorPorts(env, s.ExecutorPorts, node.Host)
		}
		var warnings []string
		env, p.Resources, warnings = workerResources(env, m.limits, m.limitsErr)
		p.Warnings = append(p.Warnings, warnings...)
		d := planDrain(env, node.WebUIPort)
		p.Decommission = &d
		env = addJavaOptions(env, optsOf(role), workerJavaDefaults)
	}
	env = planMetrics(&p, role, env, s, node.WebUIPort)
	env = planUIProxy(&p, role, env, s)
	env, p.secretProps = planUIAuth(&p, role, env, s, p.uiKey, keySource)
	if p.Decommission != nil {
		p.Decommission.key = p.uiKey
	}
	// Every role lists the daemons' variables; only the Connect server's
	// and the history server's JVMs read their own.
	names := []string{optsOf(sparkenv.Master), optsOf(sparkenv.Worker)}
	if role == sparkenv.Connect || role == sparkenv.History {
		names = append(names, optsOf(role))
	}
	for _, name := range names {
		for _, f := range strings.Fields(sparkenv.Get(env, name)) {
			if k, v, ok := strings.Cut(strings.TrimPrefix(f, "-D"), "="); ok && strings.HasPrefix(f, "-D") && !sparkenv.SecretKey(k) {
				p.JavaOptions[k] = v
			}
		}
	}
	if role == sparkenv.Master || role == sparkenv.Worker {
		env, p.Daemon = daemonOptions(env)
	}
	p.Host = node.Host
	p.Node = node
	p.Advertise.Host, p.Advertise.Port, p.Advertise.WebUIPort = node.Host, node.Port, node.WebUIPort
	if role == sparkenv.Master && p.Advertise.Port == 0 {
		p.Advertise.Port = 7077
	}
	if p.Advertise.PublicDNS == "" {
		p.Advertise.PublicDNS = sparkenv.Get(env, "SPARK_PUBLIC_DNS")
	}
	p.Hosts = hostsEntries(p, m.addrs)
	if ns, search, ok := discovery.KubeDNSResolv(in); ok {
		p.Resolv = &etcfiles.Resolv{Nameservers: []netip.Addr{ns}, Search: search, Options: []string{"ndots:5"}}
	}
	if p.Argv, err = node.Argv(); err != nil {
		return p, err
	}
	for _, w := range p.Warnings {
		log.Warn().Msg(w)
	}
	p.Env = env
	return p, nil
}

// optsOf is the variable of role's own JVM options, the -D settings Spark
// reads there: Spark's launcher gives the master SPARK_MASTER_OPTS, the
// worker SPARK_WORKER_OPTS and the history server SPARK_HISTORY_OPTS, and
// spark-submit gives the Connect server's JVM SPARK_SUBMIT_OPTS.
func optsOf(role sparkenv.Role) string {
	switch role {
	case sparkenv.Master:
		return "SPARK_MASTER_OPTS"
	case sparkenv.Worker:
		return "SPARK_WORKER_OPTS"
	case sparkenv.Connect:
		return sparkenv.ConnectOpts
	case sparkenv.History:
		return sparkenv.HistoryOpts
	}
	return ""
}

// workerJavaDefaults are the worker JVM options the entrypoint adds unless
// SPARK_WORKER_OPTS already sets them. Together they make a worker find a
// master that came back on a new address within seconds (Worker.scala's
// reregisterWithMaster):
// reconnect to the configured name, which the platform keeps current, not
// to the address the old master advertised (SPARK-20529); re-resolve that
// name instead of trusting the JVM's 30 s address cache; and keep retrying
// at the short 5-15 s interval for ten minutes instead of one before
// Spark's 30-90 s interval, and give up after about 50 minutes instead of 11
// (spark.worker.*RegistrationRetries exist since 4.0; 3.5 ignores them).
// And a stop decommissions the worker (planDrain).
//
// The worker's disk stays bounded over months of applications (Spark's
// defaults keep every finished application's directory, its jars and its
// executors' logs, for ever): every 30 minutes the worker removes the
// directories of applications that have stopped and written nothing for a
// day (spark.worker.cleanup.*), and each executor's stdout and stderr roll
// at 32 MiB, keeping 4 rolled files (spark.executor.logs.rolling.*, which
// the worker's ExecutorRunner reads from its own conf), so a stream holds
// at most 160 MiB.
var workerJavaDefaults = []javaOption{
	{decommissionKey, "true"},
	{"spark.worker.cleanup.enabled", "true"},
	{"spark.worker.cleanup.interval", "1800"},
	{"spark.worker.cleanup.appDataTtl", "86400"},
	{"spark.executor.logs.rolling.strategy", "size"},
	{"spark.executor.logs.rolling.maxSize", "33554432"},
	{"spark.executor.logs.rolling.maxRetainedFiles", "4"},
	{"spark.worker.preferConfiguredMasterAddress", "true"},
	{"spark.worker.initialRegistrationRetries", "60"},
	{"spark.worker.maxRegistrationRetries", "100"},
	{"sun.net.inetaddr.ttl", "1"},
	{"sun.net.inetaddr.negative.ttl", "1"},
}

// discoverySources is ENTRYPOINT_DISCOVERY as a list.
func discoverySources(s settings.Settings) []string {
	sources := strings.Split(s.Discovery, ",")
	for i := range sources {
		sources[i] = strings.TrimSpace(sources[i])
	}
	return sources
}

func findMaster(ctx context.Context, s settings.Settings, in discovery.Inputs, log zerolog.Logger, wait bool) (discovery.Master, error) {
	sources := discoverySources(s)
	if !wait || s.MasterWait == 0 {
		return discovery.Find(ctx, in, sources)
	}
	m, err := discovery.Wait(ctx, in, sources, s.MasterWait, func(attempt int, err error) {
		log.Info().Int("attempt", attempt).Err(err).Msg("master not found yet")
	})
	switch {
	case err == nil:
		log.Info().Str("source", m.Source).Str("url", m.URL).Strs("detail", m.Detail).Msg("found the master")
		return m, nil
	case errors.Is(err, discovery.ErrInvalid), ctx.Err() != nil:
		return m, err
	}
	return m, fmt.Errorf("%w within ENTRYPOINT_MASTER_WAIT=%s: %w", ErrNoMaster, s.MasterWait, err)
}

// workloadUser decides who runs the JVM. As root it is ENTRYPOINT_USER (a
// name or uid[:gid]); anyone else keeps their own identity, since only root
// can change it.
func workloadUser(name string, env []string) (string, *syscall.Credential, []string, error) {
	return workloadUserAs(os.Geteuid(), name, env)
}

// workloadUserAs is workloadUser for a process running as euid.
func workloadUserAs(euid int, name string, env []string) (string, *syscall.Credential, []string, error) {
	if euid != 0 {
		return strconv.Itoa(euid), nil, env, nil
	}
	uidStr, gidStr, hasGid := strings.Cut(name, ":")
	var u *user.User
	var err error
	if _, numErr := strconv.Atoi(uidStr); numErr == nil {
		u, err = user.LookupId(uidStr)
		if err != nil {
			// An arbitrary uid with no passwd entry is fine for the kernel.
			u = &user.User{Uid: uidStr, Gid: uidStr, HomeDir: "/tmp"}
		}
	} else if u, err = user.Lookup(uidStr); err != nil {
		return "", nil, env, fmt.Errorf("%w: ENTRYPOINT_USER=%q: no such user in /etc/passwd", settings.ErrInvalid, name)
	}
	if hasGid {
		u.Gid = gidStr
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return "", nil, env, fmt.Errorf("%w: ENTRYPOINT_USER=%q: want a user name or uid[:gid]", settings.ErrInvalid, name)
	}
	if uid == 0 {
		return "0", nil, env, nil
	}
	env = sparkenv.Set(env, "HOME", u.HomeDir)
	if u.Username != "" {
		env = sparkenv.Set(env, "USER", u.Username)
	}
	// Groups empty: the JVM must not keep root's supplementary groups.
	return name, &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}, env, nil
}

func environ(m map[string]string) []string {
	env := make([]string, 0, len(m))
	for k, v := range m {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}
