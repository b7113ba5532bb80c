package discovery

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/snufkin/swarming-spark/discovery/etcformat"
)

// errNoName means the instance has no DNS name that resolves back to it.
var errNoName = errors.New("no DNS name")

// instanceName finds the DNS name of an instance address that resolves
// back to it (forward-confirmed reverse DNS): the PTR records of addr, each
// kept only when its A/AAAA records include addr. On EC2 the VPC resolver
// answers both for the instance's private DNS name
// (ip-10-20-1-17.eu-west-1.compute.internal). The server is
// Inputs.DNSServer or the first resolv.conf nameserver; a bridge-mode task
// inherits the instance's resolv.conf, so that is the VPC resolver.
//
// A worker needs this name because Spark binds the address it advertises:
// the instance's IP cannot be bound inside a bridge-mode container, but a
// name can be mapped to the container's own address in its /etc/hosts
// while every other host resolves it to the instance.
func instanceName(ctx context.Context, in Inputs, addr netip.Addr) (string, []string, error) {
	r, ok := resolvConfResolver(in)
	if !ok {
		return "", nil, fmt.Errorf("%w: no nameserver in resolv.conf to ask for the name of %s", errNoName, addr)
	}
	detail := []string{"nameserver " + r.server + " (" + r.origin + ")"}
	rev, err := dns.ReverseAddr(addr.String())
	if err != nil {
		return "", detail, fmt.Errorf("%w: reverse name of %s: %v", errNoName, addr, err)
	}
	resp, err := r.exchange(ctx, rev, dns.TypePTR)
	if err != nil {
		return "", detail, err
	}
	var names []string
	for _, rr := range resp.Answer {
		if p, ok := rr.(*dns.PTR); ok {
			names = append(names, p.Ptr)
		}
	}
	if len(names) == 0 {
		return "", detail, fmt.Errorf("%w: PTR %s at %s: %s", errNoName, strings.TrimSuffix(rev, "."), r.server, rcodeText(resp, 0))
	}
	slices.Sort(names)
	var tried []string
	for _, n := range names {
		h, err := r.lookupHost(ctx, n)
		if err == nil && slices.Contains(h.addrs, addr) {
			name := strings.TrimSuffix(n, ".")
			detail = append(detail, fmt.Sprintf("PTR %s -> %s, which has address %s", addr, name, etcformat.JoinAddrs(h.addrs)))
			return name, detail, nil
		}
		if err != nil {
			tried = append(tried, fmt.Sprintf("%s: %v", strings.TrimSuffix(n, "."), strings.TrimPrefix(err.Error(), ErrNotFound.Error()+": ")))
		} else {
			tried = append(tried, fmt.Sprintf("%s has address %s, not %s", strings.TrimSuffix(n, "."), etcformat.JoinAddrs(h.addrs), addr))
		}
	}
	return "", detail, fmt.Errorf("%w: no name of %s resolves back to it: %s", errNoName, addr, strings.Join(tried, "; "))
}
