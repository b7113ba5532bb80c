package boot

import (
	"errors"
	"net"
	"net/netip"
	"os"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/etcfiles"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

const hostsPath = "/etc/hosts"

// applyEtc makes the name a master binds and advertises resolve to this
// container: the Master JVM binds the address its --host resolves to
// (RpcEnv binds and advertises the same host, spark.md §2.4), so a name
// that only the cluster's DNS knows, or that resolves elsewhere, stops it.
// Writing /etc is best effort: without root or on a read-only root it says so
// once and goes on, and the JVM's own error will name the address it could
// not bind.
func applyEtc(p Plan, s settings.Settings, log zerolog.Logger) error {
	entries := hostsEntries(p)
	if len(entries) == 0 {
		return nil
	}
	switch {
	case !s.FixEtc:
		log.Info().Msg("ENTRYPOINT_FIX_ETC=false: /etc/hosts left as it is")
		return nil
	case os.Geteuid() != 0:
		log.Warn().Int("uid", os.Geteuid()).Msg("not root: /etc/hosts left as it is")
		return nil
	}
	changed, err := etcfiles.Apply(hostsPath, func(b []byte) ([]byte, error) {
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
	})
	switch {
	case errors.Is(err, etcfiles.ErrReadOnly):
		log.Warn().Err(err).Msg("/etc/hosts is read-only: left as it is")
		return nil
	case err != nil:
		return err
	case changed:
		log.Info().Str("file", hostsPath).Interface("entries", entries).Msg("added the node's own name")
	}
	return nil
}

// hostsEntries is what /etc/hosts must map for the node to bind its name.
func hostsEntries(p Plan) []etcfiles.HostEntry {
	if p.Role != sparkenv.Master || p.Host == "" {
		return nil
	}
	if _, err := netip.ParseAddr(p.Host); err == nil {
		return nil
	}
	addr, ok := ownAddr()
	if !ok {
		return nil
	}
	return []etcfiles.HostEntry{{Addr: addr, Names: []string{p.Host}}}
}

// ownAddr is the container's first global unicast address, IPv4 first, as
// Spark's own fallback picks it.
func ownAddr() (netip.Addr, bool) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return netip.Addr{}, false
	}
	var v6 netip.Addr
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if !ok || !ip.IsGlobalUnicast() {
			continue
		}
		ip = ip.Unmap()
		if ip.Is4() {
			return ip, true
		}
		if !v6.IsValid() {
			v6 = ip
		}
	}
	return v6, v6.IsValid()
}
