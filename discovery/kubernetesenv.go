package discovery

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// kubePortNames are the Service port names tried, in order, for the
// master's RPC port: SPARK_MASTER_SERVICE_PORT_SPARK, _RPC, _CLUSTER,
// _MASTER. The same names, lower-cased, are the SRV labels cluster-dns
// asks for (_spark._tcp.<svc>...). "spark" comes first because it is what
// the Spark Helm charts and the Kubernetes Spark example call the port.
var kubePortNames = []string{"spark", "rpc", "cluster", "master"}

// findKubernetesEnv reads the variables the kubelet injects for a ClusterIP
// Service named Inputs.Service in the pod's namespace (kubelet
// pkg/kubelet/envvars):
//
//	SPARK_MASTER_SERVICE_HOST=10.96.14.7
//	SPARK_MASTER_SERVICE_PORT=7077           (spec.ports[0])
//	SPARK_MASTER_SERVICE_PORT_SPARK=7077     (one per named port)
//
// The port is the first named port of kubePortNames, else the port equal to
// Inputs.Port, else the only port. When _SERVICE_HOST is missing the
// Docker-compatible SPARK_MASTER_PORT_<port>_TCP_ADDR is used, unless a
// SPARK_MASTER_NAME marks it as a Docker link.
//
// The URL carries the ClusterIP, not the Service's DNS name: this source is
// the one that works without cluster DNS, and a Service keeps its ClusterIP
// for its whole life. Only a deleted and recreated Service leaves the
// frozen variables stale; the kubelet recommends DNS for that case, which
// is the cluster-dns source.
func findKubernetesEnv(_ context.Context, in Inputs) (Master, error) {
	p := in.envPrefix()
	hostVar := p + "_SERVICE_HOST"
	host, ok := in.Env[hostVar]
	if !ok {
		return kubeDockerCompatible(in, p)
	}
	ip, ok := parseIP(host)
	if !ok {
		return Master{}, invalid(hostVar, host, "want the Service's ClusterIP")
	}
	portVar, port, err := kubeServicePort(in, p)
	if err != nil {
		return Master{}, err
	}
	return Master{
		URL:    sparkURL(hostPort(ip.String(), port)),
		Detail: []string{hostVar + "=" + host, portVar + "=" + strconv.Itoa(port)},
	}, nil
}

// kubeServicePort picks the master port from <P>_SERVICE_PORT[_<NAME>].
func kubeServicePort(in Inputs, p string) (string, int, error) {
	get := func(name string) (int, bool, error) {
		v, ok := in.Env[name]
		if !ok {
			return 0, false, nil
		}
		n, ok := parsePort(v)
		if !ok {
			return 0, false, invalid(name, v, "want a port number 1..65535")
		}
		return n, true, nil
	}
	for _, pn := range kubePortNames {
		name := p + "_SERVICE_PORT_" + strings.ToUpper(pn)
		if n, ok, err := get(name); err != nil || ok {
			return name, n, err
		}
	}
	// Other named ports, in a stable order.
	var named []string
	for k := range in.Env {
		if strings.HasPrefix(k, p+"_SERVICE_PORT_") {
			named = append(named, k)
		}
	}
	slices.Sort(named)
	first := p + "_SERVICE_PORT"
	for _, name := range append([]string{first}, named...) {
		n, ok, err := get(name)
		if err != nil {
			return "", 0, err
		}
		if ok && n == in.Port {
			return name, n, nil
		}
	}
	if len(named) <= 1 {
		n, ok, err := get(first)
		if err != nil {
			return "", 0, err
		}
		if ok {
			return first, n, nil
		}
	}
	return "", 0, notFound("Service %q has ports %s: none is named %s and none is %d",
		in.Service, strings.Join(named, ", "), strings.Join(kubePortNames, "/"), in.Port)
}

// kubeDockerCompatible is the fallback on the kubelet's Docker-link-style
// variables.
func kubeDockerCompatible(in Inputs, p string) (Master, error) {
	why := fmt.Sprintf("%s_SERVICE_HOST not set (no ClusterIP Service %q in this namespace when the pod started, a headless Service, or enableServiceLinks: false)", p, in.Service)
	if _, ok := in.Env[p+"_NAME"]; ok {
		return Master{}, notFound("%s; %s_NAME marks a Docker link", why, p)
	}
	name := fmt.Sprintf("%s_PORT_%d_TCP_ADDR", p, in.Port)
	v, ok := in.Env[name]
	if !ok {
		return Master{}, notFound("%s", why)
	}
	ip, ok := parseIP(v)
	if !ok {
		return Master{}, invalid(name, v, "want an IP address")
	}
	return Master{URL: sparkURL(hostPort(ip.String(), in.Port)), Detail: []string{name + "=" + v}}, nil
}
