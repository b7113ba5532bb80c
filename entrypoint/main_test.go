package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kelseyhightower/envconfig"

	"github.com/snufkin/swarming-spark/discovery/discoverytest"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
)

// binary is the entrypoint built once for the black-box tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "entrypoint-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "entrypoint")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestDocNamesEverySetting keeps the package doc the reference: it names
// every ENTRYPOINT_* setting, and only those.
func TestDocNamesEverySetting(t *testing.T) {
	var buf bytes.Buffer
	if err := envconfig.Usagef(settings.Prefix, &settings.Settings{}, &buf, "{{range .}}{{usage_key .}}\n{{end}}"); err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(buf.String())
	sort.Strings(want)
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range regexp.MustCompile(`ENTRYPOINT_[A-Z_]+[A-Z]`).FindAllString(string(doc), -1) {
		seen[k] = true
	}
	var got []string
	for k := range seen {
		got = append(got, k)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("doc.go names %q, settings are %q", got, want)
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    []string
		want   int
		stderr string
	}{
		{"child status passes through", []string{"--", "sh", "-c", "exit 7"}, nil, 7, ""},
		{"child killed by signal", []string{"--", "sh", "-c", "kill -TERM $$"}, nil, 143, ""},
		{"command not found", []string{"--", "/nonexistent/cmd"}, nil, 127, "not found"},
		{"command not executable", []string{"--", "/etc/hostname"}, nil, 126, "not executable"},
		{"no subcommand", nil, nil, 64, "usage"},
		{"unknown option", []string{"--drive"}, nil, 64, `unknown subcommand "--drive"`},
		// Any other word is a command to run, as in the official image.
		{"command not found", []string{"drive"}, []string{"ENTRYPOINT_USER=0"}, 127, `command not found: drive`},
		{"bad duration", []string{"--", "true"}, []string{"ENTRYPOINT_GRACE=10"}, 64, `ENTRYPOINT_GRACE="10"`},
		{"typo in a setting", []string{"--", "true"}, []string{"ENTRYPOINT_GRACEFUL=1s"}, 64, "ENTRYPOINT_GRACEFUL"},
		{"stop signal that cannot stop", []string{"--", "true"}, []string{"ENTRYPOINT_STOP_SIGNALS=INT,SEGV"}, 64, `ENTRYPOINT_STOP_SIGNALS="INT,SEGV"`},
		{"bad log level", []string{"--", "true"}, []string{"ENTRYPOINT_LOG_LEVEL=warning"}, 64, `ENTRYPOINT_LOG_LEVEL="warning"`},
		{"bad master url", []string{"explain"}, []string{"SPARK_MASTER_URL=spark:/x"}, 64, "SPARK_MASTER_URL"},
		{"bad spark port", []string{"explain", "master"}, []string{"SPARK_MASTER_PORT=seventy"}, 64, `SPARK_MASTER_PORT="seventy"`},
		{"worker args", []string{"worker", "spark://a:7077"}, nil, 64, "takes no arguments"},
		{"master url without scheme", []string{"worker"}, []string{"SPARK_MASTER_URL=spark-master:7077"}, 64, `SPARK_MASTER_URL="spark-master:7077"`},
		{"master url port 70000", []string{"worker"}, []string{"SPARK_MASTER_URL=spark://m:70000"}, 64, "SPARK_MASTER_URL"},
		{"master port 0", []string{"master"}, []string{"SPARK_MASTER_PORT=0"}, 64, `SPARK_MASTER_PORT="0"`},
		{"unknown source", []string{"worker"}, []string{"ENTRYPOINT_DISCOVERY=static,carrier-pigeon"}, 64, "carrier-pigeon"},
		{"negative wait", []string{"worker"}, []string{"ENTRYPOINT_MASTER_WAIT=-1s"}, 64, "ENTRYPOINT_MASTER_WAIT"},
		{"bad ambassador target", []string{"ambassador"}, []string{"ENTRYPOINT_AMBASSADOR_TARGET=nowhere"}, 64, `ENTRYPOINT_AMBASSADOR_TARGET="nowhere"`},
		{"class archive of what", []string{"class-archive", "driver"}, nil, 64, `class-archive takes master or worker, got ["driver"]`},
		{"class archive off", []string{"class-archive", "worker"}, []string{"ENTRYPOINT_CLASS_ARCHIVE=off"}, 64, `ENTRYPOINT_CLASS_ARCHIVE="off"`},
		{"relative class archive", []string{"master"}, []string{"ENTRYPOINT_CLASS_ARCHIVE=cds"}, 64, `ENTRYPOINT_CLASS_ARCHIVE="cds"`},
		{"secret and secret file", []string{"master"}, []string{"SPARK_AUTH_SECRET=x", "SPARK_AUTH_SECRET_FILE=/etc/hostname"}, 64, "both set"},
		{"connect args", []string{"connect", "--conf"}, nil, 64, "takes no arguments"},
		{"connect port", []string{"connect"}, []string{"SPARK_SUBMIT_OPTS=-Dspark.connect.grpc.binding.port=15o02"}, 64, "spark.connect.grpc.binding.port"},
		{"connect secret without token", []string{"connect"}, []string{"SPARK_AUTH_SECRET=x"}, 64, "SPARK_CONNECT_AUTHENTICATE_TOKEN is unset while SPARK_AUTH_SECRET is set"},
		{"connect token and token file", []string{"connect"}, []string{"SPARK_CONNECT_AUTHENTICATE_TOKEN=t", "SPARK_CONNECT_AUTHENTICATE_TOKEN_FILE=/etc/hostname"}, 64, "both set"},
		{"connect token file missing", []string{"connect"}, []string{"SPARK_CONNECT_AUTHENTICATE_TOKEN_FILE=/nonexistent/token"}, 64, `SPARK_CONNECT_AUTHENTICATE_TOKEN_FILE="/nonexistent/token"`},
		{"connect on a spark without it", []string{"connect"}, []string{"SPARK_HOME=/nonexistent/spark-3.5"}, 64, `SPARK_HOME="/nonexistent/spark-3.5" has no jars/spark-connect_*.jar`},
		{"ready of what", []string{"ready", "driver"}, nil, 64, `ready takes master, worker, connect or history, got "driver"`},
		{"driver-conf args", []string{"driver-conf", "--yaml"}, nil, 64, `driver-conf takes [--json], got ["--yaml"]`},
		{"driver port not a number", []string{"driver-conf"}, []string{"SPARK_DRIVER_PORT=4o400"}, 64, `SPARK_DRIVER_PORT="4o400"`},
		{"driver port random", []string{"driver-conf", "--json"}, []string{"SPARK_DRIVER_PORT=0"}, 64, `SPARK_DRIVER_PORT="0"`},
		{"block manager port is the driver's", []string{"driver-conf"}, []string{"SPARK_DRIVER_PORT=40400", "SPARK_DRIVER_BLOCK_MANAGER_PORT=40400"}, 64, `SPARK_DRIVER_BLOCK_MANAGER_PORT="40400"`},
		{"driver host with a scheme", []string{"driver-conf"}, []string{"SPARK_DRIVER_HOST=http://laptop"}, 64, `SPARK_DRIVER_HOST="http://laptop"`},
		{"driver-conf", []string{"driver-conf", "--json"}, []string{"ENTRYPOINT_DISCOVERY=static", "SPARK_MASTER_URL=spark://spark-master:7077"}, 0, ""},
		{"doctor driver without a port", []string{"doctor", "driver", "172.17.0.1"}, nil, 64, `got "172.17.0.1": no port`},
		{"doctor driver port", []string{"doctor", "driver", "172.17.0.1:40400,4o401"}, nil, 64, `port "4o401"`},
		{"doctor driver nothing listens", []string{"doctor", "driver", discoverytest.UnusedAddr(t)}, nil, 1, "doctor found problems: 1"},
	}
	// Bad input changes nothing on disk: the files start would rewrite are
	// compared byte for byte after every case.
	etc := map[string][]byte{}
	for _, f := range []string{"/etc/hosts", "/etc/resolv.conf", "/etc/passwd"} {
		etc[f], _ = os.ReadFile(f)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				for f, before := range etc {
					if after, _ := os.ReadFile(f); !bytes.Equal(before, after) {
						t.Errorf("entrypoint %q changed %s", tt.args, f)
					}
				}
			}()
			cmd := exec.Command(binary, tt.args...)
			cmd.Env = append([]string{"PATH=/usr/bin:/bin", "ENTRYPOINT_USER=0"}, tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			got := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				got = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("entrypoint %q exited %d, want %d; stderr:\n%s", tt.args, got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("entrypoint %q stderr = %q, want it to contain %q", tt.args, stderr.String(), tt.stderr)
			}
			if tt.want == 64 && strings.Count(strings.TrimSpace(stderr.String()), "entrypoint: ") != 1 {
				t.Errorf("entrypoint %q: want exactly one error line, got:\n%s", tt.args, stderr.String())
			}
		})
	}
}

