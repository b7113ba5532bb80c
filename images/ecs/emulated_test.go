package ecs_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// Names the emulated ECS account uses.
const (
	region  = "eu-west-1"
	account = "123456789012"
	cluster = "spark"
	// searchDomain is what the VPC's DHCP options give every ENI.
	searchDomain = region + ".compute.internal"
	// agentImage carries the agent binary and the pause containers; any
	// image would do, the binary is static.
	agentImage = "snufkin/spark-master"
)

// TestECSEmulated runs the awsvpc task definitions the way the ECS agent
// on an EC2 instance would, on a Docker network standing in for the VPC
// subnet:
//
//   - an "agent" container (images/ecs/internal/agent, built here) at .2
//     serves the task metadata endpoint v4 over HTTP, the JSON shaped as
//     the ECS agent serves it, and is the VPC resolver: the private DNS
//     namespace of Cloud Map (SRV and A at the service name, A at each
//     task's instance name, as ECS service discovery registers them) and
//     the ip-a-b-c-d names of the ENIs;
//   - each task gets a pause container holding its network namespace at
//     its own fixed address (the task ENI) and the resolv.conf the agent
//     writes for awsvpc tasks; the task's containers join it with
//     --network container:<pause>, as the agent does;
//   - every container is created from the task definition's image,
//     command, environment, health check and stop timeout, plus exactly
//     what the agent adds: ECS_CONTAINER_METADATA_URI(_V4) and
//     ECS_AGENT_URI, and the com.amazonaws.ecs.* labels.
//
// The master task and three worker tasks are separate tasks, so workers
// find the master through Cloud Map (SPARK_MASTER_SRV: source cloudmap).
// The ecs source is checked inside the master task, where the task
// metadata does list a spark-master container. After a worker task is
// killed and replaced, the master task is replaced by one on another ENI:
// the workers, which dial the Cloud Map service name, re-register with it
// and a second job runs.
//
// The Connect server's task (connect-awsvpc.json) finds the master as the
// workers do and gets its token from the secret the agent fetches; its
// gRPC port is published on loopback as the master's are, standing for a
// client's tunnel to the task's ENI (SSM port forwarding). The replaced
// master task knows nothing of the server's application (no state), so the
// entrypoint stops the server and its essential container exits, or its
// health check fails first and Docker reports it UNHEALTHY; either way
// the server's ECS service replaces the task, and the query runs on the
// replacement.
func TestECSEmulated(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "ecs-emulated")
	start := time.Now()
	masterTD, workerTD, emu := setUp(t, "awsvpc", "spark-worker")
	srvName, service, namespace := emu.srvName, emu.service, emu.namespace
	t.Logf("VPC %s %s.0/24: agent (metadata, resolver) %s", emu.net, emu.subnet, emu.agentIP)
	connectTD := load(t, "connect-awsvpc.json")
	connectDef := containerNamed(t, connectTD, "spark-connect")
	grpcPort := strconv.Itoa(mappedPort(t, connectDef, "grpc")) + "/tcp"
	// The token, stored as the SecureString parameter (or secret) the
	// task definition names: aws ssm put-parameter --type SecureString.
	token := randomHex(32)
	if arn, ok := connectDef.secret("SPARK_CONNECT_AUTHENTICATE_TOKEN"); ok {
		emu.putSecret(arn, token)
	}

	// The master task, registered in Cloud Map as the ECS service
	// spark-master would register it (containerName spark-master,
	// containerPort of its "spark" mapping).
	masterDef := containerNamed(t, masterTD, "spark-master")
	rpcPort := mappedPort(t, masterDef, "spark")
	uiPort := mappedPort(t, masterDef, "webui")
	master := emu.runTask(masterTD, emu.ip(10), true)
	emu.register(service, namespace, master, rpcPort)
	// One master, and Cloud Map has its address at the service name: the
	// workers get that name, which outlives the master's task.
	wantURL := fmt.Sprintf("spark://%s:%d", srvName, rpcPort)

	var workers []*task
	for i := 1; i <= e2e.Workers; i++ {
		workers = append(workers, emu.runTask(workerTD, emu.ip(20+i), false))
	}
	connect := emu.runTask(connectTD, emu.ip(40), true)
	discoveryOK := true
	for _, w := range workers {
		discoveryOK = e2e.CheckDiscovery(t, w.container("spark-worker"), "cloudmap", wantURL) && discoveryOK
	}
	discoveryOK = e2e.CheckDiscovery(t, connect.container("spark-connect"), "cloudmap", wantURL) && discoveryOK
	// The ecs source, inside the master's own task: the task metadata
	// lists the spark-master container with the task ENI address.
	discoveryOK = checkECSSource(t, master.container("spark-master"), fmt.Sprintf("spark://%s:%d", master.ip, rpcPort)) && discoveryOK
	// And from a worker task's container: the metadata served to it over
	// HTTP is its own task, without the master.
	discoveryOK = checkMetadata(t, emu, workers[0]) && discoveryOK
	m.OK("discovery", discoveryOK)

	uiHostPort := e2e.Published(t, master.pause, strconv.Itoa(uiPort)+"/tcp")
	state := e2e.RequireAlive(t, m, uiHostPort, e2e.Workers, 3*time.Minute)
	// The task definition's 4096 MiB container limit and SPARK_WORKER_CORES.
	m.Set("offers", e2e.Offers(t, state, 2, 3072))
	connectOK := e2e.WaitConnectReady(t, connect.container("spark-connect"), 4*time.Minute)

	jobOK, _ := e2e.Job(t, "spark://127.0.0.1:"+e2e.Published(t, master.pause, strconv.Itoa(rpcPort)+"/tcp"), emu.gateway, e2e.Workers)
	m.OK("job", jobOK)

	// A worker task's essential container dies (SIGKILL): the agent stops
	// the task, the ECS service starts a replacement task on a new ENI.
	victim := workers[0]
	replacement, _ := e2e.CheckWorkerKill(t, m, uiHostPort, e2e.Workers, victim.container("spark-worker"), func() string {
		emu.stopped(victim)
		workers[0] = emu.runTask(workerTD, emu.ip(20+e2e.Workers+1), false)
		return workers[0].container("spark-worker")
	})
	if replacement != "" {
		e2e.CheckDiscovery(t, replacement, "cloudmap", wantURL)
	}

	// The ECS service replaces the master task: the old task stops and is
	// deregistered, the new one gets another ENI (address) and task id,
	// and Cloud Map lists it at the service name. The workers keep
	// dialling the service name and re-register with the new master.
	oldMaster := master
	var masterReplaced time.Time
	e2e.CheckMasterRestartFrom(t, m, uiHostPort, e2e.Workers, func() e2e.Restarted {
		emu.stopTasks(oldMaster)
		emu.stopped(oldMaster)
		master = emu.runTask(masterTD, emu.ip(11), true)
		masterReplaced = time.Now()
		emu.register(service, namespace, master, rpcPort)
		uiHostPort = e2e.Published(t, master.pause, strconv.Itoa(uiPort)+"/tcp")
		return e2e.Restarted{OldIP: oldMaster.ip, NewIP: master.ip, UI: uiHostPort}
	}, func() bool {
		ok, _ := e2e.Job(t, "spark://127.0.0.1:"+e2e.Published(t, master.pause, strconv.Itoa(rpcPort)+"/tcp"), emu.gateway, e2e.Workers)
		return ok
	})

	// The Connect server after the master's replacement and the classic
	// jobs, whose cores its executors no longer take. Its ECS service
	// replaces the task once its essential container has stopped (the
	// entrypoint's own stop) or its health check has failed retries times,
	// on another ENI, and the new server registers with the new master.
	if connectOK {
		name := connect.container("spark-connect")
		// The agent stops what is left of the task (nothing, when its
		// one essential container has exited) and the service starts a
		// replacement.
		replace := func() bool {
			ok := emu.stopTasks(connect)
			emu.stopped(connect)
			connect = emu.runTask(connectTD, emu.ip(41), true)
			return e2e.WaitConnectReady(t, connect.container("spark-connect"), 4*time.Minute) && ok
		}
		switch v := connectVerdict(t, name, 4*time.Minute); v.status {
		case "exited":
			t.Logf("connect: %s exited %d by itself %s after the new master task's start, having run %s: the task stops and the service replaces it",
				name, v.code, v.at.Sub(masterReplaced).Round(time.Second), v.ran.Round(time.Second))
			// What Docker's health check had made of it by then, for the
			// record: the exit and UNHEALTHY race for the same minute.
			if h, err := e2e.Try("docker", "inspect", "-f", "{{with .State.Health}}{{.Status}}, failing streak {{.FailingStreak}}{{end}}", name); err == nil {
				t.Logf("connect: %s health at its exit: %s", name, strings.TrimSpace(h))
			}
			connectOK = checkOwnExit(t, name, v.code)
			connectOK = replace() && connectOK
		case "unhealthy":
			t.Logf("connect: %s UNHEALTHY %s after the new master task's start: the service replaces its task",
				name, v.at.Sub(masterReplaced).Round(time.Second))
			connectOK = replace()
		case "ready":
			t.Logf("connect: %s kept its application through the master's replacement", name)
		default:
			t.Errorf("connect: %s neither ready, UNHEALTHY nor exited after the master's replacement", name)
			connectOK = false
		}
	}
	if connectOK {
		connectOK, _ = e2e.ConnectJob(t, "sc://localhost:"+e2e.Published(t, connect.pause, grpcPort), token, e2e.Workers)
	}
	m.OK("connect", connectOK)
	// The history container of the Connect task reads the event logs on
	// the task's EFS volume: the replaced task's too.
	m.Set("history", e2e.HistoryListsConnect(t, uiHostPort, "127.0.0.1:"+e2e.Published(t, connect.pause, "18080/tcp")))

	// The task definitions' health checks, run by Docker as the agent
	// has it run them.
	all := []*task{master}
	all = append(all, workers...)
	all = append(all, connect)
	healthOK := true
	for _, tk := range all {
		for _, c := range tk.containers {
			healthOK = waitHealthy(t, c.name, 45*time.Second) && healthOK
			e2e.CheckProcesses(t, c.name)
		}
	}
	m.OK("health", healthOK)

	// StopTask on every task at once: each container gets SIGTERM and
	// SIGKILL after its stopTimeout.
	stopOK := emu.stopTasks(all...)
	for _, w := range workers {
		logs, _ := e2e.Try("docker", "logs", w.container("spark-worker"))
		if line := grepLine(logs, "drain over"); line != "" {
			t.Logf("%s: %s", w.container("spark-worker"), line)
		} else {
			t.Errorf("%s: no decommission on SIGTERM although the task definition enables it", w.container("spark-worker"))
			stopOK = false
		}
	}
	m.OK("stop", stopOK)
	t.Logf("ecs-emulated path took %s", time.Since(start).Round(time.Second))
}

