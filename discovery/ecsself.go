package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
)

// Self is how other hosts reach this container on ECS.
type Self struct {
	// NetworkMode is awsvpc, bridge or host.
	NetworkMode string
	// Host is the address to advertise: the task ENI address (awsvpc) or
	// the instance's private IPv4 address (bridge, host).
	Host string
	// Ports maps container ports to the ports reachable on Host: the
	// dynamic host ports in bridge mode, the same ports otherwise. Only
	// TCP ports the task definition maps are listed.
	Ports map[int]int
	// Name is, in bridge mode, a DNS name of Host that resolves back to
	// it (see instanceName), or "" when there is none; NameErr then says
	// why (a failed query is not retried: the worker starts without it).
	Name    string
	NameErr error
	// Detail lists the facts used, as in Master.Detail.
	Detail []string
}

// HostPort returns the port on Host that reaches containerPort.
func (s Self) HostPort(containerPort int) (int, bool) {
	p, ok := s.Ports[containerPort]
	return p, ok
}

// ECSSelf returns this container's own advertise address and host ports on
// ECS, for a worker's --host, SPARK_PUBLIC_DNS and port checks. It reads
// ${ECS_CONTAINER_METADATA_URI_V4} and, in bridge and host mode, the
// container metadata file named by ECS_CONTAINER_METADATA_FILE, because the
// v4 endpoint never carries the instance's IP; in bridge mode it also asks
// DNS for the instance's name (Self.Name). A metadata file that is not
// READY yet gives ErrNotFound, so the caller can retry.
func ECSSelf(ctx context.Context, in Inputs) (Self, error) {
	in = in.withDefaults()
	base, err := ecsBaseURL(in)
	if err != nil {
		return Self{}, err
	}
	body, err := ecsGet(ctx, in, base)
	if err != nil {
		return Self{}, err
	}
	return ecsSelfFromContainer(ctx, in, base, body)
}

// ecsSelfFromContainer is ECSSelf after the HTTP request.
func ecsSelfFromContainer(ctx context.Context, in Inputs, u string, body []byte) (Self, error) {
	var c ecsContainer
	if err := json.Unmarshal(body, &c); err != nil {
		return Self{}, notFound("task metadata %s: %v", u, err)
	}
	if len(c.Networks) == 0 {
		return Self{}, notFound("container %q has no Networks in %s", c.Name, envECSMetadataURI)
	}
	nw := c.Networks[0]
	s := Self{NetworkMode: nw.NetworkMode, Ports: map[int]int{}}
	s.Detail = append(s.Detail, fmt.Sprintf("container %s, network mode %s", c.Name, nw.NetworkMode))
	switch nw.NetworkMode {
	case "awsvpc":
		a, ok := firstAddr(nw)
		if !ok {
			return Self{}, notFound("awsvpc container %q has no usable IPv4Addresses/IPv6Addresses", c.Name)
		}
		s.Host = a.String()
		s.Detail = append(s.Detail, "task ENI address "+s.Host)
		for _, p := range c.Ports {
			if isTCP(p.Protocol) && p.ContainerPort > 0 {
				s.Ports[p.ContainerPort] = p.ContainerPort
			}
		}
	case "bridge", "host":
		f, err := readECSMetadataFile(in)
		if err != nil {
			return Self{}, notFound("%s mode needs the instance IP: %v", nw.NetworkMode, err)
		}
		a, ok := parseIP(f.HostPrivateIPv4Address)
		if !ok {
			return Self{}, notFound("%s has HostPrivateIPv4Address %q", envECSMetadataFile, f.HostPrivateIPv4Address)
		}
		s.Host = a.String()
		s.Detail = append(s.Detail, "instance address "+s.Host+" from "+envECSMetadataFile)
		add := func(cp, hp int, proto string) {
			if !isTCP(proto) || cp < 1 || cp > 65535 || hp < 1 || hp > 65535 {
				return
			}
			if nw.NetworkMode == "host" {
				hp = cp
			}
			if _, dup := s.Ports[cp]; !dup {
				s.Ports[cp] = hp
			}
		}
		for _, p := range c.Ports {
			add(p.ContainerPort, p.HostPort, p.Protocol)
		}
		for _, p := range f.PortMappings {
			add(p.ContainerPort, p.HostPort, p.Protocol)
		}
	default:
		return Self{}, notFound("container %q has network mode %q", c.Name, nw.NetworkMode)
	}
	if nw.NetworkMode == "bridge" {
		if a, err := netip.ParseAddr(s.Host); err == nil {
			var d []string
			s.Name, d, s.NameErr = instanceName(ctx, in, a)
			s.Detail = append(s.Detail, d...)
		}
	}
	cps := make([]int, 0, len(s.Ports))
	for cp := range s.Ports {
		cps = append(cps, cp)
	}
	slices.Sort(cps)
	for _, cp := range cps {
		s.Detail = append(s.Detail, fmt.Sprintf("container port %d is %s", cp, hostPort(s.Host, s.Ports[cp])))
	}
	return s, nil
}
