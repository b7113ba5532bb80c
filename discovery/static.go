package discovery

import (
	"context"
	"net/netip"
	"strings"
)

// envMasterURL is the static setting.
const envMasterURL = "SPARK_MASTER_URL"

// findStatic returns SPARK_MASTER_URL after validating it. An unset or
// empty variable is "not found" rather than invalid, so compose files can
// pass SPARK_MASTER_URL=${SPARK_MASTER_URL:-} through.
func findStatic(_ context.Context, in Inputs) (Master, error) {
	raw, ok := in.Env[envMasterURL]
	v := strings.TrimSpace(raw)
	if !ok || v == "" {
		return Master{}, notFound("%s not set", envMasterURL)
	}
	if err := validateMasterURL(v); err != nil {
		return Master{}, invalid(envMasterURL, raw, err.Error())
	}
	return Master{URL: v, Detail: []string{envMasterURL + "=" + v}}, nil
}

// urlError is the reason a master URL is malformed, without the variable
// name (the caller adds it).
type urlError string

func (e urlError) Error() string { return string(e) }

// validateMasterURL checks the shape Spark's standalone Worker accepts
// (Utils.extractHostPortFromSparkUrl for each comma-separated element):
// scheme spark, then host:port pairs with a port in 1..65535, IPv6
// literals in brackets, and nothing after the port.
func validateMasterURL(v string) error {
	rest, ok := strings.CutPrefix(v, "spark://")
	if !ok {
		return urlError("want spark://host:port[,host2:port2]")
	}
	if rest == "" {
		return urlError("no host:port after spark://")
	}
	for _, hp := range strings.Split(rest, ",") {
		if err := validateHostPort(hp); err != nil {
			return err
		}
	}
	return nil
}

func validateHostPort(hp string) error {
	if hp == "" {
		return urlError("empty host:port in list")
	}
	var host, port string
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return urlError("unclosed [ in " + hp)
		}
		host = hp[1:end]
		after := hp[end+1:]
		if !strings.HasPrefix(after, ":") {
			return urlError("want [ipv6]:port, got " + hp)
		}
		port = after[1:]
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return urlError("bad IPv6 address in " + hp)
		}
	} else {
		i := strings.LastIndexByte(hp, ':')
		if i < 0 {
			return urlError("missing port in " + hp)
		}
		host, port = hp[:i], hp[i+1:]
		if strings.Contains(host, ":") {
			return urlError("IPv6 address must be in brackets: " + hp)
		}
		if !validHostname(host) {
			return urlError("bad host in " + hp)
		}
	}
	if _, ok := parsePort(port); !ok {
		return urlError("port must be 1..65535 in " + hp)
	}
	return nil
}
