// Package ecs_test checks the shape of the ECS task definitions in
// images/ecs: known ECS fields only, snufkin images, essential flags,
// ports, health checks, stop timeouts that fit ENTRYPOINT_GRACE, links and
// dependencies that name containers of the task, secrets, the ambassador
// wiring of the bridge-mode worker and the Connect server's task.
package ecs_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

var dir = filepath.Join(e2e.Root, "images", "ecs")

// taskDef lists the RegisterTaskDefinition fields these files may use;
// decoding with DisallowUnknownFields turns a misspelt field into an error
// (ECS itself rejects unknown fields).
type taskDef struct {
	Family                  string   `json:"family"`
	NetworkMode             string   `json:"networkMode"`
	RequiresCompatibilities []string `json:"requiresCompatibilities"`
	CPU                     string   `json:"cpu"`
	Memory                  string   `json:"memory"`
	TaskRoleArn             string   `json:"taskRoleArn"`
	ExecutionRoleArn        string   `json:"executionRoleArn"`
	ContainerDefinitions    []cdef   `json:"containerDefinitions"`
	Volumes                 []volume `json:"volumes"`
}

// volume is a task's volume: an EFS file system (the same one in every
// task that names it) or, without a configuration, a Docker volume of the
// task's own, shared by its containers and gone with it.
type volume struct {
	Name                   string `json:"name"`
	EFSVolumeConfiguration *struct {
		FileSystemID        string `json:"fileSystemId"`
		TransitEncryption   string `json:"transitEncryption"`
		AuthorizationConfig *struct {
			AccessPointID string `json:"accessPointId"`
			IAM           string `json:"iam"`
		} `json:"authorizationConfig"`
	} `json:"efsVolumeConfiguration"`
}

type mountPoint struct {
	SourceVolume  string `json:"sourceVolume"`
	ContainerPath string `json:"containerPath"`
	ReadOnly      bool   `json:"readOnly"`
}

type cdef struct {
	Name              string        `json:"name"`
	Image             string        `json:"image"`
	Essential         *bool         `json:"essential"`
	Command           []string      `json:"command"`
	EntryPoint        []string      `json:"entryPoint"`
	Memory            int           `json:"memory"`
	MemoryReservation int           `json:"memoryReservation"`
	CPU               int           `json:"cpu"`
	Links             []string      `json:"links"`
	PortMappings      []portMapping `json:"portMappings"`
	Environment       []kv          `json:"environment"`
	Secrets           []secret      `json:"secrets"`
	DependsOn         []struct {
		ContainerName string `json:"containerName"`
		Condition     string `json:"condition"`
	} `json:"dependsOn"`
	HealthCheck *struct {
		Command     []string `json:"command"`
		Interval    int      `json:"interval"`
		Timeout     int      `json:"timeout"`
		Retries     int      `json:"retries"`
		StartPeriod int      `json:"startPeriod"`
	} `json:"healthCheck"`
	MountPoints      []mountPoint    `json:"mountPoints"`
	StopTimeout      *int            `json:"stopTimeout"`
	StartTimeout     int             `json:"startTimeout"`
	LogConfiguration json.RawMessage `json:"logConfiguration"`
}

type portMapping struct {
	Name          string `json:"name"`
	ContainerPort int    `json:"containerPort"`
	HostPort      *int   `json:"hostPort"`
	Protocol      string `json:"protocol"`
}

type kv struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// secret is a variable the agent fills, at the task's start, from an SSM
// parameter or a Secrets Manager secret, with the task execution role.
type secret struct {
	Name      string `json:"name"`
	ValueFrom string `json:"valueFrom"`
}

// secret is the valueFrom of the secret variable name.
func (c cdef) secret(name string) (string, bool) {
	for _, s := range c.Secrets {
		if s.Name == name {
			return s.ValueFrom, true
		}
	}
	return "", false
}

