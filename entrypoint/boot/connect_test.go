package boot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

func TestConnectToken(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "token")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(file, []byte("s3cr3t-token\n"), 0o600)
	os.WriteFile(empty, []byte("\n"), 0o600)
	tests := []struct {
		name      string
		env       []string
		wantToken string
		wantErr   error
	}{
		{"none", nil, "", nil},
		{"empty counts as unset", []string{tokenVar + "="}, "", nil},
		{"variable", []string{tokenVar + "=abc"}, "abc", nil},
		{"file, newline trimmed", []string{tokenFileVar + "=" + file}, "s3cr3t-token", nil},
		{"both", []string{tokenVar + "=abc", tokenFileVar + "=" + file}, "", settings.ErrInvalid},
		{"empty file", []string{tokenFileVar + "=" + empty}, "", settings.ErrInvalid},
		{"missing file", []string{tokenFileVar + "=" + filepath.Join(dir, "nope")}, "", settings.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env, ok, err := connectToken(tt.env)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("connectToken() error = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				if strings.Contains(err.Error(), "s3cr3t") || strings.Contains(err.Error(), "abc") {
					t.Errorf("connectToken() error shows the token: %v", err)
				}
				return
			}
			if got := sparkenv.Get(env, tokenVar); got != tt.wantToken || ok != (tt.wantToken != "") {
				t.Errorf("connectToken() token %q (set %v), want %q", got, ok, tt.wantToken)
			}
			if _, left := sparkenv.Lookup(env, tokenFileVar); left {
				t.Errorf("connectToken() leaves %s in the JVM's environment", tokenFileVar)
			}
		})
	}
}

// connectMachine is a container with two networks whose route to the
// master leaves from the second.
func connectMachine(env map[string]string) machine {
	return machine{
		in:         discovery.Inputs{Env: env},
		addrs:      []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("172.18.0.5"), netip.MustParseAddr("10.0.1.7")},
		hostname:   "connect-1",
		euid:       0,
		hasPasswd:  func(int) bool { return true },
		route:      func(string) (netip.Addr, error) { return netip.MustParseAddr("10.0.1.7"), nil },
		hasConnect: func(string) bool { return true },
	}
}

func TestPlanConnect(t *testing.T) {
	tests := []struct {
		name       string
		env        map[string]string
		route      bool
		wantHost   string
		wantSource string
		wantOpts   []string
		wantArgv   string
		warning    string
	}{
		{
			name:       "address towards the master",
			env:        map[string]string{"SPARK_MASTER_URL": "spark://spark-master:7077"},
			route:      true,
			wantHost:   "10.0.1.7",
			wantSource: "route-to-master",
			wantOpts:   []string{"-Dspark.driver.host=10.0.1.7", "-Dspark.executor.cores=1", "-Dspark.dynamicAllocation.enabled=true", "-Dspark.dynamicAllocation.minExecutors=1"},
			wantArgv:   "bash /opt/spark/bin/spark-class org.apache.spark.deploy.SparkSubmit --class org.apache.spark.sql.connect.service.SparkConnectServer --name Spark Connect server --master spark://spark-master:7077",
			warning:    "anyone who can reach port 15002 can run code",
		},
		{
			name:       "no route: the first own address",
			env:        map[string]string{"SPARK_MASTER_URL": "spark://spark-master:7077", tokenVar: "t0k3n"},
			wantHost:   "172.18.0.5",
			wantSource: "container-address",
			wantOpts:   []string{"-Dspark.driver.host=172.18.0.5"},
		},
		{
			name: "the user's choices win",
			env: map[string]string{"SPARK_MASTER_URL": "spark://spark-master:7077", tokenVar: "t0k3n",
				"SPARK_SUBMIT_OPTS": "-Dspark.driver.host=connect.example -Dspark.executor.cores=4 -Dspark.connect.grpc.binding.port=15003"},
			route:      true,
			wantHost:   "connect.example",
			wantSource: "SPARK_SUBMIT_OPTS",
			wantOpts:   []string{"-Dspark.driver.host=connect.example", "-Dspark.executor.cores=4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := connectMachine(tt.env)
			if !tt.route {
				m.route = nil
			}
			p, err := planOn(context.Background(), sparkenv.Connect, testSettings(), m, zerolog.Nop(), false)
			if err != nil {
				t.Fatalf("planOn() error = %v", err)
			}
			if p.Node.Host != tt.wantHost || p.Advertise.Source != tt.wantSource {
				t.Errorf("driver host %q from %s, want %q from %s", p.Node.Host, p.Advertise.Source, tt.wantHost, tt.wantSource)
			}
			opts := " " + sparkenv.Get(p.Env, "SPARK_SUBMIT_OPTS") + " "
			for _, o := range tt.wantOpts {
				if !strings.Contains(opts, " "+o+" ") {
					t.Errorf("SPARK_SUBMIT_OPTS = %q, want %s", opts, o)
				}
			}
			if strings.Count(opts, "spark.driver.host=") != 1 || strings.Count(opts, "spark.executor.cores=") != 1 {
				t.Errorf("SPARK_SUBMIT_OPTS = %q: each option once", opts)
			}
			if tt.wantArgv != "" && strings.Join(p.Argv, " ") != tt.wantArgv {
				t.Errorf("argv = %q, want %q", strings.Join(p.Argv, " "), tt.wantArgv)
			}
			warned := strings.Join(p.Warnings, "\n")
			if tt.warning != "" && !strings.Contains(warned, tt.warning) || tt.warning == "" && strings.Contains(warned, "anyone") {
				t.Errorf("warnings %q, want %q", warned, tt.warning)
			}
		})
	}
}

