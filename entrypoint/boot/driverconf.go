package boot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// Driver ports: a classic driver outside the cluster is dialled back by
// the executors, so its RPC and block manager ports must be fixed (Spark
// picks random ones otherwise, which no published port, firewall rule or
// security group can follow). These are the ones scripts/cluster.sh and
// scripts/sparkjob.py use.
const (
	defaultDriverPort = 40400
	connectPort       = 15002
)

// Where the confs of driver-conf are for (the "driver" field).
const (
	driverOnDockerHost = "docker-host"
	driverInOverlay    = "overlay-container"
	driverInPod        = "pod"
	driverOnInstance   = "instance"
	driverInVPC        = "vpc"
)

// Placeholders for what this container cannot know; a driver given one
// fails at once on a name that resolves nowhere, where a guessed address
// would leave it waiting for executors that never call.
const (
	placeholderDriver   = "DRIVER_HOST"
	placeholderInstance = "MASTER_INSTANCE"
)

// driverConfig is what `entrypoint driver-conf` prints: the settings a
// classic (non-Connect) driver needs to run against this cluster from
// where it can, and what to know besides. Its JSON form is stable.
type driverConfig struct {
	// Platform is docker, swarm, kubernetes, ecs-bridge, ecs-host,
	// ecs-awsvpc or ecs (network mode unknown).
	Platform string `json:"platform"`
	// Driver says where the driver the confs are for runs.
	Driver string `json:"driver"`
	// Master is the master as this container found it ("" when it found
	// none); spark.master in Confs is the same master as the driver
	// reaches it.
	Master string     `json:"master"`
	Confs  []confPair `json:"confs"`
	Notes  []string   `json:"notes"`
	// header is the first line of the text form.
	header string
}

// confPair is one --conf KEY=VALUE; a list of them keeps the order.
type confPair struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

func (c *driverConfig) set(key, value string) {
	c.Confs = append(c.Confs, confPair{key, value})
}

func (c *driverConfig) note(format string, args ...any) {
	c.Notes = append(c.Notes, fmt.Sprintf(format, args...))
}

// driverMachine is what driver-conf reads from the container; the golden
// tests build it from a case directory.
type driverMachine struct {
	in discovery.Inputs
	// route is /proc/net/route: on a Docker network the gateway of the
	// default route is the host's own address on that network.
	route []byte
	// role is what PID 1 runs; "" when it runs none of the roles.
	role     sparkenv.Role
	hostname string
	// runtime is the executors' Spark and Python, which the driver must
	// match.
	runtime runtimeView
}

func systemDriverMachine() driverMachine {
	in := systemInputs()
	route, _ := os.ReadFile("/proc/net/route")
	role, _ := runningRole()
	h, _ := os.Hostname()
	env := environ(in.Env)
	if _, ok := sparkenv.Lookup(env, "SPARK_HOME"); !ok {
		env = sparkenv.Set(env, "SPARK_HOME", "/opt/spark")
	}
	return driverMachine{in: in, route: route, role: role, hostname: h, runtime: readRuntime(env)}
}

