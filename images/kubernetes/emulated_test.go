package kubernetes_test

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// Namespace and cluster domain of the emulated cluster.
const (
	namespace     = "spark"
	clusterDomain = "cluster.local"
)

// TestKubernetesEmulated runs the manifests' containers the way a kubelet
// would, on a Docker network standing in for the cluster:
//
//   - a user network with a fixed subnet; the Services' ClusterIPs are
//     addresses the test adds to the network's bridge, where it plays
//     kube-proxy (userspace mode) towards the master pod's own address;
//   - every container gets the Service variables the kubelet would inject
//     for the Services in the manifests (serviceEnv, Kubernetes' rules),
//     then the manifest's own env, args, image and grace period;
//   - a ClusterFirst resolv.conf (search <ns>.svc.<domain> ..., ndots:5)
//     pointing at a DNS server this test runs on the network's gateway,
//     answering spark-master.<ns>.svc.cluster.local and its SRV records as
//     cluster DNS does.
//
// Two workers start with the Service variables (enableServiceLinks, the
// default: source kubernetes-env, spark://<ClusterIP>:7077); the third as
// a pod with enableServiceLinks: false (source cluster-dns, the Service
// FQDN, port from SRV _spark._tcp). The master gets the colliding
// SPARK_MASTER_PORT=tcp://... too, and must start all the same.
//
// The Connect server's pod gets the Service variables too, its own
// Service's among them, and its token from the Secret spark-connect; its
// gRPC port is published on loopback, as kubectl port-forward gives it to a
// client, and its startup and liveness probes and its pod's restartPolicy
// are applied as the kubelet applies them. Its query runs after the
// master's pod was replaced: that pod started without the old one's state
// (an emptyDir), so the server's application was lost with it; the
// entrypoint then stops the server and the kubelet starts the exited
// container again, unless the liveness probe had it restarted first.
// The history server is a second container of that pod, which a sandbox
// holds as the kubelet's pause container holds a pod's network namespace
// (so a restarted container keeps the pod's address); it reads the
// servers' event logs from their shared emptyDir and must list the
// application of the server that ran before the restart as well as the
// running one's.
func TestKubernetesEmulated(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "kubernetes-emulated")
	start := time.Now()
	objs := loadManifests(t)
	var masterDep, workerDep, connectDep deployment
	find(t, objs, "Deployment", "spark-master", &masterDep)
	find(t, objs, "Deployment", "spark-worker", &workerDep)
	find(t, objs, "Deployment", "spark-connect", &connectDep)
	var connectSvc service
	find(t, objs, "Service", "spark-connect", &connectSvc)
	workers := *workerDep.Replicas

	tmp := t.TempDir() // before the containers' teardown, so removed after it
	prefix := e2e.Name("k8s")
	res := e2e.NewResources(t, prefix)
	netName := prefix + "-net"
	subnet := e2e.SubnetNetwork(t, res, 213, netName)
	ip := func(host int) string { return fmt.Sprintf("%s.%d", subnet, host) }
	gateway, masterIP, uiIP, connectIP, apiIP := ip(1), ip(10), ip(11), ip(12), ip(2)
	t.Logf("network %s %s.0/24: gateway/cluster DNS %s, spark-master ClusterIP %s, spark-connect ClusterIP %s", netName, subnet, gateway, masterIP, connectIP)
	connectPorts := map[string]int{}
	for _, p := range connectSvc.Ports {
		connectPorts[p.Name] = p.Port
	}
	proxy := startKubeProxy(t, netName, map[string][]int{masterIP: {7077, 8080}, uiIP: {8080}, connectIP: slices.Collect(maps.Values(connectPorts))})

	fqdn := "spark-master." + namespace + ".svc." + clusterDomain
	connectFQDN := "spark-connect." + namespace + ".svc." + clusterDomain
	queries := serveClusterDNS(t, gateway, map[string]string{
		fqdn: masterIP,
		"spark-master-ui." + namespace + ".svc." + clusterDomain: uiIP,
		connectFQDN: connectIP,
	}, map[string]map[string]int{fqdn: {"spark": 7077, "webui": 8080}, connectFQDN: connectPorts})

	svcEnv := serviceEnv(objs, map[string]string{"spark-master": masterIP, "spark-master-ui": uiIP, "spark-connect": connectIP}, apiIP)
	apiOnly := serviceEnv(nil, nil, apiIP)
	resolv := clusterFirstResolv(gateway)

	// The master pod.
	master := prefix + "-spark-master"
	res.Container(master)
	runPod(t, tmp, resolv, master, "spark-master-5d8c7b9f4-x2kqp", ip(30), masterDep, svcEnv, nil,
		"--network", netName, "-p", "127.0.0.1::7077", "-p", "127.0.0.1::8080")
	proxy.endpoint(ip(30), masterIP, uiIP)
	e, out := e2e.Explain(t, master, "master")
	removed := []string{}
	for _, r := range e.Removed {
		removed = append(removed, r.Name)
	}
	t.Logf("explain master: env_removed %s", strings.Join(removed, " "))
	if !slices.Contains(removed, "SPARK_MASTER_PORT") {
		t.Errorf("explain master does not remove SPARK_MASTER_PORT=tcp://...:\n%s", out)
	}

	// The worker pods.
	ids := []string{}
	ok := true
	for i := 1; i <= workers; i++ {
		name := fmt.Sprintf("%s-worker-%d", prefix, i)
		env, source, url := svcEnv, "kubernetes-env", "spark://"+masterIP+":7077"
		if i == workers {
			env, source, url = apiOnly, "cluster-dns", "spark://"+fqdn+":7077"
		}
		res.Container(name)
		runPod(t, tmp, resolv, name, fmt.Sprintf("spark-worker-6f9b8c7d5-w%d", i), ip(20+i), workerDep, env, nil, "--network", netName)
		ids = append(ids, name)
		ok = e2e.CheckDiscovery(t, name, source, url) && ok
	}

	// The Connect server's pod, with the token the Secret holds
	// (kubectl create secret generic spark-connect --from-literal=token=...).
	token := randomToken(t)
	// Its pod holds the history server too: a sandbox owns the pod's
	// address and the ports kubectl port-forward would reach.
	connect := prefix + "-spark-connect"
	connectPod, history := connect+"-pod", connect+"-spark-history"
	res.Container(connectPod)
	res.Container(connect)
	res.Container(history)
	runPod(t, tmp, resolv, connect, "spark-connect-7c9d8b6f5-c4n7x", ip(40), connectDep, svcEnv,
		map[string]map[string]string{"spark-connect": {"token": token}},
		"--network", netName, "-p", "127.0.0.1::"+strconv.Itoa(connectPorts["grpc"]), "-p", "127.0.0.1::18080")
	proxy.endpoint(ip(40), connectIP)
	connectKubelet := startKubelet(t, connect, connectDep)
	ok = e2e.CheckDiscovery(t, connect, "kubernetes-env", "spark://"+masterIP+":7077") && ok
	m.OK("discovery", ok)

	state := e2e.RequireAlive(t, m, e2e.Published(t, master, "8080/tcp"), workers, 3*time.Minute)
	// The manifest's limits (cpu 2, memory 3Gi) are what each worker offers.
	m.Set("offers", e2e.Offers(t, state, 2, 2048))
	t.Logf("cluster DNS answered %d queries", queries.Load())

	// What the readiness probes run.
	for _, id := range ids {
		e2e.CheckReady(t, id, "worker")
	}
	e2e.CheckReady(t, master, "master")
	connectOK := e2e.WaitConnectReady(t, connect, 4*time.Minute)

	job := func() bool {
		ok, _ := e2e.Job(t, "spark://127.0.0.1:"+e2e.Published(t, master, "7077/tcp"), gateway, workers)
		return ok
	}
	m.OK("job", job())

	// The Deployment's pod replaced (Recreate: the old one goes first):
	// a new pod on a new address behind the same ClusterIP; kube-proxy
	// follows the Endpoints, the workers keep dialling the Service.
	var masterReplaced time.Time
	e2e.CheckMasterRestartFrom(t, m, e2e.Published(t, master, "8080/tcp"), workers, func() e2e.Restarted {
		oldIP := e2e.IP(t, master)
		if out, err := e2e.Try("docker", "stop", "-t", fmt.Sprint(grace(masterDep)), master); err != nil {
			t.Fatalf("docker stop %s: %v\n%s", master, err, out)
		}
		e2e.Run(t, "docker", "rm", master)
		master = prefix + "-spark-master-2"
		res.Container(master)
		runPod(t, tmp, resolv, master, "spark-master-5d8c7b9f4-r7m4z", ip(31), masterDep, svcEnv, nil,
			"--network", netName, "-p", "127.0.0.1::7077", "-p", "127.0.0.1::8080")
		masterReplaced = time.Now()
		proxy.endpoint(ip(31), masterIP, uiIP)
		return e2e.Restarted{OldIP: oldIP, NewIP: e2e.IP(t, master), UI: e2e.Published(t, master, "8080/tcp")}
	}, job)

	// The Connect server after the master's replacement and the classic
	// jobs, whose cores its executors no longer take: the new master pod
	// knew nothing of its application, so either the entrypoint stopped
	// the server and the kubelet started the exited container again in
	// its pod, or the liveness probe had it restarted first; the new
	// server registered with the new master. Then a pod reaches it
	// through its Service by name, and the client through the published
	// port with the token.
	if connectOK {
		connectOK = e2e.WaitConnectReady(t, connect, 5*time.Minute)
		connectOK = checkRestarts(t, connect, connectKubelet.history(), masterReplaced) && connectOK
	}
	if connectOK {
		connectOK = grpcAnswers(t, ids[0], "spark-connect", connectPorts["grpc"])
	}
	if connectOK {
		connectOK, _ = e2e.ConnectJob(t, "sc://localhost:"+e2e.Published(t, connectPod, strconv.Itoa(connectPorts["grpc"])+"/tcp"), token, workers)
	}
	m.OK("connect", connectOK)

	// The history server beside it reads the event logs of every server
	// the pod ran from their emptyDir: the one before the restart too.
	historyOK := e2e.CheckReady(t, history, "history")
	m.Set("history", "fail")
	if historyOK {
		m.Set("history", e2e.HistoryListsConnect(t, e2e.Published(t, master, "8080/tcp"), "127.0.0.1:"+e2e.Published(t, connectPod, "18080/tcp")))
	}

	// A node lost: the ReplicaSet controller starts a new pod elsewhere.
	replacement, _ := e2e.CheckWorkerKill(t, m, e2e.Published(t, master, "8080/tcp"), workers, ids[0], func() string {
		name := fmt.Sprintf("%s-worker-%d", prefix, workers+1)
		res.Container(name)
		runPod(t, tmp, resolv, name, fmt.Sprintf("spark-worker-6f9b8c7d5-w%d", workers+1), ip(20+workers+1), workerDep, svcEnv, nil, "--network", netName)
		return name
	})
	if replacement != "" {
		ids = append(ids[1:], replacement)
	}

	all := append(ids, master, connect, history)
	for _, id := range all {
		e2e.CheckProcesses(t, id)
	}
	// The kubelet's stop: SIGTERM, SIGKILL after the pod's grace period;
	// its probes end first.
	connectKubelet.halt()
	grace := grace(workerDep)
	stopStart := time.Now()
	if out, err := e2e.Try(append([]string{"docker", "stop", "-t", fmt.Sprint(grace)}, all...)...); err != nil {
		t.Errorf("docker stop: %v\n%s", err, out)
	}
	t.Logf("stopped %d pods in %s (grace %ds)", len(all), time.Since(stopStart).Round(100*time.Millisecond), grace)
	stopOK := e2e.ExitCodes(t, all)
	// The manifest turns on decommission: the workers' SIGTERM went through
	// the entrypoint's decommission wait.
	for _, id := range ids {
		logs, _ := e2e.Try("docker", "logs", id)
		if line := grepLine(logs, "drain over"); line != "" {
			t.Logf("%s: %s", id, line)
		} else {
			t.Errorf("%s: no decommission on SIGTERM although the manifest enables it", id)
			stopOK = false
		}
	}
	m.OK("stop", stopOK)
	t.Logf("kubernetes-emulated path took %s", time.Since(start).Round(time.Second))
}