// TestExplainConnectHidesSecrets: explain of an authenticated server
// shows that clients need a token, and neither the token nor the secret.
func TestExplainConnectHidesSecrets(t *testing.T) {
	m := connectMachine(map[string]string{"SPARK_MASTER_URL": "spark://spark-master:7077",
		"SPARK_AUTH_SECRET": "hunter2-secret", tokenVar: "t0k3n-value"})
	var out bytes.Buffer
	if err := explainOn(sparkenv.Connect, testSettings(), m, &out); err != nil {
		t.Fatalf("explain: %v\n%s", err, out.String())
	}
	for _, s := range []string{"hunter2-secret", "t0k3n-value"} {
		if strings.Contains(out.String(), s) {
			t.Errorf("explain shows %q:\n%s", s, out.String())
		}
	}
	for _, want := range []string{`"token": true`, `"authenticate": true`, `"spark.authenticate": "true"`} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("explain lacks %s:\n%s", want, out.String())
		}
	}
}

// connectServers stands up, on loopback, what ready connect asks: a
// listening gRPC port, the driver's REST API (application app-1, master
// spark://127.0.0.1:7077) and the master's /json/, whose body master()
// gives; it returns the environment that points ready connect at them.
func connectServers(t *testing.T, master func() string) ([]string, net.Listener) {
	t.Helper()
	grpc, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { grpc.Close() })
	ms := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, master()) }))
	t.Cleanup(ms.Close)
	_, mport, _ := net.SplitHostPort(strings.TrimPrefix(ms.URL, "http://"))
	driver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/applications":
			fmt.Fprint(w, `[{"id":"app-1","name":"Spark Connect server"}]`)
		case "/api/v1/applications/app-1/environment":
			fmt.Fprint(w, `{"sparkProperties":[["spark.app.name","Spark Connect server"],["spark.master","spark://127.0.0.1:7077"]]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(driver.Close)
	_, dport, _ := net.SplitHostPort(strings.TrimPrefix(driver.URL, "http://"))
	_, gport, _ := net.SplitHostPort(grpc.Addr().String())
	return []string{"SPARK_MASTER_WEBUI_PORT=" + mport,
		"SPARK_SUBMIT_OPTS=-Dspark.connect.grpc.binding.port=" + gport + " -Dspark.ui.port=" + dport}, grpc
}

// TestReadyConnect runs readyConnect against the servers it asks.
func TestReadyConnect(t *testing.T) {
	var state atomic.Value
	state.Store("RUNNING")
	env, grpc := connectServers(t, func() string {
		return fmt.Sprintf(`{"status":"ALIVE","activeapps":[{"id":"app-0","state":"RUNNING"},{"id":"app-1","state":%q}]}`, state.Load())
	})
	c := &http.Client{Timeout: 3 * time.Second}
	tests := []struct {
		state string
		close bool
		want  error
	}{
		{"RUNNING", false, nil},
		{"WAITING", false, ErrNotReady},
		{"RUNNING", true, ErrNotReady},
	}
	for _, tt := range tests {
		state.Store(tt.state)
		if tt.close {
			grpc.Close()
		}
		var out bytes.Buffer
		err := readyConnect(env, c, &out)
		if !errors.Is(err, tt.want) {
			t.Errorf("state %s, port closed %v: ready = %v, want %v", tt.state, tt.close, err, tt.want)
		}
		if err == nil && !strings.Contains(out.String(), "application app-1 RUNNING at 127.0.0.1:7077") {
			t.Errorf("ready said %q", out.String())
		}
	}
}

// TestWatchConnect: the watch stops the server once an ALIVE master has
// gone on not listing its application, never while the master is away
// or recovering, nor before the application was ever listed.
func TestWatchConnect(t *testing.T) {
	const running = `{"status":"ALIVE","activeapps":[{"id":"app-1","state":"RUNNING"}]}`
	const forgotten = `{"status":"ALIVE","activeapps":[]}`
	const recovering = `{"status":"RECOVERING","activeapps":[]}`
	tests := []struct {
		name   string
		bodies []string // one per check; the last repeats
		stop   bool
	}{
		{"a master without its state", []string{running, forgotten}, true},
		{"a master that recovers", []string{running, recovering, recovering, recovering, recovering, running}, false},
		{"never listed yet", []string{forgotten}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			env, _ := connectServers(t, func() string {
				i := int(n.Add(1)) - 1
				return tt.bodies[min(i, len(tt.bodies)-1)]
			})
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			stop := make(chan string, 1)
			go watchConnect(ctx, env, 20*time.Millisecond, 200*time.Millisecond, stop)
			select {
			case why := <-stop:
				if !tt.stop {
					t.Errorf("stopped: %s", why)
				} else if !strings.Contains(why, "does not list application app-1") {
					t.Errorf("reason %q", why)
				}
			case <-ctx.Done():
				if tt.stop {
					t.Error("never stopped")
				}
			}
		})
	}
}