// TestAmbassador forwards real loopback connections to an echo server, found
// once from a fixed target and once through discovery, and stops on SIGTERM
// with status 0.
func TestAmbassador(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
	for _, target := range []string{"ENTRYPOINT_AMBASSADOR_TARGET=" + echo.Addr().String(), "SPARK_MASTER_URL=spark://" + echo.Addr().String()} {
		t.Run(strings.Split(target, "=")[0], func(t *testing.T) {
			listen := discoverytest.UnusedAddr(t)
			cmd := exec.Command(binary, "ambassador")
			cmd.Env = []string{"ENTRYPOINT_AMBASSADOR_LISTEN=" + listen, target}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var conn net.Conn
			for i := 0; i < 200; i++ {
				if conn, err = net.Dial("tcp", listen); err == nil {
					break
				}
				time.Sleep(25 * time.Millisecond)
			}
			if err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("dial the ambassador: %v\n%s", err, stderr.String())
			}
			fmt.Fprintf(conn, "ping\n")
			line, err := bufio.NewReader(conn).ReadString('\n')
			conn.Close()
			if err != nil || line != "ping\n" {
				t.Errorf("through the ambassador: got %q, %v", line, err)
			}
			cmd.Process.Signal(syscall.SIGTERM)
			if err := cmd.Wait(); err != nil {
				t.Errorf("ambassador after SIGTERM: %v\n%s", err, stderr.String())
			}
		})
	}
}

