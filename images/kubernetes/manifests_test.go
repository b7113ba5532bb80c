// Package kubernetes_test checks the manifests in images/kubernetes: their
// shape (images, pull policy, grace periods, named ports, selectors) and
// the Service environment variables the kubelet derives from them, and
// (TestKubernetesEmulated) runs them end to end on a Docker network that
// stands in for a cluster.
package kubernetes_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

var dir = filepath.Join(e2e.Root, "images", "kubernetes", "base")

// The parts of the objects the tests read.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec json.RawMessage `json:"spec"`
}

type service struct {
	Type      string            `json:"type"`
	ClusterIP string            `json:"clusterIP"`
	Selector  map[string]string `json:"selector"`
	Ports     []servicePort     `json:"ports"`
}

type servicePort struct {
	Name       string `json:"name"`
	Port       int    `json:"port"`
	TargetPort any    `json:"targetPort"`
	Protocol   string `json:"protocol"`
}

type deployment struct {
	Replicas *int `json:"replicas"`
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	Template struct {
		Metadata struct {
			Labels      map[string]string `json:"labels"`
			Annotations map[string]string `json:"annotations"`
		} `json:"metadata"`
		Spec podSpec `json:"spec"`
	} `json:"template"`
}

type podSpec struct {
	TerminationGracePeriodSeconds *int                `json:"terminationGracePeriodSeconds"`
	EnableServiceLinks            *bool               `json:"enableServiceLinks"`
	RestartPolicy                 string              `json:"restartPolicy"`
	SecurityContext               *podSecurityContext `json:"securityContext"`
	Containers                    []container         `json:"containers"`
	Volumes                       []volume            `json:"volumes"`
}

type podSecurityContext struct {
	RunAsNonRoot   *bool `json:"runAsNonRoot"`
	RunAsUser      *int  `json:"runAsUser"`
	RunAsGroup     *int  `json:"runAsGroup"`
	FSGroup        *int  `json:"fsGroup"`
	SeccompProfile *struct {
		Type string `json:"type"`
	} `json:"seccompProfile"`
}

type securityContext struct {
	AllowPrivilegeEscalation *bool `json:"allowPrivilegeEscalation"`
	ReadOnlyRootFilesystem   bool  `json:"readOnlyRootFilesystem"`
	Capabilities             *struct {
		Drop []string `json:"drop"`
		Add  []string `json:"add"`
	} `json:"capabilities"`
}

type volume struct {
	Name                  string    `json:"name"`
	EmptyDir              *struct{} `json:"emptyDir"`
	PersistentVolumeClaim *struct {
		ClaimName string `json:"claimName"`
	} `json:"persistentVolumeClaim"`
}

type volumeMount struct {
	Name      string `json:"name"`
	MountPath string `json:"mountPath"`
	ReadOnly  bool   `json:"readOnly"`
}

type container struct {
	Name            string          `json:"name"`
	Image           string          `json:"image"`
	ImagePullPolicy string          `json:"imagePullPolicy"`
	Args            []string        `json:"args"`
	Env             []envVar        `json:"env"`
	Ports           []containerPort `json:"ports"`
	StartupProbe    *probe          `json:"startupProbe"`
	ReadinessProbe  *probe          `json:"readinessProbe"`
	LivenessProbe   *probe          `json:"livenessProbe"`
	Resources       struct {
		Requests map[string]string `json:"requests"`
		Limits   map[string]string `json:"limits"`
	} `json:"resources"`
	SecurityContext *securityContext `json:"securityContext"`
	VolumeMounts    []volumeMount    `json:"volumeMounts"`
}

// quantity reads a Kubernetes resource quantity (resource.Quantity's
// forms the manifests use: 2, 500m, 3Gi, 1536Mi, 1G) as a number of units
// (cores, bytes).
func quantity(q string) (float64, error) {
	suffixes := []struct {
		s string
		m float64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"m", 1e-3}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}}
	mult := 1.0
	for _, x := range suffixes {
		if strings.HasSuffix(q, x.s) {
			q, mult = strings.TrimSuffix(q, x.s), x.m
			break
		}
	}
	n, err := strconv.ParseFloat(q, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("quantity %q: not a number with a known suffix", q)
	}
	return n * mult, nil
}

