package discovery

import (
	"context"
	"fmt"
	"strings"

	"github.com/snufkin/swarming-spark/discovery/etcformat"
)

// dockerResolverAddr is Docker's embedded DNS server, reachable only inside
// the container's network namespace on user-defined and overlay networks.
const dockerResolverAddr = "127.0.0.11"

// findDockerDNS resolves Inputs.Service through Docker's embedded DNS
// (Compose v2+ service names, --network-alias, user-network --link
// aliases). It applies only when resolv.conf lists 127.0.0.11. Docker
// publishes no SRV records, so the port is Inputs.Port. The URL carries the
// name the resolver answered for, which Docker keeps current as containers
// come and go.
func findDockerDNS(ctx context.Context, in Inputs) (Master, error) {
	r, detail, err := dockerResolver(in)
	if err != nil {
		return Master{}, err
	}
	h, err := r.lookupHost(ctx, in.Service)
	if err != nil {
		return Master{}, err
	}
	name := strings.TrimSuffix(h.name, ".")
	detail = append(detail, fmt.Sprintf("%s has address %s", name, etcformat.JoinAddrs(h.addrs)))
	return Master{URL: sparkURL(hostPort(name, in.Port)), Detail: detail}, nil
}

// dockerResolver returns a resolver for the embedded DNS server, or
// ErrNotFound when resolv.conf does not use it (default bridge network,
// Kubernetes, ECS awsvpc).
func dockerResolver(in Inputs) (resolver, []string, error) {
	rc, _ := parseResolv(in.Resolv)
	found := false
	for _, s := range rc.servers {
		if s == dockerResolverAddr {
			found = true
		}
	}
	if !found {
		return resolver{}, nil, notFound("resolv.conf has no nameserver %s (not on a Docker user-defined or overlay network)", dockerResolverAddr)
	}
	r := resolver{server: serverAddr(dockerResolverAddr), origin: "Docker embedded DNS", search: rc.search, ndots: rc.ndots}
	if in.DNSServer != "" {
		r.server, r.origin = in.DNSServer, "DNS server override"
	}
	return r, []string{"nameserver " + r.server + " (" + r.origin + ")"}, nil
}
