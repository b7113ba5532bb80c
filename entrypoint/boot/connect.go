package boot

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// The Spark Connect server is a driver: spark-submit in client mode with
// the master found as a worker finds it. What it needs beyond a worker is
// an address the executors can dial back, and, on an authenticated
// cluster, a token for its own port.

// connectView is explain's account of the Connect server.
type connectView struct {
	// Port is the gRPC port clients dial (spark.connect.grpc.binding.port).
	Port int `json:"port"`
	// Token says whether clients need SPARK_CONNECT_AUTHENTICATE_TOKEN;
	// the token itself is never shown.
	Token bool `json:"token"`
}

// Token variables: Spark's own name, which the server reads from its
// environment when spark.connect.authenticate.token is unset (and
// pyspark's client too), and a file form for mounted secrets.
const (
	tokenVar     = "SPARK_CONNECT_AUTHENTICATE_TOKEN"
	tokenFileVar = "SPARK_CONNECT_AUTHENTICATE_TOKEN_FILE"
)

// connectJavaDefaults are the server's Spark settings unless
// SPARK_SUBMIT_OPTS sets them (and spark-defaults.conf, which spark-submit
// reads after these, overrides them too). A Connect server holding every
// core of the cluster for its whole life, as a standalone application does
// by default, would leave none to any other application. So it takes
// executors of one core, as many as its queries need, and gives them back
// after a minute idle: dynamic allocation, with shuffle tracking in place
// of an external shuffle service (Spark's job-scheduling guide). It keeps
// one, so that the master lists it RUNNING (an application without
// executors is WAITING) and a first query finds an executor up. Its
// executors leave a stopping worker once their tasks end (driverSide).
var connectJavaDefaults = []javaOption{
	{decommissionKey, "true"},
	{"spark.executor.cores", "1"},
	{"spark.dynamicAllocation.enabled", "true"},
	{"spark.dynamicAllocation.shuffleTracking.enabled", "true"},
	{"spark.dynamicAllocation.minExecutors", "1"},
	{"spark.dynamicAllocation.executorIdleTimeout", "60s"},
}

// checkConnect validates what connect reads before it looks for the
// master, so bad input ends the start before anything waits: the Connect
// jar, the port, the token and that an authenticated cluster (secret) has
// one.
func checkConnect(env []string, secret bool, m machine) ([]string, *connectView, error) {
	port, err := sparkenv.ConnectPort(env)
	if err != nil {
		return env, nil, err
	}
	env, token, err := connectToken(env)
	if err != nil {
		return env, nil, err
	}
	if secret && !token {
		return env, nil, fmt.Errorf("%w: %s is unset while SPARK_AUTH_SECRET is set: without a token anyone who reaches port %d runs code with the cluster's secret; set it or %s", settings.ErrInvalid, tokenVar, port, tokenFileVar)
	}
	home := sparkenv.Get(env, "SPARK_HOME")
	if m.hasConnect != nil && !m.hasConnect(home) {
		return env, nil, fmt.Errorf("%w: SPARK_HOME=%q has no jars/spark-connect_*.jar: the Connect server is part of Spark from 4.0 on; run it from the 4.x images, or use a classic driver", sparkenv.ErrInvalid, home)
	}
	return env, &connectView{Port: port, Token: token}, nil
}

// connectToken reads SPARK_CONNECT_AUTHENTICATE_TOKEN or its _FILE form
// and leaves the token in the first, where the server reads it. Errors name
// the variables, never the token.
func connectToken(env []string) ([]string, bool, error) {
	token, err := secretSetting(env, tokenVar)
	env = sparkenv.Unset(env, tokenVar, tokenFileVar)
	if err != nil || token == "" {
		return env, false, err
	}
	return sparkenv.Set(env, tokenVar, token), true, nil
}

// planConnect fills in the server's node once its master is known: the
// driver address executors dial back and the server's defaults.
func planConnect(p *Plan, node *sparkenv.Node, env []string, m machine, cv *connectView) []string {
	p.Connect = cv
	switch {
	case hasJavaOption(env, sparkenv.ConnectOpts, "spark.driver.host"):
		node.Host, _ = sparkenv.JavaOption(env, sparkenv.ConnectOpts, "spark.driver.host")
		p.Advertise.Source = sparkenv.ConnectOpts
	case sparkenv.Get(env, "SPARK_LOCAL_HOSTNAME") != "":
		p.Advertise.Source = "SPARK_LOCAL_HOSTNAME"
	case sparkenv.Get(env, "SPARK_LOCAL_IP") != "":
		p.Advertise.Source = "SPARK_LOCAL_IP"
	default:
		// The address this container uses towards the master is on the
		// network the workers share with it, which is where the executors
		// are: never a host gateway, and on a container with several
		// networks (Swarm's ingress and gwbridge) the right one.
		if addr, how := driverAddr(p.Master.URL, m); addr.IsValid() {
			node.Host = addr.String()
			p.Advertise.Source = how
			env = sparkenv.AddJavaOption(env, sparkenv.ConnectOpts, "spark.driver.host", node.Host)
		} else {
			p.Advertise.Source = "spark-default"
			p.Warnings = append(p.Warnings, "connect: no address of this container found; the driver advertises Spark's choice")
		}
	}
	env = addJavaOptions(env, sparkenv.ConnectOpts, connectJavaDefaults)
	if !cv.Token {
		p.Warnings = append(p.Warnings, fmt.Sprintf("connect: no %s: anyone who can reach port %d can run code on this cluster", tokenVar, cv.Port))
	}
	return env
}

func hasJavaOption(env []string, name, key string) bool {
	_, ok := sparkenv.JavaOption(env, name, key)
	return ok
}

// driverAddr is the address of this container on the route to the master,
// else its first own address.
func driverAddr(masterURL string, m machine) (netip.Addr, string) {
	if m.route != nil {
		if addrs := sparkenv.MasterAddrs(masterURL); len(addrs) > 0 {
			if a, err := m.route(addrs[0]); err == nil && a.IsGlobalUnicast() {
				return a, "route-to-master"
			}
		}
	}
	a, ok := ownAddr(m.addrs)
	if !ok {
		return netip.Addr{}, ""
	}
	return a, "container-address"
}

// routeTo is the local address the kernel picks for a connection to
// hostPort: a UDP socket's connect sends nothing, it only chooses the
// route and source address.
func routeTo(hostPort string) (netip.Addr, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "udp", hostPort)
	if err != nil {
		return netip.Addr{}, err
	}
	defer c.Close()
	a, ok := netip.AddrFromSlice(c.LocalAddr().(*net.UDPAddr).IP)
	if !ok {
		return netip.Addr{}, fmt.Errorf("no local address towards %s", hostPort)
	}
	return a.Unmap(), nil
}
