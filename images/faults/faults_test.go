// Package faults_test is the fault suite of the real images: a JVM that
// dies at start, a master that is absent at start and appears later, a
// metadata endpoint that answers 500 and then garbage, a DNS server that
// dies during discovery and a SIGTERM during the wait for the master; and
// `entrypoint doctor` in a healthy and a broken container. Each fault must
// end with a clear log line, the right exit status, no zombie and /etc
// unchanged where nothing was to change.
//
// The other faults of the list have their tests elsewhere: /etc read-only
// in images/hardened (--read-only, arbitrary uid), SIGTERM during the wait
// of the binary itself in entrypoint's TestWorkerWaitsForMaster, garbage in
// the ECS metadata file in discovery's TestECSSelf.
package faults_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// waitTimeout bounds every wait for a container to get somewhere; generous,
// since the machine is shared (no timed tests).
const waitTimeout = 4 * time.Minute

// TestJVMCrashAtStart starts workers whose JVM dies at once: the container
// must exit with the JVM's own status, say so in one line, and leave /etc
// alone.
func TestJVMCrashAtStart(t *testing.T) {
	e2e.Require(t)
	prefix := e2e.Name("crash")
	res := e2e.NewResources(t, prefix)
	tests := []struct {
		name, opts string
		// baseline runs the same failure without the entrypoint: the
		// status the container must pass on.
		baseline []string
		want     string // a line the JVM prints
	}{
		{"stack too small", "-Xss1k",
			[]string{"docker", "run", "--rm", "--entrypoint", "java", "snufkin/spark-worker", "-Xss1k", "-version"},
			"Could not create the Java Virtual Machine"},
		// Spark reads the worker's conf in the Worker constructor and the
		// exception ends main: status 1 from the JVM itself.
		{"bad spark conf", "-Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.interval=abc",
			[]string{"docker", "run", "--rm", "-e", "SPARK_WORKER_OPTS=-Dspark.worker.cleanup.enabled=true -Dspark.worker.cleanup.interval=abc",
				"--entrypoint", "bash", "snufkin/spark-worker", "-c",
				"exec /opt/spark/bin/spark-class org.apache.spark.deploy.worker.Worker spark://127.0.0.1:7077"},
			"spark.worker.cleanup.interval"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name := fmt.Sprintf("%s-%d", prefix, i)
			res.Container(name)
			// SPARK_MASTER_URL on the container's own loopback: discovery
			// is immediate and nothing outside is dialled. Nothing listens
			// there, so ENTRYPOINT_MASTER_WAIT cuts the wait for the
			// master's port short and the JVM starts after a second.
			e2e.Run(t, "docker", "run", "-d", "--name", name, "-e", "SPARK_MASTER_URL=spark://127.0.0.1:7077",
				"-e", "ENTRYPOINT_MASTER_WAIT=1s", "-e", "SPARK_WORKER_OPTS="+tt.opts, "snufkin/spark-worker")
			status := strings.TrimSpace(e2e.Run(t, "docker", "wait", name))
			logs, _ := e2e.Try("docker", "logs", name)
			base := "0"
			if tt.baseline != nil {
				out, err := e2e.Try(tt.baseline...)
				if err == nil {
					t.Fatalf("baseline %q succeeded:\n%s", tt.baseline, out)
				}
				base = exitCode(err)
			}
			t.Logf("JVM with %s: container exited %s, the same JVM without the entrypoint %s", tt.opts, status, base)
			if status != base || status == "0" {
				t.Errorf("container exited %s, want the JVM's own non-zero status %s\n%s", status, base, tail(logs, 15))
			}
			if !strings.Contains(logs, tt.want) {
				t.Errorf("the JVM's own message %q is not in the logs:\n%s", tt.want, tail(logs, 15))
			}
			if n := strings.Count(logs, "entrypoint: workload exited "); n != 1 || !strings.Contains(logs, " status="+status) {
				t.Errorf("want one \"workload exited\" line with status %s, got %d:\n%s", status, n, tail(logs, 15))
			}
			// The container is gone once PID 1 exits, so no ps can look for
			// zombies afterwards; the supervisor says when it had to kill
			// or give up on leftovers, and must not have.
			for _, bad := range []string{"zombies left", "killed remaining processes", "grace period expired"} {
				if strings.Contains(logs, bad) {
					t.Errorf("the supervisor logged %q:\n%s", bad, tail(logs, 15))
				}
			}
			// main's own error line, not a log line (which names the
			// entrypoint after its level).
			if strings.HasPrefix(logs, "entrypoint: ") || strings.Contains(logs, "\nentrypoint: ") {
				t.Errorf("the JVM's status came with an entrypoint error line:\n%s", tail(logs, 15))
			}
			checkEtcUnchanged(t, name)
		})
	}
}

