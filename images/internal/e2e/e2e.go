// Package e2e holds what the end-to-end tests under images/ share: running
// docker and docker-compose, unique names and their teardown, the master's
// /json/ state, `entrypoint explain` in a container, the host driver job
// (scripts/sparkjob.py), the PID-1 and zombie checks, the exit codes after a
// stop, and the one matrix line each platform path prints.
//
// Every test that uses it creates only uniquely named containers and
// networks (pid-based), publishes container ports on random loopback ports,
// gives its driver free ports, and removes everything it created in
// t.Cleanup, so several end-to-end runs can share one Docker daemon.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Root is the repository root.
var Root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}()

// Images are the two images every path runs.
var Images = []string{"snufkin/spark-master", "snufkin/spark-worker"}

// Workers is how many workers every path starts.
const Workers = 3

// cmdTimeout bounds one docker or docker-compose command.
const cmdTimeout = 5 * time.Minute

// Require skips the test under -short and makes sure docker answers and
// the images exist, building them with `make images` only when one is
// missing (never pulling).
func Require(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: needs docker and the images (make test runs it)")
	}
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("end-to-end: no docker on PATH")
	}
	if out, err := Try("docker", "version", "--format", "{{.Server.Version}}"); err != nil {
		t.Fatalf("docker daemon: %v\n%s", err, out)
	}
	for _, img := range Images {
		if _, err := Try("docker", "image", "inspect", "--format", "{{.Id}}", img); err != nil {
			t.Logf("image %s missing: make images", img)
			Run(t, "make", "-C", Root, "images")
			return
		}
	}
}

// Name returns a name unique to this test process for kind, e.g.
// "sslink12345": docker container, network and compose project names
// are built from it, and teardown checks look for it.
func Name(kind string) string {
	return fmt.Sprintf("ss%s%d", kind, os.Getpid())
}

// Run runs argv and returns its combined output; a failure is fatal.
func Run(t *testing.T, argv ...string) string {
	t.Helper()
	return RunEnv(t, nil, argv...)
}

// RunEnv is Run with env as the command's environment (nil: inherit).
func RunEnv(t *testing.T, env []string, argv ...string) string {
	t.Helper()
	out, err := TryEnv(env, argv...)
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out)
	}
	return out
}

// Try runs argv and returns its combined output and error.
func Try(argv ...string) (string, error) {
	return TryEnv(nil, argv...)
}

// TryEnv is Try with env as the command's environment (nil: inherit).
func TryEnv(env []string, argv ...string) (string, error) {
	var out bytes.Buffer
	err := runTo(env, &out, &out, argv...)
	return out.String(), err
}

// runTo runs argv with env (nil: inherit) and its output streams written
// to stdout and stderr, killed after cmdTimeout.
func runTo(env []string, stdout, stderr io.Writer, argv ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), cmdTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	return cmd.Run()
}

// Matrix is the one line a platform path prints, e.g.
// "path=compose-spec discovery=ok alive=3/3 job=ok stop=ok". Fields not
// reached stay "-"; the line is logged when the test ends, after teardown,
// whether it passed or not.
type Matrix struct {
	mu     sync.Mutex
	fields []string
	values map[string]string
}

// NewMatrix starts the line for path and logs it at the end of t. Call it
// before registering any other cleanup, so that it runs last.
func NewMatrix(t *testing.T, path string) *Matrix {
	t.Helper()
	m := &Matrix{
		fields: []string{"path", "discovery", "alive", "job", "stop"},
		values: map[string]string{"path": path},
	}
	t.Cleanup(func() { t.Log(m.String()) })
	return m
}

// Set records a field.
func (m *Matrix) Set(field, value string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, known := m.values[field]; !known && !slices.Contains(m.fields, field) {
		// Fault fields (restart, kill) read best before the final stop.
		i := slices.Index(m.fields, "stop")
		if i < 0 {
			i = len(m.fields)
		}
		m.fields = slices.Insert(m.fields, i, field)
	}
	m.values[field] = value
}