// grace is the pod's terminationGracePeriodSeconds, 30 when unset.
func grace(d deployment) int {
	if g := d.Template.Spec.TerminationGracePeriodSeconds; g != nil {
		return *g
	}
	return 30
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

// randomToken is a Connect token as `openssl rand -hex 32` makes one.
func randomToken(t *testing.T) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// grpcAnswers checks, from inside container, that host:port (a Service
// name, through cluster DNS and kube-proxy) answers as an HTTP/2 server
// does, gRPC's transport: the client's connection preface and an empty
// SETTINGS frame get a SETTINGS frame back. A bare TCP connect would
// prove nothing, since kube-proxy accepts before it dials the pod.
func grpcAnswers(t *testing.T, container, host string, port int) bool {
	t.Helper()
	script := `import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0]))
head = b""
while len(head) < 9:
    b = s.recv(9 - len(head))
    if not b:
        break
    head += b
print(socket.gethostbyname(sys.argv[1]), head.hex())
sys.exit(0 if len(head) == 9 and head[3] == 4 else 1)
`
	out, err := e2e.Try("docker", "exec", container, "python3", "-c", script, host, strconv.Itoa(port))
	if err != nil {
		t.Errorf("%s: %s:%d does not answer as a gRPC server: %v: %s", e2e.Short(container), host, port, err, strings.TrimSpace(out))
		return false
	}
	t.Logf("%s: %s:%d (%s) answers with an HTTP/2 SETTINGS frame", e2e.Short(container), host, port, strings.TrimSpace(out))
	return true
}