// TestLauncherRefusesSettings: Spark's launcher refuses an -Xmx in a
// daemon's *_OPTS before any JVM runs. That is bad input: exit 64 with the
// launcher's own sentence naming the variable, and /etc/hosts left as Docker
// wrote it although the plan had a line to add there.
func TestLauncherRefusesSettings(t *testing.T) {
	e2e.Require(t)
	name := e2e.Name("xmx")
	e2e.NewResources(t, name).Container(name)
	// A master name that resolves nowhere: the plan adds "own-IP name".
	env := []string{"-e", "SPARK_MASTER_HOST=" + name + ".invalid"}
	plan := e2e.Run(t, append(append([]string{"docker", "run", "--rm"}, env...), "snufkin/spark-master", "explain", "master")...)
	var e struct {
		Etc struct {
			Hosts struct{ Add []string } `json:"hosts"`
		} `json:"etc"`
	}
	if err := json.Unmarshal([]byte(plan[strings.Index(plan, "{"):]), &e); err != nil || len(e.Etc.Hosts.Add) == 0 {
		t.Fatalf("explain without the bad setting plans no hosts line (%v), so the test proves nothing:\n%s", err, plan)
	}
	e2e.Run(t, append(append([]string{"docker", "run", "-d", "--name", name}, env...),
		"-e", "SPARK_MASTER_OPTS=-Xmx1g -Dspark.authenticate.secret=hunter2", "snufkin/spark-master")...)
	status := strings.TrimSpace(e2e.Run(t, "docker", "wait", name))
	logs, _ := e2e.Try("docker", "logs", name)
	t.Logf("SPARK_MASTER_OPTS with -Xmx: container exited %s", status)
	if status != "64" {
		t.Errorf("container exited %s, want 64 (bad input)\n%s", status, tail(logs, 15))
	}
	if !strings.Contains(logs, "SPARK_MASTER_OPTS is not allowed to specify max heap(Xmx)") {
		t.Errorf("the launcher's reason is not in the logs:\n%s", tail(logs, 15))
	}
	if strings.Contains(logs, "hunter2") {
		t.Errorf("the secret is in the logs:\n%s", tail(logs, 15))
	}
	hostsPath := strings.TrimSpace(e2e.Run(t, "docker", "inspect", "-f", "{{.HostsPath}}", name))
	hosts, err := os.ReadFile(hostsPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(hosts), name+".invalid") {
		t.Errorf("/etc/hosts was written before the launcher refused:\n%s", hosts)
	}
	checkEtcUnchanged(t, name)
}