// OK records field as "ok" when ok, else "fail".
func (m *Matrix) OK(field string, ok bool) {
	if ok {
		m.Set(field, "ok")
	} else {
		m.Set(field, "fail")
	}
}

func (m *Matrix) String() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	parts := make([]string, len(m.fields))
	for i, f := range m.fields {
		v := m.values[f]
		if v == "" {
			v = "-"
		}
		parts[i] = f + "=" + v
	}
	return strings.Join(parts, " ")
}

// Resources tracks the containers and networks a test creates and
// removes them at the end, then checks that `docker ps -a` and
// `docker network ls` hold nothing named with Prefix any more.
type Resources struct {
	t          *testing.T
	Prefix     string
	mu         sync.Mutex
	containers []string
	networks   []string
}

// NewResources registers the teardown for everything named with prefix.
func NewResources(t *testing.T, prefix string) *Resources {
	t.Helper()
	r := &Resources{t: t, Prefix: prefix}
	t.Cleanup(r.teardown)
	return r
}

// Container records a container to remove.
func (r *Resources) Container(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.containers = append(r.containers, name)
}

// Network records a network to remove (after the containers).
func (r *Resources) Network(name string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.networks = append(r.networks, name)
}

func (r *Resources) teardown() {
	t := r.t
	if t.Failed() {
		for _, c := range r.containers {
			out, _ := Try("docker", "logs", "--tail", "30", c)
			t.Logf("logs of %s:\n%s", c, out)
		}
	}
	if len(r.containers) > 0 {
		if out, err := Try(append([]string{"docker", "rm", "-f", "-v"}, r.containers...)...); err != nil && !strings.Contains(out, "No such container") {
			t.Errorf("docker rm: %v\n%s", err, out)
		}
	}
	for _, n := range r.networks {
		if out, err := Try("docker", "network", "rm", n); err != nil && !strings.Contains(out, "No such network") && !strings.Contains(out, "not found") {
			t.Errorf("docker network rm %s: %v\n%s", n, err, out)
		}
	}
	CheckClean(t, r.Prefix)
}

// CheckClean fails t if any container, network or volume named with prefix
// (followed by "-" or "_", as every name these tests make is) is left.
func CheckClean(t *testing.T, prefix string) {
	t.Helper()
	for _, what := range []struct{ kind, name string }{
		{"containers", "docker ps -a --format {{.Names}}"},
		{"networks", "docker network ls --format {{.Name}}"},
		{"volumes", "docker volume ls --format {{.Name}}"},
	} {
		argv := strings.Fields(what.name)
		argv = append(argv[:len(argv)-2], "--filter", "name="+prefix, argv[len(argv)-2], argv[len(argv)-1])
		out, err := Try(argv...)
		if err != nil {
			t.Errorf("%s: %v\n%s", strings.Join(argv, " "), err, out)
			continue
		}
		var left []string
		for _, n := range strings.Fields(out) {
			if rest, ok := strings.CutPrefix(n, prefix); ok && (strings.HasPrefix(rest, "-") || strings.HasPrefix(rest, "_")) {
				left = append(left, n)
			}
		}
		if len(left) > 0 {
			t.Errorf("%s left behind: %s", what.kind, strings.Join(left, " "))
		}
	}
}

// Compose runs docker-compose on one project and file.
type Compose struct {
	Project, File string
	// Env is the environment docker-compose runs with (interpolation);
	// nil inherits the test's.
	Env []string
}

// NewCompose registers `down` (and the logs on failure) for project.
func NewCompose(t *testing.T, project, file string, env []string) *Compose {
	t.Helper()
	c := &Compose{Project: project, File: file, Env: env}
	t.Cleanup(func() {
		if t.Failed() {
			out, _ := c.try("logs", "--tail", "40")
			t.Logf("cluster logs:\n%s", out)
		}
		if out, err := c.try("down", "-t", "10", "-v", "--remove-orphans"); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	})
	return c
}

