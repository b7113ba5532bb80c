// Package swarm_test checks images/swarm/stack.yml: that `docker stack
// config` accepts it, what discovery and stopping depend on, and, end to
// end, a real `docker stack deploy` on a single-node swarm.
package swarm_test

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

var file = filepath.Join(e2e.Root, "images", "swarm", "stack.yml")

type stack struct {
	Version  *string            `json:"version"`
	Services map[string]svc     `json:"services"`
	Networks map[string]network `json:"networks"`
}

type svc struct {
	Image           string            `json:"image"`
	Command         []string          `json:"command"`
	Networks        []string          `json:"networks"`
	Environment     map[string]string `json:"environment"`
	StopGracePeriod string            `json:"stop_grace_period"`
	Links           []string          `json:"links"`
	DependsOn       any               `json:"depends_on"`
	ContainerName   string            `json:"container_name"`
	Volumes         []string          `json:"volumes"`
	Ports           []struct {
		Target    int    `json:"target"`
		Published any    `json:"published"`
		Mode      string `json:"mode"`
	} `json:"ports"`
	Healthcheck *struct {
		Test []string `json:"test"`
	} `json:"healthcheck"`
	Deploy struct {
		Replicas     int    `json:"replicas"`
		EndpointMode string `json:"endpoint_mode"`
	} `json:"deploy"`
}

type network struct {
	Driver     string `json:"driver"`
	Attachable bool   `json:"attachable"`
}

func TestStackConfig(t *testing.T) {
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("no docker CLI")
	}
	// Client-side only: parses, validates against the schema, merges.
	out, err := exec.Command("docker", "stack", "config", "-c", file).CombinedOutput()
	if err != nil {
		t.Fatalf("docker stack config: %v\n%s", err, out)
	}
}

func TestStack(t *testing.T) {
	docs := e2e.LoadYAML(t, file)
	if len(docs) != 1 {
		t.Fatalf("%d documents", len(docs))
	}
	var s stack
	if err := json.Unmarshal(docs[0], &s); err != nil {
		t.Fatal(err)
	}
	// Docker 20.10's `docker stack deploy` needs a 3.x version; the
	// multi-node test deploys the file with that CLI.
	if s.Version == nil || !strings.HasPrefix(*s.Version, "3.") {
		t.Errorf("version: %v, want 3.x for docker stack deploy of Docker 20.10", s.Version)
	}
	m, ok := s.Services["spark-master"]
	if !ok {
		t.Fatal("no service spark-master: the workers look up tasks.spark-master")
	}
	w, ok := s.Services["worker"]
	if !ok {
		t.Fatal("no service worker")
	}
	if w.Deploy.Replicas != 3 {
		t.Errorf("worker replicas %d, want 3", w.Deploy.Replicas)
	}
	if m.Deploy.Replicas != 1 {
		t.Errorf("spark-master replicas %d, want 1 (standby masters need ZooKeeper)", m.Deploy.Replicas)
	}
	for name, sv := range s.Services {
		if img, _, _ := strings.Cut(sv.Image, ":"); img != "snufkin/spark-master" && img != "snufkin/spark-worker" {
			t.Errorf("%s: image %s", name, sv.Image)
		}
		if len(sv.Links) > 0 || sv.DependsOn != nil || sv.ContainerName != "" {
			t.Errorf("%s: links, depends_on and container_name are ignored by docker stack deploy", name)
		}
		for _, n := range sv.Networks {
			if nw, ok := s.Networks[n]; !ok || nw.Driver != "overlay" {
				t.Errorf("%s: network %s is not an overlay network of the stack", name, n)
			}
		}
		if len(sv.Networks) == 0 {
			t.Errorf("%s: on no network of the stack", name)
		}
		grace := 8 * time.Second
		if v, ok := sv.Environment["ENTRYPOINT_GRACE"]; ok {
			var err error
			if grace, err = time.ParseDuration(v); err != nil {
				t.Errorf("%s: ENTRYPOINT_GRACE=%q: %v", name, v, err)
			}
		}
		sg, err := time.ParseDuration(sv.StopGracePeriod)
		if err != nil || sg < grace+time.Second {
			t.Errorf("%s: stop_grace_period %q should exceed ENTRYPOINT_GRACE %s", name, sv.StopGracePeriod, grace)
		}
		if sv.Healthcheck == nil || len(sv.Healthcheck.Test) == 0 || sv.Healthcheck.Test[0] != "CMD" {
			t.Errorf("%s: no exec-form healthcheck", name)
		}
		if sv.Deploy.EndpointMode == "dnsrr" {
			for _, p := range sv.Ports {
				if p.Mode != "host" {
					t.Errorf("%s: endpoint_mode dnsrr cannot publish port %d through ingress; use mode: host", name, p.Target)
				}
			}
		}
	}
	if !strings.Contains(w.Environment["SPARK_WORKER_OPTS"], "spark.decommission.enabled=true") {
		t.Errorf("worker: SPARK_WORKER_OPTS should enable decommission")
	}
	// Clients outside reach the Connect server on the port its node
	// publishes; its health check is the role's own.
	c, ok := s.Services["connect"]
	switch {
	case !ok:
		t.Error("no service connect")
	case strings.Join(c.Command, " ") != "connect" || c.Healthcheck == nil || strings.Join(c.Healthcheck.Test, " ") != "CMD /usr/local/bin/entrypoint ready connect":
		t.Errorf("connect: command %q, healthcheck %+v", c.Command, c.Healthcheck)
	case len(c.Ports) != 1 || c.Ports[0].Target != 15002 || c.Ports[0].Mode != "host":
		t.Errorf("connect: ports %+v, want 15002 published in host mode", c.Ports)
	}
	// The history server reads what the Connect server writes: the same
	// volume at the event-log directory of both.
	h, ok := s.Services["history"]
	const events = "spark-events:/var/lib/spark/events"
	switch {
	case !ok:
		t.Error("no service history")
	case strings.Join(h.Command, " ") != "history" || h.Healthcheck == nil || strings.Join(h.Healthcheck.Test, " ") != "CMD /usr/local/bin/entrypoint ready history":
		t.Errorf("history: command %q, healthcheck %+v", h.Command, h.Healthcheck)
	case len(h.Ports) != 1 || h.Ports[0].Target != 18080 || h.Ports[0].Mode != "host":
		t.Errorf("history: ports %+v, want 18080 published in host mode", h.Ports)
	case !slices.Contains(h.Volumes, events) || !slices.Contains(c.Volumes, events):
		t.Errorf("history %q and connect %q do not both mount %s", h.Volumes, c.Volumes, events)
	}
}
