package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"
)

// findECS finds a master container in this container's own ECS task: the
// NORMAL container whose task-definition name is Inputs.Service (first
// label), in KnownStatus RUNNING, read from ${ECS_CONTAINER_METADATA_URI_V4}/task.
//
// The address depends on the master container's network mode:
//
//	awsvpc  the task ENI address, shared by every container of the task
//	bridge  the container's bridge address: a container of the same task
//	        runs on the same instance, where 172.17.x is reachable
//	host    the instance's private IP from the container metadata file
//
// and the port is Inputs.Port, the container port. Masters in other tasks
// are found through Cloud Map (cloudmap) instead; ECS links (bridge mode)
// are ordinary Docker links (docker-links).
func findECS(ctx context.Context, in Inputs) (Master, error) {
	base, err := ecsBaseURL(in)
	if err != nil {
		return Master{}, err
	}
	body, err := ecsGet(ctx, in, base+"/task")
	if err != nil {
		return Master{}, err
	}
	return ecsMasterFromTask(in, base+"/task", body)
}

// ecsMasterFromTask is findECS after the HTTP request.
func ecsMasterFromTask(in Inputs, u string, body []byte) (Master, error) {
	var task ecsTask
	if err := json.Unmarshal(body, &task); err != nil {
		return Master{}, notFound("task metadata %s: %v", u, err)
	}
	name, _, _ := strings.Cut(in.Service, ".")
	var c *ecsContainer
	var names []string
	for i := range task.Containers {
		tc := &task.Containers[i]
		if tc.Type != "" && tc.Type != "NORMAL" {
			continue
		}
		names = append(names, tc.Name)
		if tc.Name == name {
			c = tc
		}
	}
	if c == nil {
		return Master{}, notFound("task %s has no container %q (containers: %s)", task.Family, name, strings.Join(names, ", "))
	}
	if c.KnownStatus != "RUNNING" {
		return Master{}, notFound("container %q of task %s is %s, not RUNNING", name, task.Family, c.KnownStatus)
	}
	detail := []string{fmt.Sprintf("task %s:%s container %s", task.Family, task.Revision, c.Name)}
	if len(c.Networks) == 0 {
		return Master{}, notFound("container %q has no Networks in the task metadata", name)
	}
	nw := c.Networks[0]
	detail = append(detail, "network mode "+nw.NetworkMode)
	var host netip.Addr
	switch nw.NetworkMode {
	case "awsvpc", "bridge":
		a, ok := firstAddr(nw)
		if !ok {
			return Master{}, notFound("container %q (%s) has no usable IPv4Addresses/IPv6Addresses", name, nw.NetworkMode)
		}
		host = a
	case "host":
		f, err := readECSMetadataFile(in)
		if err != nil {
			return Master{}, notFound("master container %q uses host networking, whose address only the metadata file has: %v", name, err)
		}
		a, ok := parseIP(f.HostPrivateIPv4Address)
		if !ok {
			return Master{}, notFound("%s has HostPrivateIPv4Address %q", envECSMetadataFile, f.HostPrivateIPv4Address)
		}
		host = a
	default:
		return Master{}, notFound("container %q has network mode %q", name, nw.NetworkMode)
	}
	detail = append(detail, "address "+host.String())
	return Master{URL: sparkURL(hostPort(host.String(), in.Port)), Detail: detail}, nil
}
