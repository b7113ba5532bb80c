package kubernetes_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

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

// kubeProxy plays kube-proxy in its userspace mode: the test adds each
// ClusterIP to the network's bridge on the host, listens on the Service's
// ports there and forwards every connection to the same port of the
// current endpoint of its Service: the master pod, which a restart
// changes, or the Connect server's. Endpoints follow the pods' start, not
// their readiness, which the test checks itself. A connection ends on both
// sides when either side ends, so the master sees a worker's death and the
// workers see the master's.
type kubeProxy struct {
	mu   sync.Mutex
	pods map[string]string // by ClusterIP
}

// endpoint makes pod the endpoint of the Services at clusterIPs.
func (p *kubeProxy) endpoint(pod string, clusterIPs ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ip := range clusterIPs {
		p.pods[ip] = pod
	}
}

func startKubeProxy(t *testing.T, network string, services map[string][]int) *kubeProxy {
	t.Helper()
	id := strings.TrimSpace(e2e.Run(t, "docker", "network", "inspect", "-f", "{{.Id}}", network))
	bridge := "br-" + id[:12]
	p := &kubeProxy{pods: map[string]string{}}
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	track := func(c net.Conn, on bool) {
		mu.Lock()
		defer mu.Unlock()
		if on {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	for clusterIP, ports := range services {
		if out, err := e2e.Try("ip", "addr", "add", clusterIP+"/32", "dev", bridge); err != nil {
			t.Skipf("kube-proxy: ip addr add %s dev %s: %v: %s (needs CAP_NET_ADMIN)", clusterIP, bridge, err, out)
		}
		t.Cleanup(func() { _, _ = e2e.Try("ip", "addr", "del", clusterIP+"/32", "dev", bridge) })
		for _, port := range ports {
			ln, err := net.Listen("tcp", net.JoinHostPort(clusterIP, fmt.Sprint(port)))
			if err != nil {
				t.Fatalf("kube-proxy on %s:%d: %v", clusterIP, port, err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					go func() {
						defer c.Close()
						p.mu.Lock()
						pod := p.pods[clusterIP]
						p.mu.Unlock()
						// No endpoint, or a pod not listening yet: refused,
						// as kube-proxy rejects a Service without ready
						// endpoints.
						up, err := net.DialTimeout("tcp", net.JoinHostPort(pod, fmt.Sprint(port)), 2*time.Second)
						if err != nil {
							return
						}
						defer up.Close()
						track(c, true)
						track(up, true)
						defer track(c, false)
						defer track(up, false)
						done := make(chan struct{}, 2)
						go func() { _, _ = io.Copy(up, c); done <- struct{}{} }()
						go func() { _, _ = io.Copy(c, up); done <- struct{}{} }()
						<-done
					}()
				}
			}()
		}
	}
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for c := range conns {
			c.Close()
		}
	})
	return p
}

// runPod starts the Deployment's pod as a kubelet would: each container
// with its image and args, the Service variables first and the
// container's own env over them (secrets holds the namespace's Secrets,
// by name and key), the pod name as hostname, a ClusterFirst resolv.conf,
// the pod's volumes. extra (its network, address and published ports)
// goes to the container that holds the pod's network namespace: the first
// container, named name, when the pod has one; else a sandbox, name-pod,
// as the kubelet's pause container, which the containers join (the first
// named name, the others name-CONTAINER), so that a container restarted
// keeps the pod's address.
func runPod(t *testing.T, tmp, resolvConf, name, podName, podIP string, d deployment, svcEnv []string, secrets map[string]map[string]string, extra ...string) {
	t.Helper()
	resolv := filepath.Join(tmp, name+".resolv.conf")
	if err := os.WriteFile(resolv, []byte(resolvConf), 0o644); err != nil {
		t.Fatal(err)
	}
	network := []string{"--hostname", podName}
	if podIP != "" {
		network = append(network, "--ip", podIP)
	}
	network = append(network, extra...)
	cs := d.Template.Spec.Containers
	if len(cs) > 1 {
		// Sleeping is all a pause container does.
		e2e.Run(t, append(append([]string{"docker", "run", "-d", "--name", name + "-pod", "-v", resolv + ":/etc/resolv.conf"}, network...),
			"--entrypoint", "sleep", cs[0].Image, "infinity")...)
		network = []string{"--network", "container:" + name + "-pod"}
	}
	for i, c := range cs {
		cname := name
		if i > 0 {
			cname = name + "-" + c.Name
		}
		argv := []string{"docker", "run", "-d", "--name", cname, "-v", resolv + ":/etc/resolv.conf"}
		argv = append(argv, network...)
		flags, err := c.runtimeFlags()
		if err != nil {
			t.Fatalf("%s: %v", cname, err)
		}
		argv = append(argv, flags...)
		argv = append(argv, securityFlags(t, cname, d.Template.Spec, c)...)
		argv = append(argv, volumeFlags(t, filepath.Join(tmp, name), d.Template.Spec, c)...)
		for _, kv := range containerEnv(t, cname, podName, podIP, c, svcEnv, secrets) {
			argv = append(argv, "-e", kv)
		}
		argv = append(argv, c.Image)
		argv = append(argv, c.Args...)
		e2e.Run(t, argv...)
	}
}

