package boot

// The confs and notes of driver-conf, one builder per platform.

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

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
	c.note("where a classic driver cannot run, use Spark Connect: `entrypoint connect` %s; a Connect client (pyspark-client, or pyspark[connect]) of the same Spark and Python minor version connects to sc://HOST:%d", where, connectPort)
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
func ecsDriver(ctx context.Context, c *driverConfig, ds driverSettings, m driverMachine, master discovery.Master, service string, executorPorts settings.PortRange) {
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
		// The driver dials the executors too: large task results and
		// cached blocks come from their block managers, which bridge-mode
		// workers put on fixed, mapped ports (executorPorts) unless the
		// driver's own spark.blockManager.port moves them.
		ports := "their worker's ENTRYPOINT_EXECUTOR_PORTS (7100-7103 in images/ecs/worker-bridge.json)"
		if executorPorts.Set() {
			ports = executorPorts.String() + " (this worker's ENTRYPOINT_EXECUTOR_PORTS)"
		}
		c.note("the driver fetches task results and cached blocks from the executors' block managers, at their instances' names on ports %s: "+
			"the workers' security group must let the driver in on them; leave spark.blockManager.port and spark.port.maxRetries unset, which would move the executors off those ports", ports)
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
