package boot

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/discovery/discoverytest"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// startUI is the master's web UI, with its Date header off by skew.
func startUI(t *testing.T, skew time.Duration) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", time.Now().Add(skew).UTC().Format(http.TimeFormat))
	}))
	t.Cleanup(srv.Close)
	return srv.URL[strings.LastIndex(srv.URL, ":")+1:]
}

func TestDiagnose(t *testing.T) {
	dir := t.TempDir()
	writableFile := filepath.Join(dir, "hosts")
	if err := os.WriteFile(writableFile, []byte("127.0.0.1 localhost\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing")
	nssLib := filepath.Join(dir, "libnss_wrapper.so")
	if err := os.WriteFile(nssLib, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	dnsAddr := discoverytest.StartDNS(t, discoverytest.RRs(t, "spark-master.test. 5 IN A 127.0.0.1"), false).Addr
	lookup := (&net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", dnsAddr)
	}}).LookupHost
	master := discoverytest.MasterPort(t)
	_, port, _ := net.SplitHostPort(master.Addr().String())
	gone := discoverytest.MasterPort(t)
	_, gonePort, _ := net.SplitHostPort(gone.Addr().String())
	gone.Close()
	ui := startUI(t, 0)
	slowUI := startUI(t, -2*time.Minute)
	url := "SPARK_MASTER_URL=spark://spark-master.test:" + port

	tests := []struct {
		name   string
		env    []string
		hosts  string
		uid    int
		etc    string // path of the hosts and resolv.conf files
		passwd string
		nss    []string
		want   map[string]string // check → severity of its last finding
		fails  bool
	}{
		{name: "healthy", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + ui},
			want: map[string]string{"env": sevOK, "user": sevOK, "etc": sevOK, "master": sevOK, "names": sevOK, "connect": sevOK, "clock": sevOK}},
		{name: "healthy through /etc/hosts", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + ui}, hosts: "127.0.0.1 spark-master.test\n",
			want: map[string]string{"names": sevOK, "connect": sevOK, "clock": sevOK}},
		{name: "master gone", env: []string{"SPARK_MASTER_URL=spark://spark-master.test:" + gonePort, "SPARK_MASTER_WEBUI_PORT=" + ui},
			want: map[string]string{"master": sevOK, "names": sevOK, "connect": sevFail}, fails: true},
		{name: "master not found", env: nil,
			want: map[string]string{"master": sevFail}, fails: true},
		{name: "bad master url", env: []string{"SPARK_MASTER_URL=spark-master.test:7077"},
			want: map[string]string{"master": sevFail}, fails: true},
		{name: "stale hosts line", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + ui}, hosts: "127.0.0.2 spark-master.test\n",
			want: map[string]string{"names": sevFail}, fails: true},
		{name: "name resolves nowhere", env: []string{"SPARK_MASTER_URL=spark://nowhere.test:" + port},
			want: map[string]string{"names": sevFail, "connect": sevSkip, "clock": sevSkip}, fails: true},
		{name: "link collision", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + ui, "SPARK_MASTER_PORT=tcp://127.0.0.1:7077", "SPARK_MASTER_PORT_7077_TCP_ADDR=127.0.0.1", "SPARK_MASTER_NAME=/w/spark-master"},
			want: map[string]string{"env": sevWarn, "connect": sevOK}},
		{name: "not an integer", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + ui, "SPARK_WORKER_PORT=abc"},
			want: map[string]string{"env": sevFail}, fails: true},
		{name: "clock skew", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + slowUI},
			want: map[string]string{"clock": sevFail}, fails: true},
		{name: "web ui absent", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + gonePort},
			want: map[string]string{"clock": sevSkip}},
		{name: "etc not writable", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + ui}, etc: missing,
			want: map[string]string{"etc": sevWarn}},
		{name: "uid without entry, nss_wrapper", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + ui}, uid: 54321, nss: []string{missing, nssLib},
			want: map[string]string{"user": sevWarn}},
		{name: "uid without entry, passwd writable", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + ui}, uid: 54321, passwd: writableFile,
			want: map[string]string{"user": sevWarn}},
		{name: "uid without entry, no remedy", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + ui}, uid: 54321, passwd: missing,
			want: map[string]string{"user": sevFail}, fails: true},
		{name: "bad ENTRYPOINT_USER", env: []string{url, "SPARK_MASTER_WEBUI_PORT=" + ui}, uid: -1,
			want: map[string]string{"user": sevFail}, fails: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := map[string]string{}
			for _, kv := range tt.env {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
			s := settings.Settings{Discovery: "static", User: "0", FixEtc: true}
			uid := tt.uid
			if uid == -1 {
				uid, s.User = 0, "no-such-user-here"
			}
			etc, passwd := writableFile, tt.passwd
			if tt.etc != "" {
				etc = tt.etc
			}
			if passwd == "" {
				passwd = missing
			}
			d := doctorInputs{
				in:         discovery.Inputs{Env: env, Hosts: []byte(tt.hosts), Resolv: []byte("nameserver 127.0.0.1\n"), DNSServer: dnsAddr},
				uid:        uid,
				hostsFile:  etc,
				resolvFile: etc,
				passwdFile: passwd,
				nssLibs:    tt.nss,
				lookup:     lookup,
			}
			fs := diagnose(context.Background(), sparkenv.Worker, s, d)
			got := map[string]string{}
			for _, f := range fs {
				got[f.Check] = f.Severity
			}
			var out bytes.Buffer
			err := report(fs, false, &out)
			t.Logf("doctor:\n%s", out.String())
			for check, sev := range tt.want {
				if got[check] != sev {
					t.Errorf("%s: %q, want %q\n%s", check, got[check], sev, out.String())
				}
			}
			if errors.Is(err, ErrFindings) != tt.fails {
				t.Errorf("report: %v, want failing %v\n%s", err, tt.fails, out.String())
			}
			for _, f := range fs {
				if f.Severity == sevFail && f.Fix == "" {
					t.Errorf("%s failed without a fix: %s", f.Check, f.Detail)
				}
			}
		})
	}
}

