package ecs_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/discovery/discoverytest"
	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// TestECSBridgeAdvertise runs a worker the way an ECS bridge-mode task
// does, on one docker host standing for the instance: the worker container
// publishes its RPC and web UI ports on the same host port numbers, on the
// host's address of a network this test creates (the "instance IP"), and
// gets ECS_CONTAINER_METADATA_URI_V4 (a server of this test on that
// address) and the container metadata file (mounted) naming that address
// and the mappings. A DNS server of this test on the same address, the
// containers' --dns, answers the instance's name both ways, as the VPC
// resolver does. The master runs in another container.
//
// The master must list the worker at the instance's name and the RPC port,
// with its web UI at the instance's IP, and both must reach the worker from
// inside the master's container; the worker's JVM must still bind inside
// its own container (it would not start otherwise), and so must the
// executors it launches with the same name: a job runs.
func TestECSBridgeAdvertise(t *testing.T) {
	e2e.Require(t)
	prefix := e2e.Name("ecsbridge")
	res := e2e.NewResources(t, prefix)
	network := prefix + "-net"
	res.Network(network)
	e2e.Run(t, "docker", "network", "create", "--driver", "bridge", network)
	gw := strings.TrimSpace(e2e.Run(t, "docker", "network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", network))
	if net.ParseIP(gw) == nil {
		t.Fatalf("network %s: gateway %q", network, gw)
	}
	instance := prefix + ".compute.internal"
	rev := reverseName(t, gw)
	discoverytest.StartDNSOn(t, net.JoinHostPort(gw, "53"), discoverytest.RRs(t,
		rev+" 60 IN PTR "+instance+".",
		instance+". 60 IN A "+gw,
	), false)

	rpc := e2e.FreePortPair(t)
	ui := rpc + 1
	// One executor port, mapped to the same host port as the task
	// definition maps each of ENTRYPOINT_EXECUTOR_PORTS (explain warns
	// otherwise).
	block := e2e.FreePortPair(t)
	mappings := []map[string]any{
		{"ContainerPort": rpc, "HostPort": rpc, "BindIp": gw, "Protocol": "tcp"},
		{"ContainerPort": ui, "HostPort": ui, "BindIp": gw, "Protocol": "tcp"},
		{"ContainerPort": block, "HostPort": block, "BindIp": gw, "Protocol": "tcp"},
	}
	metadata := bridgeJSON(t, map[string]any{
		"Cluster": "analytics", "ContainerName": "spark-worker", "MetadataFileStatus": "READY",
		"PortMappings": mappings, "HostPrivateIPv4Address": gw,
		"Networks": []map[string]any{{"NetworkMode": "bridge"}},
	})
	file := filepath.Join(t.TempDir(), "ecs-container-metadata.json")
	if err := os.WriteFile(file, metadata, 0o644); err != nil {
		t.Fatal(err)
	}
	var ports []map[string]any
	for _, m := range mappings {
		ports = append(ports, map[string]any{"ContainerPort": m["ContainerPort"], "HostPort": m["HostPort"], "HostIp": gw, "Protocol": "tcp"})
	}
	container := bridgeJSON(t, map[string]any{
		"Name": "spark-worker", "KnownStatus": "RUNNING", "Type": "NORMAL", "Ports": ports,
		"Networks": []map[string]any{{"NetworkMode": "bridge"}},
	})
	metaURL := bridgeMetadataServer(t, gw, container)

	master := prefix + "-spark-master"
	res.Container(master)
	e2e.Run(t, "docker", "run", "-d", "--name", master, "--network", network, "--dns", gw,
		"-p", "127.0.0.1::7077", "-p", "127.0.0.1::8080", "--stop-timeout", "10", "snufkin/spark-master:latest")
	worker := prefix + "-spark-worker"
	res.Container(worker)
	e2e.Run(t, "docker", "run", "-d", "--name", worker, "--network", network, "--dns", gw,
		"-p", fmt.Sprintf("%s:%d:%d", gw, rpc, rpc), "-p", fmt.Sprintf("%s:%d:%d", gw, ui, ui), "-p", fmt.Sprintf("%s:%d:%d", gw, block, block),
		"-e", "ENTRYPOINT_EXECUTOR_PORTS="+strconv.Itoa(block),
		"-v", file+":/ecs/metadata.json:ro",
		"-e", "SPARK_MASTER_URL=spark://"+master+":7077",
		"-e", "SPARK_WORKER_PORT="+strconv.Itoa(rpc), "-e", "SPARK_WORKER_WEBUI_PORT="+strconv.Itoa(ui),
		"-e", "ECS_CONTAINER_METADATA_URI_V4="+metaURL, "-e", "ECS_CONTAINER_METADATA_FILE=/ecs/metadata.json",
		"--stop-timeout", "10", "snufkin/spark-worker:latest")

	state, took := e2e.WaitAlive(t, e2e.Published(t, master, "8080/tcp"), 1, 3*time.Minute)
	t.Logf("worker ALIVE after %s: %+v", took, state.Workers)
	var listed struct {
		Workers []struct {
			ID, Host, State string
			Port            int
			WebUIAddress    string `json:"webuiaddress"`
		} `json:"workers"`
	}
	raw := e2e.Run(t, "docker", "exec", master, "python3", "-c",
		"import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:8080/json/',timeout=5).read().decode())")
	if err := json.Unmarshal([]byte(raw), &listed); err != nil || len(listed.Workers) != 1 {
		t.Fatalf("master /json/ (%v): want one worker:\n%s", err, raw)
	}
	w := listed.Workers[0]
	wantUI := fmt.Sprintf("http://%s:%d", gw, ui)
	if w.State != "ALIVE" || w.Host != instance || w.Port != rpc || w.WebUIAddress != wantUI {
		t.Errorf("master lists the worker as %s at %s:%d, UI %s; want ALIVE at %s:%d, UI %s", w.State, w.Host, w.Port, w.WebUIAddress, instance, rpc, wantUI)
	}

	// What the master and drivers would dial reaches the worker: its RPC
	// port through the instance's name, its UI (which names the worker's
	// id) through the instance's IP.
	probe := fmt.Sprintf(`import socket,urllib.request
socket.create_connection((%q,%d),timeout=5).close()
print(urllib.request.urlopen(%q,timeout=5).read().decode())`, instance, rpc, wantUI+"/json/")
	out, err := e2e.Try("docker", "exec", master, "python3", "-c", probe)
	if err != nil || !strings.Contains(out, w.ID) {
		t.Errorf("from the master's container, %s:%d and %s/json/ (worker %s): %v\n%s", instance, rpc, wantUI, w.ID, err, out)
	}

	// The executors get the worker's host as theirs and bind it too.
	e2e.Job(t, "spark://127.0.0.1:"+e2e.Published(t, master, "7077/tcp"), gw, 1)

	// Inside the worker the name is its own address, which the JVM bound.
	own := e2e.IP(t, worker)
	hosts := e2e.Run(t, "docker", "exec", worker, "cat", "/etc/hosts")
	if !strings.Contains(hosts, own+"\t"+instance) {
		t.Errorf("worker's /etc/hosts does not map %s to its own address %s:\n%s", instance, own, hosts)
	}
	out = e2e.Run(t, "docker", "exec", worker, "/usr/local/bin/entrypoint", "explain", "worker")
	var e struct {
		Advertise struct{ Host, Bind, Source string } `json:"advertise"`
		Warnings  []string                            `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &e); err != nil {
		t.Fatalf("explain: %v\n%s", err, out)
	}
	if e.Advertise.Source != "ecs-bridge" || e.Advertise.Host != instance || e.Advertise.Bind != own || len(e.Warnings) != 0 {
		t.Errorf("explain worker: advertise %+v, warnings %q; want %s bound to %s from ecs-bridge, no warnings", e.Advertise, e.Warnings, instance, own)
	}
}

// bridgeMetadataServer serves the task metadata endpoint v4 for the
// worker's container on addr (the instance's address, which the containers
// reach) and returns its URL.
func bridgeMetadataServer(t *testing.T, addr string, container []byte) string {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/spark-worker" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write(container)
	}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/v4/spark-worker"
}

func bridgeJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reverseName is the in-addr.arpa name of an IPv4 address.
func reverseName(t *testing.T, ip string) string {
	t.Helper()
	a := net.ParseIP(ip).To4()
	if a == nil {
		t.Fatalf("%s is not IPv4", ip)
	}
	return fmt.Sprintf("%d.%d.%d.%d.in-addr.arpa.", a[3], a[2], a[1], a[0])
}