func (c cdef) env(name string) (string, bool) {
	for _, e := range c.Environment {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

func (c cdef) port(p int) (portMapping, bool) {
	for _, m := range c.PortMappings {
		if m.ContainerPort == p {
			return m, true
		}
	}
	return portMapping{}, false
}

// mappedOneToOne says whether the container maps port p to the same,
// fixed host port.
func (c cdef) mappedOneToOne(p int) bool {
	m, mapped := c.port(p)
	return mapped && m.HostPort != nil && *m.HostPort == p
}

func load(t *testing.T, file string) taskDef {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var td taskDef
	if err := dec.Decode(&td); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return td
}

// The files and what each must hold: its network mode, and the role of
// its container spark-<role>, run from snufkin/<image>. The Connect server
// has no bridge-mode task (README.md: a driver behind the instance's NAT).
var files = map[string]struct {
	mode, role, image string
}{
	"master-awsvpc.json":  {"awsvpc", "master", "spark-master"},
	"worker-awsvpc.json":  {"awsvpc", "worker", "spark-worker"},
	"master-bridge.json":  {"bridge", "master", "spark-master"},
	"worker-bridge.json":  {"bridge", "worker", "spark-worker"},
	"connect-awsvpc.json": {"awsvpc", "connect", "spark-worker"},
}

func TestTaskDefinitionFiles(t *testing.T) {
	got, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	for _, g := range got {
		if _, ok := files[filepath.Base(g)]; !ok {
			t.Errorf("%s is not checked by this test", filepath.Base(g))
		}
	}
	for f := range files {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestTaskDefinitions(t *testing.T) {
	for file, want := range files {
		t.Run(file, func(t *testing.T) {
			td := load(t, file)
			if td.Family == "" || len(td.ContainerDefinitions) == 0 {
				t.Fatalf("family %q with %d containers", td.Family, len(td.ContainerDefinitions))
			}
			if td.NetworkMode != want.mode {
				t.Errorf("networkMode %q, want %s", td.NetworkMode, want.mode)
			}
			if slices.Contains(td.RequiresCompatibilities, "FARGATE") && (td.NetworkMode != "awsvpc" || td.CPU == "" || td.Memory == "") {
				t.Errorf("FARGATE needs awsvpc and task-level cpu and memory")
			}
			names := map[string]bool{}
			for _, c := range td.ContainerDefinitions {
				if names[c.Name] {
					t.Errorf("two containers named %s", c.Name)
				}
				names[c.Name] = true
			}
			// The agent refuses a task whose containers' hard limits add
			// up to more than the task's memory.
			sum := 0
			for _, c := range td.ContainerDefinitions {
				sum += c.Memory
			}
			if n, err := strconv.Atoi(td.Memory); err == nil && sum > n {
				t.Errorf("the containers' memory adds up to %d MiB, more than the task's %d", sum, n)
			}
			var spark *cdef
			for i := range td.ContainerDefinitions {
				c := td.ContainerDefinitions[i]
				checkContainer(t, td, c, names)
				if c.Name == "spark-"+want.role {
					spark = &td.ContainerDefinitions[i]
				}
			}
			if spark == nil {
				t.Fatalf("no container spark-%s", want.role)
			}
			if img, _, _ := strings.Cut(spark.Image, ":"); img != "snufkin/"+want.image {
				t.Errorf("container %s: image %s, want snufkin/%s", spark.Name, spark.Image, want.image)
			}
			if len(spark.Command) != 1 || spark.Command[0] != want.role {
				t.Errorf("container %s: command %q, want [%q]", spark.Name, spark.Command, want.role)
			}
			switch want.role {
			case "master":
				// The ecs discovery source looks for a container named like
				// the master's service.
				for _, p := range []int{7077, 8080} {
					if _, ok := spark.port(p); !ok {
						t.Errorf("master maps no port %d", p)
					}
				}
			case "worker":
				checkWorker(t, td, *spark)
			case "connect":
				checkConnect(t, td, *spark)
			}
		})
	}
}

func checkContainer(t *testing.T, td taskDef, c cdef, names map[string]bool) {
	t.Helper()
	if c.Name == "" {
		t.Error("a container without a name")
	}
	if !strings.HasPrefix(c.Image, "snufkin/spark-master") && !strings.HasPrefix(c.Image, "snufkin/spark-worker") {
		t.Errorf("container %s: image %s, want snufkin/spark-master or snufkin/spark-worker", c.Name, c.Image)
	}
	// The history server beside a Connect server is the one container a
	// task goes on without: its stop must not stop the driver.
	if history := len(c.Command) == 1 && c.Command[0] == "history"; history != (c.Essential != nil && !*c.Essential) {
		t.Errorf("container %s: essential %v: want true, false for a history server", c.Name, c.Essential)
	}
	for _, mp := range c.MountPoints {
		if !slices.ContainsFunc(td.Volumes, func(v volume) bool { return v.Name == mp.SourceVolume }) {
			t.Errorf("container %s: mount point of %q, which is no volume of the task", c.Name, mp.SourceVolume)
		}
	}
	// A task-level limit sits on the task's cgroup, above the
	// container's, where neither the entrypoint nor the JVM reads it: each
	// container carries its own hard limit, within the task's.
	if c.Memory == 0 {
		t.Errorf("container %s: no container-level memory (a hard limit the container itself sees)", c.Name)
	}
	if n, err := strconv.Atoi(td.Memory); err == nil && c.Memory > n {
		t.Errorf("container %s: memory %d MiB is more than the task's %d", c.Name, c.Memory, n)
	}
	if c.HealthCheck == nil || len(c.HealthCheck.Command) < 2 || (c.HealthCheck.Command[0] != "CMD" && c.HealthCheck.Command[0] != "CMD-SHELL") {
		t.Errorf("container %s: healthCheck command should start with CMD or CMD-SHELL", c.Name)
	} else if h := c.HealthCheck; h.Interval < 5 || h.Interval > 300 || h.Timeout < 2 || h.Timeout > 60 || h.Retries < 1 || h.Retries > 10 || h.StartPeriod > 300 {
		t.Errorf("container %s: healthCheck %+v outside ECS's limits", c.Name, *h)
	}
	if c.StopTimeout == nil || *c.StopTimeout < 2 || *c.StopTimeout > 120 {
		t.Errorf("container %s: stopTimeout %v, want 2..120", c.Name, c.StopTimeout)
	} else {
		grace := 8 * time.Second
		if v, ok := c.env("ENTRYPOINT_GRACE"); ok {
			var err error
			if grace, err = time.ParseDuration(v); err != nil {
				t.Errorf("container %s: ENTRYPOINT_GRACE=%q: %v", c.Name, v, err)
			}
		}
		if grace+2*time.Second > time.Duration(*c.StopTimeout)*time.Second {
			t.Errorf("container %s: ENTRYPOINT_GRACE %s leaves less than 2s of stopTimeout %d", c.Name, grace, *c.StopTimeout)
		}
	}
	seen := map[string]bool{}
	for _, e := range c.Environment {
		if seen[e.Name] {
			t.Errorf("container %s: %s set twice", c.Name, e.Name)
		}
		seen[e.Name] = true
		if strings.HasPrefix(e.Name, "ENTRYPOINT_") && !slices.Contains(entrypointSettings(t), e.Name) {
			t.Errorf("container %s: %s is not an entrypoint setting (the entrypoint would exit 64)", c.Name, e.Name)
		}
	}
	for _, s := range c.Secrets {
		if seen[s.Name] {
			t.Errorf("container %s: %s set twice (environment or secrets)", c.Name, s.Name)
		}
		seen[s.Name] = true
		ssm := strings.HasPrefix(s.ValueFrom, "arn:aws:ssm:") && strings.Contains(s.ValueFrom, ":parameter/")
		sm := strings.HasPrefix(s.ValueFrom, "arn:aws:secretsmanager:") && strings.Contains(s.ValueFrom, ":secret:")
		if !ssm && !sm {
			t.Errorf("container %s: secret %s from %q: want the ARN of an SSM parameter or a Secrets Manager secret", c.Name, s.Name, s.ValueFrom)
		}
		if td.ExecutionRoleArn == "" {
			t.Errorf("container %s: secret %s without executionRoleArn: the agent fetches secrets with the task execution role", c.Name, s.Name)
		}
	}
	for _, m := range c.PortMappings {
		if m.Protocol != "" && m.Protocol != "tcp" {
			t.Errorf("container %s: port %d protocol %s", c.Name, m.ContainerPort, m.Protocol)
		}
		if td.NetworkMode == "awsvpc" && m.HostPort != nil && *m.HostPort != m.ContainerPort {
			t.Errorf("container %s: awsvpc hostPort %d must equal containerPort %d", c.Name, *m.HostPort, m.ContainerPort)
		}
	}
	if len(c.Links) > 0 && td.NetworkMode != "bridge" {
		t.Errorf("container %s: links work only in bridge mode", c.Name)
	}
	for _, l := range c.Links {
		target, _, _ := strings.Cut(l, ":")
		if !names[target] || target == c.Name {
			t.Errorf("container %s: link %s names no other container of the task", c.Name, l)
		}
	}
	for _, d := range c.DependsOn {
		if !names[d.ContainerName] {
			t.Errorf("container %s: dependsOn %s: no such container", c.Name, d.ContainerName)
		}
		if !slices.Contains([]string{"START", "COMPLETE", "SUCCESS", "HEALTHY"}, d.Condition) {
			t.Errorf("container %s: dependsOn condition %q", c.Name, d.Condition)
		}
	}
}

// entrypointSettings are the ENTRYPOINT_* variables entrypoint/doc.go
// lists (the entrypoint exits 64 on any other).
func entrypointSettings(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "..", "..", "entrypoint", "doc.go"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(line, "//"))
		if len(f) > 0 && strings.HasPrefix(f[0], "ENTRYPOINT_") && f[0] != "ENTRYPOINT_*" {
			names = append(names, f[0])
		}
	}
	if len(names) < 5 {
		t.Fatalf("entrypoint/doc.go lists only %q", names)
	}
	return names
}

// checkWorker wants each worker able to find its master: in awsvpc through
// Cloud Map (SPARK_MASTER_SRV), in bridge mode through a link to the
// task's ambassador, which forwards :7077 to the master.
func checkWorker(t *testing.T, td taskDef, w cdef) {
	t.Helper()
	if v, ok := w.env("SPARK_WORKER_OPTS"); !ok || !strings.Contains(v, "spark.decommission.enabled=true") {
		t.Errorf("worker: SPARK_WORKER_OPTS %q should enable decommission", v)
	}
	// Task-level cpu is a quota on the task's cgroup, which the container
	// does not see: the worker is told its cores.
	if n, err := strconv.Atoi(td.CPU); err == nil {
		if v, _ := w.env("SPARK_WORKER_CORES"); v != strconv.Itoa(n/1024) {
			t.Errorf("worker: SPARK_WORKER_CORES %q, want %d (the task's %d cpu units)", v, n/1024, n)
		}
	}
	switch td.NetworkMode {
	case "awsvpc":
		if v, _ := w.env("SPARK_MASTER_SRV"); v == "" {
			if u, _ := w.env("SPARK_MASTER_URL"); u == "" {
				t.Error("awsvpc worker: neither SPARK_MASTER_SRV nor SPARK_MASTER_URL: the master is in another task")
			}
		}
	case "bridge":
		if !slices.Contains(w.Links, "ambassador:spark-master") {
			t.Fatalf("bridge worker: links %q, want ambassador:spark-master", w.Links)
		}
		var amb *cdef
		for i := range td.ContainerDefinitions {
			if td.ContainerDefinitions[i].Name == "ambassador" {
				amb = &td.ContainerDefinitions[i]
			}
		}
		if amb == nil {
			t.Fatal("bridge worker: links to ambassador, but the task has no container ambassador")
		}
		if len(amb.Command) != 1 || amb.Command[0] != "ambassador" {
			t.Errorf("ambassador: command %q, want [ambassador]", amb.Command)
		}
		if v, ok := amb.env("ENTRYPOINT_AMBASSADOR_LISTEN"); ok && v != ":7077" {
			t.Errorf("ambassador: ENTRYPOINT_AMBASSADOR_LISTEN=%q, want :7077 (the worker dials spark-master:7077)", v)
		}
		srv, _ := amb.env("SPARK_MASTER_SRV")
		url, _ := amb.env("SPARK_MASTER_URL")
		target, _ := amb.env("ENTRYPOINT_AMBASSADOR_TARGET")
		if srv == "" && url == "" && target == "" {
			t.Error("ambassador: no SPARK_MASTER_SRV, SPARK_MASTER_URL or ENTRYPOINT_AMBASSADOR_TARGET: it cannot find the master")
		}
		// Docker writes link port variables only for exposed ports: the
		// link must carry 7077, which the spark-master image exposes.
		if _, mapped := amb.port(7077); !mapped && !strings.HasPrefix(amb.Image, "snufkin/spark-master") {
			t.Errorf("ambassador: image %s does not expose 7077 and no port mapping does", amb.Image)
		}
		dep := false
		for _, d := range w.DependsOn {
			dep = dep || d.ContainerName == "ambassador"
		}
		if !dep {
			t.Error("bridge worker: should dependsOn the ambassador (links need it started)")
		}
		// The entrypoint advertises the instance with these ports, and
		// Spark advertises the ports it binds: only a fixed hostPort equal
		// to the container port reaches the worker (0 or none is a dynamic
		// host port, which Spark can never advertise).
		rpc, ok := w.env("SPARK_WORKER_PORT")
		if !ok {
			t.Error("bridge worker: SPARK_WORKER_PORT unset: a random RPC port cannot be mapped")
		}
		ui := "8081"
		if v, ok := w.env("SPARK_WORKER_WEBUI_PORT"); ok {
			ui = v
		}
		for _, p := range []struct{ name, value string }{{"SPARK_WORKER_PORT", rpc}, {"SPARK_WORKER_WEBUI_PORT", ui}} {
			n, err := strconv.Atoi(p.value)
			if err != nil {
				if p.value != "" {
					t.Errorf("bridge worker: %s=%q", p.name, p.value)
				}
				continue
			}
			if !w.mappedOneToOne(n) {
				t.Errorf("bridge worker: %s=%d should be mapped to the same, fixed host port", p.name, n)
			}
		}
		checkExecutorPorts(t, w)
		for _, v := range []string{"SPARK_WORKER_HOST", "SPARK_LOCAL_HOSTNAME", "SPARK_LOCAL_IP"} {
			if _, ok := w.env(v); ok {
				t.Errorf("bridge worker: %s would override the instance address the entrypoint advertises", v)
			}
		}
	}
}

// checkConnect wants the Connect server's task to find the master as an
// awsvpc worker does, to map the gRPC port, to be checked by the role's
// own health check with retries that outlast a master's restart, and to
// take its token from a secret, never from its plain environment.
func checkConnect(t *testing.T, td taskDef, c cdef) {
	t.Helper()
	checkHistory(t, td, c)
	if td.NetworkMode != "awsvpc" {
		t.Errorf("connect: networkMode %s: the server is a driver the executors dial back, at its own ENI", td.NetworkMode)
	}
	if v, _ := c.env("SPARK_MASTER_SRV"); v == "" {
		if u, _ := c.env("SPARK_MASTER_URL"); u == "" {
			t.Error("connect: neither SPARK_MASTER_SRV nor SPARK_MASTER_URL: the master is in another task")
		}
	}
	port, _ := strconv.Atoi(e2e.ConnectPort)
	if _, ok := c.port(port); !ok {
		t.Errorf("connect: no port mapping for %d", port)
	}
	if h := c.HealthCheck; h == nil || strings.Join(h.Command, " ") != "CMD /usr/local/bin/entrypoint ready connect" {
		t.Errorf("connect: healthCheck should be CMD /usr/local/bin/entrypoint ready connect")
	} else if time.Duration(h.Interval*h.Retries)*time.Second < 45*time.Second {
		// A master that restarts with its state is back, with the
		// server's application, within its JVM's start and the 15 s
		// recovery; the service must not replace the server meanwhile.
		t.Errorf("connect: healthCheck turns UNHEALTHY after %ds: shorter than a master's restart", h.Interval*h.Retries)
	}
	if v, ok := c.env("SPARK_CONNECT_AUTHENTICATE_TOKEN"); ok {
		t.Errorf("connect: SPARK_CONNECT_AUTHENTICATE_TOKEN=%q in the environment, where DescribeTaskDefinition shows it: take it from secrets", v)
	}
	if _, ok := c.secret("SPARK_CONNECT_AUTHENTICATE_TOKEN"); !ok {
		t.Error("connect: no SPARK_CONNECT_AUTHENTICATE_TOKEN in secrets")
	}
	for _, v := range []string{"SPARK_LOCAL_HOSTNAME", "SPARK_LOCAL_IP"} {
		if _, ok := c.env(v); ok {
			t.Errorf("connect: %s would override the task's address the entrypoint gives the executors", v)
		}
	}
}

// checkHistory: the Connect server's task runs a history server on the
// event log it writes: one EFS volume (an access point that gives its
// directory to uid 185, group 0) at the event-log directory of both, so
// that a replaced task finds the logs of the ones before.
func checkHistory(t *testing.T, td taskDef, connect cdef) {
	t.Helper()
	const dir = "/var/lib/spark/events"
	var history *cdef
	for i, c := range td.ContainerDefinitions {
		if len(c.Command) == 1 && c.Command[0] == "history" {
			history = &td.ContainerDefinitions[i]
		}
	}
	if history == nil {
		t.Error("connect: no history server in the task")
		return
	}
	if !strings.HasPrefix(history.Image, "snufkin/spark-master:") {
		t.Errorf("history: image %s, want snufkin/spark-master", history.Image)
	}
	if _, ok := history.port(18080); !ok {
		t.Error("history: no port mapping for 18080")
	}
	if h := history.HealthCheck; h == nil || strings.Join(h.Command, " ") != "CMD /usr/local/bin/entrypoint ready history" {
		t.Error("history: healthCheck should be CMD /usr/local/bin/entrypoint ready history")
	}
	mounted := func(c *cdef) string {
		for _, mp := range c.MountPoints {
			if mp.ContainerPath == dir && !mp.ReadOnly {
				return mp.SourceVolume
			}
		}
		return ""
	}
	v := mounted(&connect)
	if v == "" || mounted(history) != v {
		t.Errorf("connect (%q) and history (%q) do not mount one volume read-write at %s", v, mounted(history), dir)
		return
	}
	for _, vol := range td.Volumes {
		if vol.Name == v && (vol.EFSVolumeConfiguration == nil || vol.EFSVolumeConfiguration.FileSystemID == "") {
			t.Errorf("volume %s: not on EFS: the logs would go with the task", v)
		}
	}
}
