package discovery

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
)

// ECS environment variables set by the container agent.
const (
	envECSMetadataURI  = "ECS_CONTAINER_METADATA_URI_V4"
	envECSMetadataFile = "ECS_CONTAINER_METADATA_FILE"
)

// ecsContainer is the part of a task metadata v4 container object this
// package reads (aws/amazon-ecs-agent tmds response structs).
type ecsContainer struct {
	DockerID    string            `json:"DockerId"`
	Name        string            `json:"Name"`
	DockerName  string            `json:"DockerName"`
	KnownStatus string            `json:"KnownStatus"`
	Type        string            `json:"Type"`
	Labels      map[string]string `json:"Labels"`
	Ports       []ecsPort         `json:"Ports"`
	Networks    []ecsNetwork      `json:"Networks"`
}

type ecsPort struct {
	ContainerPort int    `json:"ContainerPort"`
	Protocol      string `json:"Protocol"`
	HostPort      int    `json:"HostPort"`
	HostIP        string `json:"HostIp"`
}

type ecsNetwork struct {
	NetworkMode    string   `json:"NetworkMode"`
	IPv4Addresses  []string `json:"IPv4Addresses"`
	IPv6Addresses  []string `json:"IPv6Addresses"`
	PrivateDNSName string   `json:"PrivateDNSName"`
}

type ecsTask struct {
	Cluster     string         `json:"Cluster"`
	TaskARN     string         `json:"TaskARN"`
	Family      string         `json:"Family"`
	Revision    string         `json:"Revision"`
	KnownStatus string         `json:"KnownStatus"`
	LaunchType  string         `json:"LaunchType"`
	Containers  []ecsContainer `json:"Containers"`
}

// ecsMetadataFile is the container metadata file
// (ECS_ENABLE_CONTAINER_METADATA=true on the agent).
type ecsMetadataFile struct {
	MetadataFileStatus     string `json:"MetadataFileStatus"`
	ContainerName          string `json:"ContainerName"`
	HostPrivateIPv4Address string `json:"HostPrivateIPv4Address"`
	PortMappings           []struct {
		ContainerPort int    `json:"ContainerPort"`
		HostPort      int    `json:"HostPort"`
		BindIP        string `json:"BindIp"`
		Protocol      string `json:"Protocol"`
	} `json:"PortMappings"`
	Networks []ecsNetwork `json:"Networks"`
}

// maxECSBody caps a metadata response; real ones are a few kilobytes.
const maxECSBody = 1 << 20

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

// ecsBaseURL validates ECS_CONTAINER_METADATA_URI_V4.
func ecsBaseURL(in Inputs) (string, error) {
	v, ok := in.Env[envECSMetadataURI]
	if !ok || v == "" {
		return "", notFound("%s not set (not on ECS, or agent older than 1.39.0)", envECSMetadataURI)
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return "", invalid(envECSMetadataURI, v, "want http://host/v4/<id>")
	}
	return strings.TrimSuffix(v, "/"), nil
}

// ecsGet fetches one metadata document. Transport failures and non-200
// answers are retryable (the agent restarts and answers before the task is
// fully described), and so are undecodable bodies, which the callers
// report as ErrNotFound.
func ecsGet(ctx context.Context, in Inputs, u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, invalid(envECSMetadataURI, in.Env[envECSMetadataURI], err.Error())
	}
	resp, err := in.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("task metadata: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxECSBody))
	if err != nil {
		return nil, fmt.Errorf("task metadata %s: %w", u, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, notFound("task metadata %s: HTTP %s", u, resp.Status)
	}
	return body, nil
}

// readECSMetadataFile reads and decodes ECS_CONTAINER_METADATA_FILE. Its
// errors (missing variable or file, status other than READY) are plain;
// callers wrap them in ErrNotFound.
func readECSMetadataFile(in Inputs) (ecsMetadataFile, error) {
	path, ok := in.Env[envECSMetadataFile]
	if !ok || path == "" {
		return ecsMetadataFile{}, fmt.Errorf("%s not set (enable ECS_ENABLE_CONTAINER_METADATA=true on the agent)", envECSMetadataFile)
	}
	b, err := in.ReadFile(path)
	if err != nil {
		return ecsMetadataFile{}, fmt.Errorf("%s: %v", envECSMetadataFile, err)
	}
	var f ecsMetadataFile
	if err := json.Unmarshal(b, &f); err != nil {
		return ecsMetadataFile{}, fmt.Errorf("%s=%s: %v", envECSMetadataFile, path, err)
	}
	if f.MetadataFileStatus != "READY" {
		return ecsMetadataFile{}, fmt.Errorf("%s=%s: MetadataFileStatus %q, not READY yet", envECSMetadataFile, path, f.MetadataFileStatus)
	}
	return f, nil
}

// firstAddr returns the first usable address of a network, IPv4 first.
func firstAddr(nw ecsNetwork) (netip.Addr, bool) {
	for _, s := range slices.Concat(nw.IPv4Addresses, nw.IPv6Addresses) {
		if a, ok := parseIP(s); ok && !a.IsUnspecified() {
			return a, true
		}
	}
	return netip.Addr{}, false
}

func isTCP(proto string) bool { return proto == "" || strings.EqualFold(proto, "tcp") }