// containerEnv is the environment the kubelet gives container c: the
// Service variables, then the container's own env over them (kubelet
// makeEnvironmentVariables), with HOSTNAME the pod's name.
func containerEnv(t *testing.T, name, podName, podIP string, c container, svcEnv []string, secrets map[string]map[string]string) []string {
	t.Helper()
	env := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := env[k]; !ok {
			order = append(order, k)
		}
		env[k] = v
	}
	for _, kv := range svcEnv {
		k, v, _ := strings.Cut(kv, "=")
		set(k, v)
	}
	for _, e := range c.Env {
		if r := e.secretRef(); r != nil {
			v, ok := secrets[r.Name][r.Key]
			switch {
			case ok:
				set(e.Name, v)
			case r.Optional == nil || !*r.Optional:
				t.Fatalf("%s: %s from Secret %s key %s, which does not exist: the kubelet would not start the container (CreateContainerConfigError)", name, e.Name, r.Name, r.Key)
			}
			continue
		}
		switch f := e.fieldPath(); f {
		case "":
			set(e.Name, e.Value)
		case "status.podIP":
			if podIP == "" {
				t.Fatalf("%s: %s from status.podIP, but the pod has no fixed address", name, e.Name)
			}
			set(e.Name, podIP)
		case "metadata.name":
			set(e.Name, podName)
		case "metadata.namespace":
			set(e.Name, namespace)
		default:
			t.Fatalf("%s: %s from %s: not emulated", name, e.Name, f)
		}
	}
	set("HOSTNAME", podName)
	var kvs []string
	for _, k := range order {
		kvs = append(kvs, k+"="+env[k])
	}
	return kvs
}

// securityFlags are what the kubelet asks of the runtime for the pod's
// and its container's securityContext: the user and group (and fsGroup as
// a supplementary group), no new privileges, the capabilities, a
// read-only root. A pod that must not run as root but names no user, or
// uid 0, is refused as the kubelet refuses it (CreateContainerConfigError).
func securityFlags(t *testing.T, name string, p podSpec, c container) []string {
	t.Helper()
	var flags []string
	if ps := p.SecurityContext; ps != nil {
		if ps.RunAsNonRoot != nil && *ps.RunAsNonRoot && (ps.RunAsUser == nil || *ps.RunAsUser == 0) {
			t.Fatalf("%s: runAsNonRoot without a non-zero runAsUser: the kubelet would not start it", name)
		}
		if ps.RunAsUser != nil {
			user := strconv.Itoa(*ps.RunAsUser)
			if ps.RunAsGroup != nil {
				user += ":" + strconv.Itoa(*ps.RunAsGroup)
			}
			flags = append(flags, "--user", user)
		}
		if ps.FSGroup != nil {
			flags = append(flags, "--group-add", strconv.Itoa(*ps.FSGroup))
		}
	}
	if sc := c.SecurityContext; sc != nil {
		if sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation {
			flags = append(flags, "--security-opt", "no-new-privileges")
		}
		if sc.Capabilities != nil {
			for _, c := range sc.Capabilities.Drop {
				flags = append(flags, "--cap-drop", c)
			}
			for _, c := range sc.Capabilities.Add {
				flags = append(flags, "--cap-add", c)
			}
		}
		if sc.ReadOnlyRootFilesystem {
			flags = append(flags, "--read-only")
		}
	}
	return flags
}

