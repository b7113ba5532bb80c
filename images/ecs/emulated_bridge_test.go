package ecs_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// TestECSEmulatedBridge runs the bridge-mode task definitions the way the
// ECS agent would on EC2 instances whose docker0 is the daemon's default
// bridge:
//
//   - each instance is a container of the agent binary on that bridge;
//     its address is the instance's private IP, and it plays Docker's
//     port mappings of the tasks placed on it (the task definitions'
//     fixed host ports, so one worker per instance, as ECS places them);
//   - the agent container serves the task metadata v4 (bridge networks,
//     Ports with HostPort) and is the VPC resolver: Cloud Map SRV + A
//     records (host port, instance IP), and the instances'
//     ip-a-b-c-d.<region>.compute.internal names forward and reverse;
//   - every container gets the container metadata file (the agent's
//     ECS_ENABLE_CONTAINER_METADATA), READY once it runs, with
//     HostPrivateIPv4Address;
//   - links and dependsOn (HEALTHY) as the agent applies them.
//
// The worker reaches the master through its task's ambassador (link
// spark-master, source docker-links), which asks Cloud Map for every new
// connection; the worker advertises its instance (name and fixed host
// ports), so the master dials it back through the instance. The master
// task is then replaced on another instance: the workers follow through
// their ambassadors and a second job runs.
func TestECSEmulatedBridge(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "ecs-emulated-bridge")
	start := time.Now()
	masterTD, workerTD, emu := setUp(t, "bridge", "ambassador")
	service, namespace := emu.service, emu.namespace
	masterDef := containerNamed(t, masterTD, "spark-master")
	t.Logf("instances on the default bridge; agent (metadata, resolver) %s", emu.agentIP)

	rpcPort := hostPortOf(t, masterDef, 7077)
	uiPort := hostPortOf(t, masterDef, 8080)
	inst0 := emu.newInstance(0, masterTD, true)
	master := emu.runBridgeTasks([]*instance{inst0}, masterTD)[0]
	emu.registerBridge(service, namespace, master, inst0, rpcPort)

	var insts []*instance
	for i := 1; i <= e2e.Workers; i++ {
		insts = append(insts, emu.newInstance(i, workerTD, false))
	}
	workers := emu.runBridgeTasks(insts, workerTD)
	discoveryOK := true
	for i, w := range workers {
		c := w.container("spark-worker")
		discoveryOK = e2e.CheckDiscovery(t, c, "docker-links", "spark://spark-master:7077") && discoveryOK
		discoveryOK = checkAdvertise(t, c, insts[i]) && discoveryOK
	}
	m.OK("discovery", discoveryOK)

	ui := e2e.Published(t, inst0.container, strconv.Itoa(uiPort)+"/tcp")
	state := e2e.RequireAlive(t, m, ui, e2e.Workers, 3*time.Minute)
	// The container's 4096 MiB limit; cpu units are shares, so the
	// worker offers its instance's cpus (here this host's).
	m.Set("offers", e2e.Offers(t, state, runtime.NumCPU(), 3072))
	for _, w := range state.Workers {
		if !slices.ContainsFunc(insts, func(in *instance) bool { return in.dnsName == w.Host }) {
			t.Errorf("worker %s registered as %s, not as its instance's name", w.ID, w.Host)
		}
	}
	job := func(inst *instance) bool {
		ok, _ := e2e.Job(t, "spark://127.0.0.1:"+e2e.Published(t, inst.container, strconv.Itoa(rpcPort)+"/tcp"), emu.gateway, e2e.Workers)
		return ok
	}
	m.OK("job", job(inst0))
	checkShuffle(t, m, containerNamed(t, workerTD, "spark-worker"), "spark://127.0.0.1:"+e2e.Published(t, inst0.container, strconv.Itoa(rpcPort)+"/tcp"), emu.gateway, insts, state)

	// A worker task's essential container dies (SIGKILL): the agent stops
	// the rest of the task and the ECS service starts a replacement on
	// the same instance, the only one whose fixed host ports are free.
	victim := workers[0]
	e2e.CheckWorkerKillAt(t, m, ui, e2e.Workers, victim.container("spark-worker"), []string{insts[0].dnsName}, func() string {
		for _, c := range victim.containers {
			if c.def.Name != "spark-worker" {
				e2e.Run(t, "docker", "stop", c.name) // the agent stops the rest of the task
			}
		}
		emu.stoppedBridge(victim)
		workers[0] = emu.runBridgeTasks([]*instance{insts[0]}, workerTD)[0]
		return workers[0].container("spark-worker")
	})

	// The ECS service replaces the master task; the scheduler puts the new
	// one on another instance, and Cloud Map follows.
	inst4 := emu.newInstance(e2e.Workers+1, masterTD, true)
	newMaster := master
	e2e.CheckMasterRestart(t, m, e2e.Workers, func() e2e.Restarted {
		emu.stopTasks(master)
		emu.stoppedBridge(master)
		newMaster = emu.runBridgeTasks([]*instance{inst4}, masterTD)[0]
		emu.registerBridge(service, namespace, newMaster, inst4, rpcPort)
		return e2e.Restarted{OldIP: inst0.ip, NewIP: inst4.ip, UI: e2e.Published(t, inst4.container, strconv.Itoa(uiPort)+"/tcp")}
	}, func() bool { return job(inst4) })

	all := append([]*task{newMaster}, workers...)
	// The master advertises its web UI at the instance's address
	// (SPARK_PUBLIC_DNS), so the workers' health check, which asks that
	// URL, passes like every other.
	healthOK := checkMasterPublicDNS(t, newMaster.container("spark-master"), inst4.ip)
	for _, tk := range all {
		for _, c := range tk.containers {
			healthOK = waitHealthy(t, c.name, 45*time.Second) && healthOK
			if c.def.Name != "ambassador" {
				e2e.CheckProcesses(t, c.name)
			}
		}
	}
	m.OK("health", healthOK)

	stopOK := emu.stopTasks(all...)
	for _, w := range workers {
		logs, _ := e2e.Try("docker", "logs", w.container("spark-worker"))
		if grepLine(logs, "drain over") == "" {
			t.Errorf("%s: no decommission on SIGTERM although the task definition enables it", w.container("spark-worker"))
			stopOK = false
		}
	}
	m.OK("stop", stopOK)
	t.Logf("ecs-emulated-bridge path took %s", time.Since(start).Round(time.Second))
}