// Run runs docker-compose -p Project -f File args...; a failure is fatal.
func (c *Compose) Run(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.try(args...)
	if err != nil {
		t.Fatalf("docker-compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func (c *Compose) try(args ...string) (string, error) {
	return TryEnv(c.Env, append([]string{"docker-compose", "-p", c.Project, "-f", c.File}, args...)...)
}

// IDs returns the container ids of service.
func (c *Compose) IDs(t *testing.T, service string) []string {
	t.Helper()
	return strings.Fields(c.Run(t, "ps", "-q", service))
}

// Published returns the host port docker publishes for the container
// port port ("8080/tcp") of container, preferring an IPv4 binding.
func Published(t *testing.T, container, port string) string {
	t.Helper()
	out := Run(t, "docker", "port", container, port)
	var first string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		line = strings.TrimSpace(line)
		i := strings.LastIndex(line, ":")
		if i < 0 {
			continue
		}
		p := line[i+1:]
		if first == "" {
			first = p
		}
		if !strings.HasPrefix(line, "[") {
			return p
		}
	}
	if first == "" {
		t.Fatalf("docker port %s %s: nothing published:\n%s", container, port, out)
	}
	return first
}

// Gateway returns the gateway of the container's first network: the
// host's address on that network, which the executors dial back.
func Gateway(t *testing.T, container string) string {
	t.Helper()
	out := Run(t, "docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.Gateway}} {{end}}", container)
	f := strings.Fields(out)
	if len(f) == 0 {
		t.Fatalf("container %s has no network gateway", container)
	}
	return f[0]
}

// MasterJSON is the part of the master's /json/ the tests read.
type MasterJSON struct {
	URL     string `json:"url"`
	Status  string `json:"status"`
	Workers []struct {
		ID, Host, State string
		Port, Cores     int
	} `json:"workers"`
}

// Alive counts the ALIVE workers.
func (s MasterJSON) Alive() int {
	n := 0
	for _, w := range s.Workers {
		if w.State == "ALIVE" {
			n++
		}
	}
	return n
}

// GetMasterState reads http://127.0.0.1:uiPort/json/.
func GetMasterState(uiPort string) (MasterJSON, error) {
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + uiPort + "/json/")
	if err != nil {
		return MasterJSON{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return MasterJSON{}, fmt.Errorf("master /json/: %s", resp.Status)
	}
	var s MasterJSON
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		return MasterJSON{}, fmt.Errorf("master /json/: %w", err)
	}
	return s, nil
}

// MasterState is GetMasterState, fatal on error.
func MasterState(t *testing.T, uiPort string) MasterJSON {
	t.Helper()
	s, err := GetMasterState(uiPort)
	if err != nil {
		t.Fatalf("master /json/: %v", err)
	}
	return s
}

// WaitAlive polls the master's /json/ on the loopback port uiPort until
// want workers are ALIVE or timeout passes, and returns the last state.
func WaitAlive(t *testing.T, uiPort string, want int, timeout time.Duration) (MasterJSON, time.Duration) {
	t.Helper()
	start := time.Now()
	var s MasterJSON
	var err error
	for time.Since(start) < timeout {
		s, err = GetMasterState(uiPort)
		if err == nil && s.Alive() >= want {
			break
		}
		time.Sleep(time.Second)
	}
	if err != nil {
		t.Logf("master /json/: %v", err)
	}
	return s, time.Since(start).Round(time.Second)
}

