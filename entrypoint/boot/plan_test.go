package boot

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

func testSettings() settings.Settings {
	return settings.Settings{User: "0", Discovery: "auto", MasterWait: 0, Grace: 8 * time.Second}
}

// linkWorker is a compose v1 worker linked with master:spark-master.
func linkWorker() discovery.Inputs {
	return discovery.Inputs{
		Env: map[string]string{
			"PATH":                             "/usr/bin",
			"SPARK_MASTER_PORT":                "tcp://172.17.0.2:7077",
			"SPARK_MASTER_PORT_7077_TCP":       "tcp://172.17.0.2:7077",
			"SPARK_MASTER_PORT_7077_TCP_ADDR":  "172.17.0.2",
			"SPARK_MASTER_PORT_7077_TCP_PORT":  "7077",
			"SPARK_MASTER_PORT_7077_TCP_PROTO": "tcp",
			"SPARK_MASTER_NAME":                "/compose_worker_1/spark-master",
		},
		Hosts: []byte("127.0.0.1\tlocalhost\n172.17.0.3\tab12cd34ef56\n172.17.0.2\tspark-master spark-master compose_master_1\n"),
	}
}

func TestPlanWorker(t *testing.T) {
	in := linkWorker()
	in.Env["SPARK_WORKER_OPTS"] = "-Dspark.decommission.enabled=true -Dspark.authenticate.secret=hunter2 -Dsun.net.inetaddr.ttl=30"
	p, err := plan(context.Background(), sparkenv.Worker, testSettings(), in, zerolog.Nop(), false)
	if err != nil {
		t.Fatalf("plan() error = %v", err)
	}
	if p.Master == nil || p.Master.URL != "spark://spark-master:7077" || p.Master.Source != "docker-links" {
		t.Errorf("plan() master = %+v, want spark://spark-master:7077 from docker-links", p.Master)
	}
	want := "bash /opt/spark/bin/spark-class org.apache.spark.deploy.worker.Worker --webui-port 8081 spark://spark-master:7077"
	if got := strings.Join(p.Argv, " "); got != want {
		t.Errorf("plan() argv = %q, want %q", got, want)
	}
	for _, kv := range p.Env {
		if strings.HasPrefix(kv, "SPARK_MASTER_PORT") || strings.HasPrefix(kv, "SPARK_MASTER_NAME") {
			t.Errorf("plan() leaves %q in the JVM's environment", kv)
		}
	}
	opts := sparkenv.Get(p.Env, "SPARK_WORKER_OPTS")
	for _, o := range []string{"-Dspark.worker.preferConfiguredMasterAddress=true", "-Dspark.worker.initialRegistrationRetries=60", "-Dsun.net.inetaddr.ttl=30"} {
		if !strings.Contains(opts, o) {
			t.Errorf("SPARK_WORKER_OPTS = %q, want it to contain %s", opts, o)
		}
	}
	if strings.Contains(opts, "inetaddr.ttl=1") {
		t.Errorf("SPARK_WORKER_OPTS = %q: the user's own ttl must win", opts)
	}
	if _, shown := p.JavaOptions["spark.authenticate.secret"]; shown {
		t.Error("plan() shows the auth secret among java options")
	}
	if d := p.Decommission; d == nil || !d.OnStop || d.WorkerUI != "http://127.0.0.1:8081" {
		t.Errorf("plan() decommission = %+v, want on, polling http://127.0.0.1:8081", d)
	}
	if got := sparkenv.Get(p.Env, "SPARK_WORKER_DIR"); got != "/opt/spark/work-dir" {
		t.Errorf("SPARK_WORKER_DIR = %q", got)
	}
	if p.Credential != nil || len(p.Hosts) != 0 || p.Resolv != nil {
		t.Errorf("plan() credential %v hosts %v resolv %v, want none", p.Credential, p.Hosts, p.Resolv)
	}
}

