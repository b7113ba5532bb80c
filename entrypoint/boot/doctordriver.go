package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/snufkin/swarming-spark/discovery/etcformat"
)

// driverDialTimeout bounds one dial of a driver port. An executor that
// cannot reach its driver hangs for minutes before the job says anything;
// a few seconds tell an answer (accepted, refused) from silence (dropped).
const driverDialTimeout = 3 * time.Second

// driverTarget is doctor driver's argument: a driver's spark.driver.host
// and the ports the executors dial there.
type driverTarget struct {
	host  string
	ports []int
}

// parseDriverTarget reads HOST:PORT[,PORT...]; an IPv6 address goes in
// brackets, as in every host:port.
func parseDriverTarget(arg string) (driverTarget, error) {
	bad := func(why string) error {
		return fmt.Errorf("%w: doctor driver takes HOST:PORT[,PORT...] (spark.driver.host and its ports), got %q: %s", ErrUsage, arg, why)
	}
	var host, ports string
	if rest, ok := strings.CutPrefix(arg, "["); ok {
		h, after, ok := strings.Cut(rest, "]")
		if !ok || !strings.HasPrefix(after, ":") {
			return driverTarget{}, bad("a bracketed address must be followed by ]:PORT")
		}
		host, ports = h, after[1:]
		if a, err := netip.ParseAddr(host); err != nil || !a.Is6() {
			return driverTarget{}, bad("want an IPv6 address in brackets")
		}
	} else {
		i := strings.LastIndex(arg, ":")
		if i < 0 {
			return driverTarget{}, bad("no port")
		}
		host, ports = arg[:i], arg[i+1:]
		if strings.Contains(host, ":") {
			return driverTarget{}, bad("put an IPv6 address in brackets")
		}
		if !validDriverHost(host) {
			return driverTarget{}, bad("want a host name or an address")
		}
	}
	t := driverTarget{host: host}
	for _, p := range strings.Split(ports, ",") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return driverTarget{}, bad(fmt.Sprintf("port %q is not a number from 1 to 65535", p))
		}
		if !slices.Contains(t.ports, n) {
			t.ports = append(t.ports, n)
		}
	}
	return t, nil
}

// driverProbe is what doctor driver uses to reach the driver; the tests
// give it a resolver of their own and a shorter timeout.
type driverProbe struct {
	lookup  func(ctx context.Context, host string) ([]string, error)
	timeout time.Duration
}

// doctorDriver checks, from this container, what an executor here would
// do first: resolve spark.driver.host and open a TCP connection to each
// of the driver's ports. It writes nothing and needs no root.
func doctorDriver(t driverTarget, asJSON bool, w io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	probe := driverProbe{lookup: net.DefaultResolver.LookupHost, timeout: driverDialTimeout}
	return report(diagnoseDriver(ctx, t, probe), asJSON, w)
}

// diagnoseDriver resolves the host once and dials every port at once, so
// the whole check takes one timeout, however many ports fail.
func diagnoseDriver(ctx context.Context, t driverTarget, p driverProbe) []finding {
	var fs []finding
	addr, err := netip.ParseAddr(t.host)
	if err != nil {
		lctx, cancel := context.WithTimeout(ctx, p.timeout)
		addrs, lerr := p.lookup(lctx, t.host)
		cancel()
		var ips []netip.Addr
		for _, a := range addrs {
			if ip, err := netip.ParseAddr(a); err == nil {
				ips = append(ips, ip.Unmap())
			}
		}
		if len(ips) == 0 {
			if lerr == nil {
				lerr = errors.New("no address")
			}
			return []finding{{sevFail, "names", fmt.Sprintf("%s does not resolve here: %v", t.host, lerr),
				"spark.driver.host must be a name the cluster resolves (a driver container's name on the cluster's network, a pod's DNS name) or an address; " +
					"a name only the driver's machine knows (its hostname, a laptop's) reaches no executor: `entrypoint driver-conf` prints one that does"}}
		}
		// Executors take the first address the name resolves to.
		addr = ips[0]
		fs = append(fs, finding{sevOK, "names", fmt.Sprintf("%s is %s here", t.host, etcformat.JoinAddrs(ips)), ""})
	}
	addr = addr.Unmap()
	if addr.IsLoopback() || addr.IsUnspecified() {
		fs = append(fs, finding{sevWarn, "driver", fmt.Sprintf("%s is this container itself: an executor in another container dials its own loopback there, not the driver", t.host),
			"spark.driver.host must be an address of the driver's machine that the cluster reaches: `entrypoint driver-conf` prints it"})
	}
	results := make([]finding, len(t.ports))
	var wg sync.WaitGroup
	for i, port := range t.ports {
		wg.Go(func() {
			results[i] = dialDriver(ctx, t.host, netip.AddrPortFrom(addr, uint16(port)), p.timeout)
		})
	}
	wg.Wait()
	return append(fs, results...)
}

// dialDriver opens one TCP connection and names the likely cause of a
// failure from how it failed: a refusal is an answer from the driver's
// machine (nothing listens there, or a firewall rejects), silence is a
// firewall that drops, no route is an address the cluster cannot reach.
func dialDriver(ctx context.Context, host string, ap netip.AddrPort, timeout time.Duration) finding {
	what := net.JoinHostPort(host, strconv.Itoa(int(ap.Port())))
	if host != ap.Addr().String() {
		what += " (" + ap.String() + ")"
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(dctx, "tcp", ap.String())
	if err == nil {
		c.Close()
		return finding{sevOK, "driver", what + " accepts connections", ""}
	}
	port := ap.Port()
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return finding{sevFail, "driver", fmt.Sprintf("%s refused the connection: nothing listens there", what),
			fmt.Sprintf("start the driver with spark.driver.port or spark.driver.blockManager.port = %d (unset, Spark picks a random port) and spark.driver.bindAddress=0.0.0.0 "+
				"(bound to one address, such as 127.0.0.1, it refuses connections to the others); or a firewall on the driver's machine rejects port %d: let it in from the cluster", port, port)}
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return finding{sevFail, "driver", fmt.Sprintf("%s is not reachable from here: %v", what, unwrapSyscall(err)),
			"spark.driver.host is not reachable from the cluster: on a Docker host use the gateway of the containers' network, on Swarm or Kubernetes run the driver inside " +
				"(`entrypoint driver-conf` prints which); or a firewall on the driver's machine rejects it"}
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return finding{sevFail, "driver", fmt.Sprintf("%s does not answer within %s: the packets are dropped", what, timeout),
			fmt.Sprintf("a firewall on the driver's machine drops them (ufw, firewalld, an INPUT policy of DROP, a security group): let TCP port %d in from the cluster's network; "+
				"or spark.driver.host is an address the cluster cannot reach (another machine's LAN or VPN address)", port)}
	}
	return finding{sevFail, "driver", fmt.Sprintf("%s: %v", what, err),
		"check that spark.driver.host is reachable from the cluster, with spark.driver.bindAddress=0.0.0.0 and fixed ports, and the host's firewall"}
}

// unwrapSyscall is the errno in err when there is one: "no route to host"
// says it all, the dial's wrapping repeats the address.
func unwrapSyscall(err error) error {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return err
}