// RequireAlive waits until the master whose UI is on uiPort lists want
// workers ALIVE, records alive=N/want in m, logs the workers and ends the
// test when they do not all come.
func RequireAlive(t *testing.T, m *Matrix, uiPort string, want int, timeout time.Duration) MasterJSON {
	t.Helper()
	state, took := WaitAlive(t, uiPort, want, timeout)
	t.Logf("%d workers ALIVE after %s", state.Alive(), took)
	m.Set("alive", fmt.Sprintf("%d/%d", state.Alive(), want))
	if !LogWorkers(t, state, want) {
		t.Fatalf("master /json/ lists %d ALIVE workers (status %s), want %d", state.Alive(), state.Status, want)
	}
	return state
}

// LogWorkers logs each worker of s and a summary line, as the classic test
// always has, and reports whether want workers are ALIVE on an ALIVE
// master.
func LogWorkers(t *testing.T, s MasterJSON, want int) bool {
	t.Helper()
	for _, w := range s.Workers {
		t.Logf("worker %s %s:%d cores=%d state=%s", w.ID, w.Host, w.Port, w.Cores, w.State)
	}
	t.Logf("master %s status=%s: %d workers ALIVE", s.URL, s.Status, s.Alive())
	return s.Alive() == want && s.Status == "ALIVE"
}

// Explanation is the part of `entrypoint explain` the tests read.
type Explanation struct {
	Role   string `json:"role"`
	Master *struct {
		URL    string   `json:"url"`
		Source string   `json:"source"`
		Detail []string `json:"detail"`
	} `json:"master"`
	Advertise struct {
		Host      string `json:"host"`
		PublicDNS string `json:"public_dns"`
		Source    string `json:"source"`
	} `json:"advertise"`
	Removed []struct {
		Name, Value, Reason string
	} `json:"env_removed"`
	Warnings     []string `json:"warnings"`
	Error        string   `json:"error"`
	ClassArchive *struct {
		File string `json:"file"`
		Used bool   `json:"used"`
		Why  string `json:"why"`
	} `json:"class_archive"`
}

// Explain runs `entrypoint explain [role]` in a running container and
// parses its JSON, which it prints even when discovery failed (and then
// exits non-zero).
func Explain(t *testing.T, container string, role ...string) (Explanation, string) {
	t.Helper()
	argv := append([]string{"docker", "exec", container, "/usr/local/bin/entrypoint", "explain"}, role...)
	out, err := Try(argv...)
	var e Explanation
	i := strings.Index(out, "{")
	if i < 0 {
		t.Fatalf("%s: %v: no JSON:\n%s", strings.Join(argv, " "), err, out)
	}
	if jerr := json.Unmarshal([]byte(out[i:]), &e); jerr != nil {
		t.Fatalf("%s: %v (exit %v):\n%s", strings.Join(argv, " "), jerr, err, out)
	}
	return e, out
}

// CheckClassArchive checks that the node's JVM in container maps the
// image's class-data archive: explain says it is used, and the memory map
// of the JVM, read as the JVM's user (185, spark) because reading another
// user's maps needs CAP_SYS_PTRACE, lists the archive file.
func CheckClassArchive(t *testing.T, container, role string) bool {
	t.Helper()
	e, out := Explain(t, container, role)
	if e.ClassArchive == nil || !e.ClassArchive.Used {
		t.Errorf("explain %s in %s: class-data archive not used:\n%s", role, Short(container), out)
		return false
	}
	maps, err := Try("docker", "exec", "-u", "185", container, "sh", "-c",
		`for m in /proc/[0-9]*/maps; do grep -qF "$1" "$m" 2>/dev/null && echo "$m"; done; true`, "sh", e.ClassArchive.File)
	if err != nil || !strings.Contains(maps, "/maps") {
		t.Errorf("%s: no process maps %s (%v): %q", Short(container), e.ClassArchive.File, err, maps)
		return false
	}
	return true
}

