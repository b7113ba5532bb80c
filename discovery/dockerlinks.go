package discovery

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// link is what Docker's legacy --link left in the environment and in
// /etc/hosts for the alias derived from Inputs.Service.
type link struct {
	prefix string     // env prefix, e.g. SPARK_MASTER
	ip     netip.Addr // from the env vars; invalid if none
	port   int        // chosen master port
	hosts  hostsLine  // the alias line in /etc/hosts
	inHost bool       // hosts is valid
	detail []string
}

// findDockerLinks reads Docker legacy link variables for the alias
// Inputs.Service (moby daemon/links/links.go):
//
//	SPARK_MASTER_NAME=/spark-worker-1/spark-master
//	SPARK_MASTER_PORT=tcp://172.17.0.2:7077            (lowest exposed TCP port)
//	SPARK_MASTER_PORT_7077_TCP=tcp://172.17.0.2:7077
//	SPARK_MASTER_PORT_7077_TCP_ADDR=172.17.0.2
//	SPARK_MASTER_PORT_7077_TCP_PORT=7077
//
// and the link line "172.17.0.2 spark-master <id>" in /etc/hosts.
//
// The URL uses the alias whenever /etc/hosts names it: the env vars are
// frozen at container start, but on the default bridge Docker rewrites the
// hosts line when the linked master restarts with a new IP, and Spark
// re-resolves the name on every reconnect. Without the hosts line the link
// IP is used.
func findDockerLinks(_ context.Context, in Inputs) (Master, error) {
	l, err := readLink(in)
	if err != nil {
		return Master{}, err
	}
	return l.master(in), nil
}

func (l link) master(in Inputs) Master {
	host := in.Service
	if !l.inHost {
		host = l.ip.String()
	}
	return Master{URL: sparkURL(hostPort(host, l.port)), Detail: l.detail}
}

func readLink(in Inputs) (link, error) {
	l := link{prefix: in.envPrefix()}
	p := l.prefix
	if v, ok := in.Env[p+"_SERVICE_HOST"]; ok {
		return link{}, notFound("%s_SERVICE_HOST=%s is set: these are Kubernetes service variables, not a Docker link", p, v)
	}
	if v, ok := in.Env[p+"_NAME"]; ok && isLinkName(v, in.Service) {
		l.detail = append(l.detail, p+"_NAME="+v)
	}

	ports := linkTCPPorts(in.Env, p)
	switch {
	case slices.Contains(ports, in.Port):
		l.port = in.Port
	case len(ports) == 1:
		l.port = ports[0]
	case len(ports) > 1:
		return link{}, notFound("%s_PORT_<n>_TCP_ADDR exist for ports %s but not for %d; set SPARK_MASTER_URL or the master port",
			p, joinInts(ports), in.Port)
	}
	if l.port != 0 {
		name := fmt.Sprintf("%s_PORT_%d_TCP_ADDR", p, l.port)
		v := in.Env[name]
		ip, ok := parseIP(v)
		if !ok {
			return link{}, invalid(name, v, "want an IP address")
		}
		l.ip = ip
		l.detail = append(l.detail, name+"="+v)
	}

	l.hosts, l.inHost = lookupHosts(in.Hosts, in.Service)
	if l.inHost {
		l.detail = append(l.detail, "/etc/hosts: "+l.hosts.text)
		if l.ip.IsValid() && l.ip != l.hosts.addr.Unmap() {
			l.detail = append(l.detail, fmt.Sprintf("/etc/hosts has %s where the frozen link variables have %s (master restarted); the name follows /etc/hosts", l.hosts.addr, l.ip))
		}
	}
	if l.port == 0 {
		if !l.inHost {
			if len(l.detail) > 0 {
				return link{}, notFound("%s but no %s_PORT_<n>_TCP_ADDR and no /etc/hosts line for %s", l.detail[0], p, in.Service)
			}
			return link{}, notFound("no %s_PORT_<n>_TCP_ADDR and no /etc/hosts line for %s", p, in.Service)
		}
		// A link to a container that exposes no ports: the alias still
		// resolves, the port is the configured one.
		l.port = in.Port
	}
	return l, nil
}

// isLinkName reports whether v has the shape /<recipient>/<alias>.
func isLinkName(v, service string) bool {
	i := strings.LastIndexByte(v, '/')
	return strings.HasPrefix(v, "/") && i > 0 && strings.EqualFold(v[i+1:], service)
}

// linkTCPPorts returns, sorted, the ports N for which <prefix>_PORT_N_TCP_ADDR
// is set.
func linkTCPPorts(env map[string]string, prefix string) []int {
	var ports []int
	for k := range env {
		rest, ok := strings.CutPrefix(k, prefix+"_PORT_")
		if !ok {
			continue
		}
		n, ok := strings.CutSuffix(rest, "_TCP_ADDR")
		if !ok {
			continue
		}
		if port, ok := parsePort(n); ok {
			ports = append(ports, port)
		}
	}
	slices.Sort(ports)
	return ports
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ", ")
}