// runtimeFlags are the docker run flags for what the kubelet asks of the
// container runtime from c's resources (kuberuntime's Linux container
// resources): a CFS quota from the cpu limit, a memory limit, and CPU
// shares from the cpu request (1024 per core, 2 at least).
func (c container) runtimeFlags() ([]string, error) {
	var flags []string
	if v, ok := c.Resources.Limits["cpu"]; ok {
		n, err := quantity(v)
		if err != nil {
			return nil, err
		}
		flags = append(flags, "--cpus", strconv.FormatFloat(n, 'f', -1, 64))
	}
	if v, ok := c.Resources.Limits["memory"]; ok {
		n, err := quantity(v)
		if err != nil {
			return nil, err
		}
		flags = append(flags, "--memory", strconv.FormatInt(int64(n), 10))
	}
	if v, ok := c.Resources.Requests["cpu"]; ok {
		n, err := quantity(v)
		if err != nil {
			return nil, err
		}
		flags = append(flags, "--cpu-shares", strconv.Itoa(max(2, int(n*1024))))
	}
	return flags, nil
}

type containerPort struct {
	Name          string `json:"name"`
	ContainerPort int    `json:"containerPort"`
}

// probe is a container probe; the emulation runs exec probes only.
type probe struct {
	Exec *struct {
		Command []string `json:"command"`
	} `json:"exec"`
	InitialDelaySeconds int `json:"initialDelaySeconds"`
	PeriodSeconds       int `json:"periodSeconds"`
	TimeoutSeconds      int `json:"timeoutSeconds"`
	FailureThreshold    int `json:"failureThreshold"`
}

// The kubelet's defaults for a probe's unset fields.
func (p *probe) period() time.Duration {
	return time.Duration(cmp.Or(p.PeriodSeconds, 10)) * time.Second
}
func (p *probe) timeout() time.Duration {
	return time.Duration(cmp.Or(p.TimeoutSeconds, 1)) * time.Second
}
func (p *probe) failures() int { return cmp.Or(p.FailureThreshold, 3) }

// execs reports whether the probe runs exactly argv.
func (p *probe) execs(argv ...string) bool {
	return p != nil && p.Exec != nil && slices.Equal(p.Exec.Command, argv)
}

type envVar struct {
	Name      string `json:"name"`
	Value     string `json:"value"`
	ValueFrom *struct {
		FieldRef *struct {
			FieldPath string `json:"fieldPath"`
		} `json:"fieldRef"`
		SecretKeyRef *secretKeyRef `json:"secretKeyRef"`
	} `json:"valueFrom"`
}

type secretKeyRef struct {
	Name     string `json:"name"`
	Key      string `json:"key"`
	Optional *bool  `json:"optional"`
}

// secretRef is the Secret key the variable comes from, or nil.
func (e envVar) secretRef() *secretKeyRef {
	if e.ValueFrom == nil {
		return nil
	}
	return e.ValueFrom.SecretKeyRef
}

// fieldPath is the downward-API field the variable comes from, or "".
func (e envVar) fieldPath() string {
	if e.ValueFrom == nil || e.ValueFrom.FieldRef == nil {
		return ""
	}
	return e.ValueFrom.FieldRef.FieldPath
}

func (c container) env(name string) (string, bool) {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value, true
		}
	}
	return "", false
}

// manifestFiles are the files kustomization.yaml lists, in its order.
func manifestFiles(t *testing.T) []string {
	t.Helper()
	docs := e2e.LoadYAML(t, filepath.Join(dir, "kustomization.yaml"))
	if len(docs) != 1 {
		t.Fatalf("kustomization.yaml: %d documents", len(docs))
	}
	var k struct {
		Kind      string   `json:"kind"`
		Resources []string `json:"resources"`
	}
	if err := json.Unmarshal(docs[0], &k); err != nil || k.Kind != "Kustomization" {
		t.Fatalf("kustomization.yaml: kind %q, %v", k.Kind, err)
	}
	return k.Resources
}

// loadManifests returns every object of every file kustomization.yaml
// lists, in apply order.
func loadManifests(t *testing.T) []object {
	t.Helper()
	var objs []object
	for _, f := range manifestFiles(t) {
		for i, raw := range e2e.LoadYAML(t, filepath.Join(dir, f)) {
			var o object
			if err := json.Unmarshal(raw, &o); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			if o.APIVersion == "" || o.Kind == "" || o.Metadata.Name == "" {
				t.Errorf("%s document %d: apiVersion %q kind %q name %q: want all three", f, i, o.APIVersion, o.Kind, o.Metadata.Name)
			}
			objs = append(objs, o)
		}
	}
	return objs
}

func find(t *testing.T, objs []object, kind, name string, spec any) object {
	t.Helper()
	for _, o := range objs {
		if o.Kind == kind && o.Metadata.Name == name {
			if err := json.Unmarshal(o.Spec, spec); err != nil {
				t.Fatalf("%s %s spec: %v", kind, name, err)
			}
			return o
		}
	}
	t.Fatalf("no %s %s in the manifests", kind, name)
	return object{}
}