// TestWorkerWaitsForMaster covers the wait for a master that never comes:
// a SIGTERM during the wait ends it at once with 143, and the end of
// ENTRYPOINT_MASTER_WAIT gives 69 with what was tried.
func TestWorkerWaitsForMaster(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin", "ENTRYPOINT_USER=0", "ENTRYPOINT_DISCOVERY=static,docker-links,kubernetes-env"}

	cmd := exec.Command(binary, "worker")
	cmd.Env = append(env, "ENTRYPOINT_MASTER_WAIT=10m")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Not a speed target: a guard, so that a worker that never logs its
	// wait, or ignores the SIGTERM, fails here instead of holding the test
	// for the ten minutes of ENTRYPOINT_MASTER_WAIT. Killing it ends
	// stderr, which ends every read below.
	guard := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	defer guard.Stop()
	const want = "master not found yet"
	var read []string
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		read = append(read, sc.Text())
		if strings.Contains(sc.Text(), want) {
			break
		}
	}
	if len(read) == 0 || !strings.Contains(read[len(read)-1], want) {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("no %q line on stderr within a minute, or before it ended:\n%s", want, strings.Join(read, "\n"))
	}
	cmd.Process.Signal(syscall.SIGTERM)
	io.Copy(io.Discard, stderr) // to the end: the worker exits, or the guard kills it
	err = cmd.Wait()
	if !guard.Stop() {
		t.Fatal("SIGTERM during the wait: still running a minute later")
	}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 143 {
		t.Errorf("SIGTERM during the wait: %v, want exit status 143", err)
	}

	cmd = exec.Command(binary, "worker")
	cmd.Env = append(env, "ENTRYPOINT_MASTER_WAIT=1s")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	guard = time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
	err = cmd.Wait()
	if !guard.Stop() {
		t.Fatalf("ENTRYPOINT_MASTER_WAIT=1s: still running a minute later:\n%s", out.String())
	}
	if !errors.As(err, &ee) || ee.ExitCode() != 69 {
		t.Errorf("no master within the wait: %v, want exit status 69\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "ENTRYPOINT_MASTER_WAIT=1s") || !strings.Contains(out.String(), "docker-links") {
		t.Errorf("no master within the wait: output does not say what was tried:\n%s", out.String())
	}
}