// CheckDiscovery checks that explain in container names source and url,
// logs what it found, and reports whether it matched.
func CheckDiscovery(t *testing.T, container, source, url string) bool {
	t.Helper()
	e, out := Explain(t, container)
	if e.Master == nil {
		t.Errorf("explain in %s found no master (error %q):\n%s", Short(container), e.Error, out)
		return false
	}
	t.Logf("explain in %s: master %s from %s (%s)", Short(container), e.Master.URL, e.Master.Source, strings.Join(e.Master.Detail, "; "))
	if e.Master.Source != source || e.Master.URL != url {
		t.Errorf("explain in %s: master %s from %s, want %s from %s:\n%s", Short(container), e.Master.URL, e.Master.Source, url, source, out)
		return false
	}
	return true
}

// CheckReady runs `entrypoint ready role` in container (what the
// images' HEALTHCHECK and the probes run), logs its answer and reports
// whether it said ready.
func CheckReady(t *testing.T, container, role string) bool {
	t.Helper()
	out, err := Try("docker", "exec", container, "/usr/local/bin/entrypoint", "ready", role)
	out = strings.TrimSpace(out)
	if err != nil {
		t.Errorf("entrypoint ready %s in %s: %v: %s", role, Short(container), err, out)
		return false
	}
	t.Logf("entrypoint ready %s in %s: %s", role, Short(container), out)
	return true
}

// FreePortPair returns a port p such that p and p+1 were free on every
// address of the host a moment ago: the driver's RPC and block manager
// ports, which the executors in the containers dial back.
func FreePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		l1, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		p := l1.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", ":"+strconv.Itoa(p+1))
		l1.Close()
		if err == nil {
			l2.Close()
			return p
		}
	}
	t.Fatal("no free pair of ports for the driver")
	return 0
}

// Job runs scripts/sparkjob.py on the host against masterURL with
// spark.driver.host = driverHost and free driver ports, logs its job:
// lines and reports whether it printed the checked result.
func Job(t *testing.T, masterURL, driverHost string, executors int) (bool, string) {
	t.Helper()
	return JobWith(t, Python(t), masterURL, driverHost, executors)
}

// JobWith is Job with the driver's Python py, whose pyspark must be the
// cluster's Spark line (PythonFor).
func JobWith(t *testing.T, py, masterURL, driverHost string, executors int) (bool, string) {
	t.Helper()
	port := FreePortPair(t)
	t.Logf("job: driver on the host: master %s, spark.driver.host=%s, driver ports %d/%d", masterURL, driverHost, port, port+1)
	env := append(os.Environ(), "PYSPARK_PYTHON=python3")
	return runChecked(t, env, "job:", "result=500000500000 expected=500000500000", py, filepath.Join(Root, "scripts", "sparkjob.py"),
		"--master", masterURL, "--driver-host", driverHost,
		"--executors", strconv.Itoa(executors), "--driver-port", strconv.Itoa(port))
}

// runChecked runs one of the scripts that print "PREFIX ... " lines and
// "PREFIX OK", logs those lines and reports whether the script succeeded
// with result among them; a failure is an error of t, with the output.
func runChecked(t *testing.T, env []string, prefix, result string, argv ...string) (bool, string) {
	t.Helper()
	out, err := TryEnv(env, argv...)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			t.Log(line)
		}
	}
	ok := err == nil && strings.Contains(out, prefix+" "+result) && strings.Contains(out, prefix+" OK")
	if !ok {
		t.Errorf("%s did not report the checked result (%v):\n%s", filepath.Base(argv[1]), err, jobErrors(out))
	}
	return ok, out
}

// jobErrors keeps the driver's own complaints (WARN/ERROR lines, job:
// lines, the Python exception) and drops the Java stack frames.
func jobErrors(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		s := strings.TrimSpace(line)
		if strings.HasPrefix(s, "at ") || strings.HasPrefix(s, "java.base/") || strings.HasPrefix(s, "py4j.") || strings.HasPrefix(s, "org.apache.spark.api") {
			continue
		}
		keep = append(keep, line)
	}
	if len(keep) > 80 {
		keep = append(keep[:40], append([]string{"[...]"}, keep[len(keep)-40:]...)...)
	}
	return strings.Join(keep, "\n")
}