// volumeFlags mounts the pod's emptyDirs, each a directory under dir (the
// pod's, shared by its containers) as the kubelet makes it (mode 0777;
// with an fsGroup, that group's and setgid), at container c's mount
// paths. Any other kind of volume is not emulated.
func volumeFlags(t *testing.T, dir string, p podSpec, c container) []string {
	t.Helper()
	paths := map[string]string{}
	for _, v := range p.Volumes {
		if v.EmptyDir == nil {
			t.Fatalf("volume %s: only emptyDir is emulated", v.Name)
		}
		path := filepath.Join(dir, v.Name)
		if err := os.MkdirAll(path, 0o777); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o777)
		if ps := p.SecurityContext; ps != nil && ps.FSGroup != nil {
			if err := os.Chown(path, -1, *ps.FSGroup); err != nil {
				t.Fatal(err)
			}
			mode |= os.ModeSetgid
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		paths[v.Name] = path
	}
	var flags []string
	for _, m := range c.VolumeMounts {
		path, ok := paths[m.Name]
		if !ok {
			t.Fatalf("volumeMount %s: no such volume in the pod", m.Name)
		}
		spec := path + ":" + m.MountPath
		if m.ReadOnly {
			spec += ":ro"
		}
		flags = append(flags, "-v", spec)
	}
	return flags
}

// clusterFirstResolv is the kubelet's ClusterFirst resolv.conf for a pod
// of namespace, with the cluster DNS at nameserver.
func clusterFirstResolv(nameserver string) string {
	return fmt.Sprintf("nameserver %s\nsearch %s.svc.%s svc.%s %s\noptions ndots:5\n",
		nameserver, namespace, clusterDomain, clusterDomain, clusterDomain)
}

// serveClusterDNS answers, on addr:53 (UDP and TCP), A records for hosts
// and the SRV records _<port>._tcp.<name> of named ports, as cluster DNS
// does for ClusterIP Services; NXDOMAIN for anything else (it forwards
// nothing). It returns the count of queries answered.
func serveClusterDNS(t *testing.T, addr string, hosts map[string]string, ports map[string]map[string]int) *atomic.Int64 {
	t.Helper()
	records := map[string][]dns.RR{}
	add := func(s string) {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("dns record %q: %v", s, err)
		}
		name := strings.ToLower(rr.Header().Name)
		records[name] = append(records[name], rr)
	}
	for name, ip := range hosts {
		add(fmt.Sprintf("%s. 5 IN A %s", name, ip))
		for pn, p := range ports[name] {
			add(fmt.Sprintf("_%s._tcp.%s. 5 IN SRV 0 100 %d %s.", pn, name, p, name))
		}
	}
	var n atomic.Int64
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		n.Add(1)
		msg := new(dns.Msg)
		msg.SetReply(r)
		msg.Authoritative = true
		if len(r.Question) != 1 {
			msg.Rcode = dns.RcodeFormatError
			_ = w.WriteMsg(msg)
			return
		}
		q := r.Question[0]
		rrs, known := records[strings.ToLower(q.Name)]
		if !known {
			msg.Rcode = dns.RcodeNameError
		}
		for _, rr := range rrs {
			if rr.Header().Rrtype == q.Qtype {
				msg.Answer = append(msg.Answer, dns.Copy(rr))
				if srv, ok := rr.(*dns.SRV); ok {
					for _, a := range records[strings.ToLower(srv.Target)] {
						msg.Extra = append(msg.Extra, dns.Copy(a))
					}
				}
			}
		}
		_ = w.WriteMsg(msg)
	})
	hp := net.JoinHostPort(addr, "53")
	pc, err := net.ListenPacket("udp", hp)
	if errors.Is(err, syscall.EACCES) {
		t.Skipf("cluster DNS on %s: %v: port 53 needs root or CAP_NET_BIND_SERVICE", hp, err)
	}
	if err != nil {
		t.Fatalf("cluster DNS on %s: %v", hp, err)
	}
	ln, err := net.Listen("tcp", hp)
	if err != nil {
		pc.Close()
		t.Fatalf("cluster DNS on %s: %v", hp, err)
	}
	udp := &dns.Server{PacketConn: pc, Handler: handler}
	tcp := &dns.Server{Listener: ln, Handler: handler}
	go func() { _ = udp.ActivateAndServe() }()
	go func() { _ = tcp.ActivateAndServe() }()
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
	})
	// Self-check over loopback routing to the gateway address.
	c := dns.Client{Timeout: 2 * time.Second}
	q := new(dns.Msg)
	for name := range hosts {
		q.SetQuestion(name+".", dns.TypeA)
		break
	}
	if r, _, err := c.Exchange(q, hp); err != nil || len(r.Answer) == 0 {
		t.Fatalf("cluster DNS self-check: %v %v", err, r)
	}
	return &n
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