// hostPortOf is the hostPort the container maps containerPort to.
func hostPortOf(t *testing.T, c cdef, containerPort int) int {
	t.Helper()
	p, ok := c.port(containerPort)
	if !ok || p.HostPort == nil || *p.HostPort == 0 {
		t.Fatalf("container %s: no fixed hostPort for %d", c.Name, containerPort)
	}
	return *p.HostPort
}

// instance is an emulated EC2 instance: its address and DNS name, and the
// container that holds its host ports.
type instance struct {
	name, container, ip, dnsName string
}

// newInstance starts instance k with the host ports td's containers map;
// publish also maps them to loopback, for the test and its driver.
func (e *emulator) newInstance(k int, td taskDef, publish bool) *instance {
	t := e.t
	t.Helper()
	in := &instance{name: fmt.Sprintf("i-%017x", k+0xa11ce)}
	in.container = fmt.Sprintf("%s-%s", e.prefix, in.name)
	var ports []string
	for _, c := range td.ContainerDefinitions {
		for _, p := range c.PortMappings {
			if p.HostPort != nil && *p.HostPort != 0 {
				ports = append(ports, strconv.Itoa(*p.HostPort))
			}
		}
	}
	e.res.Container(in.container)
	argv := []string{"docker", "run", "-d", "--name", in.container, "--network", e.net,
		"-v", e.agentBin + ":/agent:ro", "-v", e.stateDir + ":/state:ro"}
	if publish {
		for _, p := range ports {
			argv = append(argv, "-p", "127.0.0.1::"+p)
		}
	}
	argv = append(argv, "--entrypoint", "/agent", agentImage, "-state", "/state/state.json",
		"-instance", in.name, "-ports", strings.Join(ports, ","))
	e2e.Run(t, argv...)
	in.ip = e2e.IP(t, in.container)
	in.dnsName = "ip-" + strings.ReplaceAll(in.ip, ".", "-") + "." + searchDomain
	rev, err := dns.ReverseAddr(in.ip)
	if err != nil {
		t.Fatal(err)
	}
	e.setRecords("instance-"+in.name,
		fmt.Sprintf("%s. 60 IN A %s", in.dnsName, in.ip),
		fmt.Sprintf("%s 60 IN PTR %s.", rev, in.dnsName))
	t.Logf("instance %s at %s (%s), host ports %s", in.name, in.ip, in.dnsName, strings.Join(ports, ","))
	return in
}