// TestDiagnoseMaster checks a master container before its JVM listens:
// nothing on the port is not a problem then, a name that resolves
// elsewhere is worth a warning.
func TestDiagnoseMaster(t *testing.T) {
	dnsAddr := discoverytest.StartDNS(t, nil, false).Addr
	ln := discoverytest.MasterPort(t)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ln.Close()
	for _, tt := range []struct {
		name, hosts, names string
	}{
		{"own name", "127.0.0.1 spark-master.test\n", sevOK},
		{"name elsewhere", "127.0.0.9 spark-master.test\n", sevWarn},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := doctorInputs{
				in:         discovery.Inputs{Env: map[string]string{"SPARK_MASTER_HOST": "spark-master.test", "SPARK_MASTER_PORT": port}, Hosts: []byte(tt.hosts), Resolv: []byte("nameserver 127.0.0.1\n"), DNSServer: dnsAddr},
				hostsFile:  "/nonexistent",
				resolvFile: "/nonexistent",
				passwdFile: "/nonexistent",
				lookup:     net.DefaultResolver.LookupHost,
				ownAddrs:   interfaceAddrs(),
			}
			fs := diagnose(context.Background(), sparkenv.Master, settings.Settings{User: "0"}, d)
			var last = map[string]string{}
			for _, f := range fs {
				last[f.Check] = f.Severity
			}
			var out bytes.Buffer
			if err := report(fs, false, &out); err != nil {
				t.Errorf("report: %v\n%s", err, out.String())
			}
			if last["names"] != tt.names || last["connect"] != sevSkip {
				t.Errorf("names %q connect %q, want %q skip\n%s", last["names"], last["connect"], tt.names, out.String())
			}
		})
	}
}

func TestDoctorCommandUsage(t *testing.T) {
	for _, args := range [][]string{{"driver"}, {"worker", "master"}, {"--yaml"}, {"master", "--json", "x"}} {
		if err := doctorCommand(args, settings.Settings{}, &bytes.Buffer{}); !errors.Is(err, ErrUsage) {
			t.Errorf("doctor %q: %v, want a usage error", args, err)
		}
	}
}

// TestReportJSON keeps --json one parseable array with the same findings.
func TestReportJSON(t *testing.T) {
	fs := []finding{{sevOK, "env", "fine", ""}, {sevFail, "connect", "refused", "start it"}}
	var out bytes.Buffer
	err := report(fs, true, &out)
	if !errors.Is(err, ErrFindings) {
		t.Errorf("report: %v, want ErrFindings", err)
	}
	if !strings.HasPrefix(strings.TrimSpace(out.String()), "[") || !strings.Contains(out.String(), `"fix": "start it"`) {
		t.Errorf("json report:\n%s", out.String())
	}
}
