package discovery

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/snufkin/swarming-spark/discovery/etcformat"
)

// findClusterDNS resolves the master's Service through Kubernetes cluster
// DNS. The pod is recognised as a Kubernetes pod by its resolv.conf
// (dnsPolicy ClusterFirst writes a search list starting with
// <ns>.svc.<domain>) or by KUBE_DNS_SERVICE_HOST, which pods in the
// kube-dns Service's own namespace receive.
//
// The nameserver is, in order: Inputs.DNSServer, KUBE_DNS_SERVICE_HOST and
// KUBE_DNS_SERVICE_PORT_DNS / KUBE_DNS_SERVICE_PORT (the kube-dns Service
// itself, an explicit override of what the kubelet wrote), the first
// resolv.conf nameserver.
//
// The Service name goes through the search list honouring ndots (A, then
// AAAA, for each candidate); the first name with addresses is the master's
// FQDN. Its port comes from the SRV record Kubernetes publishes for a named
// port, _<name>._tcp.<fqdn>, trying the names of kubePortNames in order;
// without one it is Inputs.Port. The URL carries the FQDN so every Spark
// reconnect re-resolves it.
func findClusterDNS(ctx context.Context, in Inputs) (Master, error) {
	r, detail, err := clusterResolver(in)
	if err != nil {
		return Master{}, err
	}
	h, err := r.lookupHost(ctx, in.Service)
	if err != nil {
		return Master{}, err
	}
	fqdn := strings.TrimSuffix(h.name, ".")
	detail = append(detail, fmt.Sprintf("%s has address %s", fqdn, etcformat.JoinAddrs(h.addrs)))
	port := in.Port
	portFrom := "default port"
	for _, pn := range kubePortNames {
		name := "_" + pn + "._tcp." + h.name
		srvs, _, err := r.lookupSRV(ctx, name)
		if err != nil {
			return Master{}, err
		}
		if len(srvs) > 0 {
			port = int(srvs[0].Port)
			portFrom = "SRV " + strings.TrimSuffix(name, ".")
			break
		}
	}
	detail = append(detail, fmt.Sprintf("port %d from %s", port, portFrom))
	return Master{URL: sparkURL(hostPort(fqdn, port)), Detail: detail}, nil
}

// clusterResolver decides whether this is a Kubernetes pod and how to
// query its cluster DNS.
func clusterResolver(in Inputs) (resolver, []string, error) {
	rc, _ := parseResolv(in.Resolv)
	_, _, clusterFirst := kubeSearchDomain(rc.search)
	kubeDNS, kubeDNSPort, hasKubeDNS, err := kubeDNSEnv(in)
	if err != nil {
		return resolver{}, nil, err
	}
	var r resolver
	var detail []string
	switch {
	case clusterFirst:
		r.search, r.ndots = rc.search, rc.ndots
		detail = append(detail, "resolv.conf search "+strings.Join(rc.search, " "))
	case hasKubeDNS:
		_, search, _ := KubeDNSResolv(in)
		r.search, r.ndots = search, 5
		detail = append(detail, "search list derived from KUBE_DNS_SERVICE_HOST: "+strings.Join(search, " "))
	default:
		return resolver{}, nil, notFound("not a Kubernetes pod: resolv.conf has no <namespace>.svc.<domain> search domain and KUBE_DNS_SERVICE_HOST is not set")
	}
	switch {
	case in.DNSServer != "":
		r.server, r.origin = in.DNSServer, "DNS server override"
	case hasKubeDNS:
		r.server, r.origin = hostPort(kubeDNS.String(), kubeDNSPort), "KUBE_DNS_SERVICE_HOST"
	case len(rc.servers) > 0:
		r.server, r.origin = serverAddr(rc.servers[0]), "resolv.conf"
	default:
		return resolver{}, nil, notFound("resolv.conf has a Kubernetes search list but no nameserver")
	}
	detail = append(detail, "nameserver "+r.server+" ("+r.origin+")")
	return r, detail, nil
}

// kubeSearchDomain finds the first "<ns>.svc.<domain>" search entry.
func kubeSearchDomain(search []string) (namespace, domain string, ok bool) {
	for _, s := range search {
		labels := strings.Split(s, ".")
		if len(labels) >= 3 && labels[1] == "svc" && labels[0] != "" {
			return labels[0], strings.Join(labels[2:], "."), true
		}
	}
	return "", "", false
}

// kubeDNSEnv reads KUBE_DNS_SERVICE_HOST and its port.
func kubeDNSEnv(in Inputs) (addr netip.Addr, port int, ok bool, err error) {
	v, ok := in.Env["KUBE_DNS_SERVICE_HOST"]
	if !ok {
		return netip.Addr{}, 0, false, nil
	}
	addr, ok = parseIP(v)
	if !ok {
		return netip.Addr{}, 0, false, invalid("KUBE_DNS_SERVICE_HOST", v, "want the kube-dns Service's ClusterIP")
	}
	port = 53
	for _, name := range []string{"KUBE_DNS_SERVICE_PORT_DNS", "KUBE_DNS_SERVICE_PORT"} {
		if pv, ok := in.Env[name]; ok {
			p, ok := parsePort(pv)
			if !ok {
				return netip.Addr{}, 0, false, invalid(name, pv, "want a port number 1..65535")
			}
			port = p
			break
		}
	}
	return addr, port, true, nil
}

// KubeDNSResolv computes the "KUBE_DNS resolv.conf fix": what
// /etc/resolv.conf should carry when the pod has KUBE_DNS_SERVICE_HOST
// (it lives in the kube-dns Service's namespace, as pods in "default" did
// in 2014–2015) but its resolv.conf does not point at cluster DNS. ok is
// false when there is nothing to fix: no valid KUBE_DNS_SERVICE_HOST, or
// resolv.conf already lists that nameserver or a <ns>.svc.<domain> search
// domain (ClusterFirst, possibly through NodeLocal DNSCache).
//
// search is the kubelet's ClusterFirst list, <ns>.svc.<domain>,
// svc.<domain>, <domain>, followed by the existing search domains. The
// namespace is POD_NAMESPACE (downward API) or else "default"; the domain
// is CLUSTER_DOMAIN or else "cluster.local". The caller should also write
// "options ndots:5". resolv.conf cannot carry a port, so a
// KUBE_DNS_SERVICE_PORT other than 53 cannot be expressed; the
// cluster-dns source still uses it.
func KubeDNSResolv(in Inputs) (nameserver netip.Addr, search []string, ok bool) {
	addr, _, has, err := kubeDNSEnv(in)
	if err != nil || !has {
		return netip.Addr{}, nil, false
	}
	rc, _ := parseResolv(in.Resolv)
	if _, _, cf := kubeSearchDomain(rc.search); cf {
		return netip.Addr{}, nil, false
	}
	for _, s := range rc.servers {
		if a, ok := parseIP(s); ok && a == addr {
			return netip.Addr{}, nil, false
		}
	}
	ns := in.Env["POD_NAMESPACE"]
	if !validHostname(ns) || strings.Contains(ns, ".") {
		ns = "default"
	}
	domain := strings.TrimSuffix(in.Env["CLUSTER_DOMAIN"], ".")
	if !validHostname(domain) {
		domain = "cluster.local"
	}
	search = []string{ns + ".svc." + domain, "svc." + domain, domain}
	for _, s := range rc.search {
		if !slices.Contains(search, s) {
			search = append(search, s)
		}
	}
	return addr, search, true
}
