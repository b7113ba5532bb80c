package discovery

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// containerAwsvpc and containerBridge are the container metadata that the
// task metadata endpoint v4 (${ECS_CONTAINER_METADATA_URI_V4}) returns in
// awsvpc and bridge mode, in the form of the ECS developer guide's examples.
const containerAwsvpc = `{"DockerId":"8d1fe41","Name":"spark-worker","DockerName":"ecs-spark-7-spark-worker-a1b2c3",
 "Image":"123456789012.dkr.ecr.eu-west-1.amazonaws.com/spark:3.5","ImageID":"sha256:4f02",
 "DesiredStatus":"RUNNING","KnownStatus":"RUNNING","Limits":{"CPU":1024,"Memory":4096},"Type":"NORMAL",
 "Ports":[{"ContainerPort":8881,"Protocol":"tcp","HostPort":8881}],
 "Networks":[{"NetworkMode":"awsvpc","IPv4Addresses":["10.20.3.44"],"AttachmentIndex":0,
   "MACAddress":"0a:1b:2c:3d:4e:5f","IPv4SubnetCIDRBlock":"10.20.3.0/24",
   "DomainNameServers":["10.20.0.2"],"DomainNameSearchList":["eu-west-1.compute.internal"],
   "PrivateDNSName":"ip-10-20-3-44.eu-west-1.compute.internal","SubnetGatewayIpv4Address":"10.20.3.1/24"}]}`

const containerBridge = `{"DockerId":"c0ffee01","Name":"spark-worker","DockerName":"ecs-spark-7-spark-worker-d4e5f6",
 "Image":"spark:3.5","ImageID":"sha256:9a01","DesiredStatus":"RUNNING","KnownStatus":"RUNNING",
 "Limits":{"CPU":512,"Memory":2048},"Type":"NORMAL",
 "Ports":[{"ContainerPort":8881,"Protocol":"tcp","HostPort":32768,"HostIp":"0.0.0.0"},
          {"ContainerPort":8881,"Protocol":"tcp","HostPort":32768,"HostIp":"::"},
          {"ContainerPort":8081,"Protocol":"tcp","HostPort":32769,"HostIp":"0.0.0.0"},
          {"ContainerPort":9999,"Protocol":"udp","HostPort":32770,"HostIp":"0.0.0.0"}],
 "Networks":[{"NetworkMode":"bridge","IPv4Addresses":["172.17.0.3"]}]}`

const fileReady = `{"Cluster":"analytics","ContainerName":"spark-worker","MetadataFileStatus":"READY",
 "PortMappings":[{"ContainerPort":8881,"HostPort":32768,"BindIp":"0.0.0.0","Protocol":"tcp"},
                 {"ContainerPort":4040,"HostPort":32771,"BindIp":"0.0.0.0","Protocol":"tcp"}],
 "Networks":[{"NetworkMode":"bridge","IPv4Addresses":["172.17.0.3"]}],
 "HostPrivateIPv4Address":"10.20.1.17","HostPublicIPv4Address":"203.0.113.9"}`

const fileNotReady = `{"Cluster":"analytics","ContainerName":"spark-worker","MetadataFileStatus":"NOT_READY"}`

