package boot

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/user"
	"strconv"
	"strings"
	"time"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/limits"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// machine is what plan and explain read from the container itself besides
// the settings: the environment and the /etc files (as discovery.Inputs,
// which also carry the DNS server and HTTP client the sources use), the
// network namespace's addresses, the hostname and who runs the entrypoint.
// systemMachine is the real one; explain's golden tests build theirs from a
// case directory, so nothing real is read or written.
type machine struct {
	in        discovery.Inputs
	addrs     []netip.Addr
	hostname  string
	euid      int
	hasPasswd func(uid int) bool
	// launch asks Spark's launcher for the java command; nil leaves the
	// spark-class form in the plan.
	launch func(Plan) ([]string, []string, error)
	// route is this container's address towards a host:port (connect's
	// driver address); nil: its first own address.
	route func(hostPort string) (netip.Addr, error)
	// hasConnect says whether Spark under a home ships the Connect
	// server; nil: assume it does.
	hasConnect func(home string) bool
	// limits is what the container may use, or why it could not be read.
	limits    limits.Limits
	limitsErr error
}

func systemMachine(in discovery.Inputs) machine {
	h, _ := os.Hostname()
	l, lerr := limits.Read(os.DirFS("/"))
	return machine{
		limits:    l,
		limitsErr: lerr,
		in:        in,
		addrs:     interfaceAddrs(),
		hostname:  h,
		euid:      os.Geteuid(),
		hasPasswd: func(uid int) bool {
			_, err := user.LookupId(strconv.Itoa(uid))
			return err == nil
		},
		launch:     func(p Plan) ([]string, []string, error) { return javaCommand(context.Background(), p) },
		route:      routeTo,
		hasConnect: sparkenv.HasConnect,
	}
}

// advertise is explain's account of the address a node gives the others,
// and of what it binds when that differs.
type advertise struct {
	// Host is the node's --host: Spark's master and worker bind the
	// address it resolves to and advertise the string itself (RpcEnv.create
	// with one host for both); "" leaves Spark's choice, the first
	// address of the container (or SPARK_LOCAL_IP / SPARK_LOCAL_HOSTNAME).
	Host string `json:"host"`
	// Port is the RPC port, bound and advertised; 0 is a random one.
	Port      int `json:"port"`
	WebUIPort int `json:"webui_port"`
	// PublicDNS is SPARK_PUBLIC_DNS, the host of the web UI URL the node
	// advertises (the UI itself binds all addresses).
	PublicDNS string `json:"public_dns,omitempty"`
	// Bind is what Host resolves to inside this container, when the
	// others resolve it to another address.
	Bind   string   `json:"bind,omitempty"`
	Source string   `json:"source"`
	Detail []string `json:"detail,omitempty"`
}

// ecsSelfWait bounds the wait for an ECS container metadata file that is
// not READY yet; the agent normally completes it within a second.
const ecsSelfWait = 10 * time.Second

// ecsBridgeAdvertise makes a worker in an ECS bridge-mode task reachable
// from other instances. Its own address is on the instance's docker bridge;
// the master and drivers must dial the instance's address and the host
// ports mapped to its container ports. Spark has no separate bind address
// for a worker: Worker.startRpcEnvAndEndpoint passes --host to RpcEnv.create
// as both bind and advertise address (3.5 and 4.1 alike), and advertises
// the port it bound. Hence:
//
//   - the RPC host is a DNS name of the instance (forward-confirmed
//     reverse DNS; on EC2 ip-a-b-c-d.<region>.compute.internal), mapped to
//     the container's own address in its /etc/hosts, so the JVM binds
//     locally while everyone else resolves the instance; an IP address of
//     the instance could not be bound at all;
//   - SPARK_PUBLIC_DNS is the instance's IP, the host of the advertised
//     web UI URL (the UI binds every address);
//   - the RPC and web UI ports must be mapped to the same host port
//     numbers (fixed hostPort): Spark advertises the port it binds, so a
//     dynamic host port (hostPort 0) can never be advertised;
//   - so must the executors' block manager ports (ENTRYPOINT_EXECUTOR_PORTS,
//     executorPorts): the executors the worker launches advertise the same
//     --host, and bind what it resolves to here.
//
// Anything missing becomes a warning and Spark's default stays in place.
func ecsBridgeAdvertise(ctx context.Context, p *Plan, env []string, m machine, wait bool, executorPorts settings.PortRange) ([]string, error) {
	self, bridge, err := ecsBridgeSelf(ctx, p, m, wait,
		"ecs: own address unknown, Spark's default stays (reachable from this instance only in bridge mode): ")
	if err != nil || !bridge {
		return env, err
	}
	p.Advertise.Source = "ecs-bridge"
	if _, ok := sparkenv.Lookup(env, "SPARK_PUBLIC_DNS"); !ok {
		env = sparkenv.Set(env, "SPARK_PUBLIC_DNS", self.Host)
		p.Advertise.PublicDNS = self.Host
	}
	own, ok := ownAddr(m.addrs)
	switch {
	case self.Name == "":
		p.Warnings = append(p.Warnings, fmt.Sprintf("ecs bridge: the worker's RPC address stays its container address, which other instances cannot reach: "+
			"Spark binds the host it advertises, %s is not an address of this container, and there is %v; "+
			"set SPARK_WORKER_HOST to a name that resolves to %s elsewhere and to this container here, or use awsvpc", self.Host, self.NameErr, self.Host))
	case !ok:
		p.Warnings = append(p.Warnings, "ecs bridge: this container has no address to bind "+self.Name+" to; Spark's default stays")
	default:
		p.Node.Host, p.Host = self.Name, self.Name
		p.Advertise.Bind = own.String()
		p.localName = true
	}
	for _, c := range []struct {
		port       int
		name, what string
	}{{p.Node.Port, "SPARK_WORKER_PORT", "RPC"}, {p.Node.WebUIPort, "SPARK_WORKER_WEBUI_PORT", "web UI"}} {
		hp, mapped := self.HostPort(c.port)
		switch {
		case c.port == 0:
			p.Warnings = append(p.Warnings, fmt.Sprintf("ecs bridge: %s is not set: the worker's %s port is random, and no port mapping reaches it; set it and map it to the same hostPort", c.name, c.what))
		case !mapped:
			p.Warnings = append(p.Warnings, fmt.Sprintf("ecs bridge: container port %d (%s) has no port mapping: map it to hostPort %d", c.port, c.name, c.port))
		case hp != c.port:
			p.Warnings = append(p.Warnings, fmt.Sprintf("ecs bridge: container port %d (%s) is host port %d, but Spark advertises the port it binds: map it to hostPort %d (fixed, not 0)", c.port, c.name, hp, c.port))
		}
	}
	p.Warnings = append(p.Warnings, ecsExecutorPortsWarnings(executorPorts, self.HostPort)...)
	return env, nil
}

