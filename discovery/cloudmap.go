package discovery

import (
	"context"
	"fmt"
	"strings"
)

// envMasterSRV names the SRV record of the master (setting for cloudmap).
const envMasterSRV = "SPARK_MASTER_SRV"

// findCloudMap looks up the SRV record named by SPARK_MASTER_SRV, e.g.
// spark-master.spark.local for an ECS service registered in AWS Cloud Map
// (ECS service discovery) under service spark-master in the private DNS
// namespace spark.local. Cloud Map publishes the SRV record at the
// service name itself, one per task:
//
//	spark-master.spark.local SRV 1 1 32768 <task-id>.spark-master.spark.local.
//
// with the host port (bridge/host mode) or container port (awsvpc), plus
// an A record per target. Any other SRV name works too, e.g.
// _spark._tcp.example.com. The name goes through the resolv.conf search
// list; the server is Inputs.DNSServer or the first resolv.conf nameserver
// (the VPC resolver on ECS).
//
// The URL lists every target by name and SRV port, ordered by priority
// and weight: one target is the usual single master, several are standby
// masters. Target names change when a task is replaced, like its dynamic
// host port, so they are as stable as this record gets.
func findCloudMap(ctx context.Context, in Inputs) (Master, error) {
	name, ok := in.Env[envMasterSRV]
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Master{}, notFound("%s not set", envMasterSRV)
	}
	if !validHostname(name) {
		return Master{}, invalid(envMasterSRV, name, "want a DNS name such as spark-master.spark.local")
	}
	rc, _ := parseResolv(in.Resolv)
	r := resolver{search: rc.search, ndots: rc.ndots, origin: "resolv.conf"}
	switch {
	case in.DNSServer != "":
		r.server, r.origin = in.DNSServer, "DNS server override"
	case len(rc.servers) > 0:
		r.server = serverAddr(rc.servers[0])
	default:
		return Master{}, notFound("%s=%s but resolv.conf has no nameserver", envMasterSRV, name)
	}
	detail := []string{envMasterSRV + "=" + name, "nameserver " + r.server + " (" + r.origin + ")"}
	var tried []string
	for _, cand := range r.nameList(name) {
		srvs, resp, err := r.lookupSRV(ctx, cand)
		if err != nil {
			return Master{}, err
		}
		if len(srvs) == 0 {
			tried = append(tried, fmt.Sprintf("SRV %s %s", cand, rcodeText(resp, 0)))
			continue
		}
		hps := make([]string, len(srvs))
		for i, s := range srvs {
			target := strings.TrimSuffix(s.Target, ".")
			hps[i] = hostPort(target, int(s.Port))
			detail = append(detail, fmt.Sprintf("SRV %s -> %d %d %d %s", strings.TrimSuffix(cand, "."), s.Priority, s.Weight, s.Port, target))
		}
		return Master{URL: sparkURL(hps...), Detail: detail}, nil
	}
	return Master{}, notFound("at %s (%s): %s", r.server, r.origin, strings.Join(tried, ", "))
}
