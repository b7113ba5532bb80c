package discovery

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/snufkin/swarming-spark/discovery/etcformat"
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
// A target name names one task: when the task is replaced, its name goes
// and the new task gets another, and a worker that keeps dialling the
// name it was given (spark.worker.preferConfiguredMasterAddress) never
// finds the new master. So when the answer has a single target (one
// master) and the queried name itself has A or AAAA records, as Cloud Map
// publishes them at the service name for a service with both A and SRV
// records (awsvpc; the MULTIVALUE policy answers with every healthy
// task's address), the URL is that name with the SRV port: it outlives
// the task, and the port is the container port every task of the service
// shares. Otherwise (several targets, i.e. standby masters, each of which
// must be dialled by its own name; or no address record at the name, as
// in bridge and host mode where Cloud Map takes SRV records only) the URL
// lists every target by name and SRV port, ordered by priority and
// weight.
func findCloudMap(ctx context.Context, in Inputs) (Master, error) {
	name, ok := in.Env[envMasterSRV]
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Master{}, notFound("%s not set", envMasterSRV)
	}
	if !validHostname(name) {
		return Master{}, invalid(envMasterSRV, name, "want a DNS name such as spark-master.spark.local")
	}
	r, ok := resolvConfResolver(in)
	if !ok {
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
		service := strings.TrimSuffix(cand, ".")
		if len(srvs) > 1 {
			detail = append(detail, fmt.Sprintf("%d targets (standby masters): each by its own name", len(srvs)))
			return Master{URL: sparkURL(hps...), Detail: detail}, nil
		}
		// cand is absolute, so this asks at cand alone.
		h, err := r.lookupHost(ctx, cand)
		if errors.Is(err, ErrNotFound) {
			detail = append(detail, fmt.Sprintf("one target, no A/AAAA record at %s: the target name, which goes when its task is replaced", service))
			return Master{URL: sparkURL(hps...), Detail: detail}, nil
		}
		if err != nil {
			return Master{}, err
		}
		detail = append(detail, fmt.Sprintf("one target and %s has A/AAAA %s: the service name, which outlives the task", service, etcformat.JoinAddrs(h.addrs)))
		return Master{URL: sparkURL(hostPort(service, int(srvs[0].Port))), Detail: detail}, nil
	}
	return Master{}, notFound("at %s (%s): %s", r.server, r.origin, strings.Join(tried, ", "))
}