// ecsBridgeMasterAdvertise gives a master in an ECS bridge-mode task the
// instance IP as SPARK_PUBLIC_DNS, unless the user set it. The master
// advertises its web UI URL (to workers, whose `entrypoint ready worker`
// health check asks it, and on its own pages) with SPARK_PUBLIC_DNS as the
// host, else its --host, the container hostname, which resolves nowhere
// else. Its RPC host stays: workers reach the master through their task's
// ambassador and the instance's host port, and Spark does not check the
// name they dialled. The web UI port must be mapped to the same host port
// number port, as Spark advertises the port it binds.
func ecsBridgeMasterAdvertise(ctx context.Context, p *Plan, env []string, m machine, wait bool, port int) ([]string, error) {
	if _, ok := sparkenv.Lookup(env, "SPARK_PUBLIC_DNS"); ok {
		return env, nil
	}
	self, bridge, err := ecsBridgeSelf(ctx, p, m, wait,
		"ecs: instance address unknown, the master's web UI URL keeps its container hostname (unreachable from other instances in bridge mode): ")
	if err != nil || !bridge {
		return env, err
	}
	env = sparkenv.Set(env, "SPARK_PUBLIC_DNS", self.Host)
	p.Advertise.PublicDNS = self.Host
	p.Advertise.Detail = append(p.Advertise.Detail, "ecs bridge: SPARK_PUBLIC_DNS="+self.Host+", the instance address, for the web UI URL the master advertises")
	switch hp, mapped := self.HostPort(port); {
	case !mapped:
		p.Warnings = append(p.Warnings, fmt.Sprintf("ecs bridge: container port %d (SPARK_MASTER_WEBUI_PORT) has no port mapping: map it to hostPort %d", port, port))
	case hp != port:
		p.Warnings = append(p.Warnings, fmt.Sprintf("ecs bridge: container port %d (SPARK_MASTER_WEBUI_PORT) is host port %d, but Spark advertises the port it binds: map it to hostPort %d (fixed, not 0)", port, hp, port))
	}
	return env, nil
}

// ecsBridgeSelf reads this container's ECS metadata for the advertise
// functions, waiting for a metadata file the agent is still writing. bridge
// is false when there is nothing to do: the container's own address is
// reachable (awsvpc, host), which Detail notes, or the metadata is
// missing, which a warning starting with unknown reports.
func ecsBridgeSelf(ctx context.Context, p *Plan, m machine, wait bool, unknown string) (discovery.Self, bool, error) {
	self, err := discovery.ECSSelf(ctx, m.in)
	deadline := time.Now().Add(ecsSelfWait)
	// Only a metadata file still being written is worth waiting for; without
	// one, bridge mode stays unresolved however long it waits.
	retry := wait && m.in.Env["ECS_CONTAINER_METADATA_FILE"] != ""
	for retry && errors.Is(err, discovery.ErrNotFound) && time.Now().Before(deadline) && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-time.After(500 * time.Millisecond):
		}
		self, err = discovery.ECSSelf(ctx, m.in)
	}
	switch {
	case errors.Is(err, discovery.ErrInvalid):
		return self, false, err
	case err != nil:
		why := strings.TrimPrefix(err.Error(), discovery.ErrNotFound.Error()+": ")
		p.Warnings = append(p.Warnings, unknown+why)
		return self, false, nil
	case self.NetworkMode != "bridge":
		p.Advertise.Detail = append(p.Advertise.Detail, self.Detail...)
		p.Advertise.Detail = append(p.Advertise.Detail, "ecs "+self.NetworkMode+": this container's own address is reachable as it is")
		return self, false, nil
	}
	p.Advertise.Detail = append(p.Advertise.Detail, self.Detail...)
	return self, true, nil
}
