package boot

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net"
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
		ecsDriver(ctx, &c, ds, m, master, service)
	case master.Source == discovery.SourceSwarm || strings.HasPrefix(masterHost(master.URL), "tasks."):
		swarmDriver(&c, ds, service, m.runtime.Spark)
	default:
		dockerDriver(&c, ds, m, master)
	}
	c.header = fmt.Sprintf("%s (%s): %s", c.Platform, found, driverPhrase(c.Driver))
	authConfs(&c, env)
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

func driverPhrase(where string) string {
	switch where {
	case driverOnDockerHost:
		return "for a classic driver on this Docker host"
	case driverInOverlay:
		return "a driver on the Docker host cannot work here; these are for a driver container on the stack's overlay network"
	case driverInPod:
		return "a driver outside the cluster cannot work here; these are for a driver pod in the cluster"
	case driverOnInstance:
		return "for a classic driver on an instance of the cluster's VPC"
	}
	return "for a classic driver inside the cluster's VPC"
}

// driverConfs are the settings every classic driver outside the workers'
// containers needs: listen on every address (its own address is not the
// one the executors dial) on fixed ports.
// inClusterConfs sets the confs of a driver inside the cluster's network:
// the master found here, else defaultURL, and the driver's host, the
// user's (SPARK_DRIVER_HOST) or defaultHost; it returns that host.
func inClusterConfs(c *driverConfig, ds driverSettings, defaultURL, defaultHost string) string {
	url := c.Master
	if url == "" {
		url = defaultURL
	}
	c.set("spark.master", url)
	host := ds.host
	if !ds.hostOverridden {
		host = defaultHost
	}
	driverConfs(c, ds, host)
	return host
}

func driverConfs(c *driverConfig, ds driverSettings, host string) {
	c.set("spark.driver.host", host)
	c.set("spark.driver.bindAddress", "0.0.0.0")
	c.set("spark.driver.port", strconv.Itoa(ds.port))
	c.set("spark.driver.blockManager.port", strconv.Itoa(ds.blockPort))
}

func connectNote(c *driverConfig, where string) {
	c.note("where a classic driver cannot run, use Spark Connect: `entrypoint connect` %s; pyspark-client of the same Spark and Python minor version connects to sc://HOST:%d", where, connectPort)
}

// dockerDriver: the driver runs on the Docker host. It reaches the master
// through the master's published port, and the executors dial it back at
// the host's address on their network: the gateway of their default route.
func dockerDriver(c *driverConfig, ds driverSettings, m driverMachine, master discovery.Master) {
	c.Platform, c.Driver = "docker", driverOnDockerHost
	port := discovery.DefaultPort
	if _, p, err := net.SplitHostPort(firstMaster(master.URL)); err == nil {
		port, _ = strconv.Atoi(p)
	} else if m.role == sparkenv.Master {
		if p, err := strconv.Atoi(m.in.Env["SPARK_MASTER_PORT"]); err == nil && p > 0 {
			port = p
		}
	}
	c.set("spark.master", fmt.Sprintf("spark://127.0.0.1:%d", port))
	gw, subnet, ok := defaultGateway(m.route)
	host := ds.host
	switch {
	case ds.hostOverridden:
	case ok:
		host = gw.String()
	default:
		host = placeholderDriver
	}
	driverConfs(c, ds, host)
	c.note("publish the master's port %d on this host (docker run -p 127.0.0.1:%d:%d, Compose ports: [\"127.0.0.1:%d:%d\"]); published on another host port, put that one in spark.master",
		port, port, port, port, port)
	if master.Source == discovery.SourceAmbassador {
		c.note("this container reaches the master through an ambassador: the master runs on another host, so publish its port there and use that host's address in spark.master")
	}
	from := "the containers' network"
	if subnet.IsValid() {
		from = subnet.String()
	}
	switch {
	case ds.hostOverridden:
		c.note("spark.driver.host %s is SPARK_DRIVER_HOST: the executors dial the driver back there, on ports %d and %d", host, ds.port, ds.blockPort)
	case ok:
		c.note("spark.driver.host %s is this container's default gateway, the host's own address on its Docker network (%s): the executors dial the driver back there, on ports %d and %d, which it binds on every address (bindAddress 0.0.0.0)",
			host, from, ds.port, ds.blockPort)
	default:
		c.note("this container has no IPv4 default route (an internal network, or --network none), so the host's address on its network is unknown: replace %s with an address of the host the containers reach, or set SPARK_DRIVER_HOST", placeholderDriver)
	}
	firewall := "a firewall on the host (ufw, firewalld, an INPUT policy of DROP) must let TCP ports %d and %d in from " + from
	if ds.hostOverridden {
		firewall = "a firewall on the driver's machine must let TCP ports %d and %d in from the containers"
	}
	c.note(firewall+"; while the driver runs, `entrypoint doctor driver %s:%d,%d` in a worker checks it",
		ds.port, ds.blockPort, host, ds.port, ds.blockPort)
	c.note("a driver on another machine needs this host's address in spark.master (the port published on more than 127.0.0.1) and its own address in spark.driver.host (SPARK_DRIVER_HOST prints it here); " +
		"where the containers cannot reach that machine (a laptop behind NAT or on a VPN) a classic driver cannot work")
	connectNote(c, fmt.Sprintf("with its port %d published", connectPort))
}

