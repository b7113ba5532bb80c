package boot

// The Docker host's address as a container sees it: its default gateway.

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"strconv"
	"strings"
)

// Route flags of /proc/net/route (linux/route.h).
const (
	rtfUp      = 0x1
	rtfGateway = 0x2
)

// defaultGateway reads /proc/net/route: the gateway of the IPv4 default
// route (the lowest metric) and the subnet of its interface. On a Docker
// bridge network that gateway is the host's own address on the network.
// The kernel prints each address as the 32-bit word it keeps in network
// byte order, read in host byte order.
func defaultGateway(table []byte) (netip.Addr, netip.Prefix, bool) {
	type route struct {
		iface         string
		dst, gw       netip.Addr
		flags, metric uint64
		isDefault     bool
		maskLength    int
	}
	var routes []route
	for i, line := range strings.Split(string(table), "\n") {
		f := strings.Fields(line)
		if i == 0 || len(f) < 8 {
			continue
		}
		dst, ok1 := routeAddr(f[1])
		gw, ok2 := routeAddr(f[2])
		mask, ok3 := routeAddr(f[7])
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		metric, err2 := strconv.ParseUint(f[6], 10, 32)
		if !ok1 || !ok2 || !ok3 || err1 != nil || err2 != nil || flags&rtfUp == 0 {
			continue
		}
		m := binary.BigEndian.Uint32(mask.AsSlice())
		ones := bits.LeadingZeros32(^m)
		if bits.TrailingZeros32(m) != 32-ones && m != 0 {
			continue
		}
		routes = append(routes, route{iface: f[0], dst: dst, gw: gw, flags: flags, metric: metric,
			isDefault: m == 0 && dst == netip.IPv4Unspecified(), maskLength: ones})
	}
	var best *route
	for i := range routes {
		r := &routes[i]
		if r.isDefault && r.flags&rtfGateway != 0 && (best == nil || r.metric < best.metric) {
			best = r
		}
	}
	if best == nil {
		return netip.Addr{}, netip.Prefix{}, false
	}
	var subnet netip.Prefix
	for _, r := range routes {
		p := netip.PrefixFrom(r.dst, r.maskLength)
		if r.iface == best.iface && !r.isDefault && r.flags&rtfGateway == 0 && p.Contains(best.gw) {
			subnet = p
			break
		}
	}
	return best.gw, subnet, true
}

// routeAddr decodes one address column of /proc/net/route.
func routeAddr(hex string) (netip.Addr, bool) {
	v, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || len(hex) != 8 {
		return netip.Addr{}, false
	}
	var b [4]byte
	binary.NativeEndian.PutUint32(b[:], uint32(v))
	return netip.AddrFrom4(b), true
}
