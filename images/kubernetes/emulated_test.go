package kubernetes_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
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
func TestKubernetesEmulated(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "kubernetes-emulated")
	start := time.Now()
	objs := loadManifests(t)
	var masterDep, workerDep deployment
	find(t, objs, "Deployment", "spark-master", &masterDep)
	find(t, objs, "Deployment", "spark-worker", &workerDep)
	workers := *workerDep.Replicas

	tmp := t.TempDir() // before the containers' teardown, so removed after it
	prefix := e2e.Name("k8s")
	res := e2e.NewResources(t, prefix)
	netName := prefix + "-net"
	subnet := e2e.SubnetNetwork(t, res, 213, netName)
	ip := func(host int) string { return fmt.Sprintf("%s.%d", subnet, host) }
	gateway, masterIP, uiIP, apiIP := ip(1), ip(10), ip(11), ip(2)
	t.Logf("network %s %s.0/24: gateway/cluster DNS %s, spark-master ClusterIP %s", netName, subnet, gateway, masterIP)
	proxy := startKubeProxy(t, netName, map[string][]int{masterIP: {7077, 8080}, uiIP: {8080}})

	fqdn := "spark-master." + namespace + ".svc." + clusterDomain
	queries := serveClusterDNS(t, gateway, map[string]string{
		fqdn: masterIP,
		"spark-master-ui." + namespace + ".svc." + clusterDomain: uiIP,
	}, map[string]map[string]int{fqdn: {"spark": 7077, "webui": 8080}})

	svcEnv := serviceEnv(objs, map[string]string{"spark-master": masterIP, "spark-master-ui": uiIP}, apiIP)
	apiOnly := serviceEnv(nil, nil, apiIP)
	resolv := clusterFirstResolv(gateway)

	// The master pod.
	master := prefix + "-spark-master"
	res.Container(master)
	runPod(t, tmp, resolv, master, "spark-master-5d8c7b9f4-x2kqp", ip(30), masterDep, svcEnv,
		"--network", netName, "-p", "127.0.0.1::7077", "-p", "127.0.0.1::8080")
	proxy.endpoint(ip(30))
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
		runPod(t, tmp, resolv, name, fmt.Sprintf("spark-worker-6f9b8c7d5-w%d", i), ip(20+i), workerDep, env, "--network", netName)
		ids = append(ids, name)
		ok = e2e.CheckDiscovery(t, name, source, url) && ok
	}
	m.OK("discovery", ok)

	e2e.RequireAlive(t, m, e2e.Published(t, master, "8080/tcp"), workers, 3*time.Minute)
	t.Logf("cluster DNS answered %d queries", queries.Load())

	// What the readiness probes run.
	for _, id := range ids {
		e2e.CheckReady(t, id, "worker")
	}
	e2e.CheckReady(t, master, "master")

	job := func() bool {
		ok, _ := e2e.Job(t, "spark://127.0.0.1:"+e2e.Published(t, master, "7077/tcp"), gateway, workers)
		return ok
	}
	m.OK("job", job())

	// The Deployment's pod replaced (Recreate: the old one goes first):
	// a new pod on a new address behind the same ClusterIP; kube-proxy
	// follows the Endpoints, the workers keep dialling the Service.
	e2e.CheckMasterRestartFrom(t, m, e2e.Published(t, master, "8080/tcp"), workers, func() e2e.Restarted {
		oldIP := e2e.IP(t, master)
		if out, err := e2e.Try("docker", "stop", "-t", fmt.Sprint(grace(masterDep)), master); err != nil {
			t.Fatalf("docker stop %s: %v\n%s", master, err, out)
		}
		e2e.Run(t, "docker", "rm", master)
		master = prefix + "-spark-master-2"
		res.Container(master)
		runPod(t, tmp, resolv, master, "spark-master-5d8c7b9f4-r7m4z", ip(31), masterDep, svcEnv,
			"--network", netName, "-p", "127.0.0.1::7077", "-p", "127.0.0.1::8080")
		proxy.endpoint(ip(31))
		return e2e.Restarted{OldIP: oldIP, NewIP: e2e.IP(t, master), UI: e2e.Published(t, master, "8080/tcp")}
	}, job)

	// A node lost: the ReplicaSet controller starts a new pod elsewhere.
	replacement, _ := e2e.CheckWorkerKill(t, m, e2e.Published(t, master, "8080/tcp"), workers, ids[0], func() string {
		name := fmt.Sprintf("%s-worker-%d", prefix, workers+1)
		res.Container(name)
		runPod(t, tmp, resolv, name, fmt.Sprintf("spark-worker-6f9b8c7d5-w%d", workers+1), ip(20+workers+1), workerDep, svcEnv, "--network", netName)
		return name
	})
	if replacement != "" {
		ids = append(ids[1:], replacement)
	}

	all := append(ids, master)
	for _, id := range all {
		e2e.CheckProcesses(t, id)
	}
	// The kubelet's stop: SIGTERM, SIGKILL after the pod's grace period.
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
		if line := grepLine(logs, "decommission wait over"); line != "" {
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
// current endpoint, the master pod, which a restart changes. A connection
// ends on both sides when either side ends, so the master sees a worker's
// death and the workers see the master's.
type kubeProxy struct {
	mu  sync.Mutex
	pod string
}

func (p *kubeProxy) endpoint(ip string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.pod = ip
}

func startKubeProxy(t *testing.T, network string, services map[string][]int) *kubeProxy {
	t.Helper()
	id := strings.TrimSpace(e2e.Run(t, "docker", "network", "inspect", "-f", "{{.Id}}", network))
	bridge := "br-" + id[:12]
	p := &kubeProxy{}
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
						pod := p.pod
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

// runPod starts one container as a kubelet would start the Deployment's
// pod: its image and args, the Service variables first and the
// container's own env over them, the pod name as hostname, a ClusterFirst
// resolv.conf.
func runPod(t *testing.T, tmp, resolvConf, name, podName, podIP string, d deployment, svcEnv []string, extra ...string) {
	t.Helper()
	c := d.Template.Spec.Containers[0]
	resolv := filepath.Join(tmp, name+".resolv.conf")
	if err := os.WriteFile(resolv, []byte(resolvConf), 0o644); err != nil {
		t.Fatal(err)
	}
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
		// The manifest's own env wins (kubelet makeEnvironmentVariables).
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
	argv := []string{"docker", "run", "-d", "--name", name, "--hostname", podName,
		"-v", resolv + ":/etc/resolv.conf"}
	if podIP != "" {
		argv = append(argv, "--ip", podIP)
	}
	argv = append(argv, extra...)
	for _, k := range order {
		argv = append(argv, "-e", k+"="+env[k])
	}
	argv = append(argv, c.Image)
	argv = append(argv, c.Args...)
	e2e.Run(t, argv...)
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