func TestPlanMaster(t *testing.T) {
	in := discovery.Inputs{Env: map[string]string{"SPARK_MASTER_HOST": "spark-master", "SPARK_MASTER_WEBUI_PORT": "9090",
		"SPARK_MASTER_PORT": "tcp://10.96.14.7:7077", "SPARK_MASTER_SERVICE_HOST": "10.96.14.7"}}
	p, err := plan(context.Background(), sparkenv.Master, testSettings(), in, zerolog.Nop(), false)
	if err != nil {
		t.Fatalf("plan() error = %v", err)
	}
	want := "bash /opt/spark/bin/spark-class org.apache.spark.deploy.master.Master --host spark-master --port 7077 --webui-port 9090"
	if got := strings.Join(p.Argv, " "); got != want {
		t.Errorf("plan() argv = %q, want %q", got, want)
	}
	if len(p.Removed) != 1 || p.Removed[0].Name != "SPARK_MASTER_PORT" {
		t.Errorf("plan() removed %+v, want SPARK_MASTER_PORT", p.Removed)
	}
	if p.Master != nil {
		t.Errorf("a master looked for a master: %+v", p.Master)
	}
}

func TestPlanKubeDNSResolv(t *testing.T) {
	in := discovery.Inputs{
		Env:    map[string]string{"SPARK_MASTER_URL": "spark://spark-master:7077", "KUBE_DNS_SERVICE_HOST": "10.0.0.10", "KUBE_DNS_SERVICE_PORT": "53", "POD_NAMESPACE": "spark"},
		Resolv: []byte("nameserver 169.254.169.254\nsearch c.project.internal\n"),
	}
	p, err := plan(context.Background(), sparkenv.Worker, testSettings(), in, zerolog.Nop(), false)
	if err != nil {
		t.Fatalf("plan() error = %v", err)
	}
	if p.Resolv == nil || p.Resolv.Nameservers[0].String() != "10.0.0.10" || p.Resolv.Search[0] != "spark.svc.cluster.local" {
		t.Errorf("plan() resolv = %+v, want the cluster DNS first", p.Resolv)
	}
}