func TestManifests(t *testing.T) {
	objs := loadManifests(t)

	// Every yaml file in the directory is applied.
	listed := manifestFiles(t)
	entries, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	for _, e := range entries {
		if b := filepath.Base(e); b != "kustomization.yaml" && !slices.Contains(listed, b) {
			t.Errorf("%s is not in kustomization.yaml", b)
		}
	}

	// Services before Deployments, so pods see the Service variables.
	lastService, firstDeployment := -1, len(objs)
	for i, o := range objs {
		switch o.Kind {
		case "Service":
			lastService = i
		case "Deployment":
			firstDeployment = min(firstDeployment, i)
		}
		if o.Kind == "Service" && (o.Metadata.Name == "spark-worker" || o.Metadata.Name == "spark") {
			t.Errorf("a Service named %s injects variables Spark reads (%s_PORT=tcp://...)", o.Metadata.Name, envName(o.Metadata.Name))
		}
	}
	if lastService > firstDeployment {
		t.Errorf("a Service comes after a Deployment: its variables would miss the first pods")
	}

	var svc service
	find(t, objs, "Service", "spark-master", &svc)
	if svc.Type != "" && svc.Type != "ClusterIP" {
		t.Errorf("Service spark-master is %s, want ClusterIP (its variables and the DNS A record)", svc.Type)
	}
	if svc.ClusterIP == "None" {
		t.Error("Service spark-master is headless: no variables, only DNS")
	}
	wantPorts := map[string]int{"spark": 7077, "webui": 8080}
	for _, p := range svc.Ports {
		if want, ok := wantPorts[p.Name]; ok && p.Port == want {
			delete(wantPorts, p.Name)
		}
	}
	if len(wantPorts) > 0 {
		t.Errorf("Service spark-master lacks the named ports %v", wantPorts)
	}
	if len(svc.Ports) == 0 || svc.Ports[0].Name != "spark" {
		t.Errorf("Service spark-master: the first port should be spark (SPARK_MASTER_SERVICE_PORT, SPARK_MASTER_PORT)")
	}

	var master, worker, connect deployment
	find(t, objs, "Deployment", "spark-master", &master)
	find(t, objs, "Deployment", "spark-worker", &worker)
	find(t, objs, "Deployment", "spark-connect", &connect)
	if master.Replicas == nil || *master.Replicas != 1 {
		t.Errorf("spark-master replicas = %v, want 1", master.Replicas)
	}
	if worker.Replicas == nil || *worker.Replicas != 3 {
		t.Errorf("spark-worker replicas = %v, want 3", worker.Replicas)
	}
	deployments := map[string]deployment{"spark-master": master, "spark-worker": worker, "spark-connect": connect}
	images := map[string]string{"spark-master": "snufkin/spark-master", "spark-worker": "snufkin/spark-worker", "spark-connect": "snufkin/spark-worker"}
	for name, d := range deployments {
		checkPod(t, name, images[name], d)
	}
	for _, o := range objs {
		if o.Kind != "Service" {
			continue
		}
		var s service
		_ = json.Unmarshal(o.Spec, &s)
		var selected []deployment
		for _, d := range deployments {
			if subset(s.Selector, d.Template.Metadata.Labels) {
				selected = append(selected, d)
			}
		}
		if len(selected) == 0 {
			t.Errorf("Service %s selects %v: no pod has those labels", o.Metadata.Name, s.Selector)
		}
		for _, p := range s.Ports {
			for _, d := range selected {
				if name, ok := p.TargetPort.(string); ok && !hasPortName(d, name) {
					t.Errorf("Service %s targets port %q, which a pod it selects (%s) does not name", o.Metadata.Name, name, d.Template.Spec.Containers[0].Name)
				}
			}
		}
	}
	if !hasPortName(master, "spark") || !hasPortName(master, "webui") {
		t.Error("the master container should name its ports spark and webui")
	}
	// Workers and `entrypoint ready worker` follow the addresses the
	// master advertises; its pod hostname resolves nowhere else.
	for _, name := range []string{"SPARK_MASTER_HOST", "SPARK_PUBLIC_DNS"} {
		advertised := false
		for _, e := range master.Template.Spec.Containers[0].Env {
			advertised = advertised || (e.Name == name && e.fieldPath() == "status.podIP")
		}
		if !advertised {
			t.Errorf("spark-master: %s should come from status.podIP (the pod hostname resolves only inside the pod)", name)
		}
	}
	c := worker.Template.Spec.Containers[0]
	if v, _ := c.env("SPARK_WORKER_OPTS"); !strings.Contains(v, "spark.decommission.enabled=true") {
		t.Errorf("spark-worker SPARK_WORKER_OPTS = %q: want decommission on SIGTERM", v)
	}
	checkConnect(t, objs, connect)
}