// swarmDriver: the overlay network's containers cannot dial a host back
// (the routing mesh only carries connections to published services), and
// the master's RPC port is not published; a driver container on the
// stack's attachable overlay network reaches everything by name.
func swarmDriver(c *driverConfig, ds driverSettings, service, spark string) {
	c.Platform, c.Driver = "swarm", driverInOverlay
	host := inClusterConfs(c, ds, fmt.Sprintf("spark://tasks.%s:%d", service, discovery.DefaultPort), "spark-driver")
	c.note("a classic driver on a Docker host cannot work with Swarm: the executors on the overlay network cannot dial a host back through the routing mesh, which carries connections to published services only")
	image := "snufkin/spark-worker"
	if spark != "" {
		image += ":" + spark
	}
	c.note("run the driver in a container named %s on the stack's attachable overlay network, which Docker's DNS resolves for the executors: docker run --rm -it --network NETWORK --name %s %s -- /opt/spark/bin/pyspark --conf ... (the lines above); NETWORK is the stack's overlay, spark_spark for `docker stack deploy -c images/swarm/stack.yml spark` (docker network ls --filter driver=overlay)",
		host, host, image)
	connectNote(c, fmt.Sprintf("as a service of the stack, its port %d published in host mode (the connect service of images/swarm/stack.yml): HOST is the node that runs it (docker service ps STACK_connect)", connectPort))
}

// kubernetesDriver: the executors run in pods, and nothing carries a
// connection from a pod back out of the cluster to a laptop; a driver pod
// advertises its own pod IP, which the kubelet hands it through the
// downward API.
func kubernetesDriver(c *driverConfig, ds driverSettings, service string) {
	c.Platform, c.Driver = "kubernetes", driverInPod
	inClusterConfs(c, ds, fmt.Sprintf("spark://%s:%d", service, discovery.DefaultPort), "$(POD_IP)")
	c.note("a classic driver outside the cluster cannot work: the executors in pods must dial it back, and neither a NodePort nor kubectl port-forward carries connections out of the cluster")
	if !ds.hostOverridden {
		c.note("run the driver in a pod of this namespace with the variable POD_IP from the downward API (env: [{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]): the kubelet expands $(POD_IP) in the container's command and args; in a shell script write \"$POD_IP\"")
	}
	c.note("a NetworkPolicy on the driver pod must let the worker pods in on TCP ports %d and %d", ds.port, ds.blockPort)
	connectNote(c, fmt.Sprintf("in a pod behind a Service spark-connect, port %d: HOST is spark-connect inside the cluster, or localhost through kubectl port-forward svc/spark-connect %d", connectPort, connectPort))
}