// TestDiscoveryFaults runs, on one Docker network, workers that meet the
// discovery faults together, then the master that one of them waits for:
//
//   - a cluster-dns worker whose DNS server (this test, on the network's
//     gateway) answers NXDOMAIN and then dies: it keeps waiting, then exits
//     69 when ENTRYPOINT_MASTER_WAIT runs out, naming the failed query;
//   - the same worker with a long wait, stopped with SIGTERM (docker stop)
//     while it waits: 143 at once, before any JVM;
//   - an ECS worker whose task metadata endpoint answers 500, then garbage
//     JSON, then the master container PENDING, and RUNNING once the master
//     has started: it registers with the master that appeared late.
//
// Then `entrypoint doctor` runs in the healthy ECS worker (0), in new
// containers on the network (0 through Docker's DNS; 1 with an --add-host
// pinning spark-master elsewhere) and in the ECS worker once the master is
// gone (1).
func TestDiscoveryFaults(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "faults")
	prefix := e2e.Name("fault")
	tmp := t.TempDir()
	res := e2e.NewResources(t, prefix)
	netName := prefix + "-net"
	e2e.Run(t, "docker", "network", "create", netName)
	res.Network(netName)
	gw := strings.TrimSpace(e2e.Run(t, "docker", "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Gateway}} {{end}}", netName))
	if gw = strings.Fields(gw + " ")[0]; net.ParseIP(gw) == nil {
		t.Fatalf("network %s: no gateway address (%q)", netName, gw)
	}

	stopDNS := serveNXDOMAIN(t, gw)
	meta := serveMetadata(t, gw)

	// The DNS workers: a ClusterFirst resolv.conf pointing at the gateway.
	resolvConf := []byte(fmt.Sprintf("nameserver %s\nsearch spark.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n", gw))
	resolv := filepath.Join(tmp, "resolv.conf")
	if err := os.WriteFile(resolv, resolvConf, 0o644); err != nil {
		t.Fatal(err)
	}
	dnsWorker, termWorker, ecsWorker, master := prefix+"-dns", prefix+"-term", prefix+"-ecs", prefix+"-master"
	for _, c := range []struct{ name, wait string }{{dnsWorker, "20s"}, {termWorker, "10m"}} {
		res.Container(c.name)
		e2e.Run(t, "docker", "run", "-d", "--name", c.name, "--network", netName, "-v", resolv+":/etc/resolv.conf:ro",
			"-e", "ENTRYPOINT_DISCOVERY=cluster-dns", "-e", "ENTRYPOINT_MASTER_WAIT="+c.wait, "snufkin/spark-worker")
	}
	res.Container(ecsWorker)
	e2e.Run(t, "docker", "run", "-d", "--name", ecsWorker, "--network", netName,
		"-e", "ENTRYPOINT_DISCOVERY=ecs", "-e", "ECS_CONTAINER_METADATA_URI_V4=http://"+net.JoinHostPort(gw, meta.port)+"/v4/worker-1",
		"snufkin/spark-worker")

	// The DNS server answers NXDOMAIN, then dies.
	for _, c := range []string{dnsWorker, termWorker} {
		waitLog(t, c, "NXDOMAIN")
	}
	stopDNS()
	t.Logf("DNS server on %s:53 stopped", gw)
	waitLog(t, termWorker, "cluster-dns: query")
	checkNoZombie(t, termWorker)
	e2e.Run(t, "docker", "stop", "-t", "10", termWorker)
	code := strings.TrimSpace(e2e.Run(t, "docker", "inspect", "-f", "{{.State.ExitCode}}", termWorker))
	logs, _ := e2e.Try("docker", "logs", termWorker)
	t.Logf("SIGTERM during the wait: exit %s, %s", code, lastLine(logs))
	m.OK("sigterm", code == "143" && strings.Contains(logs, "stopped before the jvm started"))
	if code != "143" || !strings.Contains(logs, "stopped before the jvm started") {
		t.Errorf("SIGTERM during the wait: exit %s, want 143 and \"stopped before the jvm started\":\n%s", code, tail(logs, 5))
	}

	code = strings.TrimSpace(e2e.Run(t, "docker", "wait", dnsWorker))
	logs, _ = e2e.Try("docker", "logs", dnsWorker)
	last := lastLine(logs)
	t.Logf("DNS server died during discovery: exit %s, %s", code, last)
	dnsOK := code == "69" && strings.Contains(last, "ENTRYPOINT_MASTER_WAIT=20s") && strings.Contains(last, "cluster-dns: query")
	m.OK("dns-dies", dnsOK)
	if !dnsOK {
		t.Errorf("DNS server died: exit %s, want 69 with a last line naming the wait and the failed query:\n%s", code, tail(logs, 5))
	}
	if after, _ := os.ReadFile(resolv); !bytes.Equal(after, resolvConf) {
		t.Errorf("resolv.conf changed although no master was found:\n%s", after)
	}
	for _, c := range []string{dnsWorker, termWorker} {
		checkEtcUnchanged(t, c)
	}

	// The metadata endpoint has answered 500 and garbage; the master
	// appears.
	meta.waitServed(t, 5)
	res.Container(master)
	e2e.Run(t, "docker", "run", "-d", "--name", master, "--network", netName, "--network-alias", "spark-master",
		"-p", "127.0.0.1::8080", "snufkin/spark-master")
	meta.masterUp(e2e.IP(t, master))
	ui := e2e.Published(t, master, "8080/tcp")
	e2e.RequireAlive(t, m, ui, 1, waitTimeout)
	logs, _ = e2e.Try("docker", "logs", ecsWorker)
	found := true
	for _, want := range []string{"500 Internal Server Error", "invalid character", "PENDING, not RUNNING", "found the master"} {
		if !strings.Contains(logs, want) {
			t.Errorf("ECS worker's log does not mention %q:\n%s", want, tail(logs, 20))
			found = false
		}
	}
	m.OK("discovery", found)
	m.OK("late-master", e2e.CheckProcesses(t, ecsWorker))
	checkEtcUnchanged(t, ecsWorker)

	// doctor: healthy, then broken.
	doctorOK := doctor(t, "healthy worker", 0, "docker", "exec", ecsWorker, "/usr/local/bin/entrypoint", "doctor")
	doctorOK = doctor(t, "new container, docker-dns", 0, "docker", "run", "--rm", "--network", netName, "snufkin/spark-worker", "doctor") && doctorOK
	doctorOK = doctor(t, "--add-host pinning spark-master to the gateway", 1, "docker", "run", "--rm", "--network", netName,
		"--add-host", "spark-master:"+gw, "snufkin/spark-worker", "doctor") && doctorOK
	// Warnings only: the entrypoint works around an arbitrary uid, a
	// read-only /etc and a colliding link variable.
	out, err := e2e.Try("docker", "run", "--rm", "--network", netName, "--user", "12345:0", "--read-only", "--tmpfs", "/tmp",
		"-e", "SPARK_MASTER_PORT=tcp://"+e2e.IP(t, master)+":7077", "snufkin/spark-worker", "doctor")
	t.Logf("doctor, uid 12345, read-only root, link variable: exit %s\n%s", exitCode(err), out)
	for _, want := range []string{"warn  env: port-variable collision: SPARK_MASTER_PORT=tcp://", "warn  user: uid 12345 has no passwd entry",
		"warn  etc: /etc/hosts is not writable", "ok    connect:", "problems: 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor in a hardened container: no %q", want)
			doctorOK = false
		}
	}
	doctorOK = err == nil && doctorOK
	e2e.Run(t, "docker", "stop", "-t", "10", master)
	doctorOK = doctor(t, "master gone", 1, "docker", "exec", ecsWorker, "/usr/local/bin/entrypoint", "doctor") && doctorOK
	m.OK("doctor", doctorOK)
	m.OK("stop", e2e.Stop(t, []string{ecsWorker}))
}