// checkConnect wants the Connect server as one pod of the worker image
// running connect, probed by the role's own check, its token from a
// Secret and never in the manifest, and the Service spark-connect as the
// way in: a ClusterIP Service (port-forward; see its comment) on the
// named gRPC port.
func checkConnect(t *testing.T, objs []object, d deployment) {
	t.Helper()
	if d.Replicas == nil || *d.Replicas != 1 {
		t.Errorf("spark-connect replicas = %v, want 1 (sessions live in one server)", d.Replicas)
	}
	c := d.Template.Spec.Containers[0]
	if !slices.Equal(c.Args, []string{"connect"}) {
		t.Errorf("spark-connect args %q, want [connect]", c.Args)
	}
	ready := []string{"/usr/local/bin/entrypoint", "ready", "connect"}
	for name, p := range map[string]*probe{"startupProbe": c.StartupProbe, "readinessProbe": c.ReadinessProbe, "livenessProbe": c.LivenessProbe} {
		if !p.execs(ready...) {
			t.Errorf("spark-connect %s should exec %q", name, ready)
		}
	}
	// A master that restarts with its state is back, with the server's
	// application, within its JVM's start and the 15 s recovery: liveness
	// must not restart the server meanwhile.
	if p := c.LivenessProbe; p != nil && time.Duration(p.failures())*p.period() < 45*time.Second {
		t.Errorf("spark-connect livenessProbe fails after %s: shorter than a master's restart", time.Duration(p.failures())*p.period())
	}
	grpc := 0
	for _, p := range c.Ports {
		if p.Name == "grpc" {
			grpc = p.ContainerPort
		}
	}
	if strconv.Itoa(grpc) != e2e.ConnectPort {
		t.Errorf("spark-connect: container port grpc = %d, want %s", grpc, e2e.ConnectPort)
	}
	token := false
	for _, e := range c.Env {
		if e.Name != "SPARK_CONNECT_AUTHENTICATE_TOKEN" && e.Name != "SPARK_CONNECT_AUTHENTICATE_TOKEN_FILE" {
			continue
		}
		if e.Value != "" {
			t.Errorf("spark-connect: %s has a value in the manifest; take it from a Secret", e.Name)
		}
		token = token || e.secretRef() != nil
	}
	if !token {
		t.Error("spark-connect: no SPARK_CONNECT_AUTHENTICATE_TOKEN from a Secret")
	}

	var svc service
	o := find(t, objs, "Service", "spark-connect", &svc)
	if svc.Type != "" && svc.Type != "ClusterIP" || svc.ClusterIP == "None" {
		t.Errorf("Service spark-connect: type %q clusterIP %q, want ClusterIP (reached through kubectl port-forward)", svc.Type, svc.ClusterIP)
	}
	if !subset(svc.Selector, d.Template.Metadata.Labels) || len(svc.Selector) == 0 {
		t.Errorf("Service spark-connect selects %v, not the spark-connect pods", svc.Selector)
	}
	if len(svc.Ports) != 1 || strconv.Itoa(svc.Ports[0].Port) != e2e.ConnectPort || svc.Ports[0].TargetPort != "grpc" {
		t.Errorf("Service spark-connect ports %+v, want %s to the named port grpc", svc.Ports, e2e.ConnectPort)
	}
	for _, other := range []string{"spark-master", "spark-worker"} {
		var od deployment
		find(t, objs, "Deployment", other, &od)
		if subset(svc.Selector, od.Template.Metadata.Labels) {
			t.Errorf("Service %s also selects the %s pods", o.Metadata.Name, other)
		}
	}
	checkHistory(t, objs, d)
}