// kubelet does for one pod's container what the kubelet does once it has
// started it: it runs the exec startup and liveness probes as its prober
// does (the startup probe until it succeeds, then the liveness probe, each
// every periodSeconds with its timeout, none while the container is not
// running), and it applies the pod's restartPolicy, Always for a
// Deployment's pod. Whichever comes first restarts the container in its
// pod (same address, same volumes), and the startup probe runs again:
//
//   - failureThreshold probe failures in a row: the kubelet kills the
//     container (SIGTERM, SIGKILL after the pod's grace period) and
//     starts it again in the same sync;
//   - the container exited by itself: the kubelet starts it again after
//     its crash-loop back-off, counted from the exit: 10 s, doubled at
//     each exit up to 5 min, and 10 s again once the container has run
//     10 min since the last back-off. What the container wrote until then
//     is kept, as kubectl logs --previous shows it.
type kubelet struct {
	stop, done chan struct{}
	once       sync.Once
	mu         sync.Mutex
	restarts   []restart
}

// restart is one restart of the container by the kubelet.
type restart struct {
	at   time.Time // when the container exited, or the probe gave up on it
	why  string    // "exited", or the probe that failed: "liveness", "startup"
	code int       // exited: the container's exit status
	ran  time.Duration
	log  string // exited: the container's output since its last start
}

// The kubelet's crash-loop back-off (pkg/kubelet: the initial and
// maximum container back-off; the back-off resets after twice the
// maximum).
const (
	backOffInitial = 10 * time.Second
	backOffMax     = 5 * time.Minute
)

func startKubelet(t *testing.T, name string, d deployment) *kubelet {
	t.Helper()
	if p := d.Template.Spec.RestartPolicy; p != "" && p != "Always" {
		t.Fatalf("%s: restartPolicy %s: a Deployment's pod template allows only Always", name, p)
	}
	c := d.Template.Spec.Containers[0]
	for _, p := range []*probe{c.StartupProbe, c.LivenessProbe} {
		if p != nil && p.Exec == nil {
			t.Fatalf("%s: only exec probes are emulated", name)
		}
	}
	k := &kubelet{stop: make(chan struct{}), done: make(chan struct{})}
	run := func(pr *probe) error {
		ctx, cancel := context.WithTimeout(context.Background(), pr.timeout())
		defer cancel()
		return exec.CommandContext(ctx, "docker", append([]string{"exec", name}, pr.Exec.Command...)...).Run()
	}
	go func() {
		defer close(k.done)
		started, fails := c.StartupProbe == nil, 0
		var backOff time.Duration
		var backOffAt time.Time
		// next is when the next probe is due: the first one after its
		// initialDelaySeconds from the container's start.
		firstProbe := func() time.Time {
			pr := c.LivenessProbe
			if !started {
				pr = c.StartupProbe
			}
			if pr != nil && pr.InitialDelaySeconds > 0 {
				return time.Now().Add(time.Duration(pr.InitialDelaySeconds) * time.Second)
			}
			if pr != nil {
				return time.Now().Add(pr.period())
			}
			return time.Time{}
		}
		next := firstProbe()
		for {
			// The kubelet learns of an exit from the runtime's events
			// within a second or so (PLEG's relist).
			select {
			case <-k.stop:
				return
			case <-time.After(time.Second):
			}
			st, err := containerState(name)
			if err != nil {
				continue
			}
			if !st.running {
				// restartPolicy Always: started again after the back-off.
				if backOff == 0 || st.finished.Sub(backOffAt) > 2*backOffMax {
					backOff = backOffInitial
				} else {
					backOff = min(2*backOff, backOffMax)
				}
				backOffAt = st.finished
				ran := st.finished.Sub(st.started)
				prev, _ := e2e.Try("docker", "logs", "--since", st.started.Format(time.RFC3339Nano), name)
				t.Logf("%s: the container exited %d after running %s: the kubelet restarts it in its pod after a back-off of %s", name, st.code, ran.Round(time.Second), backOff)
				select {
				case <-k.stop:
					return
				case <-time.After(time.Until(st.finished.Add(backOff))):
				}
				if out, err := e2e.Try("docker", "start", name); err != nil {
					t.Logf("%s: docker start: %v: %s", name, err, strings.TrimSpace(out))
				}
				k.add(restart{at: st.finished, why: "exited", code: st.code, ran: ran, log: prev})
				started, fails = c.StartupProbe == nil, 0
				next = firstProbe()
				continue
			}
			pr := c.LivenessProbe
			if !started {
				pr = c.StartupProbe
			}
			if pr == nil || time.Now().Before(next) {
				continue
			}
			next = time.Now().Add(pr.period())
			err = run(pr)
			if err == nil {
				started, fails = true, 0
				continue
			}
			if fails++; fails < pr.failures() {
				continue
			}
			kind := "liveness"
			if !started {
				kind = "startup"
			}
			at := time.Now()
			t.Logf("%s: %s probe failed %d times (%v): the kubelet restarts the container", name, kind, fails, err)
			if out, err := e2e.Try("docker", "restart", "-t", strconv.Itoa(grace(d)), name); err != nil {
				t.Logf("%s: docker restart: %v: %s", name, err, strings.TrimSpace(out))
			}
			k.add(restart{at: at, why: kind, ran: at.Sub(st.started)})
			started, fails = c.StartupProbe == nil, 0
			next = firstProbe()
		}
	}()
	t.Cleanup(k.halt)
	return k
}

