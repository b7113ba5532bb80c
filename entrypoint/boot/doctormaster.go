package boot

// doctor's checks of the master as the network shows it: its name, its
// RPC port, its clock.

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"time"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/discovery/etcformat"
	"github.com/snufkin/swarming-spark/entrypoint/etcfiles"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// maxSkew is the clock difference doctor calls a problem. The HTTP Date
// header has one-second resolution and the round trip adds some more, so
// anything below a few seconds is noise; Spark's own timeouts (heartbeats,
// the worker timeout of 60 s) and the event log's timestamps start to lie
// well before a minute.
const maxSkew = 5 * time.Second

// checkNames compares the master's name as this container resolves it
// (/etc/hosts first, as getaddrinfo does) with what the DNS server in
// resolv.conf says. Inside a container "outside" can only honestly mean
// the platform's DNS: the view every other container on the network
// shares, where /etc/hosts is this container's alone. They differ when a
// hosts line went stale (a linked master restarted on a new address) or an
// --add-host pins the name elsewhere.
func checkNames(ctx context.Context, role sparkenv.Role, host string, d doctorInputs) ([]netip.Addr, []finding) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, []finding{{sevOK, "names", host + " is an address: nothing to resolve", ""}}
	}
	var fs []finding
	inside, where := etcfiles.LookupHosts(d.in.Hosts, host), d.hostsFile
	if len(inside) == 0 {
		where = "resolver"
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		got, err := d.lookup(lctx, host)
		cancel()
		for _, a := range got {
			if ip, err := netip.ParseAddr(a); err == nil {
				inside = append(inside, ip.Unmap())
			}
		}
		if len(inside) == 0 {
			fix := "make the name resolvable here: use a network the master is on (Docker DNS), the Service name (Kubernetes), or SPARK_MASTER_URL with an address"
			if role == sparkenv.Master {
				return nil, []finding{{sevWarn, "names", fmt.Sprintf("%s does not resolve here (%v): the master will bind and advertise its address instead", host, err),
					"let the entrypoint map it in /etc/hosts (run as root, writable /etc), or set SPARK_MASTER_HOST to a name that resolves to this container"}}
			}
			return nil, []finding{{sevFail, "names", fmt.Sprintf("%s does not resolve here: %v", host, err), fix}}
		}
	}
	outside, server, err := discovery.LookupHost(ctx, d.in, host)
	switch {
	case err != nil:
		fs = append(fs, finding{sevWarn, "names", fmt.Sprintf("%s is %s here (%s); the DNS server could not be asked: %v", host, etcformat.JoinAddrs(inside), where, err),
			"check the nameserver lines of resolv.conf"})
	case len(outside) == 0:
		fs = append(fs, finding{sevOK, "names", fmt.Sprintf("%s is %s here (%s); DNS at %s does not know it, so only this container uses that answer", host, etcformat.JoinAddrs(inside), where, server), ""})
	case !overlap(inside, outside):
		fs = append(fs, finding{sevFail, "names", fmt.Sprintf("%s is %s here (%s) but %s at the DNS server %s", host, etcformat.JoinAddrs(inside), where, etcformat.JoinAddrs(outside), server),
			"a stale /etc/hosts line (a linked master that restarted on a new address, or --add-host): recreate this container, or drop the link and use the service name on a user-defined network"})
	default:
		fs = append(fs, finding{sevOK, "names", fmt.Sprintf("%s is %s here (%s) and at the DNS server %s", host, etcformat.JoinAddrs(inside), where, server), ""})
	}
	if role == sparkenv.Master && len(d.ownAddrs) > 0 && !overlap(inside, d.ownAddrs) {
		fs = append(fs, finding{sevWarn, "names", fmt.Sprintf("%s is not an address of this container (%s): the master binds and advertises its address instead", host, etcformat.JoinAddrs(d.ownAddrs)),
			"set SPARK_MASTER_HOST to this container's name, or leave it unset (the hostname)"})
	}
	return inside, fs
}

// checkDial opens a TCP connection to the master's RPC port, as the worker
// will; for a master, nothing listening is normal before it starts.
func checkDial(ctx context.Context, role sparkenv.Role, host string, port int, addrs []netip.Addr) finding {
	if len(addrs) == 0 {
		return finding{sevSkip, "connect", host + " does not resolve", ""}
	}
	var d net.Dialer
	var last error
	for _, a := range addrs {
		dctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		c, err := d.DialContext(dctx, "tcp", netip.AddrPortFrom(a, uint16(port)).String())
		cancel()
		if err == nil {
			c.Close()
			return finding{sevOK, "connect", fmt.Sprintf("%s:%d (%s) accepts connections", host, port, a), ""}
		}
		last = err
	}
	if role == sparkenv.Master {
		return finding{sevSkip, "connect", fmt.Sprintf("nothing listens on %s:%d yet (%v): normal before the master starts", host, port, last), ""}
	}
	return finding{sevFail, "connect", fmt.Sprintf("the master at %s:%d does not answer: %v", host, port, last),
		"start the master, or put this container on the master's network; check SPARK_MASTER_PORT and firewalls (security groups, NetworkPolicy)"}
}

// checkClock compares this container's clock with the master's: its web UI
// stamps every answer with a Date header. Containers share their host's
// clock, so a skew means two hosts disagree.
func checkClock(ctx context.Context, host string, addrs []netip.Addr, uiPort int) finding {
	if len(addrs) == 0 {
		return finding{sevSkip, "clock", "the master's name does not resolve", ""}
	}
	url := "http://" + netip.AddrPortFrom(addrs[0], uint16(uiPort)).String() + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, url, nil)
	if err != nil {
		return finding{sevSkip, "clock", err.Error(), ""}
	}
	c := &http.Client{Timeout: 3 * time.Second}
	start := time.Now()
	resp, err := c.Do(req)
	end := time.Now()
	if err != nil {
		return finding{sevSkip, "clock", fmt.Sprintf("the master's web UI at %s does not answer (SPARK_MASTER_WEBUI_PORT): %v", url, err), ""}
	}
	resp.Body.Close()
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return finding{sevSkip, "clock", fmt.Sprintf("%s sent no usable Date header", url), ""}
	}
	// Date is truncated to the second: its middle is half a second later.
	// The server stamped it somewhere in the round trip: compare with the
	// middle of that, too.
	skew := date.Add(500 * time.Millisecond).Sub(start.Add(end.Sub(start) / 2))
	if skew.Abs() > maxSkew {
		return finding{sevFail, "clock", fmt.Sprintf("the master's clock is %s %s this container's (Date header of %s)", skew.Abs().Round(time.Second), aheadBehind(skew), url),
			"run NTP (chrony, systemd-timesyncd) on the hosts of both containers; containers use their host's clock"}
	}
	return finding{sevOK, "clock", fmt.Sprintf("within %s of the master's (%s apart)", maxSkew, skew.Abs().Round(time.Second)), ""}
}

func aheadBehind(d time.Duration) string {
	if d > 0 {
		return "ahead of"
	}
	return "behind"
}

func overlap(a, b []netip.Addr) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