// runBridgeTasks starts one task of td on each instance, all at once as a
// service scaling out does: every task's containers are created, those
// without dependsOn start, then the others once their dependencies are
// HEALTHY (or started).
func (e *emulator) runBridgeTasks(insts []*instance, td taskDef) []*task {
	t := e.t
	t.Helper()
	if td.NetworkMode != "bridge" {
		t.Fatalf("task definition %s: network mode %s, want bridge", td.Family, td.NetworkMode)
	}
	var tasks []*task
	for _, in := range insts {
		tk := &task{id: randomHex(16), family: td.Family, ip: in.ip, td: td, instance: in}
		base := fmt.Sprintf("%s-%s-%s", e.prefix, td.Family, tk.id[:6])
		for _, c := range td.ContainerDefinitions {
			tc := &taskContainer{def: c, name: base + "-" + c.Name, token: randomHex(16) + "-" + strconv.Itoa(len(tk.containers))}
			tc.metaDir = filepath.Join(e.tmp, "metadata", tc.token)
			if err := os.MkdirAll(tc.metaDir, 0o755); err != nil {
				t.Fatal(err)
			}
			e.res.Container(tc.name)
			uri := "http://" + e.agentIP
			argv := []string{"docker", "create", "--name", tc.name, "--network", e.net,
				"-v", e.resolv + ":/etc/resolv.conf:ro",
				"-v", tc.metaDir + ":/opt/ecs/metadata/" + tc.token + ":ro",
				"-e", "ECS_CONTAINER_METADATA_FILE=/opt/ecs/metadata/" + tc.token + "/ecs-container-metadata.json",
				"-e", "ECS_CONTAINER_METADATA_URI=" + uri + "/v3/" + tc.token,
				"-e", "ECS_CONTAINER_METADATA_URI_V4=" + uri + "/v4/" + tc.token,
				"-e", "ECS_AGENT_URI=" + uri + "/api/" + tc.token,
				"-e", "AWS_EXECUTION_ENV=AWS_ECS_EC2",
				"-e", "AWS_REGION=" + region, "-e", "AWS_DEFAULT_REGION=" + region}
			for _, l := range c.Links {
				target, alias, found := strings.Cut(l, ":")
				if !found {
					alias = target
				}
				argv = append(argv, "--link", base+"-"+target+":"+alias)
			}
			for k, v := range ecsLabels(tk, c) {
				argv = append(argv, "--label", k+"="+v)
			}
			for _, kv := range c.Environment {
				argv = append(argv, "-e", kv.Name+"="+kv.Value)
			}
			argv = append(argv, e.secretEnv(td, c)...)
			if c.StopTimeout != nil {
				argv = append(argv, "--stop-timeout", strconv.Itoa(*c.StopTimeout))
			}
			argv = append(argv, healthFlags(t, c)...)
			argv = append(argv, c.resourceFlags()...)
			argv = append(argv, c.Image)
			argv = append(argv, c.Command...)
			tc.id = strings.TrimSpace(e2e.Run(t, argv...))
			e.metadataFile(tk, tc, "")
			tk.containers = append(tk.containers, tc)
		}
		e.describeBridge(tk)
		tasks = append(tasks, tk)
	}
	for _, phase := range []bool{false, true} {
		for _, tk := range tasks {
			for _, c := range tk.containers {
				if (len(c.def.DependsOn) > 0) != phase {
					continue
				}
				for _, d := range c.def.DependsOn {
					if d.Condition == "HEALTHY" && !waitHealthy(t, tk.container(d.ContainerName), 60*time.Second) {
						t.Fatalf("%s: dependency %s never HEALTHY", c.name, d.ContainerName)
					}
				}
				e2e.Run(t, "docker", "start", c.name)
				c.started = true
				e.metadataFile(tk, c, e2e.IP(t, c.name))
				e.describeBridge(tk)
			}
		}
	}
	for _, tk := range tasks {
		t.Logf("task %s:1 %s on %s: %s", td.Family, tk.id, tk.instance.name, strings.Join(tk.names(), " "))
	}
	return tasks
}