// containerNamed returns the container definition called name.
// setUp loads the master and worker task definitions of a network mode
// (awsvpc or bridge), reads the Cloud Map name the workers look up from
// the container srvContainer of the worker's, and starts the agent.
func setUp(t *testing.T, mode, srvContainer string) (masterTD, workerTD taskDef, emu *emulator) {
	t.Helper()
	masterTD = load(t, "master-"+mode+".json")
	workerTD = load(t, "worker-"+mode+".json")
	srvName, ok := containerNamed(t, workerTD, srvContainer).env("SPARK_MASTER_SRV")
	if !ok {
		t.Fatalf("worker-%s.json: %s has no SPARK_MASTER_SRV", mode, srvContainer)
	}
	tmp := t.TempDir() // before the containers' teardown, so removed after it
	agentBin := buildAgent(t, tmp)
	prefix := e2e.Name("ecs" + mode[:1])
	emu = newEmulator(t, e2e.NewResources(t, prefix), tmp, prefix, agentBin, mode == "bridge")
	emu.srvName = srvName
	emu.service, emu.namespace, _ = strings.Cut(srvName, ".")
	return masterTD, workerTD, emu
}

func containerNamed(t *testing.T, td taskDef, name string) cdef {
	t.Helper()
	for _, c := range td.ContainerDefinitions {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("task definition %s has no container %s", td.Family, name)
	return cdef{}
}

// mappedPort is the containerPort of the port mapping called name.
func mappedPort(t *testing.T, c cdef, name string) int {
	t.Helper()
	for _, p := range c.PortMappings {
		if p.Name == name {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s maps no port named %s", c.Name, name)
	return 0
}

// buildAgent builds images/ecs/internal/agent statically into outDir.
func buildAgent(t *testing.T, outDir string) string {
	t.Helper()
	bin := filepath.Join(outDir, "agent")
	cmd := exec.Command("go", "build", "-o", bin, "./internal/agent")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./internal/agent: %v\n%s", err, out)
	}
	return bin
}

// emulator is the ECS side of the instance: the VPC network, the agent
// container and the state it serves.
type emulator struct {
	t                        *testing.T
	res                      *e2e.Resources
	tmp, prefix, agentBin    string
	net, subnet              string
	gateway, agentIP, resolv string
	stateDir                 string
	// The Cloud Map name the workers look up, and its two halves.
	srvName, service, namespace string

	mu         sync.Mutex
	secrets    map[string]string // SSM parameters and Secrets Manager secrets, by ARN
	containers map[string]any
	tasks      map[string]any
	records    map[string][]string // by owner (task id or ENI)
	// instances maps, per instance, host ports to container addresses.
	instances map[string]map[string]string
}

func newEmulator(t *testing.T, res *e2e.Resources, tmp, prefix, agentBin string, bridge bool) *emulator {
	t.Helper()
	e := &emulator{t: t, res: res, tmp: tmp, prefix: prefix, agentBin: agentBin, secrets: map[string]string{},
		containers: map[string]any{}, tasks: map[string]any{}, records: map[string][]string{},
		instances: map[string]map[string]string{}}
	e.stateDir = filepath.Join(tmp, "state")
	if err := os.Mkdir(e.stateDir, 0o755); err != nil {
		t.Fatal(err)
	}
	e.write()
	name := prefix + "-agent"
	res.Container(name)
	argv := []string{"docker", "run", "-d", "--name", name}
	if bridge {
		// Bridge-mode tasks sit on the instances' docker0, here the
		// daemon's default bridge, where the agent sits too.
		e.net = "bridge"
	} else {
		e.net = prefix + "-vpc"
		e.subnet = e2e.SubnetNetwork(t, res, 214, e.net)
		e.agentIP = e.ip(2)
		argv = append(argv, "--ip", e.agentIP)
	}
	argv = append(argv, "--network", e.net, "-v", agentBin+":/agent:ro", "-v", e.stateDir+":/state:ro",
		"--entrypoint", "/agent", agentImage, "-state", "/state/state.json")
	e2e.Run(t, argv...)
	if bridge {
		e.agentIP = e2e.IP(t, name)
	}
	e.gateway = e2e.Gateway(t, name)
	// The resolv.conf the agent writes for awsvpc tasks, and the one
	// bridge-mode tasks inherit from the instance: the VPC resolver and
	// the DHCP options' search domain.
	e.resolv = filepath.Join(tmp, "resolv.conf")
	if err := os.WriteFile(e.resolv, []byte(fmt.Sprintf("search %s\nnameserver %s\n", searchDomain, e.agentIP)), 0o644); err != nil {
		t.Fatal(err)
	}
	// The test reaches the agent over the bridge, as the containers do.
	var err error
	if ok, _ := e2e.Poll(30*time.Second, 200*time.Millisecond, func(time.Duration) bool {
		var resp *http.Response
		if resp, err = http.Get("http://" + e.agentIP + "/v4/none"); err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusNotFound
	}); !ok {
		out, _ := e2e.Try("docker", "logs", name)
		t.Fatalf("agent at %s does not answer: %v\n%s", e.agentIP, err, out)
	}
	return e
}

func (e *emulator) ip(host int) string { return fmt.Sprintf("%s.%d", e.subnet, host) }

// write publishes the state to the agent: write and rename, so that no
// request sees half a file.
func (e *emulator) write() {
	e.t.Helper()
	e.mu.Lock()
	var recs []string
	for _, r := range e.records {
		recs = append(recs, r...)
	}
	slices.Sort(recs)
	b, err := json.MarshalIndent(map[string]any{"containers": e.containers, "tasks": e.tasks, "records": recs, "instances": e.instances}, "", " ")
	e.mu.Unlock()
	if err != nil {
		e.t.Fatal(err)
	}
	tmp := filepath.Join(e.stateDir, ".state.json")
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		e.t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(e.stateDir, "state.json")); err != nil {
		e.t.Fatal(err)
	}
}

// task is one running task.
type task struct {
	id, family, ip, pause string
	privateDNS            string
	containers            []*taskContainer
	td                    taskDef
	instance              *instance // bridge mode
}

type taskContainer struct {
	def   cdef
	name  string // Docker name
	token string // the metadata endpoint's id for it
	id    string // Docker id
	// bridge mode: the metadata file's directory, the bridge address
	metaDir, ip string
	started     bool
}

func (tk *task) container(name string) string {
	for _, c := range tk.containers {
		if c.def.Name == name {
			return c.name
		}
	}
	panic("no container " + name)
}

func (tk *task) arn() string {
	return fmt.Sprintf("arn:aws:ecs:%s:%s:task/%s/%s", region, account, cluster, tk.id)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// runTask starts an awsvpc task of td whose ENI has address ip: the pause
// container, then the task's containers in it. publish maps the
// container ports to loopback, for the test and its driver.
func (e *emulator) runTask(td taskDef, ip string, publish bool) *task {
	t := e.t
	t.Helper()
	if td.NetworkMode != "awsvpc" {
		t.Fatalf("task definition %s: network mode %s, only awsvpc is emulated", td.Family, td.NetworkMode)
	}
	tk := &task{id: randomHex(16), family: td.Family, ip: ip, td: td}
	hostname := "ip-" + strings.ReplaceAll(ip, ".", "-")
	tk.privateDNS = hostname + "." + searchDomain
	base := fmt.Sprintf("%s-%s-%s", e.prefix, td.Family, tk.id[:6])
	tk.pause = base + "-pause"
	e.res.Container(tk.pause)
	argv := []string{"docker", "run", "-d", "--name", tk.pause, "--network", e.net, "--ip", ip,
		"--hostname", hostname, "-v", e.resolv + ":/etc/resolv.conf:ro", "-v", e.agentBin + ":/agent:ro"}
	if publish {
		for _, c := range td.ContainerDefinitions {
			for _, p := range c.PortMappings {
				argv = append(argv, "-p", fmt.Sprintf("127.0.0.1::%d/%s", p.ContainerPort, protocol(p)))
			}
		}
	}
	argv = append(argv, "--entrypoint", "/agent", agentImage, "-pause")
	e2e.Run(t, argv...)
	mac := strings.TrimSpace(e2e.Run(t, "docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}", tk.pause))
	// The task's volumes: an EFS file system is one volume whichever task
	// mounts it (its access point gives the event-log directory to
	// 185:0, as a fresh Docker volume copies the image's); any other is
	// the task's own.
	volumes := map[string]string{}
	for _, v := range td.Volumes {
		name := base + "-" + v.Name
		if efs := v.EFSVolumeConfiguration; efs != nil {
			name = e.prefix + "-" + efs.FileSystemID
		}
		volumes[v.Name] = name
		e.res.Volume(name)
	}

	for _, c := range td.ContainerDefinitions {
		tc := &taskContainer{def: c, name: base + "-" + c.Name, token: randomHex(16) + "-" + strconv.Itoa(len(tk.containers))}
		e.res.Container(tc.name)
		uri := "http://" + e.agentIP
		argv := []string{"docker", "create", "--name", tc.name, "--network", "container:" + tk.pause,
			"-v", e.resolv + ":/etc/resolv.conf:ro",
			"-e", "ECS_CONTAINER_METADATA_URI=" + uri + "/v3/" + tc.token,
			"-e", "ECS_CONTAINER_METADATA_URI_V4=" + uri + "/v4/" + tc.token,
			"-e", "ECS_AGENT_URI=" + uri + "/api/" + tc.token,
			"-e", "AWS_EXECUTION_ENV=AWS_ECS_EC2",
			"-e", "AWS_REGION=" + region, "-e", "AWS_DEFAULT_REGION=" + region}
		for k, v := range ecsLabels(tk, c) {
			argv = append(argv, "--label", k+"="+v)
		}
		for _, kv := range c.Environment {
			argv = append(argv, "-e", kv.Name+"="+kv.Value)
		}
		argv = append(argv, e.secretEnv(td, c)...)
		for _, mp := range c.MountPoints {
			spec := volumes[mp.SourceVolume] + ":" + mp.ContainerPath
			if mp.ReadOnly {
				spec += ":ro"
			}
			argv = append(argv, "-v", spec)
		}
		if c.StopTimeout != nil {
			argv = append(argv, "--stop-timeout", strconv.Itoa(*c.StopTimeout))
		}
		argv = append(argv, healthFlags(t, c)...)
		argv = append(argv, c.resourceFlags()...)
		if len(c.EntryPoint) > 0 {
			argv = append(argv, "--entrypoint", c.EntryPoint[0])
		}
		argv = append(argv, c.Image)
		if len(c.EntryPoint) > 1 {
			argv = append(argv, c.EntryPoint[1:]...)
		}
		argv = append(argv, c.Command...)
		tc.id = strings.TrimSpace(e2e.Run(t, argv...))
		tk.containers = append(tk.containers, tc)
	}
	e.describe(tk, mac, "PENDING")
	for _, c := range tk.containers {
		e2e.Run(t, "docker", "start", c.name)
	}
	e.describe(tk, mac, "RUNNING")
	e.setRecords("eni-"+tk.id, fmt.Sprintf("%s. 60 IN A %s", tk.privateDNS, ip))
	t.Logf("task %s:%s %s at %s: %s", td.Family, "1", tk.id, ip, strings.Join(tk.names(), " "))
	return tk
}

// putSecret stores value as the SSM parameter or Secrets Manager secret
// arn.
func (e *emulator) putSecret(arn, value string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.secrets[arn] = value
}

// secretEnv is what the agent does with the container's secrets before it
// creates the container: it fetches each with the task execution role and
// sets it as an environment variable. A task whose secret cannot be
// fetched does not start (ResourceInitializationError).
func (e *emulator) secretEnv(td taskDef, c cdef) []string {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	var argv []string
	for _, s := range c.Secrets {
		if td.ExecutionRoleArn == "" {
			e.t.Fatalf("task definition %s: container %s has secrets but the task no executionRoleArn: ResourceInitializationError", td.Family, c.Name)
		}
		v, ok := e.secrets[s.ValueFrom]
		if !ok {
			e.t.Fatalf("task definition %s: container %s: secret %s from %s does not exist: ResourceInitializationError", td.Family, c.Name, s.Name, s.ValueFrom)
		}
		argv = append(argv, "-e", s.Name+"="+v)
	}
	return argv
}

func (tk *task) names() []string {
	var n []string
	for _, c := range tk.containers {
		n = append(n, c.name)
	}
	return n
}

func protocol(p portMapping) string {
	if p.Protocol == "" {
		return "tcp"
	}
	return p.Protocol
}

// ecsLabels are the Docker labels the agent puts on a task's containers
// (and repeats in the metadata's Labels).
func ecsLabels(tk *task, c cdef) map[string]string {
	return map[string]string{
		"com.amazonaws.ecs.cluster":                 cluster,
		"com.amazonaws.ecs.container-name":          c.Name,
		"com.amazonaws.ecs.task-arn":                tk.arn(),
		"com.amazonaws.ecs.task-definition-family":  tk.family,
		"com.amazonaws.ecs.task-definition-version": "1",
	}
}

// healthFlags turn the task definition's healthCheck into docker's
// flags. ECS hands Docker the command as a "CMD" exec array; the docker
// CLI knows only the shell form, so the arguments are quoted for it.
// resourceFlags are the limits the ECS agent gives c's container
// (api/task: dockerHostConfig): memory in MiB as a hard limit,
// memoryReservation as a soft one, and cpu units as CPU shares (2 at
// least, the kernel's minimum). Task-level cpu and memory go on the
// task's cgroup, above the container's, where neither the entrypoint nor
// the JVM reads them: the task definitions repeat them per container.
func (c cdef) resourceFlags() []string {
	var flags []string
	if c.Memory > 0 {
		flags = append(flags, "--memory", strconv.Itoa(c.Memory)+"m")
	}
	if c.MemoryReservation > 0 {
		flags = append(flags, "--memory-reservation", strconv.Itoa(c.MemoryReservation)+"m")
	}
	return append(flags, "--cpu-shares", strconv.Itoa(max(2, c.CPU)))
}

func healthFlags(t *testing.T, c cdef) []string {
	t.Helper()
	h := c.HealthCheck
	if h == nil {
		return nil
	}
	var cmd string
	switch h.Command[0] {
	case "CMD":
		q := make([]string, len(h.Command)-1)
		for i, a := range h.Command[1:] {
			q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		cmd = strings.Join(q, " ")
	case "CMD-SHELL":
		cmd = strings.Join(h.Command[1:], " ")
	default:
		t.Fatalf("container %s: healthCheck command %q", c.Name, h.Command)
	}
	return []string{"--health-cmd", cmd,
		"--health-interval", fmt.Sprintf("%ds", h.Interval),
		"--health-timeout", fmt.Sprintf("%ds", h.Timeout),
		"--health-retries", strconv.Itoa(h.Retries),
		"--health-start-period", fmt.Sprintf("%ds", h.StartPeriod)}
}

// describe puts the task and its containers into the metadata, in the v4
// shape (aws/amazon-ecs-agent, agent/handlers/v4 and v2 response types).
func (e *emulator) describe(tk *task, mac, status string) {
	e.t.Helper()
	now := time.Now().UTC().Format(time.RFC3339Nano)
	network := map[string]any{
		"NetworkMode":              "awsvpc",
		"IPv4Addresses":            []string{tk.ip},
		"AttachmentIndex":          0,
		"MACAddress":               mac,
		"IPv4SubnetCIDRBlock":      e.subnet + ".0/24",
		"DomainNameServers":        []string{e.agentIP},
		"DomainNameSearchList":     []string{searchDomain},
		"PrivateDNSName":           tk.privateDNS,
		"SubnetGatewayIpv4Address": e.gateway + "/24",
	}
	// The pause container is in /task too, typed CNI_PAUSE; readers must
	// skip it.
	pause := map[string]any{
		"DockerId": strings.TrimSpace(e2e.Run(e.t, "docker", "inspect", "-f", "{{.Id}}", tk.pause)), "Name": "~internal~ecs~pause",
		"DockerName": tk.pause, "Image": "amazon/amazon-ecs-pause:0.1.0", "ImageID": "",
		"Labels": map[string]string{"com.amazonaws.ecs.cluster": cluster, "com.amazonaws.ecs.container-name": "~internal~ecs~pause",
			"com.amazonaws.ecs.task-arn": tk.arn(), "com.amazonaws.ecs.task-definition-family": tk.family, "com.amazonaws.ecs.task-definition-version": "1"},
		"DesiredStatus": "RESOURCES_PROVISIONED", "KnownStatus": "RESOURCES_PROVISIONED",
		"Limits": map[string]any{"CPU": 0, "Memory": 0}, "CreatedAt": now, "StartedAt": now, "Type": "CNI_PAUSE",
		"Networks": []any{network},
	}
	var cs []any
	e.mu.Lock()
	defer func() { e.mu.Unlock(); e.write() }()
	for _, c := range tk.containers {
		var ports []map[string]any
		for _, p := range c.def.PortMappings {
			ports = append(ports, map[string]any{"ContainerPort": p.ContainerPort, "Protocol": protocol(p), "HostPort": p.ContainerPort})
		}
		obj := map[string]any{
			"DockerId": c.id, "Name": c.def.Name, "DockerName": c.name,
			"Image": c.def.Image, "ImageID": imageID(e.t, c.def.Image),
			"Labels":        ecsLabels(tk, c.def),
			"DesiredStatus": "RUNNING", "KnownStatus": status,
			"Limits":    map[string]any{"CPU": c.def.CPU, "Memory": c.def.Memory},
			"CreatedAt": now, "Type": "NORMAL",
			"Networks":     []any{network},
			"ContainerARN": fmt.Sprintf("arn:aws:ecs:%s:%s:container/%s/%s/%s", region, account, cluster, tk.id, c.token),
			"LogDriver":    "json-file",
			"LogOptions":   map[string]string{},
		}
		if status == "RUNNING" {
			obj["StartedAt"] = now
		}
		if len(ports) > 0 {
			obj["Ports"] = ports
		}
		e.containers[c.token] = obj
		cs = append(cs, obj)
	}
	cs = append([]any{pause}, cs...)
	taskObj := map[string]any{
		"Cluster":       fmt.Sprintf("arn:aws:ecs:%s:%s:cluster/%s", region, account, cluster),
		"TaskARN":       tk.arn(),
		"Family":        tk.family,
		"Revision":      "1",
		"DesiredStatus": "RUNNING", "KnownStatus": status,
		"Limits":           taskLimits(tk.td),
		"PullStartedAt":    now,
		"PullStoppedAt":    now,
		"AvailabilityZone": region + "a",
		"LaunchType":       "EC2",
		"Containers":       cs,
		"VPCID":            "vpc-0a1b2c3d4e5f60718",
	}
	for _, c := range tk.containers {
		e.tasks[c.token] = taskObj
	}
}

// taskLimits is the task-level cpu (units of 1/1024 vCPU, reported in
// vCPUs) and memory (MiB).
func taskLimits(td taskDef) map[string]any {
	l := map[string]any{}
	if n, err := strconv.Atoi(td.CPU); err == nil {
		l["CPU"] = float64(n) / 1024
	}
	if n, err := strconv.Atoi(td.Memory); err == nil {
		l["Memory"] = n
	}
	return l
}

var imageIDs sync.Map

func imageID(t *testing.T, image string) string {
	if v, ok := imageIDs.Load(image); ok {
		return v.(string)
	}
	id := strings.TrimSpace(e2e.Run(t, "docker", "image", "inspect", "-f", "{{.Id}}", image))
	imageIDs.Store(image, id)
	return id
}

// register adds the task to the Cloud Map service as ECS service
// discovery does for an awsvpc service with A and SRV records (MULTIVALUE
// routing): one instance per task, named by the task id; at the service
// name an SRV record with priority and weight 1 and an A record with the
// task's address; and an A record at the instance's name, the SRV target.
func (e *emulator) register(service, namespace string, tk *task, port int) {
	target := fmt.Sprintf("%s.%s.%s", tk.id, service, namespace)
	e.setRecords("cloudmap-"+tk.id,
		fmt.Sprintf("%s.%s. 10 IN SRV 1 1 %d %s.", service, namespace, port, target),
		fmt.Sprintf("%s.%s. 10 IN A %s", service, namespace, tk.ip),
		fmt.Sprintf("%s. 10 IN A %s", target, tk.ip))
}

// setRecords gives owner (a task, ENI or instance) the resource records
// rrs at the resolver, replacing what it had.
func (e *emulator) setRecords(owner string, rrs ...string) {
	e.mu.Lock()
	e.records[owner] = rrs
	e.mu.Unlock()
	e.write()
}

// markStopped marks a task and its containers STOPPED in the metadata and
// drops the records of owners.
func (e *emulator) markStopped(tk *task, owners ...string) {
	e.mu.Lock()
	for _, c := range tk.containers {
		for _, obj := range []any{e.containers[c.token], e.tasks[c.token]} {
			if o, ok := obj.(map[string]any); ok {
				o["DesiredStatus"], o["KnownStatus"] = "STOPPED", "STOPPED"
			}
		}
	}
	for _, o := range owners {
		delete(e.records, o)
	}
	e.mu.Unlock()
	e.write()
}

// stopped is what the agent and the service scheduler do once a task has
// stopped: the task and its containers are STOPPED in the metadata, its
// ENI and its Cloud Map instance are gone, and the pause container is
// removed.
func (e *emulator) stopped(tk *task) {
	e.markStopped(tk, "eni-"+tk.id, "cloudmap-"+tk.id)
	e2e.Run(e.t, "docker", "rm", "-f", tk.pause)
}

// stopTasks stops the tasks as StopTask does, all at once: docker stop
// with each container's stopTimeout, then the pause container. It checks
// that each container exited 0 or 143 within its stopTimeout.
func (e *emulator) stopTasks(tasks ...*task) bool {
	t := e.t
	t.Helper()
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := true
	for _, tk := range tasks {
		for _, c := range tk.containers {
			wg.Go(func() {
				grace := 30
				if c.def.StopTimeout != nil {
					grace = *c.def.StopTimeout
				}
				begin := time.Now()
				out, err := e2e.Try("docker", "stop", "-t", strconv.Itoa(grace), c.name)
				took := time.Since(begin)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("docker stop %s: %v\n%s", c.name, err, out)
					ok = false
					return
				}
				t.Logf("stopped %s in %s (stopTimeout %ds)", c.name, took.Round(100*time.Millisecond), grace)
				if took >= time.Duration(grace)*time.Second {
					t.Errorf("%s took the whole stopTimeout %ds: killed, not stopped", c.name, grace)
					ok = false
				}
			})
		}
	}
	wg.Wait()
	for _, tk := range tasks {
		ok = e2e.ExitCodes(t, tk.names()) && ok
	}
	return ok
}

// checkECSSource runs explain with only the ecs source in container, a
// container of the master's task, and wants url from it.
func checkECSSource(t *testing.T, container, url string) bool {
	t.Helper()
	out, err := e2e.Try("docker", "exec", "-e", "ENTRYPOINT_DISCOVERY=ecs", container, "/usr/local/bin/entrypoint", "explain", "worker")
	var e e2e.Explanation
	if i := strings.Index(out, "{"); i < 0 || json.Unmarshal([]byte(out[i:]), &e) != nil || e.Master == nil {
		t.Errorf("explain worker (ENTRYPOINT_DISCOVERY=ecs) in %s: %v:\n%s", container, err, out)
		return false
	}
	t.Logf("explain in master task (ecs only): master %s from %s (%s)", e.Master.URL, e.Master.Source, strings.Join(e.Master.Detail, "; "))
	if e.Master.Source != "ecs" || e.Master.URL != url {
		t.Errorf("explain in master task: master %s from %s, want %s from ecs", e.Master.URL, e.Master.Source, url)
		return false
	}
	return true
}

// checkMetadata reads ${ECS_CONTAINER_METADATA_URI_V4} and its /task from
// inside a worker task's container, with the image's own python, and
// checks that they describe that task.
func checkMetadata(t *testing.T, e *emulator, w *task) bool {
	t.Helper()
	script := `import json, os, urllib.request
u = os.environ["ECS_CONTAINER_METADATA_URI_V4"]
c = json.load(urllib.request.urlopen(u, timeout=5))
k = json.load(urllib.request.urlopen(u + "/task", timeout=5))
print(json.dumps({"name": c["Name"], "ip": c["Networks"][0]["IPv4Addresses"][0], "task": k["TaskARN"],
  "containers": [x["Name"] + "/" + x["Type"] for x in k["Containers"]]}))
`
	out, err := e2e.Try("docker", "exec", w.container("spark-worker"), "python3", "-c", script)
	var got struct {
		Name, IP, Task string
		Containers     []string
	}
	if err != nil || json.Unmarshal([]byte(strings.TrimSpace(out)), &got) != nil {
		t.Errorf("task metadata from inside %s: %v\n%s", w.container("spark-worker"), err, out)
		return false
	}
	t.Logf("task metadata from inside %s: %s", w.container("spark-worker"), strings.TrimSpace(out))
	want := []string{"~internal~ecs~pause/CNI_PAUSE", "spark-worker/NORMAL"}
	if got.Name != "spark-worker" || got.IP != w.ip || got.Task != w.arn() || !slices.Equal(got.Containers, want) {
		t.Errorf("task metadata: got %+v, want spark-worker at %s in %s with %q", got, w.ip, w.arn(), want)
		return false
	}
	return true
}

// verdict is what became of the Connect server's container.
type verdict struct {
	// status: "exited" (stopped by itself), "unhealthy" (by its health
	// check, as Docker reports it to the agent), "ready" (`entrypoint
	// ready connect`), or "" when none came before the timeout.
	status string
	at     time.Time     // when it exited or was seen UNHEALTHY
	code   int           // exited: its exit status
	ran    time.Duration // exited: from its start to its exit
}

// connectVerdict waits until the Connect server in container has exited,
// is UNHEALTHY or is ready, whichever the agent would see first, and says
// which.
func connectVerdict(t *testing.T, container string, timeout time.Duration) verdict {
	t.Helper()
	var v verdict
	e2e.Poll(timeout, 2*time.Second, func(time.Duration) bool {
		out, err := e2e.Try("docker", "inspect", "-f",
			"{{.State.Running}} {{.State.ExitCode}} {{.State.StartedAt}} {{.State.FinishedAt}} {{if .State.Health}}{{.State.Health.Status}}{{end}}", container)
		f := strings.Fields(out)
		switch {
		case err != nil || len(f) < 4:
			t.Errorf("docker inspect %s: %v: %s", container, err, strings.TrimSpace(out))
			return true
		case f[0] == "false":
			v.status = "exited"
			v.code, _ = strconv.Atoi(f[1])
			started, _ := time.Parse(time.RFC3339Nano, f[2])
			v.at, _ = time.Parse(time.RFC3339Nano, f[3])
			v.ran = v.at.Sub(started)
			return true
		case len(f) > 4 && f[4] == "unhealthy":
			v = verdict{status: "unhealthy", at: time.Now()}
			return true
		}
		if _, err := e2e.Try("docker", "exec", container, "/usr/local/bin/entrypoint", "ready", "connect"); err == nil {
			v = verdict{status: "ready", at: time.Now()}
			return true
		}
		return false
	})
	return v
}

// checkOwnExit wants a Connect server's container that exited by itself
// to have been stopped by its entrypoint, and to say so in its own log:
// exit 143 and the JSON line "stopping the workload" with a reason that
// names the application (entrypoint/doc.go, "Spark Connect server").
func checkOwnExit(t *testing.T, container string, code int) bool {
	t.Helper()
	ok := true
	if code != 143 {
		t.Errorf("connect: %s exited %d by itself, want 143 (the entrypoint's stop)", container, code)
		ok = false
	}
	logs, _ := e2e.Try("docker", "logs", container)
	line, named := e2e.StopLine(logs)
	switch {
	case line == "":
		t.Errorf("connect: %s exited by itself without a \"stopping the workload\" line in its log:\n%s", container, tail(logs, 20))
		return false
	case !named:
		t.Errorf("connect: %s stopped the workload for a reason that does not name the application: %s", container, line)
		return false
	}
	t.Logf("connect: its log says: %s", line)
	return ok
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// waitHealthy waits for Docker's health status of container to be
// healthy and reports whether it got there.
func waitHealthy(t *testing.T, container string, timeout time.Duration) bool {
	t.Helper()
	var status string
	if ok, _ := e2e.Poll(timeout, time.Second, func(time.Duration) bool {
		status = strings.TrimSpace(e2e.Run(t, "docker", "inspect", "-f", "{{if .State.Health}}{{.State.Health.Status}}{{end}}", container))
		return status == "healthy"
	}); !ok {
		out, _ := e2e.Try("docker", "inspect", "-f", "{{json .State.Health}}", container)
		t.Errorf("%s: health %q after %s: %s", container, status, timeout, out)
		return false
	}
	return true
}

// grepLine returns the first line of s that contains sub, or "".
func grepLine(s, sub string) string {
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}
