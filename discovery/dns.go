package discovery

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/snufkin/swarming-spark/discovery/etcformat"
)

// This file holds the DNS client shared by cluster-dns, docker-dns, swarm
// and cloudmap. It sits on github.com/miekg/dns v1 (v2 lives at
// codeberg.org/miekg/dns, which the module proxy here refuses); only this
// file imports it, so a later swap stays local.

// dnsTimeout bounds one query (UDP, and TCP after truncation separately).
const dnsTimeout = 2 * time.Second

// resolver queries one server with a search list, like the stub resolver
// in libc but without caching, rotation or fallback servers.
type resolver struct {
	server string // host:port
	search []string
	ndots  int
	origin string // where server came from, for Detail
}

// resolvConf is the part of /etc/resolv.conf the DNS sources use.
type resolvConf struct {
	servers []string // bare addresses, in file order
	search  []string // without trailing dots
	ndots   int
}

// parseResolv reads /etc/resolv.conf contents as glibc does (etcformat);
// ok is false when there are none.
func parseResolv(b []byte) (resolvConf, bool) {
	if len(bytes.TrimSpace(b)) == 0 {
		return resolvConf{}, false
	}
	r, err := etcformat.ParseResolv(b)
	if err != nil {
		return resolvConf{}, false
	}
	rc := resolvConf{ndots: r.Ndots()}
	for _, a := range r.Nameservers {
		rc.servers = append(rc.servers, a.String())
	}
	for _, s := range r.Search {
		if s = strings.TrimSuffix(s, "."); s != "" {
			rc.search = append(rc.search, s)
		}
	}
	return rc, true
}

// resolvConfResolver asks what the container's resolver would ask: the first
// resolv.conf nameserver (the VPC resolver on ECS) or Inputs.DNSServer, with
// resolv.conf's search list. ok is false when there is no server.
func resolvConfResolver(in Inputs) (r resolver, ok bool) {
	rc, _ := parseResolv(in.Resolv)
	r = resolver{search: rc.search, ndots: rc.ndots, origin: "resolv.conf"}
	switch {
	case in.DNSServer != "":
		r.server, r.origin = in.DNSServer, "DNS server override"
	case len(rc.servers) > 0:
		r.server = serverAddr(rc.servers[0])
	default:
		return r, false
	}
	return r, true
}

// nameList returns the absolute names to try for name, in order, following
// resolv.conf(5): a name with at least ndots dots is tried as is first,
// otherwise after the search domains. A name ending in "." is only tried
// as is.
func (r resolver) nameList(name string) []string {
	if dns.IsFqdn(name) {
		return []string{name}
	}
	absolute := strings.Count(name, ".") >= r.ndots
	var names []string
	if absolute {
		names = append(names, dns.Fqdn(name))
	}
	for _, s := range r.search {
		names = append(names, dns.Fqdn(name+"."+s))
	}
	if !absolute {
		names = append(names, dns.Fqdn(name))
	}
	return names
}

// exchange sends one query, over UDP with EDNS0 and again over TCP when the
// answer comes back truncated (miekg/dns does neither by itself).
func (r resolver) exchange(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(4096, false)
	c := &dns.Client{Timeout: dnsTimeout}
	resp, _, err := c.ExchangeContext(ctx, m, r.server)
	if err == nil && resp.Truncated {
		c.Net = "tcp"
		resp, _, err = c.ExchangeContext(ctx, m, r.server)
	}
	if err != nil {
		return nil, fmt.Errorf("query %s %s at %s: %w", dns.TypeToString[qtype], name, r.server, err)
	}
	return resp, nil
}

// LookupHost asks what another container on the network would ask for
// host: the first resolv.conf nameserver (or Inputs.DNSServer) through
// resolv.conf's search list, A then AAAA, skipping /etc/hosts. It returns
// the addresses and the server asked; a name the server does not know
// gives no addresses and no error.
func LookupHost(ctx context.Context, in Inputs, host string) ([]netip.Addr, string, error) {
	r, ok := resolvConfResolver(in)
	if !ok {
		return nil, "", errors.New("resolv.conf names no nameserver")
	}
	res, err := r.lookupHost(ctx, host)
	if errors.Is(err, ErrNotFound) {
		return nil, r.server, nil
	}
	return res.addrs, r.server, err
}

// hostResult is what lookupHost found.
type hostResult struct {
	name  string // the absolute name that answered, with trailing dot
	addrs []netip.Addr
}

// lookupHost tries name through the search list, A then AAAA, and returns
// the first candidate with addresses. NXDOMAIN and NODATA move on to the
// next candidate; other response codes are remembered and reported if
// nothing answers.
func (r resolver) lookupHost(ctx context.Context, name string) (hostResult, error) {
	var tried []string
	for _, cand := range r.nameList(name) {
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			resp, err := r.exchange(ctx, cand, qtype)
			if err != nil {
				return hostResult{}, err
			}
			addrs := answerAddrs(resp)
			if resp.Rcode == dns.RcodeSuccess && len(addrs) > 0 {
				return hostResult{name: cand, addrs: addrs}, nil
			}
			tried = append(tried, fmt.Sprintf("%s %s %s", dns.TypeToString[qtype], cand, rcodeText(resp, len(addrs))))
			if resp.Rcode == dns.RcodeNameError {
				break // no AAAA either
			}
		}
	}
	return hostResult{}, notFound("at %s (%s): %s", r.server, r.origin, strings.Join(tried, ", "))
}

// lookupSRV asks for SRV records at name (absolute) and returns them sorted
// by priority, then weight (highest first, RFC 2782 without the random
// pick, so results are reproducible), then target.
func (r resolver) lookupSRV(ctx context.Context, name string) ([]*dns.SRV, *dns.Msg, error) {
	resp, err := r.exchange(ctx, name, dns.TypeSRV)
	if err != nil {
		return nil, nil, err
	}
	var srvs []*dns.SRV
	for _, rr := range resp.Answer {
		if s, ok := rr.(*dns.SRV); ok && s.Port != 0 && s.Target != "." {
			srvs = append(srvs, s)
		}
	}
	slices.SortStableFunc(srvs, func(a, b *dns.SRV) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(b.Weight, a.Weight), strings.Compare(a.Target, b.Target))
	})
	return srvs, resp, nil
}

func answerAddrs(resp *dns.Msg) []netip.Addr {
	var addrs []netip.Addr
	for _, rr := range resp.Answer {
		var ip net.IP
		switch rr := rr.(type) {
		case *dns.A:
			ip = rr.A
		case *dns.AAAA:
			ip = rr.AAAA
		default:
			continue
		}
		if a, ok := netip.AddrFromSlice(ip); ok {
			addrs = append(addrs, a.Unmap())
		}
	}
	return addrs
}

func rcodeText(resp *dns.Msg, n int) string {
	if resp.Rcode == dns.RcodeSuccess && n == 0 {
		return "NODATA"
	}
	return dns.RcodeToString[resp.Rcode]
}

// serverAddr turns a resolv.conf nameserver entry (a bare address; the
// file has no port syntax) into host:port.
func serverAddr(ns string) string {
	return net.JoinHostPort(ns, "53")
}
