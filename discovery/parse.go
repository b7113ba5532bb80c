package discovery

import (
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/snufkin/swarming-spark/discovery/etcformat"
)

// This file holds the small parsers shared by several sources.

// hostsLine is one parsed /etc/hosts entry.
type hostsLine struct {
	addr  netip.Addr
	names []string
	text  string // the line without its comment, fields joined by one space
}

// lookupHosts returns the first /etc/hosts line naming name
// (case-insensitively), the way glibc's files backend does.
func lookupHosts(hosts []byte, name string) (hostsLine, bool) {
	for _, l := range etcformat.HostsLines(hosts) {
		if l.Has(name) {
			return hostsLine{addr: l.Addr, names: l.Names, text: l.Addr.String() + " " + strings.Join(l.Names, " ")}, true
		}
	}
	return hostsLine{}, false
}

// validHostname reports whether s is a host name (etcformat.CheckHostname),
// with an optional trailing dot.
func validHostname(s string) bool {
	return etcformat.CheckHostname(strings.TrimSuffix(s, ".")) == nil
}

// parsePort parses a decimal TCP port 1..65535 (no sign, no leading "0x").
func parsePort(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, false
	}
	return p, true
}

// parseIP parses an address variable's value. Kubernetes and Docker write
// bare addresses (IPv6 unbracketed); brackets are tolerated.
func parseIP(s string) (netip.Addr, bool) {
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		s = s[1 : len(s)-1]
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, false
	}
	return a.Unmap(), true
}

// sparkURL builds spark://host:port[,host:port...], bracketing IPv6.
func sparkURL(hostPorts ...string) string {
	return "spark://" + strings.Join(hostPorts, ",")
}

func hostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