// driverConfCommand parses driver-conf's arguments: [--json].
func driverConfCommand(args []string, s settings.Settings, w io.Writer) error {
	asJSON := false
	for _, a := range args {
		if a != "--json" {
			return fmt.Errorf("%w: driver-conf takes [--json], got %q", ErrUsage, args)
		}
		asJSON = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := driverConfOn(ctx, s, systemDriverMachine())
	if err != nil {
		return err
	}
	return c.write(w, asJSON)
}

func (c driverConfig) write(w io.Writer, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(c)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", c.header)
	for _, kv := range c.Confs {
		fmt.Fprintf(&b, "--conf %s=%s\n", kv.Key, kv.Value)
	}
	for _, n := range c.Notes {
		fmt.Fprintf(&b, "# %s\n", n)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// driverSettings are driver-conf's own settings.
type driverSettings struct {
	host            string // SPARK_DRIVER_HOST; "": the platform's answer
	hostOverridden  bool
	port, blockPort int
	ignored         []string // platform link values in these names
}

// readDriverSettings reads SPARK_DRIVER_HOST, SPARK_DRIVER_PORT and
// SPARK_DRIVER_BLOCK_MANAGER_PORT. A Kubernetes Service or a Docker link
// named spark-driver fills SPARK_DRIVER_PORT with tcp://ADDR:PORT: that is
// the platform's, not the user's, and is ignored with a note, as the
// entrypoint ignores such values in Spark's own port variables.
func readDriverSettings(env map[string]string) (driverSettings, error) {
	ds := driverSettings{port: defaultDriverPort}
	if h := env["SPARK_DRIVER_HOST"]; h != "" {
		if !validDriverHost(h) {
			return ds, fmt.Errorf("%w: SPARK_DRIVER_HOST=%q: want a host name or an address, without scheme or port", settings.ErrInvalid, h)
		}
		ds.host, ds.hostOverridden = h, true
	}
	port := func(name string) (int, bool, error) {
		v := env[name]
		switch {
		case v == "":
			return 0, false, nil
		case strings.Contains(v, "://"):
			ds.ignored = append(ds.ignored, name+"="+v)
			return 0, false, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 65535 {
			return 0, false, fmt.Errorf("%w: %s=%q: want a fixed port from 1 to 65535 (the executors dial it back; a random one can be neither published nor let through a firewall)", settings.ErrInvalid, name, v)
		}
		return n, true, nil
	}
	p, set, err := port("SPARK_DRIVER_PORT")
	if err != nil {
		return ds, err
	}
	if set {
		ds.port = p
	}
	bp, set, err := port("SPARK_DRIVER_BLOCK_MANAGER_PORT")
	switch {
	case err != nil:
		return ds, err
	case set:
		ds.blockPort = bp
	case ds.port == 65535:
		return ds, fmt.Errorf("%w: SPARK_DRIVER_PORT=%q: leaves no next port for the block manager: set SPARK_DRIVER_BLOCK_MANAGER_PORT", settings.ErrInvalid, env["SPARK_DRIVER_PORT"])
	default:
		ds.blockPort = ds.port + 1
	}
	if ds.blockPort == ds.port {
		return ds, fmt.Errorf("%w: SPARK_DRIVER_BLOCK_MANAGER_PORT=%q: the same as SPARK_DRIVER_PORT: the driver binds both", settings.ErrInvalid, env["SPARK_DRIVER_BLOCK_MANAGER_PORT"])
	}
	return ds, nil
}

// validDriverHost accepts an IP address or a DNS name.
func validDriverHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	name := strings.TrimSuffix(h, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// driverConfOn works out the driver's confs for the container m
// describes. The platform is told apart as discovery tells it: the
// kubelet's and the ECS agent's variables first, then Swarm's tasks.
// names; anything else is plain Docker (links, Compose's networks, a
// static URL), where the driver runs on the Docker host.
func driverConfOn(ctx context.Context, s settings.Settings, m driverMachine) (driverConfig, error) {
	ds, err := readDriverSettings(m.in.Env)
	if err != nil {
		return driverConfig{}, err
	}
	master, ferr := findMaster(ctx, s, m.in, zerolog.Nop(), false)
	if ferr != nil {
		if errors.Is(ferr, discovery.ErrInvalid) {
			return driverConfig{}, ferr
		}
		master = discovery.Master{}
	}
	c := driverConfig{Master: master.URL, Confs: []confPair{}, Notes: []string{}}
	found := fmt.Sprintf("the master, %s, found by %s", master.URL, master.Source)
	if ferr != nil {
		found = "no master found from this container"
		if m.role == sparkenv.Master {
			found = "this container runs the master"
		} else {
			why, _, _ := strings.Cut(ferr.Error(), "\n")
			c.note("this container found no master (%s); run driver-conf in a worker to see the master the cluster uses", why)
		}
	}
	service := m.in.Service
	if service == "" {
		service = discovery.DefaultService
	}
	env := m.in.Env
	switch {
	case env["KUBERNETES_SERVICE_HOST"] != "":
		kubernetesDriver(&c, ds, service)
	case env["ECS_CONTAINER_METADATA_URI_V4"] != "":
		ecsDriver(ctx, &c, ds, m, master, service, s.ExecutorPorts)
	case master.Source == discovery.SourceSwarm || strings.HasPrefix(masterHost(master.URL), "tasks."):
		swarmDriver(&c, ds, service, m.runtime.Spark)
	default:
		dockerDriver(&c, ds, m, master)
	}
	c.header = fmt.Sprintf("%s (%s): %s", c.Platform, found, driverPhrase(c.Driver))
	authConfs(&c, env)
	// The workers decommission on a stop; this driver's executors then
	// finish their running tasks and leave, instead of losing them
	// (driverSide).
	c.set(decommissionKey, "true")
	for _, v := range ds.ignored {
		c.note("%s is a platform link value (a Kubernetes Service or Docker link named spark-driver), not a setting: ignored", v)
	}
	if r := m.runtime; r.Spark != "" {
		py := ""
		if minor := pythonMinor(r.Python); minor != "" {
			py = fmt.Sprintf(", and for Python UDFs Python %s (the executors' python3 is %s)", minor, r.Python)
		}
		c.note("the driver must run Spark %s (pyspark==%s), as the executors do%s", r.Spark, r.Spark, py)
	}
	return c, nil
}