// checkHistory wants the history server in the Connect server's pod,
// the master image running history, ready by the role's own check,
// mounting the volume where the server writes its event log at the path
// it reads, and the ClusterIP Service spark-history on its named port.
func checkHistory(t *testing.T, objs []object, d deployment) {
	t.Helper()
	cs := d.Template.Spec.Containers
	if len(cs) != 2 {
		return // checkPod said so
	}
	server, h := cs[0], cs[1]
	if img, _, _ := strings.Cut(h.Image, ":"); img != "snufkin/spark-master" || !slices.Equal(h.Args, []string{"history"}) {
		t.Errorf("spark-history: image %s args %q, want snufkin/spark-master running [history]", h.Image, h.Args)
	}
	if _, tag, _ := strings.Cut(h.Image, ":"); !strings.HasSuffix(server.Image, ":"+tag) {
		t.Errorf("spark-history: image %s, but the Connect server runs %s: one Spark version", h.Image, server.Image)
	}
	if !h.ReadinessProbe.execs("/usr/local/bin/entrypoint", "ready", "history") {
		t.Error("spark-history readinessProbe should exec entrypoint ready history")
	}
	const events = "/var/lib/spark/events"
	volumeAt := func(c container) string {
		for _, m := range c.VolumeMounts {
			if m.MountPath == events {
				return m.Name
			}
		}
		return ""
	}
	if v := volumeAt(h); v == "" || v != volumeAt(server) {
		t.Errorf("spark-history mounts %q at %s, the Connect server %q: want the same volume", v, events, volumeAt(server))
	}
	var svc service
	find(t, objs, "Service", "spark-history", &svc)
	if svc.Type != "" && svc.Type != "ClusterIP" || svc.ClusterIP == "None" {
		t.Errorf("Service spark-history: type %q clusterIP %q, want ClusterIP (reached through kubectl port-forward)", svc.Type, svc.ClusterIP)
	}
	if !subset(svc.Selector, d.Template.Metadata.Labels) || len(svc.Selector) == 0 {
		t.Errorf("Service spark-history selects %v, not the spark-connect pods", svc.Selector)
	}
	if len(svc.Ports) != 1 || svc.Ports[0].Port != 18080 || svc.Ports[0].TargetPort != "history" ||
		!slices.ContainsFunc(h.Ports, func(p containerPort) bool { return p.Name == "history" && p.ContainerPort == 18080 }) {
		t.Errorf("Service spark-history ports %+v, want 18080 to the history container's port history (18080)", svc.Ports)
	}
}

// checkResources: every container requests cpu and memory and has a
// memory limit equal to its request (the scheduler places what it may
// really use, and the kernel stops it there, not the node's other pods);
// a worker has a cpu limit too, since it offers its master the cores its
// quota leaves. Every quantity must read, and the runtime flags follow.
func checkResources(t *testing.T, name string, c container) {
	t.Helper()
	r := c.Resources
	if r.Requests["cpu"] == "" || r.Requests["memory"] == "" || r.Limits["memory"] == "" {
		t.Errorf("%s: resources %+v: want cpu and memory requests and a memory limit", name, r)
	}
	if r.Requests["memory"] != r.Limits["memory"] {
		t.Errorf("%s: memory request %q differs from its limit %q", name, r.Requests["memory"], r.Limits["memory"])
	}
	if name == "spark-worker" && r.Limits["cpu"] == "" {
		t.Errorf("%s: no cpu limit: the worker would offer every core of its node", name)
	}
	if _, err := c.runtimeFlags(); err != nil {
		t.Errorf("%s: %v", name, err)
	}
}

// checkRestrictedPod and checkRestricted: the pod meets Pod Security's
// "restricted" profile, which namespace.yaml enforces (runAsNonRoot, no
// privilege escalation, every capability dropped, a seccomp profile), runs
// as the images' spark user (uid 185, which has a passwd entry), and each
// container with a read-only root has a volume wherever it writes.
func checkRestrictedPod(t *testing.T, name string, p podSpec) {
	t.Helper()
	ps := p.SecurityContext
	if ps == nil || ps.RunAsNonRoot == nil || !*ps.RunAsNonRoot || ps.RunAsUser == nil || *ps.RunAsUser != 185 ||
		ps.SeccompProfile == nil || ps.SeccompProfile.Type != "RuntimeDefault" {
		t.Errorf("%s: pod securityContext %+v: want runAsNonRoot, runAsUser 185 and the RuntimeDefault seccomp profile", name, ps)
	}
}