func (k *kubelet) add(r restart) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.restarts = append(k.restarts, r)
}

// history returns the restarts so far, oldest first.
func (k *kubelet) history() []restart {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.restarts)
}

// halt stops the kubelet's work on the container and waits for a probe or
// restart under way.
func (k *kubelet) halt() {
	k.once.Do(func() { close(k.stop) })
	<-k.done
}

// containerStatus is what the runtime reports of a container.
type containerStatus struct {
	running           bool
	code              int
	started, finished time.Time
}

func containerState(name string) (containerStatus, error) {
	out, err := e2e.Try("docker", "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}} {{.State.StartedAt}} {{.State.FinishedAt}}", name)
	if err != nil {
		return containerStatus{}, fmt.Errorf("docker inspect %s: %v: %s", name, err, strings.TrimSpace(out))
	}
	f := strings.Fields(out)
	if len(f) != 4 {
		return containerStatus{}, fmt.Errorf("docker inspect %s: %q", name, out)
	}
	var st containerStatus
	st.running = f[0] == "true"
	if st.code, err = strconv.Atoi(f[1]); err != nil {
		return containerStatus{}, err
	}
	if st.started, err = time.Parse(time.RFC3339Nano, f[2]); err != nil {
		return containerStatus{}, err
	}
	if st.finished, err = time.Parse(time.RFC3339Nano, f[3]); err != nil {
		return containerStatus{}, err
	}
	return st, nil
}

// checkRestarts logs the kubelet's restarts of container since the
// master's replacement at since, and wants every exit of the container by
// itself to be the entrypoint's doing, explained in the container's own
// log: exit 143 and its JSON line "stopping the workload" with a reason
// that names the application (entrypoint/doc.go, "Spark Connect server").
func checkRestarts(t *testing.T, container string, restarts []restart, since time.Time) bool {
	t.Helper()
	ok := true
	for _, r := range restarts {
		switch r.why {
		case "exited":
			t.Logf("connect: %s exited %d by itself %s after the new master pod's start, having run %s; the kubelet started it again",
				e2e.Short(container), r.code, r.at.Sub(since).Round(time.Second), r.ran.Round(time.Second))
			if r.code != 143 {
				t.Errorf("connect: %s exited %d by itself, want 143 (the entrypoint's stop)", e2e.Short(container), r.code)
				ok = false
			}
			line, named := e2e.StopLine(r.log)
			switch {
			case line == "":
				t.Errorf("connect: %s exited by itself without a \"stopping the workload\" line in its log:\n%s", e2e.Short(container), tail(r.log, 20))
				ok = false
			case !named:
				t.Errorf("connect: %s stopped the workload for a reason that does not name the application: %s", e2e.Short(container), line)
				ok = false
			default:
				t.Logf("connect: its log says: %s", line)
			}
		default:
			t.Logf("connect: the %s probe had %s restarted %s after the new master pod's start, having run %s",
				r.why, e2e.Short(container), r.at.Sub(since).Round(time.Second), r.ran.Round(time.Second))
		}
	}
	if len(restarts) == 0 {
		t.Logf("connect: %s kept its application through the master's replacement", e2e.Short(container))
	}
	return ok
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
