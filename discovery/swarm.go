package discovery

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/snufkin/swarming-spark/discovery/etcformat"
)

// findSwarm looks up tasks.<service> through Docker's embedded DNS. In
// Swarm mode that name has one A record per running task of the service,
// while the bare service name resolves to a virtual IP balanced by IPVS
// (docker-dns would find that). An answer for tasks.<service> is what
// tells Swarm apart from Compose, which is why swarm precedes docker-dns.
//
// With one task the URL is spark://tasks.<service>:<port>: a name that
// always resolves to the current master task, so a rescheduled master is
// found on reconnect, without going through the VIP. With several tasks
// (standby masters with ZooKeeper recovery) Spark needs every master
// listed, so the URL lists the task addresses.
func findSwarm(ctx context.Context, in Inputs) (Master, error) {
	r, detail, err := dockerResolver(in)
	if err != nil {
		return Master{}, err
	}
	name := "tasks." + in.Service
	h, err := r.lookupHost(ctx, name)
	if err != nil {
		return Master{}, err
	}
	fqdn := strings.TrimSuffix(h.name, ".")
	addrs := slices.Clone(h.addrs)
	slices.SortFunc(addrs, netip.Addr.Compare)
	addrs = slices.Compact(addrs)
	detail = append(detail, fmt.Sprintf("%s has address %s", fqdn, etcformat.JoinAddrs(addrs)))
	if len(addrs) == 1 {
		return Master{URL: sparkURL(hostPort(fqdn, in.Port)), Detail: detail}, nil
	}
	hps := make([]string, len(addrs))
	for i, a := range addrs {
		hps[i] = hostPort(a.String(), in.Port)
	}
	return Master{URL: sparkURL(hps...), Detail: detail}, nil
}
