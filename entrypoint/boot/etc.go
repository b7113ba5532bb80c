package boot

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/etcfiles"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

const (
	hostsPath  = "/etc/hosts"
	resolvPath = "/etc/resolv.conf"
)

// applyEtc carries out the plan's /etc changes. Writing is best effort:
// without root, on a read-only root or with ENTRYPOINT_FIX_ETC=false it says
// so once and goes on, and the JVM's own error will name what it could not
// resolve or bind.
func applyEtc(p Plan, s settings.Settings, log zerolog.Logger) error {
	if len(p.Hosts) == 0 && p.Resolv == nil {
		return nil
	}
	switch {
	case !s.FixEtc:
		log.Info().Msg("ENTRYPOINT_FIX_ETC=false: /etc left as it is")
		return nil
	case os.Geteuid() != 0:
		log.Warn().Int("uid", os.Geteuid()).Msg("not root: /etc left as it is")
		return nil
	}
	if len(p.Hosts) > 0 {
		err := apply(hostsPath, func(b []byte) ([]byte, error) { return addMissingHosts(b, p.Hosts) }, log)
		if err != nil {
			return err
		}
	}
	if p.Resolv != nil {
		want := *p.Resolv
		return apply(resolvPath, func(b []byte) ([]byte, error) { return etcfiles.RewriteResolv(b, want) }, log)
	}
	return nil
}

func apply(path string, transform func([]byte) ([]byte, error), log zerolog.Logger) error {
	changed, err := etcfiles.Apply(path, transform)
	switch {
	case errors.Is(err, etcfiles.ErrReadOnly):
		log.Warn().Err(err).Str("file", path).Msg("read-only: left as it is")
		return nil
	case err != nil:
		return err
	case changed:
		log.Info().Str("file", path).Msg("rewrote the managed block")
	}
	return nil
}

// addMissingHosts maps only the names the file does not already resolve:
// the first matching line wins in /etc/hosts, and the platform's own line,
// where there is one, is the better answer.
func addMissingHosts(b []byte, entries []etcfiles.HostEntry) ([]byte, error) {
	var missing []etcfiles.HostEntry
	for _, e := range entries {
		for _, n := range e.Names {
			if len(etcfiles.LookupHosts(b, n)) == 0 {
				missing = append(missing, etcfiles.HostEntry{Addr: e.Addr, Names: []string{n}})
			}
		}
	}
	if len(missing) == 0 {
		return b, nil
	}
	return etcfiles.RewriteHosts(b, missing)
}

// hostsEntries is what /etc/hosts must map for a master to bind its name:
// the Master JVM binds the address its --host resolves to and advertises the
// same name (Master.scala gives --host to RpcEnv.create as both), so a
// name that only the cluster's DNS knows, or that resolves elsewhere,
// stops it. A master also maps its
// service name (spark-master) to itself, so that a driver started in its
// container by hand (spark-shell --master spark://spark-master:7077, as
// with the workers) finds it where no link or DNS name does.
//
// A worker's advertised name in ECS bridge mode (localName) is the
// instance's DNS name: the JVM must bind it here, so it maps to this
// container's address, although every other host resolves it to the
// instance.
func hostsEntries(p Plan, addrs []netip.Addr) []etcfiles.HostEntry {
	if p.Role != sparkenv.Master && !p.localName {
		return nil
	}
	var names []string
	if _, err := netip.ParseAddr(p.Host); err != nil && p.Host != "" {
		names = append(names, p.Host)
	}
	if p.Role == sparkenv.Master && p.service != "" && p.service != p.Host {
		names = append(names, p.service)
	}
	addr, ok := ownAddr(addrs)
	if !ok || len(names) == 0 {
		return nil
	}
	return []etcfiles.HostEntry{{Addr: addr, Names: names}}
}

// ownAddr is the first global unicast address of addrs (the container's),
// IPv4 first, as Spark's own fallback picks it.
func ownAddr(addrs []netip.Addr) (netip.Addr, bool) {
	var v6 netip.Addr
	for _, ip := range addrs {
		switch {
		case !ip.IsGlobalUnicast():
		case ip.Is4():
			return ip, true
		case !v6.IsValid():
			v6 = ip
		}
	}
	return v6, v6.IsValid()
}

// interfaceAddrs are the addresses of this network namespace.
func interfaceAddrs() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok {
				out = append(out, ip.Unmap())
			}
		}
	}
	return out
}

// bindableHost keeps a master's name when it resolves to an address of this
// container, which is what the JVM will bind. When it does not (/etc/hosts
// could not be written: not root, read-only root, ENTRYPOINT_FIX_ETC=false)
// the master binds and advertises its own address instead, as
// SPARK_LOCAL_IP would make it, rather than dying on a bind error. A
// worker's ECS bridge name (localName) falls back the same way, reachable
// from its own instance only.
func bindableHost(p Plan, resolver *net.Resolver, log zerolog.Logger) (Plan, error) {
	if (p.Role != sparkenv.Master && !p.localName) || p.Host == "" {
		return p, nil
	}
	if _, err := netip.ParseAddr(p.Host); err == nil {
		return p, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	addrs, _ := resolver.LookupHost(ctx, p.Host)
	own := interfaceAddrs()
	for _, a := range addrs {
		if ip, err := netip.ParseAddr(a); err == nil && slices.Contains(own, ip.Unmap()) {
			return p, nil
		}
	}
	ip, ok := ownAddr(own)
	if !ok {
		return p, nil
	}
	log.Warn().Str("name", p.Host).Strs("resolves_to", addrs).Str("instead", ip.String()).
		Msg("the " + string(p.Role) + "'s name does not resolve to this container: binding and advertising its address instead")
	p.Host, p.Node.Host = ip.String(), ip.String()
	argv, err := p.Node.Argv()
	p.Argv = argv
	return p, err
}