// ecsDriver: bridge-mode containers have addresses no other instance
// reaches, so the driver advertises an instance address: its own
// instance's, which for a driver on this instance is the one in the
// container metadata file. In awsvpc mode every task has a VPC address,
// and so must the driver.
func ecsDriver(ctx context.Context, c *driverConfig, ds driverSettings, m driverMachine, master discovery.Master, service string) {
	self, err := discovery.ECSSelf(ctx, m.in)
	c.Platform, c.Driver = "ecs", driverOnInstance
	if err == nil {
		c.Platform = "ecs-" + self.NetworkMode
		if self.NetworkMode == "awsvpc" {
			c.Driver = driverInVPC
		}
	}
	url, how := ecsMasterFromInstance(ctx, m.in, master, service)
	c.set("spark.master", url)
	host := ds.host
	switch {
	case ds.hostOverridden:
	case err == nil && self.NetworkMode != "awsvpc":
		host = self.Host
	default:
		host = placeholderDriver
	}
	driverConfs(c, ds, host)
	if how != "" {
		c.note("%s", how)
	}
	switch {
	case ds.hostOverridden:
		c.note("spark.driver.host %s is SPARK_DRIVER_HOST: it must be an address the instances reach, never a container address", host)
	case err != nil:
		why := strings.TrimPrefix(err.Error(), discovery.ErrNotFound.Error()+": ")
		c.note("this container's network mode is unknown (%s): replace %s with the driver's own address in the VPC, or set SPARK_DRIVER_HOST", why, placeholderDriver)
	case self.NetworkMode == "awsvpc":
		c.note("replace %s with the driver's own address in the VPC (its instance's or its awsvpc task's private IP), or set SPARK_DRIVER_HOST: the executors' tasks dial it back there", placeholderDriver)
	default:
		c.note("spark.driver.host %s is this container's instance, right for a driver on this instance; on another instance use that instance's private address. Never a container address: a bridge-mode container's (172.17.x) reaches nothing outside its instance",
			host)
		c.note("run the driver on the instance itself (or with host networking); in a bridge-mode container, map ports %d and %d to the same host ports", ds.port, ds.blockPort)
	}
	c.note("the driver's security group must let TCP ports %d and %d in from the cluster's instances or tasks", ds.port, ds.blockPort)
	c.note("a classic driver outside the VPC cannot work: the executors cannot dial it back")
	connectNote(c, fmt.Sprintf("as a task on the cluster's network with port %d reachable", connectPort))
}

// ecsMasterFromInstance is the master as a driver on an instance reaches
// it. A bridge-mode worker reaches it through its task's ambassador, whose
// link alias resolves in that task only; the ambassador finds the master
// itself (SPARK_MASTER_SRV, SPARK_MASTER_URL or its target), and Docker
// copied its environment into this one as <ALIAS>_ENV_*, so the driver's
// master is found as the ambassador finds it.
func ecsMasterFromInstance(ctx context.Context, in discovery.Inputs, master discovery.Master, service string) (string, string) {
	if master.Source != discovery.SourceDockerLinks && master.Source != discovery.SourceAmbassador {
		if master.URL != "" {
			return master.URL, ""
		}
		return fmt.Sprintf("spark://%s:%d", placeholderInstance, discovery.DefaultPort),
			fmt.Sprintf("replace %s with the address of the master's instance (or its Cloud Map name)", placeholderInstance)
	}
	label, _, _ := strings.Cut(service, ".")
	prefix := strings.ToUpper(strings.ReplaceAll(label, "-", "_")) + "_ENV_"
	sub := map[string]string{}
	for _, k := range []string{"SPARK_MASTER_SRV", "SPARK_MASTER_URL"} {
		if v := in.Env[prefix+k]; v != "" {
			sub[k] = v
		}
	}
	if t := in.Env[prefix+"ENTRYPOINT_AMBASSADOR_TARGET"]; t != "" && sub["SPARK_MASTER_URL"] == "" {
		sub["SPARK_MASTER_URL"] = "spark://" + t
	}
	if len(sub) > 0 {
		ain := discovery.Inputs{Env: sub, Resolv: in.Resolv, DNSServer: in.DNSServer, HTTP: in.HTTP}
		if am, err := discovery.Find(ctx, ain, []string{discovery.SourceStatic, discovery.SourceCloudMap}); err == nil {
			return am.URL, fmt.Sprintf("this container reaches the master through its task's ambassador (%s), whose name resolves in the task only; spark.master is the master as the ambassador finds it (%s)",
				master.URL, am.Source)
		}
	}
	return fmt.Sprintf("spark://%s:%d", placeholderInstance, discovery.DefaultPort),
		fmt.Sprintf("this container reaches the master through its task's ambassador (%s), whose name resolves in the task only: replace %s with the address of the master's instance (or its Cloud Map name)",
			master.URL, placeholderInstance)
}