func TestPlanErrors(t *testing.T) {
	tests := []struct {
		name    string
		role    sparkenv.Role
		env     map[string]string
		user    string
		wantErr error
	}{
		{"malformed master url", sparkenv.Worker, map[string]string{"SPARK_MASTER_URL": "spark-master:7077"}, "0", discovery.ErrInvalid},
		{"no master anywhere", sparkenv.Worker, map[string]string{}, "0", discovery.ErrNotFound},
		{"spark port not a number", sparkenv.Master, map[string]string{"SPARK_MASTER_PORT": "7077x"}, "0", sparkenv.ErrInvalid},
		{"unknown user", sparkenv.Master, map[string]string{}, "no-such-user-here", settings.ErrInvalid},
		{"bad gid", sparkenv.Master, map[string]string{}, "1000:staff", settings.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if os.Geteuid() != 0 && strings.Contains(tt.name, "user") || strings.Contains(tt.name, "gid") && os.Geteuid() != 0 {
				t.Skip("user checks apply only to root")
			}
			s := testSettings()
			s.User = tt.user
			_, err := plan(context.Background(), tt.role, s, discovery.Inputs{Env: tt.env}, zerolog.Nop(), false)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("plan() error = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestWorkloadUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root changes user")
	}
	name, cred, env, err := workloadUser("65534:65533", []string{"HOME=/root"})
	if err != nil {
		t.Fatal(err)
	}
	if cred == nil || cred.Uid != 65534 || cred.Gid != 65533 || len(cred.Groups) != 0 || name != "65534:65533" {
		t.Errorf("workloadUser() = %q, %+v", name, cred)
	}
	if sparkenv.Get(env, "HOME") == "/root" {
		t.Errorf("workloadUser() kept root's HOME: %q", env)
	}
	// An arbitrary uid without a passwd entry (OpenShift) is accepted.
	if _, cred, _, err := workloadUser("123457", nil); err != nil || cred.Uid != 123457 {
		t.Errorf("workloadUser(arbitrary uid) = %+v, %v", cred, err)
	}
}

func TestMasterUIFromURL(t *testing.T) {
	tests := []struct{ url, ui, want string }{
		{"spark://10.96.14.7:7077", "http://spark-master-5d8c7b9f4-x2kqp:8080", "http://10.96.14.7:8080/json/"},
		{"spark://spark-master:7077", "http://spark-master:8080", ""},
		{"spark://[fd00::7]:7077,b:7077", "http://pod:9090", "http://[fd00::7]:9090/json/"},
		{"spark-master:7077", "http://x:8080", ""},
		{"spark://spark-master:7077", "https://spark.example.com/c1/", "http://spark-master:8080/json/"},
		{"spark://spark-master:7077", "http://localhost:8080/", "http://spark-master:8080/json/"},
	}
	for _, tt := range tests {
		if got := masterUIFromURL(tt.url, tt.ui); got != tt.want {
			t.Errorf("masterUIFromURL(%q, %q) = %q, want %q", tt.url, tt.ui, got, tt.want)
		}
	}
}

func TestBindableHost(t *testing.T) {
	base := Plan{Role: sparkenv.Master, Node: sparkenv.Node{Role: sparkenv.Master}}
	tests := []struct {
		host     string
		keepName bool
	}{
		{"localhost", true}, // resolves to 127.0.0.1, an address of this host
		{"10.1.2.3", true},  // an address is kept as given
		{"no-such-name.invalid", false},
	}
	// Names not in /etc/hosts go to a DNS "server" on loopback where
	// nothing listens, so the lookup fails at once and nothing leaves the
	// machine.
	l, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.LocalAddr().String()
	l.Close()
	resolver := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "udp", dead)
	}}
	// A worker's ECS bridge name falls back the same way.
	worker := Plan{Role: sparkenv.Worker, localName: true, Node: sparkenv.Node{Role: sparkenv.Worker, MasterURL: "spark://m:7077"}}
	for _, tt := range tests {
		p := base
		if strings.Contains(tt.host, "invalid") {
			w := worker
			w.Host, w.Node.Host = tt.host, tt.host
			got, err := bindableHost(w, resolver, zerolog.Nop())
			if err != nil || got.Host == tt.host || !strings.Contains(strings.Join(got.Argv, " "), "--host "+got.Host) {
				t.Errorf("bindableHost(worker %q) = %q, argv %q, %v; want its own address", tt.host, got.Host, got.Argv, err)
			}
		}
		p.Host, p.Node.Host = tt.host, tt.host
		got, err := bindableHost(p, resolver, zerolog.Nop())
		if err != nil {
			t.Fatal(err)
		}
		if (got.Host == tt.host) != tt.keepName {
			t.Errorf("bindableHost(%q) = %q, keep the name: %v", tt.host, got.Host, tt.keepName)
		}
		if !tt.keepName && !strings.Contains(strings.Join(got.Argv, " "), "--host "+got.Host) {
			t.Errorf("bindableHost(%q): argv %q does not bind %s", tt.host, got.Argv, got.Host)
		}
	}
}

func TestHostsEntriesWorker(t *testing.T) {
	own := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("172.17.0.6")}
	tests := []struct {
		name string
		p    Plan
		want string
	}{
		{"ecs bridge name", Plan{Role: sparkenv.Worker, Host: "ip-10-20-1-17.eu-west-1.compute.internal", localName: true}, "172.17.0.6 ip-10-20-1-17.eu-west-1.compute.internal"},
		// SPARK_WORKER_HOST is the user's: it resolves as they arranged.
		{"user's worker host", Plan{Role: sparkenv.Worker, Host: "worker-1.example"}, ""},
		{"master name", Plan{Role: sparkenv.Master, Host: "spark-master"}, "172.17.0.6 spark-master"},
		{"master address", Plan{Role: sparkenv.Master, Host: "10.1.2.3"}, ""},
	}
	for _, tt := range tests {
		var got []string
		for _, e := range hostsEntries(tt.p, own) {
			got = append(got, e.Addr.String()+" "+strings.Join(e.Names, " "))
		}
		if strings.Join(got, ";") != tt.want {
			t.Errorf("%s: hostsEntries() = %q, want %q", tt.name, got, tt.want)
		}
	}
}