func TestECSSelf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		container string
		file      string // "" = no ECS_CONTAINER_METADATA_FILE
		wantHost  string
		wantPorts map[int]int
		wantErr   error
	}{
		{"awsvpc", containerAwsvpc, "", "10.20.3.44", map[int]int{8881: 8881}, nil},
		{"bridge with file", containerBridge, fileReady, "10.20.1.17", map[int]int{8881: 32768, 8081: 32769, 4040: 32771}, nil},
		{"bridge without file", containerBridge, "", "", nil, ErrNotFound},
		{"bridge file not ready", containerBridge, fileNotReady, "", nil, ErrNotFound},
		{"bridge file garbage", containerBridge, "{", "", nil, ErrNotFound},
		{"host", `{"Name":"w","Ports":[{"ContainerPort":8881,"HostPort":8881}],"Networks":[{"NetworkMode":"host"}]}`, fileReady,
			"10.20.1.17", map[int]int{8881: 8881, 4040: 4040}, nil},
		{"no networks", `{"Name":"w"}`, "", "", nil, ErrNotFound},
		{"awsvpc no address", `{"Name":"w","Networks":[{"NetworkMode":"awsvpc","IPv4Addresses":[""]}]}`, "", "", nil, ErrNotFound},
		{"mode none", `{"Name":"w","Networks":[{"NetworkMode":"none"}]}`, "", "", nil, ErrNotFound},
		{"malformed", `{"Name":`, "", "", nil, ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path != "/v4/abc" {
					http.NotFound(w, r)
					return
				}
				w.Write([]byte(tt.container))
			}))
			defer srv.Close()
			env := map[string]string{envECSMetadataURI: srv.URL + "/v4/abc"}
			if tt.file != "" {
				env[envECSMetadataFile] = "/ecs/metadata.json"
			}
			in := Inputs{Env: env, HTTP: srv.Client(), ReadFile: func(name string) ([]byte, error) {
				if name != "/ecs/metadata.json" {
					return nil, fs.ErrNotExist
				}
				return []byte(tt.file), nil
			}}
			s, err := ECSSelf(context.Background(), in)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("ECSSelf() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ECSSelf() error: %v", err)
			}
			if s.Host != tt.wantHost || !maps.Equal(s.Ports, tt.wantPorts) {
				t.Errorf("ECSSelf() = %s %v, want %s %v", s.Host, s.Ports, tt.wantHost, tt.wantPorts)
			}
			if hp, ok := s.HostPort(8881); !ok || hp != tt.wantPorts[8881] {
				t.Errorf("HostPort(8881) = %d, %v; want %d", hp, ok, tt.wantPorts[8881])
			}
		})
	}
}

func TestECSSelfNotOnECS(t *testing.T) {
	t.Parallel()
	if _, err := ECSSelf(context.Background(), Inputs{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("ECSSelf(no env) error = %v, want ErrNotFound", err)
	}
	in := Inputs{Env: map[string]string{envECSMetadataURI: "ftp://x/v4/a"}}
	if _, err := ECSSelf(context.Background(), in); !errors.Is(err, ErrInvalid) {
		t.Errorf("ECSSelf(%s=ftp://x/v4/a) error = %v, want ErrInvalid", envECSMetadataURI, err)
	}
}

// TestECSSelfBridgeName checks the instance's forward-confirmed DNS name,
// which a bridge-mode worker advertises (bound to its own address through
// /etc/hosts, resolved to the instance everywhere else).
func TestECSSelfBridgeName(t *testing.T) {
	t.Parallel()
	const ptr = "17.1.20.10.in-addr.arpa. 60 IN PTR ip-10-20-1-17.eu-west-1.compute.internal."
	tests := []struct {
		name     string
		zone     []string
		wantName string
		wantErr  string
	}{
		{"confirmed", []string{ptr, "ip-10-20-1-17.eu-west-1.compute.internal. 60 IN A 10.20.1.17"}, "ip-10-20-1-17.eu-west-1.compute.internal", ""},
		{"no PTR", nil, "", "PTR 17.1.20.10.in-addr.arpa at"},
		{"name resolves elsewhere", []string{ptr, "ip-10-20-1-17.eu-west-1.compute.internal. 60 IN A 10.20.1.99"}, "", "has address 10.20.1.99, not 10.20.1.17"},
		{"name does not resolve", []string{ptr}, "", "no name of 10.20.1.17 resolves back to it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(containerBridge)) }))
			defer srv.Close()
			in := Inputs{
				Env:       map[string]string{envECSMetadataURI: srv.URL + "/v4/abc", envECSMetadataFile: "/ecs/metadata.json"},
				HTTP:      srv.Client(),
				ReadFile:  func(string) ([]byte, error) { return []byte(fileReady), nil },
				DNSServer: startDNS(t, mustRRs(t, tt.zone...), false),
			}
			s, err := ECSSelf(context.Background(), in)
			if err != nil {
				t.Fatalf("ECSSelf() error: %v", err)
			}
			if s.Host != "10.20.1.17" || s.Name != tt.wantName {
				t.Errorf("ECSSelf() host %q name %q, want 10.20.1.17 and %q", s.Host, s.Name, tt.wantName)
			}
			switch {
			case tt.wantErr == "" && s.NameErr != nil:
				t.Errorf("ECSSelf() NameErr = %v", s.NameErr)
			case tt.wantErr != "" && (s.NameErr == nil || !strings.Contains(s.NameErr.Error(), tt.wantErr)):
				t.Errorf("ECSSelf() NameErr = %v, want one saying %q", s.NameErr, tt.wantErr)
			}
		})
	}
}