// authConfs: a cluster with a shared secret takes only drivers that have
// it. The secret itself is never printed: this output lands in terminals,
// logs and notebooks.
func authConfs(c *driverConfig, env map[string]string) {
	if env["SPARK_AUTH_SECRET"] == "" && env["SPARK_AUTH_SECRET_FILE"] == "" {
		return
	}
	c.set("spark.authenticate", "true")
	if env["SPARK_RPC_ENCRYPTION"] == "true" {
		c.set("spark.network.crypto.enabled", "true")
	}
	c.note("the cluster has a shared secret: give the driver spark.authenticate.secret, the value of SPARK_AUTH_SECRET, in a properties file (--properties-file) rather than on a command line; it is not printed here")
}

func firstMaster(url string) string {
	hps := strings.Split(strings.TrimPrefix(url, "spark://"), ",")
	return hps[0]
}

func masterHost(url string) string {
	h, _, err := net.SplitHostPort(firstMaster(url))
	if err != nil {
		return ""
	}
	return h
}

func pythonMinor(v string) string {
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return ""
	}
	return parts[0] + "." + parts[1]
}

// Route flags of /proc/net/route (linux/route.h).
const (
	rtfUp      = 0x1
	rtfGateway = 0x2
)

// defaultGateway reads /proc/net/route: the gateway of the IPv4 default
// route (the lowest metric) and the subnet of its interface. On a Docker
// bridge network that gateway is the host's own address on the network.
// The kernel prints each address as the 32-bit word it keeps in network
// byte order, read in host byte order.
func defaultGateway(table []byte) (netip.Addr, netip.Prefix, bool) {
	type route struct {
		iface         string
		dst, gw       netip.Addr
		flags, metric uint64
		isDefault     bool
		maskLength    int
	}
	var routes []route
	for i, line := range strings.Split(string(table), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 8 {
			continue
		}
		dst, ok1 := routeAddr(f[1])
		gw, ok2 := routeAddr(f[2])
		mask, ok3 := routeAddr(f[7])
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		metric, err2 := strconv.ParseUint(f[6], 10, 32)
		if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil || flags&rtfUp == 0 {
			continue
		}
		m := binary.BigEndian.Uint32(mask.AsSlice())
		ones := bits.LeadingZeros32(^m)
		if bits.TrailingZeros32(m) != 32-ones && m != 0 {
			continue
		}
		routes = append(routes, route{iface: f[0], dst: dst, gw: gw, flags: flags, metric: metric,
			isDefault: m == 0 && dst == netip.IPv4Unspecified(), maskLength: ones})
	}
	var best *route
	for i := range routes {
		r := &routes[i]
		if r.isDefault && r.flags&rtfGateway != 0 && (best == nil || r.metric < best.metric) {
			best = r
		}
	}
	if best == nil {
		return netip.Addr{}, netip.Prefix{}, false
	}
	var subnet netip.Prefix
	for _, r := range routes {
		p := netip.PrefixFrom(r.dst, r.maskLength)
		if r.iface == best.iface && !r.isDefault && r.flags&rtfGateway == 0 && p.Contains(best.gw) {
			subnet = p
			break
		}
	}
	return best.gw, subnet, true
}

// routeAddr decodes one address column of /proc/net/route.
func routeAddr(hex string) (netip.Addr, bool) {
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || len(hex) != 8 {
		return netip.Addr{}, false
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(v))
	return netip.AddrFrom4(b), true
}