// doctor runs argv (an `entrypoint doctor`), logs its report, and checks
// its exit status and that every FAIL line has its fix.
func doctor(t *testing.T, what string, want int, argv ...string) bool {
	t.Helper()
	out, err := e2e.Try(argv...)
	got := exitCode(err)
	t.Logf("doctor, %s: exit %s\n%s", what, got, out)
	ok := got == fmt.Sprint(want)
	if !ok {
		t.Errorf("doctor, %s: exit %s, want %d", what, got, want)
	}
	if want != 0 && (!strings.Contains(out, "FAIL") || !strings.Contains(out, "fix: ")) {
		t.Errorf("doctor, %s: no FAIL line with its fix", what)
		ok = false
	}
	return ok
}

// serveNXDOMAIN is a DNS server on addr:53 (UDP) that knows no name, as
// cluster DNS without the master's Service; the returned function kills it.
func serveNXDOMAIN(t *testing.T, addr string) func() {
	t.Helper()
	pc, err := net.ListenPacket("udp", net.JoinHostPort(addr, "53"))
	if err != nil {
		t.Fatalf("DNS server on %s:53: %v", addr, err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		msg := new(dns.Msg)
		msg.SetRcode(r, dns.RcodeNameError)
		_ = w.WriteMsg(msg)
	})}
	var started sync.WaitGroup
	started.Add(1)
	srv.NotifyStartedFunc = started.Done
	go func() { _ = srv.ActivateAndServe() }()
	started.Wait()
	var once sync.Once
	stop := func() { once.Do(func() { _ = srv.Shutdown() }) }
	t.Cleanup(stop)
	return stop
}