// metadataFile writes the container metadata file as the agent does:
// without ports and networks while the container is not running, then
// complete and READY, with the instance's address.
func (e *emulator) metadataFile(tk *task, c *taskContainer, ip string) {
	e.t.Helper()
	f := map[string]any{
		"Cluster":                cluster,
		"ContainerInstanceARN":   fmt.Sprintf("arn:aws:ecs:%s:%s:container-instance/%s/%s", region, account, cluster, tk.instance.name),
		"TaskARN":                tk.arn(),
		"TaskDefinitionFamily":   tk.family,
		"TaskDefinitionRevision": "1",
		"ContainerID":            c.id,
		"ContainerName":          c.def.Name,
		"DockerContainerName":    "/" + c.name,
		"ImageID":                imageID(e.t, c.def.Image),
		"ImageName":              c.def.Image,
		"AvailabilityZone":       region + "a",
		"HostPrivateIPv4Address": tk.instance.ip,
	}
	if ip != "" {
		var pms []map[string]any
		for _, p := range c.def.PortMappings {
			pms = append(pms, map[string]any{"ContainerPort": p.ContainerPort, "HostPort": *p.HostPort, "BindIp": "0.0.0.0", "Protocol": protocol(p)})
		}
		f["PortMappings"] = pms
		f["Networks"] = []any{map[string]any{"NetworkMode": "bridge", "IPv4Addresses": []string{ip}}}
		f["MetadataFileStatus"] = "READY"
	} else {
		// Written at create time, before the agent knows more.
		delete(f, "HostPrivateIPv4Address")
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		e.t.Fatal(err)
	}
	tmp := filepath.Join(c.metaDir, ".tmp")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(c.metaDir, "ecs-container-metadata.json")); err != nil {
		e.t.Fatal(err)
	}
	if ip != "" {
		e.mu.Lock()
		for _, p := range c.def.PortMappings {
			if e.instances[tk.instance.name] == nil {
				e.instances[tk.instance.name] = map[string]string{}
			}
			e.instances[tk.instance.name][strconv.Itoa(*p.HostPort)] = fmt.Sprintf("%s:%d", ip, p.ContainerPort)
		}
		e.mu.Unlock()
		c.ip = ip
	}
}

