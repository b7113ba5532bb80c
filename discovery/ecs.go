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

// The ECS container agent's task metadata: its variables, the shapes of
// its endpoint's and its file's JSON, and how they are read. Finding the
// master is ecsmaster.go; how this task is reached, ecsself.go.

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