func checkRestricted(t *testing.T, name string, p podSpec, c container) {
	t.Helper()
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
		!slices.Equal(sc.Capabilities.Drop, []string{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("%s: container securityContext %+v: want allowPrivilegeEscalation false and every capability dropped", name, sc)
		return
	}
	if !sc.ReadOnlyRootFilesystem {
		return
	}
	want := []string{"/tmp", "/opt/spark/work-dir"}
	switch name {
	case "spark-master":
		want = append(want, "/var/lib/spark/master")
	case "spark-connect":
		want = append(want, "/var/lib/spark/events")
	case "spark-history":
		// A daemon that starts no executors and writes only its temporary
		// files and, cleaning, the event logs.
		want = []string{"/tmp", "/var/lib/spark/events"}
	}
	for _, path := range want {
		i := slices.IndexFunc(c.VolumeMounts, func(m volumeMount) bool { return m.MountPath == path && !m.ReadOnly })
		if i < 0 {
			t.Errorf("%s: read-only root and no writable volume at %s", name, path)
			continue
		}
		if !slices.ContainsFunc(p.Volumes, func(v volume) bool { return v.Name == c.VolumeMounts[i].Name }) {
			t.Errorf("%s: volumeMount %s names no volume of the pod", name, c.VolumeMounts[i].Name)
		}
	}
}

// TestMasterStatePVC: the overlay replaces the master's state volume, by
// its name in the base, with the claim it defines.
func TestMasterStatePVC(t *testing.T) {
	overlay := filepath.Join(dir, "..", "master-state-pvc")
	var k struct {
		Resources []string `json:"resources"`
		Patches   []struct {
			Patch string `json:"patch"`
		} `json:"patches"`
	}
	if err := json.Unmarshal(e2e.LoadYAML(t, filepath.Join(overlay, "kustomization.yaml"))[0], &k); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(k.Resources, "../base") || len(k.Patches) != 1 {
		t.Fatalf("overlay: resources %v, %d patches: want the base and one patch", k.Resources, len(k.Patches))
	}
	patchFile := filepath.Join(t.TempDir(), "patch.yaml")
	if err := os.WriteFile(patchFile, []byte(k.Patches[0].Patch), 0o644); err != nil {
		t.Fatal(err)
	}
	var patch struct {
		Kind     string `json:"kind"`
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec struct {
			Template struct {
				Spec struct {
					Volumes []map[string]any `json:"volumes"`
				} `json:"spec"`
			} `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(e2e.LoadYAML(t, patchFile)[0], &patch); err != nil {
		t.Fatal(err)
	}
	var claim object
	if err := json.Unmarshal(e2e.LoadYAML(t, filepath.Join(overlay, "spark-master-state.yaml"))[0], &claim); err != nil {
		t.Fatal(err)
	}
	var master deployment
	find(t, loadManifests(t), "Deployment", "spark-master", &master)
	vols := patch.Spec.Template.Spec.Volumes
	if patch.Kind != "Deployment" || patch.Metadata.Name != "spark-master" || len(vols) != 1 {
		t.Fatalf("patch: %s %s with volumes %v: want the spark-master Deployment and one volume", patch.Kind, patch.Metadata.Name, vols)
	}
	v := vols[0]
	pvc, _ := v["persistentVolumeClaim"].(map[string]any)
	if empty, ok := v["emptyDir"]; !ok || empty != nil || pvc["claimName"] != claim.Metadata.Name || claim.Kind != "PersistentVolumeClaim" {
		t.Errorf("patch volume %v: want emptyDir null and claimName %q (the overlay's %s)", v, claim.Metadata.Name, claim.Kind)
	}
	mounted := slices.ContainsFunc(master.Template.Spec.Containers[0].VolumeMounts, func(m volumeMount) bool {
		return m.Name == v["name"] && m.MountPath == "/var/lib/spark/master"
	})
	if !mounted {
		t.Errorf("the base master mounts no volume %v at /var/lib/spark/master", v["name"])
	}
}

func TestQuantity(t *testing.T) {
	for in, want := range map[string]float64{"2": 2, "500m": 0.5, "3Gi": 3 << 30, "1536Mi": 1536 << 20, "1G": 1e9, "0.5": 0.5} {
		if got, err := quantity(in); err != nil || got != want {
			t.Errorf("quantity(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "two", "3GiB", "-1"} {
		if _, err := quantity(in); err == nil {
			t.Errorf("quantity(%q): no error", in)
		}
	}
}

func checkPod(t *testing.T, name, image string, d deployment) {
	t.Helper()
	if !subset(d.Selector.MatchLabels, d.Template.Metadata.Labels) || len(d.Selector.MatchLabels) == 0 {
		t.Errorf("%s: selector %v does not match the template labels %v", name, d.Selector.MatchLabels, d.Template.Metadata.Labels)
	}
	p := d.Template.Spec
	// One container a pod, and the history server beside the Connect
	// server (checkHistory).
	want := []string{name}
	if name == "spark-connect" {
		want = append(want, "spark-history")
	}
	var names []string
	for _, c := range p.Containers {
		names = append(names, c.Name)
	}
	if !slices.Equal(names, want) {
		t.Fatalf("%s: containers %q, want %q", name, names, want)
	}
	checkRestrictedPod(t, name, p)
	for _, c := range p.Containers {
		checkResources(t, c.Name, c)
		checkRestricted(t, c.Name, p, c)
		if c.ImagePullPolicy != "Never" && c.ImagePullPolicy != "IfNotPresent" {
			t.Errorf("%s: imagePullPolicy %q: the images exist in no registry; want Never or IfNotPresent", c.Name, c.ImagePullPolicy)
		}
	}
	c := p.Containers[0]
	// Scrape annotations name a port the pod serves, or the driver UI's
	// (4040, Spark's own, not a declared port of the Connect server).
	if a := d.Template.Metadata.Annotations; a["prometheus.io/scrape"] != "true" || !strings.HasPrefix(a["prometheus.io/path"], "/metrics/") {
		t.Errorf("%s: scrape annotations %v: want prometheus.io/scrape true and a /metrics/ path", name, a)
	} else if port := a["prometheus.io/port"]; port != "4040" && !slices.ContainsFunc(c.Ports, func(p containerPort) bool {
		return strconv.Itoa(p.ContainerPort) == port
	}) {
		t.Errorf("%s: prometheus.io/port %s is none of its container ports", name, port)
	}
	if img, _, _ := strings.Cut(c.Image, ":"); img != image {
		t.Errorf("%s: image %s, want %s", name, c.Image, image)
	}
	grace := 30
	if p.TerminationGracePeriodSeconds != nil {
		grace = *p.TerminationGracePeriodSeconds
	}
	eg := 8 * time.Second
	if v, ok := c.env("ENTRYPOINT_GRACE"); ok {
		var err error
		if eg, err = time.ParseDuration(v); err != nil {
			t.Errorf("%s: ENTRYPOINT_GRACE=%q: %v", name, v, err)
		}
	}
	if eg+2*time.Second > time.Duration(grace)*time.Second {
		t.Errorf("%s: ENTRYPOINT_GRACE %s leaves less than 2s of terminationGracePeriodSeconds %d", name, eg, grace)
	}
	if eg < 20*time.Second {
		t.Errorf("%s: ENTRYPOINT_GRACE %s: too short for a decommission or a driver's stop; the pod has %ds", name, eg, grace)
	}
	if p.EnableServiceLinks != nil && !*p.EnableServiceLinks {
		t.Logf("%s: enableServiceLinks false: the workers will use cluster-dns", name)
	}
}

func hasPortName(d deployment, name string) bool {
	for _, c := range d.Template.Spec.Containers {
		for _, p := range c.Ports {
			if p.Name == name {
				return true
			}
		}
	}
	return false
}

func subset(sel, labels map[string]string) bool {
	for k, v := range sel {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// envName is the kubelet's variable prefix for a Service or port name.
func envName(name string) string {
	return strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// serviceEnv is what the kubelet injects into a container for the
// Services of its namespace (kubelet pkg/kubelet/envvars FromServices and
// getServiceEnvVarMap): every Service with a ClusterIP, in order, plus the
// API server's Service "kubernetes". clusterIPs gives each Service its
// address; a Service without one (headless, ExternalName) gets nothing.
func serviceEnv(objs []object, clusterIPs map[string]string, apiServer string) []string {
	var env []string
	add := func(name, ip string, ports []servicePort) {
		n := envName(name)
		if len(ports) == 0 {
			return
		}
		proto := func(p servicePort) string {
			if p.Protocol == "" {
				return "TCP"
			}
			return strings.ToUpper(p.Protocol)
		}
		env = append(env, n+"_SERVICE_HOST="+ip, fmt.Sprintf("%s_SERVICE_PORT=%d", n, ports[0].Port))
		for _, p := range ports {
			if p.Name != "" {
				env = append(env, fmt.Sprintf("%s_SERVICE_PORT_%s=%d", n, envName(p.Name), p.Port))
			}
		}
		url := func(p servicePort) string {
			return strings.ToLower(proto(p)) + "://" + net.JoinHostPort(ip, strconv.Itoa(p.Port))
		}
		env = append(env, n+"_PORT="+url(ports[0]))
		for _, p := range ports {
			pfx := fmt.Sprintf("%s_PORT_%d_%s", n, p.Port, proto(p))
			env = append(env, pfx+"="+url(p), pfx+"_PROTO="+strings.ToLower(proto(p)),
				pfx+"_PORT="+strconv.Itoa(p.Port), pfx+"_ADDR="+ip)
		}
	}
	for _, o := range objs {
		if o.Kind != "Service" {
			continue
		}
		var s service
		if err := json.Unmarshal(o.Spec, &s); err != nil || s.ClusterIP == "None" || s.Type == "ExternalName" {
			continue
		}
		if ip, ok := clusterIPs[o.Metadata.Name]; ok {
			add(o.Metadata.Name, ip, s.Ports)
		}
	}
	add("kubernetes", apiServer, []servicePort{{Name: "https", Port: 443, Protocol: "TCP"}})
	return env
}

func TestServiceEnv(t *testing.T) {
	objs := loadManifests(t)
	env := serviceEnv(objs, map[string]string{"spark-master": "10.96.14.7", "spark-master-ui": "10.96.200.1", "spark-connect": "10.96.33.9"}, "10.96.0.1")
	want := []string{
		"SPARK_MASTER_SERVICE_HOST=10.96.14.7",
		"SPARK_MASTER_SERVICE_PORT=7077",
		"SPARK_MASTER_SERVICE_PORT_SPARK=7077",
		"SPARK_MASTER_SERVICE_PORT_WEBUI=8080",
		"SPARK_MASTER_PORT=tcp://10.96.14.7:7077",
		"SPARK_MASTER_PORT_7077_TCP=tcp://10.96.14.7:7077",
		"SPARK_MASTER_PORT_7077_TCP_PROTO=tcp",
		"SPARK_MASTER_PORT_7077_TCP_PORT=7077",
		"SPARK_MASTER_PORT_7077_TCP_ADDR=10.96.14.7",
		"SPARK_MASTER_PORT_8080_TCP=tcp://10.96.14.7:8080",
		"SPARK_MASTER_PORT_8080_TCP_ADDR=10.96.14.7",
		"SPARK_MASTER_UI_SERVICE_HOST=10.96.200.1",
		"SPARK_MASTER_UI_PORT=tcp://10.96.200.1:8080",
		"SPARK_CONNECT_SERVICE_HOST=10.96.33.9",
		"SPARK_CONNECT_SERVICE_PORT=15002",
		"SPARK_CONNECT_SERVICE_PORT_GRPC=15002",
		"SPARK_CONNECT_PORT=tcp://10.96.33.9:15002",
		"SPARK_CONNECT_PORT_15002_TCP_ADDR=10.96.33.9",
		"KUBERNETES_SERVICE_HOST=10.96.0.1",
		"KUBERNETES_SERVICE_PORT_HTTPS=443",
		"KUBERNETES_PORT_443_TCP=tcp://10.96.0.1:443",
	}
	for _, w := range want {
		if !slices.Contains(env, w) {
			t.Errorf("service env lacks %s; has:\n%s", w, strings.Join(env, "\n"))
		}
	}
	// Every pod gets these; none may be a variable Spark, its launcher or
	// pyspark reads (their jars and scripts name these SPARK_CONNECT_*).
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		if slices.Contains(sparkConnectVars, name) {
			t.Errorf("the Services inject %s, which Spark reads", name)
		}
	}
	// IPv6 ClusterIPs are bracketed in the URLs, bare in _HOST and _ADDR.
	env6 := serviceEnv(objs, map[string]string{"spark-master": "fd00::7"}, "fd00::1")
	for _, w := range []string{"SPARK_MASTER_SERVICE_HOST=fd00::7", "SPARK_MASTER_PORT=tcp://[fd00::7]:7077", "SPARK_MASTER_PORT_7077_TCP_ADDR=fd00::7"} {
		if !slices.Contains(env6, w) {
			t.Errorf("IPv6 service env lacks %s", w)
		}
	}
	if os.Getenv("KUBE_ENV_DUMP") != "" {
		t.Log(strings.Join(env, "\n"))
	}
}

// sparkConnectVars are the SPARK_CONNECT_* variables Spark 4.1 reads:
// the names in its spark-connect, spark-core and spark-launcher jars, its
// bin/ scripts and pyspark's Python sources.
var sparkConnectVars = []string{
	"SPARK_CONNECT_AUTHENTICATE_TOKEN", "SPARK_CONNECT_MODE", "SPARK_CONNECT_MODE_ENABLED",
	"SPARK_CONNECT_USER_AGENT", "SPARK_CONNECT_LOCAL_URL", "SPARK_CONNECT_BEELINE",
	"SPARK_CONNECT_ML_HANDLER_INTERRUPTION_TIMEOUT_MINUTES", "SPARK_CONNECT_LOG_LEVEL", "SPARK_CONNECT_MASTER",
	"SPARK_CONNECT_PROGRESS_BAR_ENABLED", "SPARK_CONNECT_PYTHON", "SPARK_CONNECT_TESTING_REMOTE",
}

// TestKustomize renders the directory with `kubectl kustomize`, which
// needs no cluster, when kubectl is installed.
func TestKustomize(t *testing.T) {
	if _, err := exec.LookPath("kubectl"); err != nil {
		t.Skip("no kubectl")
	}
	out, err := exec.Command("kubectl", "kustomize", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize: %v\n%s", err, out)
	}
	for _, want := range []string{"kind: Service\nmetadata:", "name: spark-master\n", "name: spark-worker\n", "name: spark-master-ui\n", "name: spark-connect\n", "namespace: spark\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("kubectl kustomize output lacks %q", want)
		}
	}
	overlay := filepath.Join(dir, "..", "master-state-pvc")
	out, err = exec.Command("kubectl", "kustomize", overlay).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl kustomize %s: %v\n%s", overlay, err, out)
	}
	if want := "- name: master-state\n        persistentVolumeClaim:\n          claimName: spark-master-state\n"; !strings.Contains(string(out), want) ||
		!strings.Contains(string(out), "kind: PersistentVolumeClaim") {
		t.Errorf("kubectl kustomize %s: the master's state is not on the claim:\n%s", overlay, out)
	}
}