// metadata is an ECS task metadata endpoint v4 that fails on purpose:
// requests 1-2 get 500, 3-4 garbage JSON, then the master container is
// PENDING until masterUp gives it an address, and RUNNING after.
type metadata struct {
	port     string
	served   atomic.Int64
	masterIP atomic.Value // string
}

func serveMetadata(t *testing.T, addr string) *metadata {
	t.Helper()
	md := &metadata{}
	md.masterIP.Store("")
	ln, err := net.Listen("tcp", net.JoinHostPort(addr, "0"))
	if err != nil {
		t.Fatal(err)
	}
	_, md.port, _ = net.SplitHostPort(ln.Addr().String())
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v4/worker-1/task" {
			http.NotFound(w, r)
			return
		}
		n := md.served.Add(1)
		ip := md.masterIP.Load().(string)
		switch {
		case n <= 2:
			http.Error(w, "metadata agent restarting", http.StatusInternalServerError)
		case n <= 4:
			// A proxy's error page where JSON should be.
			fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
		case ip == "":
			fmt.Fprint(w, task("PENDING", ""))
		default:
			fmt.Fprint(w, task("RUNNING", ip))
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return md
}

func (md *metadata) masterUp(ip string) { md.masterIP.Store(ip) }

// waitServed waits until n requests were answered.
func (md *metadata) waitServed(t *testing.T, n int64) {
	t.Helper()
	if ok, _ := e2e.Poll(waitTimeout, 200*time.Millisecond, func(time.Duration) bool { return md.served.Load() >= n }); !ok {
		t.Fatalf("metadata endpoint: %d requests, want %d", md.served.Load(), n)
	}
}

func task(status, ip string) string {
	addrs := "[]"
	if ip != "" {
		addrs = `["` + ip + `"]`
	}
	return fmt.Sprintf(`{"Cluster":"default","Family":"spark","Revision":"1","KnownStatus":"RUNNING","Containers":[`+
		`{"Name":"spark-master","Type":"NORMAL","KnownStatus":%q,"Networks":[{"NetworkMode":"bridge","IPv4Addresses":%s}]},`+
		`{"Name":"spark-worker","Type":"NORMAL","KnownStatus":"RUNNING","Networks":[{"NetworkMode":"bridge","IPv4Addresses":[]}]}]}`, status, addrs)
}

// waitLog waits until container's log holds s.
func waitLog(t *testing.T, container, s string) {
	t.Helper()
	var logs string
	if ok, _ := e2e.Poll(waitTimeout, 500*time.Millisecond, func(time.Duration) bool {
		logs, _ = e2e.Try("docker", "logs", container)
		return strings.Contains(logs, s)
	}); !ok {
		t.Fatalf("%s: no %q in the log after %s:\n%s", container, s, waitTimeout, tail(logs, 10))
	}
}

// checkEtcUnchanged wants no file under /etc added, changed or removed in
// the container's layer (/etc/hosts and resolv.conf are bind mounts: the
// DNS workers' resolv.conf is compared by the test itself).
func checkEtcUnchanged(t *testing.T, container string) {
	t.Helper()
	for _, line := range strings.Split(e2e.Run(t, "docker", "diff", container), "\n") {
		if f := strings.Fields(line); len(f) == 2 && strings.HasPrefix(f[1], "/etc") {
			t.Errorf("%s changed /etc: %s", container, line)
		}
	}
	for _, f := range []string{"/etc/hosts", "/etc/resolv.conf"} {
		if logs, _ := e2e.Try("docker", "logs", container); strings.Contains(logs, " file="+f) {
			t.Errorf("%s rewrote %s", container, f)
		}
	}
}

// checkNoZombie wants no process in state Z in a running container.
func checkNoZombie(t *testing.T, container string) {
	t.Helper()
	ps := e2e.Run(t, "docker", "exec", container, "ps", "-eo", "pid,stat,args")
	for _, line := range strings.Split(ps, "\n") {
		if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], "Z") {
			t.Errorf("%s has a zombie: %s", container, line)
		}
	}
}

// exitCode is the exit status in err from e2e.Try, as docker prints it.
func exitCode(err error) string {
	if err == nil {
		return "0"
	}
	var code int
	if _, scanErr := fmt.Sscanf(err.Error(), "exit status %d", &code); scanErr == nil {
		return fmt.Sprint(code)
	}
	return err.Error()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
