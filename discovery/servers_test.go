package discovery

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/snufkin/swarming-spark/discovery/discoverytest"
)

// startDNS starts a loopback DNS server for the test and returns its
// address.
func startDNS(t *testing.T, records []dns.RR, truncate bool) string {
	t.Helper()
	return discoverytest.StartDNS(t, records, truncate).Addr
}

func mustRRs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	return discoverytest.RRs(t, lines...)
}