// TestReady answers health checks from real HTTP servers on loopback that
// speak the master's and worker's /json/.
func TestReady(t *testing.T) {
	var state atomic.Value // the handlers run on the server's goroutines
	state.Store("ALIVE")
	mux := http.NewServeMux()
	var srv *httptest.Server
	mux.HandleFunc("/json/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"id":"worker-1","masterurl":"spark://m:7077","masterwebuiurl":%q,"status":%q,"aliveworkers":1}`, srv.URL+"/m", state.Load())
	})
	mux.HandleFunc("/m/json/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"status":"ALIVE","workers":[{"id":"worker-0","state":"DEAD"},{"id":"worker-1","state":%q}]}`, state.Load())
	})
	srv = httptest.NewServer(mux)
	defer srv.Close()
	port := srv.URL[strings.LastIndex(srv.URL, ":")+1:]
	tests := []struct {
		role, state string
		want        int
	}{
		{"master", "ALIVE", 0}, {"master", "STANDBY", 1},
		{"worker", "ALIVE", 0}, {"worker", "DEAD", 1},
	}
	for _, tt := range tests {
		state.Store(tt.state)
		cmd := exec.Command(binary, "ready", tt.role)
		cmd.Env = []string{"SPARK_MASTER_WEBUI_PORT=" + port, "SPARK_WORKER_WEBUI_PORT=" + port}
		out, err := cmd.CombinedOutput()
		got := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			got = ee.ExitCode()
		}
		if got != tt.want {
			t.Errorf("ready %s with state %s: exit %d, want %d\n%s", tt.role, tt.state, got, tt.want, out)
		}
	}
	srv.Close()
	cmd := exec.Command(binary, "ready", "master")
	cmd.Env = []string{"SPARK_MASTER_WEBUI_PORT=" + port}
	if err := cmd.Run(); err == nil {
		t.Error("ready master with nothing listening: exit 0")
	}
}

// TestBadSettingsBeforeTheWait: a wrong setting ends a worker at once with
// 64 and one line naming the variable and its value, even when no master
// exists and ENTRYPOINT_MASTER_WAIT is long; nothing may wait first.
func TestBadSettingsBeforeTheWait(t *testing.T) {
	base := []string{"PATH=/usr/bin:/bin", "ENTRYPOINT_USER=0", "ENTRYPOINT_DISCOVERY=static,docker-links", "ENTRYPOINT_MASTER_WAIT=10m"}
	tests := []struct{ name, value string }{
		{"ENTRYPOINT_USER", "typo"},
		{"ENTRYPOINT_DISCOVERY", "carrier-pigeon"},
		{"ENTRYPOINT_DISCOVERY", "static,carrier-pigeon"},
		{"ENTRYPOINT_GRACE", "soon"},
		{"SPARK_WORKER_PORT", "abc"},
		{"SPARK_WORKER_WEBUI_PORT", "99999"},
		{"SPARK_WORKER_CORES", "x"},
		{"SPARK_WORKER_MEMORY", "2q"},
		{"SPARK_WORKER_MEMORY", "2048"},
		{"ENTRYPOINT_METRICS", "jmx"},
		{"ENTRYPOINT_EVENT_LOG", "./events"},
		{"SPARK_MASTER_SERVICE", "bad_name!"},
	}
	for _, tt := range tests {
		if tt.name == "ENTRYPOINT_USER" && os.Geteuid() != 0 {
			t.Logf("%s=%s: not root, and only root changes user", tt.name, tt.value)
			continue
		}
		cmd := exec.Command(binary, "worker")
		// The later value of a repeated name wins.
		cmd.Env = append(slices.Clone(base), tt.name+"="+tt.value)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Not a speed target: a guard, so that a start that waits for the
		// master fails here instead of hanging for ten minutes.
		guard := time.AfterFunc(time.Minute, func() { cmd.Process.Kill() })
		err := cmd.Wait()
		guard.Stop()
		var ee *exec.ExitError
		text := strings.TrimSpace(out.String())
		if !errors.As(err, &ee) || ee.ExitCode() != 64 {
			t.Errorf("%s=%s: %v, want exit status 64 before any wait:\n%s", tt.name, tt.value, err, text)
			continue
		}
		if want := fmt.Sprintf("%s=%q", tt.name, tt.value); !strings.Contains(text, want) || strings.Count(text, "\n") != 0 {
			t.Errorf("%s=%s: want one line naming %s, got:\n%s", tt.name, tt.value, want, text)
		}
	}
}