// Short shortens a 64-digit container id to Docker's 12 digits and leaves
// names alone.
func Short(id string) string {
	if len(id) == 64 && strings.Trim(id, "0123456789abcdef") == "" {
		return id[:12]
	}
	return id
}

// CheckProcesses wants, in container id, the entrypoint as PID 1, the JVM
// under it as the spark user, and no zombie. It reports whether all held.
func CheckProcesses(t *testing.T, id string) bool {
	t.Helper()
	ps := Run(t, "docker", "exec", id, "ps", "-eo", "pid,user,stat,args")
	problems := psProblems(ps)
	for _, p := range problems {
		t.Errorf("container %s %s", Short(id), p)
	}
	return len(problems) == 0
}

// psProblems checks `ps -eo pid,user,stat,args` output.
func psProblems(ps string) []string {
	var problems []string
	var pid1, jvm bool
	for _, line := range strings.Split(strings.TrimSpace(ps), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 4 {
			continue
		}
		pid, user, stat, args := f[0], f[1], f[2], strings.Join(f[3:], " ")
		if strings.HasPrefix(stat, "Z") {
			problems = append(problems, "has a zombie: "+line)
		}
		if pid == "1" && strings.Contains(args, "entrypoint") {
			pid1 = true
		}
		if strings.Contains(args, "org.apache.spark.deploy.") {
			jvm = true
			if user != "spark" {
				problems = append(problems, fmt.Sprintf("runs the JVM as %s, want spark: %s", user, line))
			}
		}
	}
	if !pid1 || !jvm {
		problems = append(problems, fmt.Sprintf("entrypoint as PID 1 = %v, spark JVM = %v:\n%s", pid1, jvm, ps))
	}
	return problems
}

// ExitCodes checks that every container exited 0 or 143 (SIGTERM) and
// reports whether they all did.
func ExitCodes(t *testing.T, ids []string) bool {
	t.Helper()
	ok := true
	for _, id := range ids {
		code := strings.TrimSpace(Run(t, "docker", "inspect", "-f", "{{.State.ExitCode}}", id))
		t.Logf("container %s exited %s", Short(id), code)
		if code != "0" && code != "143" {
			t.Errorf("container %s exited %s, want 0 or 143", Short(id), code)
			ok = false
		}
	}
	return ok
}

// Stop runs `docker stop -t 10` on ids (in parallel, as a platform stops a
// service's tasks), then checks the exit codes.
func Stop(t *testing.T, ids []string) bool {
	t.Helper()
	start := time.Now()
	if out, err := Try(append([]string{"docker", "stop", "-t", "10"}, ids...)...); err != nil {
		t.Errorf("docker stop: %v\n%s", err, out)
		return false
	}
	t.Logf("stopped %d containers in %s", len(ids), time.Since(start).Round(100*time.Millisecond))
	return ExitCodes(t, ids)
}

// SubnetNetwork makes a bridge network with a /24 subnet of 10.<second>.0.0/16
// that no other network uses, and returns the subnet's first three octets.
// Docker hands out .128-.254; .2-.127 stay free for the fixed addresses a
// test assigns (ClusterIPs, task ENIs). Paths pick different second octets so
// that tests running at once never race for the same subnet.
func SubnetNetwork(t *testing.T, res *Resources, second int, name string) string {
	t.Helper()
	pid := os.Getpid()
	var last string
	for i := range 40 {
		subnet := fmt.Sprintf("10.%d.%d", second, (pid+i*37)%250+1)
		out, err := Try("docker", "network", "create", "--driver", "bridge",
			"--subnet", subnet+".0/24", "--gateway", subnet+".1", "--ip-range", subnet+".128/25", name)
		if err == nil {
			res.Network(name)
			return subnet
		}
		last = out
	}
	t.Fatalf("docker network create: no free 10.%d.x.0/24: %s", second, last)
	return ""
}