// describeBridge puts a bridge-mode task into the task metadata v4.
func (e *emulator) describeBridge(tk *task) {
	now := time.Now().UTC().Format(time.RFC3339Nano)
	status := "RUNNING"
	var cs []any
	e.mu.Lock()
	defer func() { e.mu.Unlock(); e.write() }()
	for _, c := range tk.containers {
		obj := map[string]any{
			"DockerId": c.id, "Name": c.def.Name, "DockerName": c.name,
			"Image": c.def.Image, "ImageID": imageID(e.t, c.def.Image),
			"Labels":        ecsLabels(tk, c.def),
			"DesiredStatus": "RUNNING", "KnownStatus": "PENDING",
			"Limits":       map[string]any{"CPU": c.def.CPU, "Memory": c.def.Memory},
			"CreatedAt":    now,
			"Type":         "NORMAL",
			"ContainerARN": fmt.Sprintf("arn:aws:ecs:%s:%s:container/%s/%s/%s", region, account, cluster, tk.id, c.token),
			"LogDriver":    "json-file",
			"LogOptions":   map[string]string{},
		}
		if c.started {
			obj["KnownStatus"], obj["StartedAt"] = "RUNNING", now
			obj["Networks"] = []any{map[string]any{"NetworkMode": "bridge", "IPv4Addresses": []string{c.ip}}}
			var ports []map[string]any
			for _, p := range c.def.PortMappings {
				ports = append(ports, map[string]any{"ContainerPort": p.ContainerPort, "Protocol": protocol(p), "HostPort": *p.HostPort, "HostIp": "0.0.0.0"})
			}
			if len(ports) > 0 {
				obj["Ports"] = ports
			}
		} else {
			status = "PENDING"
		}
		e.containers[c.token] = obj
		cs = append(cs, obj)
	}
	taskObj := map[string]any{
		"Cluster":       fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", region, account, cluster),
		"TaskARN":       tk.arn(),
		"Family":        tk.family,
		"Revision":      "1",
		"DesiredStatus": "RUNNING", "KnownStatus": status,
		"PullStartedAt":    now,
		"PullStoppedAt":    now,
		"AvailabilityZone": region + "a",
		"LaunchType":       "EC2",
		"Containers":       cs,
	}
	for _, c := range tk.containers {
		e.tasks[c.token] = taskObj
	}
}

// registerBridge registers a bridge-mode task in Cloud Map as ECS service
// discovery does: the SRV record carries the host port, the instance's A
// record the instance's private IP.
func (e *emulator) registerBridge(service, namespace string, tk *task, in *instance, hostPort int) {
	target := fmt.Sprintf("%s.%s.%s", tk.id, service, namespace)
	e.setRecords("cloudmap-"+tk.id,
		fmt.Sprintf("%s.%s. 10 IN SRV 1 1 %d %s.", service, namespace, hostPort, target),
		fmt.Sprintf("%s. 10 IN A %s", target, in.ip))
}

// stoppedBridge deregisters a stopped bridge-mode task and frees its
// instance's host ports.
func (e *emulator) stoppedBridge(tk *task) {
	e.mu.Lock()
	delete(e.instances, tk.instance.name)
	e.mu.Unlock()
	e.markStopped(tk, "cloudmap-"+tk.id)
}

// checkAdvertise wants explain in a bridge-mode worker to advertise its
// instance: the instance's DNS name as host, from the ecs-bridge source,
// and to warn of nothing (every executor port mapped one-to-one).
func checkAdvertise(t *testing.T, container string, in *instance) bool {
	t.Helper()
	e, _ := e2e.Explain(t, container)
	t.Logf("explain in %s: advertise host %s public_dns %s from %s; warnings %q", container, e.Advertise.Host, e.Advertise.PublicDNS, e.Advertise.Source, e.Warnings)
	if e.Advertise.Host != in.dnsName || e.Advertise.Source != "ecs-bridge" || len(e.Warnings) != 0 {
		t.Errorf("explain in %s: advertises %q from %q, warnings %q; want %s from ecs-bridge, no warnings", container, e.Advertise.Host, e.Advertise.Source, e.Warnings, in.dnsName)
		return false
	}
	return true
}

// checkMasterPublicDNS wants explain in a bridge-mode master to give the
// instance address as SPARK_PUBLIC_DNS.
func checkMasterPublicDNS(t *testing.T, container, instanceIP string) bool {
	t.Helper()
	e, _ := e2e.Explain(t, container, "master")
	t.Logf("explain in %s: advertise host %s public_dns %s; warnings %q", container, e.Advertise.Host, e.Advertise.PublicDNS, e.Warnings)
	if e.Advertise.PublicDNS != instanceIP {
		t.Errorf("explain master in %s: public_dns %q, want the instance address %s", container, e.Advertise.PublicDNS, instanceIP)
		return false
	}
	return true
}
