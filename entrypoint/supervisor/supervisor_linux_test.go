//go:build linux

package supervisor

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
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
	"unsafe"
)

var stress = flag.Bool("stress", false, "run the zombie-storm test for many more iterations (also SUPTEST_STRESS=1)")

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == WaiterArg {
		os.Exit(Waiter(os.Args[2:]))
	}
	if role := os.Getenv(roleEnv); role != "" {
		os.Exit(runRole(role))
	}
	os.Exit(m.Run())
}

// backstop bounds every wait; it only fires when something is broken.
const backstop = 30 * time.Second

type mode struct {
	name   string
	pidns  bool
	waiter bool // start the workload through the waiter, as on kernels before 6.15
}

var modes = []mode{{"pid1", true, false}, {"subreaper", false, false}, {"pid1-waiter", true, true}}

var (
	unshareOnce sync.Once
	unshareErr  error
)

func requireMode(t *testing.T, m mode) {
	t.Helper()
	if !m.pidns {
		return
	}
	unshareOnce.Do(func() {
		out, err := exec.Command("unshare", "-p", "-f", "--mount-proc", "true").CombinedOutput()
		if err != nil {
			unshareErr = fmt.Errorf("%v: %s", err, bytes.TrimSpace(out))
		}
	})
	if unshareErr != nil {
		t.Skipf("cannot run as PID 1 of a new PID namespace (unshare -p -f --mount-proc not permitted here): %v", unshareErr)
	}
}

func testExe(t *testing.T) string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// helperEnv is the exact environment of a helper child in role.
func helperEnv(role string, kv ...string) []string {
	return append([]string{"PATH=/usr/local/bin:/usr/bin:/bin", roleEnv + "=" + role}, kv...)
}

// supProc is one supervisor process started by a test.
type supProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	dir    string
	result string
	log    string
	runs   int
	waited chan error
}

// startSup starts the "supervisor" role, as PID 1 of a new namespace or as a
// plain child (then it registers as subreaper itself).
func startSup(t *testing.T, m mode, runs ...runSpec) *supProc {
	t.Helper()
	return startSupIn(t, m, "", nil, runs...)
}

// startSupIn is startSup with the supervisor started in directory cwd ("":
// the test's own) and, when tty is not nil, in a session of its own whose
// controlling terminal is tty, its standard input.
func startSupIn(t *testing.T, m mode, cwd string, tty *os.File, runs ...runSpec) *supProc {
	t.Helper()
	requireMode(t, m)
	dir := t.TempDir()
	s := &supProc{t: t, dir: dir, result: filepath.Join(dir, "result"), log: filepath.Join(dir, "log"), waited: make(chan error, 1), runs: len(runs)}
	for i := range runs {
		if runs[i].Args == nil {
			t.Fatal("run without args")
		}
		runs[i].Waiter = m.waiter
	}
	b, err := json.Marshal(supSpec{Runs: runs, Result: s.result, Log: s.log})
	if err != nil {
		t.Fatal(err)
	}
	exe := testExe(t)
	if m.pidns {
		s.cmd = exec.Command("unshare", "-p", "-f", "--mount-proc", exe)
	} else {
		s.cmd = exec.Command(exe)
	}
	// A race-instrumented binary sleeps a second as it exits (the race
	// runtime's atexit_sleep_ms, time for other threads to finish a
	// report). The supervisor and each waiter are this binary, so under
	// -race every run of a sweep paid that second: 256 exit codes through
	// the waiter took 270 s instead of 11 s. Races are still reported.
	race := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	s.cmd.Env = []string{roleEnv + "=supervisor", specEnv + "=" + string(b), "PATH=" + os.Getenv("PATH"), "GORACE=" + race}
	s.cmd.Dir = cwd
	var stderr bytes.Buffer
	s.cmd.Stdout, s.cmd.Stderr = &stderr, &stderr
	// If a test dies half-way, leftovers may hold the output pipe open.
	s.cmd.WaitDelay = 5 * time.Second
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if tty != nil {
		s.cmd.Stdin = tty
		s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.waited <- s.cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-s.waited:
		default:
			// Killing unshare would leave the namespace running; killing
			// its PID 1 ends every process in it.
			if inner := s.innerPid(); inner > 0 {
				_ = syscall.Kill(inner, syscall.SIGKILL)
			}
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.waited
		}
		if t.Failed() {
			t.Logf("supervisor output:\n%s", stderr.String())
			if b, err := os.ReadFile(s.log); err == nil {
				t.Logf("supervisor log:\n%s", tail(string(b), 60))
			}
		}
	})
	return s
}

func tail(s string, n int) string {
	l := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(l) > n {
		l = append([]string{"..."}, l[len(l)-n:]...)
	}
	return strings.Join(l, "\n")
}

// wait waits for the supervisor process and returns one result per run.
func (s *supProc) wait() []result {
	s.t.Helper()
	select {
	case err := <-s.waited:
		s.waited <- err
		if err != nil {
			s.t.Fatalf("supervisor process: %v", err)
		}
	case <-time.After(backstop + time.Duration(s.runs)*time.Second):
		s.t.Fatal("supervisor did not finish")
	}
	var out []result
	for _, l := range readLines(s.result) {
		var r result
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			s.t.Fatalf("bad result line %q: %v", l, err)
		}
		out = append(out, r)
	}
	return out
}

// wait1 waits for a single-run supervisor and checks that nothing was left.
func (s *supProc) wait1() result {
	s.t.Helper()
	rs := s.wait()
	if len(rs) != 1 {
		s.t.Fatalf("got %d results, want 1", len(rs))
	}
	if rs[0].All != 0 {
		s.t.Errorf("%d processes (%d alive) left after Run returned, want 0", rs[0].All, rs[0].Live)
	}
	return rs[0]
}

// pid is the supervisor's pid as seen from here (not 1 under unshare).
func (s *supProc) pid() int {
	s.t.Helper()
	end := time.Now().Add(backstop)
	for time.Now().Before(end) {
		if n := s.innerPid(); n > 0 {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.t.Fatal("unshare has no child")
	return 0
}

// innerPid is the supervisor's pid, or 0 while unshare has not forked it.
func (s *supProc) innerPid() int {
	if filepath.Base(s.cmd.Path) != "unshare" {
		return s.cmd.Process.Pid
	}
	u := s.cmd.Process.Pid
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", u, u))
	if f := strings.Fields(string(b)); len(f) > 0 {
		n, _ := strconv.Atoi(f[0])
		return n
	}
	return 0
}

func (s *supProc) kill(sig syscall.Signal) {
	s.t.Helper()
	if err := syscall.Kill(s.pid(), sig); err != nil {
		s.t.Fatalf("kill supervisor: %v", err)
	}
}

// runsFor fails the test if the supervisor exits within d.
func (s *supProc) runsFor(d time.Duration) {
	s.t.Helper()
	select {
	case err := <-s.waited:
		s.waited <- err
		s.t.Fatalf("supervisor exited (%v) within %v, want it still running; results %q", err, d, readLines(s.result))
	case <-time.After(d):
	}
}

// waitLog waits until a line of the supervisor's log contains every one of
// want, and fails at once if the supervisor exits first.
func (s *supProc) waitLog(want ...string) {
	s.t.Helper()
	logged := func() bool {
		for _, l := range readLines(s.log) {
			if !slices.ContainsFunc(want, func(w string) bool { return !strings.Contains(l, w) }) {
				return true
			}
		}
		return false
	}
	end := time.Now().Add(backstop)
	for !logged() {
		select {
		case err := <-s.waited:
			s.waited <- err
			if !logged() {
				s.t.Fatalf("supervisor exited (%v) without logging %q", err, want)
			}
			return
		default:
		}
		if time.Now().After(end) {
			s.t.Fatalf("supervisor log has no line with %q", want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitRecorded waits until file has at least n lines after "ready" and
// returns those lines.
func waitRecorded(t *testing.T, file string, n int) []string {
	t.Helper()
	end := time.Now().Add(backstop)
	for {
		l := readLines(file)
		if len(l) > 0 && l[0] == "ready" && len(l)-1 >= n {
			return l[1:]
		}
		if time.Now().After(end) {
			t.Fatalf("%s: waited for %d signals, have %q", filepath.Base(file), n, l)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func recorder(t *testing.T, dir string, exitOn syscall.Signal, kv ...string) (runSpec, string) {
	file := filepath.Join(dir, "signals")
	env := helperEnv("record", append([]string{"SUPTEST_FILE=" + file, "SUPTEST_EXIT_ON=" + strconv.Itoa(int(exitOn))}, kv...)...)
	return runSpec{Args: []string{testExe(t)}, Env: env, Grace: backstop, UID: -1}, file
}

func shRun(script string) runSpec {
	return runSpec{Args: []string{"/bin/sh", "-c", script}, Env: []string{"PATH=/usr/bin:/bin"}, UID: -1}
}

func TestExitCodes(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			// Every status a process can exit with, under -race too.
			var runs []runSpec
			for code := 0; code <= 255; code++ {
				runs = append(runs, shRun(fmt.Sprintf("exit %d", code)))
			}
			rs := startSup(t, m, runs...).wait()
			if len(rs) != len(runs) {
				t.Fatalf("got %d results, want %d", len(rs), len(runs))
			}
			for code, r := range rs {
				if r.Status != code || r.Err != "" || r.All != 0 {
					t.Errorf("sh -c 'exit %d': status %d, err %q, %d processes left; want %d, no error, none left", code, r.Status, r.Err, r.All, code)
				}
			}
		})
	}
}

// deadly lists the signals whose default action ends a process.
// inheritedIgnored is the set of signals this test process was started
// with ignored (make, for one, starts its recipes with 32 and 33 ignored).
// An ignored disposition survives exec, so the workload inherits it through
// the supervisor as it would through any exec; the tests only forbid
// ignores the supervisor adds.
func inheritedIgnored(t *testing.T) uint64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			n, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no SigIgn in /proc/self/status")
	return 0
}

func deadly(ignored uint64) []syscall.Signal {
	var out []syscall.Signal
	for n := syscall.Signal(1); n <= 64; n++ {
		if ignored&(1<<(n-1)) != 0 {
			continue
		}
		switch n {
		case syscall.SIGCHLD, syscall.SIGCONT, syscall.SIGSTOP, syscall.SIGTSTP,
			syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGURG, syscall.SIGWINCH:
			continue
		}
		out = append(out, n)
	}
	return out
}

func TestDeathBySignal(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			sigs := deadly(inheritedIgnored(t))
			var runs []runSpec
			for _, n := range sigs {
				// ulimit -c 0: a core dump per signal would litter the disk.
				runs = append(runs, shRun(fmt.Sprintf("ulimit -c 0; kill -%d $$", n)))
			}
			rs := startSup(t, m, runs...).wait()
			if len(rs) != len(runs) {
				t.Fatalf("got %d results, want %d", len(rs), len(runs))
			}
			for i, r := range rs {
				want := 128 + int(sigs[i])
				if r.Status != want || r.Err != "" || r.All != 0 {
					t.Errorf("child killed by %s: status %d, err %q, %d left; want %d", signalName(sigs[i]), r.Status, r.Err, r.All, want)
				}
			}
		})
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	noShebang := filepath.Join(dir, "noshebang")
	bin := filepath.Join(dir, "bin")
	if err := os.WriteFile(plain, []byte("not a program\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Executable but in no format the kernel knows: ENOEXEC.  Go does not
	// fall back to /bin/sh the way execvp does.
	if err := os.WriteFile(noShebang, []byte("\x01\x02\x03 garbage\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "nox"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		args   []string
		env    []string
		dir    string
		status int
		want   error
	}{
		{"missing path", []string{filepath.Join(dir, "missing")}, nil, "", 127, ErrNotFound},
		{"missing in PATH", []string{"no-such-command-here"}, []string{"PATH=" + bin}, "", 127, ErrNotFound},
		{"path through a file", []string{filepath.Join(plain, "x")}, nil, "", 127, ErrNotFound},
		{"not executable", []string{plain}, nil, "", 126, ErrNotExecutable},
		{"not executable in PATH", []string{"nox"}, []string{"PATH=" + bin}, "", 126, ErrNotExecutable},
		{"directory", []string{dir}, nil, "", 126, ErrNotExecutable},
		{"unknown format", []string{noShebang}, nil, "", 126, ErrNotExecutable},
		{"missing working directory", []string{"/bin/true"}, nil, filepath.Join(dir, "nodir"), 70, nil},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			var runs []runSpec
			for _, c := range cases {
				runs = append(runs, runSpec{Args: c.args, Env: c.env, Dir: c.dir, UID: -1})
			}
			rs := startSup(t, m, runs...).wait()
			if len(rs) != len(cases) {
				t.Fatalf("got %d results, want %d", len(rs), len(cases))
			}
			for i, c := range cases {
				r := rs[i]
				wantKind := errKindOther
				if c.want != nil {
					wantKind = kindOf(c.want)
				}
				if r.Status != c.status || r.Kind != wantKind || r.All != 0 {
					t.Errorf("%s: status %d, error %q (kind %q), %d left; want %d, kind %q", c.name, r.Status, r.Err, r.Kind, r.All, c.status, wantKind)
				}
			}
		})
	}
}

func TestForwarding(t *testing.T) {
	// SIGTTIN is sent too, first: it must be dropped, not forwarded.
	sent := []syscall.Signal{syscall.SIGTTIN, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH,
		syscall.SIGQUIT, syscall.SIGALRM, syscall.SIGPWR, syscall.SIGCONT, syscall.SIGXCPU, 40}
	for _, m := range modes {
		for _, stop := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(m.name+"/"+signalName(stop), func(t *testing.T) {
				t.Parallel()
				run, file := recorder(t, t.TempDir(), stop)
				s := startSup(t, m, run)
				waitRecorded(t, file, 0)
				var want []string
				for _, sig := range sent {
					s.kill(sig)
					if ignored(sig) {
						continue
					}
					want = append(want, signalName(sig))
					waitRecorded(t, file, len(want))
				}
				s.kill(stop)
				want = append(want, signalName(stop))
				r := s.wait1()
				if r.Status != 0 || r.Err != "" {
					t.Errorf("status %d, err %q; want 0", r.Status, r.Err)
				}
				if got := waitRecorded(t, file, len(want)); !slices.Equal(got, want) {
					t.Errorf("child received %q, want %q", got, want)
				}
			})
		}
	}
}

func TestSignalGroup(t *testing.T) {
	for _, m := range modes {
		for _, group := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/group=%v", m.name, group), func(t *testing.T) {
				t.Parallel()
				run, file := recorder(t, t.TempDir(), syscall.SIGTERM, "SUPTEST_SPAWN=1", "SUPTEST_SPAWN_EXIT=15")
				run.Group = group
				s := startSup(t, m, run)
				waitRecorded(t, file, 0)
				s.kill(syscall.SIGUSR1)
				waitRecorded(t, file, 1)
				if group {
					waitRecorded(t, file+".gc", 1)
				}
				s.kill(syscall.SIGTERM)
				r := s.wait1()
				if r.Status != 0 || r.Err != "" {
					t.Errorf("status %d, err %q; want 0", r.Status, r.Err)
				}
				// Without -g the grandchild gets only the SIGTERM the stop
				// sequence sends to what outlived the main child.
				want := []string{"SIGTERM"}
				if group {
					want = []string{"SIGUSR1", "SIGTERM"}
				}
				if got := waitRecorded(t, file+".gc", len(want)); !slices.Equal(got, want) {
					t.Errorf("grandchild received %q, want %q", got, want)
				}
			})
		}
	}
}

func TestRewrite(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			run, file := recorder(t, t.TempDir(), syscall.SIGPWR)
			// TTIN and SYS are dropped unless rewritten (dumb-init -r 21:19).
			run.Rewrite = map[int]int{int(syscall.SIGTERM): int(syscall.SIGPWR), int(syscall.SIGUSR2): 0,
				int(syscall.SIGTTIN): int(syscall.SIGUSR1), int(syscall.SIGSYS): int(syscall.SIGWINCH)}
			s := startSup(t, m, run)
			waitRecorded(t, file, 0)
			s.kill(syscall.SIGUSR2) // dropped
			s.kill(syscall.SIGHUP)
			waitRecorded(t, file, 1)
			s.kill(syscall.SIGTTIN)
			waitRecorded(t, file, 2)
			s.kill(syscall.SIGSYS)
			waitRecorded(t, file, 3)
			s.kill(syscall.SIGTERM)
			r := s.wait1()
			if r.Status != 0 || r.Err != "" {
				t.Errorf("status %d, err %q; want 0", r.Status, r.Err)
			}
			want := []string{"SIGHUP", "SIGUSR1", "SIGWINCH", "SIGPWR"}
			if got := waitRecorded(t, file, 4); !slices.Equal(got, want) {
				t.Errorf("child received %q, want %q", got, want)
			}
		})
	}
}

func TestGraceThenKill(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			run, file := recorder(t, t.TempDir(), 0) // catches TERM and stays
			run.Grace = 300 * time.Millisecond
			s := startSup(t, m, run)
			waitRecorded(t, file, 0)
			s.kill(syscall.SIGTERM)
			r := s.wait1()
			if r.Status != 128+int(syscall.SIGKILL) {
				t.Errorf("status %d, want %d (SIGKILL after the grace period)", r.Status, 128+int(syscall.SIGKILL))
			}
			if got := waitRecorded(t, file, 1); !slices.Equal(got, []string{"SIGTERM"}) {
				t.Errorf("child received %q, want SIGTERM before the SIGKILL", got)
			}
			if log, _ := os.ReadFile(s.log); !bytes.Contains(log, []byte("grace period expired")) {
				t.Error(`log lacks "grace period expired"`)
			}
		})
	}
}

// TestStopChannel: a reason on Config.Stop starts the stop sequence as a
// SIGTERM would, and the log says why.
func TestStopChannel(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			run := shRun("sleep 60")
			run.StopAfter = 300 * time.Millisecond
			s := startSup(t, m, run)
			r := s.wait1()
			if r.Status != 128+int(syscall.SIGTERM) || r.All != 0 {
				t.Errorf("status %d with %d left, want %d and none", r.Status, r.All, 128+int(syscall.SIGTERM))
			}
			if log, _ := os.ReadFile(s.log); !bytes.Contains(log, []byte(`"reason":"the caller says so"`)) || !bytes.Contains(log, []byte(`"message":"stopping the workload"`)) {
				t.Errorf("log lacks the stop and its reason:\n%s", log)
			}
		})
	}
}

func TestSecondStopSignalSkipsGrace(t *testing.T) {
	for _, m := range modes {
		for _, second := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
			t.Run(m.name+"/"+signalName(second), func(t *testing.T) {
				t.Parallel()
				run, file := recorder(t, t.TempDir(), 0)
				run.Grace = time.Hour // only the second signal can end this in time
				run.Stops = []syscall.Signal{syscall.SIGINT}
				s := startSup(t, m, run)
				waitRecorded(t, file, 0)
				s.kill(syscall.SIGTERM)
				waitRecorded(t, file, 1)
				s.kill(second)
				r := s.wait1()
				if r.Status != 128+int(syscall.SIGKILL) {
					t.Errorf("status %d, want %d", r.Status, 128+int(syscall.SIGKILL))
				}
			})
		}
	}
}

// TestStopSignals: only SIGTERM and Config.StopSignals start the stop
// sequence.  SIGINT is a terminal's Ctrl-C, not an orchestrator's stop: a
// workload that handles it and carries on (a shell, a REPL cancelling a job)
// must outlive the grace period, as under tini and dumb-init.
func TestStopSignals(t *testing.T) {
	const grace = 300 * time.Millisecond
	listed := []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT}
	cases := []struct {
		name  string
		stops []syscall.Signal
		sig   syscall.Signal
		stop  bool
	}{
		{"SIGINT forwarded only", nil, syscall.SIGINT, false},
		{"SIGQUIT forwarded only", nil, syscall.SIGQUIT, false},
		{"SIGINT listed", listed, syscall.SIGINT, true},
		{"SIGQUIT listed", listed, syscall.SIGQUIT, true},
		{"SIGTERM always", listed, syscall.SIGTERM, true},
	}
	for _, m := range modes {
		for _, c := range cases {
			t.Run(m.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				run, file := recorder(t, t.TempDir(), 0) // records every signal and stays
				run.Grace, run.Stops = grace, c.stops
				s := startSup(t, m, run)
				waitRecorded(t, file, 0)
				s.kill(c.sig)
				waitRecorded(t, file, 1)
				want := []string{signalName(c.sig)}
				if !c.stop {
					// A stop would have killed the child by now.
					s.runsFor(3 * grace)
					s.kill(syscall.SIGTERM)
					want = append(want, "SIGTERM")
				}
				r := s.wait1()
				if r.Status != 128+int(syscall.SIGKILL) {
					t.Errorf("status %d, want %d (SIGKILL after the grace period)", r.Status, 128+int(syscall.SIGKILL))
				}
				if got := waitRecorded(t, file, len(want)); !slices.Equal(got, want) {
					t.Errorf("child received %q, want %q", got, want)
				}
			})
		}
	}
}

// TestFaultSignalsDropped: the signals of a program fault, sent with
// kill(2), neither crash the supervisor (the Go runtime dies of them with a
// goroutine dump unless they are registered with Notify) nor reach the
// workload (a JVM takes a SIGSEGV for a fault of its own), and the
// supervisor still stops the workload afterwards.
func TestFaultSignalsDropped(t *testing.T) {
	for _, m := range modes {
		for _, sig := range []syscall.Signal{syscall.SIGILL, syscall.SIGTRAP, syscall.SIGBUS,
			syscall.SIGFPE, syscall.SIGSEGV, syscall.SIGSYS} {
			t.Run(m.name+"/"+signalName(sig), func(t *testing.T) {
				t.Parallel()
				run, file := recorder(t, t.TempDir(), 0, "SUPTEST_DIE_ON="+strconv.Itoa(int(syscall.SIGTERM)))
				s := startSup(t, m, run)
				waitRecorded(t, file, 0)
				s.kill(sig)
				s.waitLog(`"signal":"`+signalName(sig)+`"`, `"message":"dropped`)
				s.kill(syscall.SIGTERM)
				r := s.wait1()
				if r.Status != 128+int(syscall.SIGTERM) || r.Err != "" {
					t.Errorf("status %d, err %q; want %d", r.Status, r.Err, 128+int(syscall.SIGTERM))
				}
				if got := waitRecorded(t, file, 1); !slices.Equal(got, []string{"SIGTERM"}) {
					t.Errorf("child received %q, want only the SIGTERM", got)
				}
			})
		}
	}
}

// TestLeavesStartDirectory: the workload starts in the directory the
// supervisor was started in, and once it has, no process of the init's own
// (the supervisor, the waiter) keeps that directory as its working
// directory, which would pin it for the container's life (dumb-init's suite
// checks both).
func TestLeavesStartDirectory(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			start := t.TempDir()
			file := filepath.Join(t.TempDir(), "info")
			run := runSpec{Args: []string{testExe(t)}, Env: helperEnv("info", "SUPTEST_FILE="+file, "SUPTEST_STAY=1"), UID: -1}
			s := startSupIn(t, m, start, nil, run)
			var in info
			end := time.Now().Add(backstop)
			for {
				if b, err := os.ReadFile(file); err == nil {
					if err := json.Unmarshal(b, &in); err != nil {
						t.Fatal(err)
					}
					break
				}
				if time.Now().After(end) {
					t.Fatal("the workload did not start")
				}
				time.Sleep(5 * time.Millisecond)
			}
			if in.Cwd != start {
				t.Errorf("workload cwd %q, want the supervisor's start directory %q", in.Cwd, start)
			}
			// Already as the workload starts: its parent (the supervisor
			// or the waiter) left before it started it.
			if in.ParentCwd != "/" {
				t.Errorf("the workload's parent was in %q as the workload started, want /", in.ParentCwd)
			}
			// The workload is the tree's only leaf; every process above it
			// is the init's.
			for {
				held := map[int]string{}
				for pid := range initProcs(s.pid()) {
					if cwd, err := os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid)); err == nil && cwd != "/" {
						held[pid] = cwd
					}
				}
				if len(held) == 0 {
					break
				}
				if time.Now().After(end) {
					t.Fatalf("after the workload started, the init's processes have working directories %v (pid: cwd), want /", held)
				}
				time.Sleep(5 * time.Millisecond)
			}
			s.kill(syscall.SIGTERM)
			if r := s.wait1(); r.Status != 0 || r.Err != "" {
				t.Errorf("status %d, err %q; want 0", r.Status, r.Err)
			}
		})
	}
}

// initProcs is root and those of its descendants that have children.
func initProcs(root int) map[int]bool {
	procs := readProcs()
	out := map[int]bool{root: true}
	for grew := true; grew; {
		grew = false
		for _, p := range procs {
			if out[p.ppid] && !out[p.pid] && slices.ContainsFunc(procs, func(c procEntry) bool { return c.ppid == p.pid }) {
				out[p.pid] = true
				grew = true
			}
		}
	}
	return out
}

func TestRemainingProcessesStopped(t *testing.T) {
	for _, m := range modes {
		for _, gcExit := range []syscall.Signal{syscall.SIGTERM, 0} {
			name := m.name + "/leftover-exits-on-TERM"
			if gcExit == 0 {
				name = m.name + "/leftover-ignores-TERM"
			}
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				run, file := recorder(t, t.TempDir(), 0, "SUPTEST_SPAWN=1",
					"SUPTEST_SPAWN_EXIT="+strconv.Itoa(int(gcExit)), "SUPTEST_EXIT_NOW=5")
				run.Grace = 300 * time.Millisecond
				r := startSup(t, m, run).wait1()
				if r.Status != 5 || r.Err != "" {
					t.Errorf("status %d, err %q; want 5", r.Status, r.Err)
				}
				if got := waitRecorded(t, file+".gc", 1); !slices.Equal(got, []string{"SIGTERM"}) {
					t.Errorf("leftover received %q, want SIGTERM first", got)
				}
			})
		}
	}
}

func TestOrphansReaped(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			run := runSpec{Args: []string{testExe(t)}, Env: helperEnv("orphans", "SUPTEST_ARG=20", "SUPTEST_TIMEOUT=20000"), UID: -1}
			r := startSup(t, m, run).wait1()
			if r.Status != 0 {
				t.Errorf("status %d, want 0 (1 = orphans left as zombies while the workload ran)", r.Status)
			}
		})
	}
	// The check above must be able to fail: under a subreaper that never
	// reaps orphans the same child reports zombies.
	t.Run("negative", func(t *testing.T) {
		t.Parallel()
		c := exec.Command(testExe(t))
		c.Env = []string{roleEnv + "=lazyreaper"}
		err := c.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("orphans under a non-reaping subreaper: %v, want exit status 1", err)
		}
	})
}

func TestEnvDirSignals(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			file := filepath.Join(dir, "info")
			env := helperEnv("info", "SUPTEST_FILE="+file, "ODD=a=b c", "EMPTY=")
			r := startSup(t, m, runSpec{Args: []string{testExe(t)}, Env: env, Dir: dir, UID: -1}).wait1()
			if r.Status != 0 {
				t.Fatalf("status %d", r.Status)
			}
			var in info
			b, _ := os.ReadFile(file)
			if err := json.Unmarshal(b, &in); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(in.Env, env) {
				t.Errorf("child environment %q, want exactly %q", in.Env, env)
			}
			if in.Cwd != dir {
				t.Errorf("child cwd %q, want %q", in.Cwd, dir)
			}
			// Nothing blocked or ignored may leak from the Go supervisor or
			// the waiter into the workload.
			if want := fmt.Sprintf("%016x", inheritedIgnored(t)); in.SigIgn != want || in.SigBlk != "0000000000000000" {
				t.Errorf("child SigIgn=%s SigBlk=%s, want SigIgn=%s (as inherited) and nothing blocked", in.SigIgn, in.SigBlk, want)
			}
		})
	}
}

func TestCredential(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to switch users")
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			// Not t.TempDir(): its parent is private to root.
			dir, err := os.MkdirTemp("", "supcred")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(dir, "ids")
			// A shell, not the test binary: the go-build directory is not
			// accessible to nobody.  The waiter itself still is, through
			// /proc/self/exe.
			run := shRun(`echo "$(id -u) $(id -g) $(id -G)" > ` + file)
			run.UID = 65534
			r := startSup(t, m, run).wait1()
			if r.Status != 0 || r.Err != "" {
				t.Fatalf("status %d, err %q", r.Status, r.Err)
			}
			b, _ := os.ReadFile(file)
			if got := strings.TrimSpace(string(b)); got != "65534 65534 65534" {
				t.Errorf("child uid, gid, groups = %q, want 65534 everywhere", got)
			}
		})
	}
}

// TestDrain: with a Drain, the first SIGTERM reaches the workload as the
// drain's signal, and SIGTERM follows once the drain's wait is over (here a
// Spark worker's, polling a fake worker UI), or when the grace period is
// nearly out. A workload that ends on that SIGTERM after a complete drain
// stopped cleanly (0); after a drain that gave up it keeps its 143.
func TestDrain(t *testing.T) {
	const term = syscall.SIGTERM
	die := "SUPTEST_DIE_ON=" + strconv.Itoa(int(term))
	cases := []struct {
		name   string
		busy   int64 // replies with an executor before the first empty one; -1: never empty
		grace  time.Duration
		exitOn syscall.Signal // the child exits (with SUPTEST_EXIT_CODE) on it
		kv     []string
		want   int
	}{
		{"drained, exits 0", 3, backstop, term, nil, 0},
		{"drained, dies of SIGTERM", 3, backstop, 0, []string{die}, 0},
		{"drained, exits 143", 3, backstop, term, []string{"SUPTEST_EXIT_CODE=143"}, 0},
		{"drained, fails on SIGTERM", 3, backstop, term, []string{"SUPTEST_EXIT_CODE=1"}, 1},
		{"drain gives up, dies of SIGTERM", -1, 2 * time.Second, 0, []string{die}, 128 + int(term)},
		// The child stays after SIGTERM too, so the run ends with the
		// SIGKILL at the end of the grace period, and the SIGTERM must
		// have come before it.
		{"grace runs out", -1, 2 * time.Second, 0, nil, 128 + int(syscall.SIGKILL)},
	}
	for _, m := range modes {
		for _, c := range cases {
			t.Run(m.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				var hits atomic.Int64
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if r.URL.Path != "/json/" {
						http.NotFound(w, r)
						return
					}
					n := hits.Add(1)
					if c.busy < 0 || n <= c.busy {
						fmt.Fprint(w, `{"id":"worker-1","executors":[{"id":0,"appid":"app-1"}]}`)
						return
					}
					fmt.Fprint(w, `{"id":"worker-1","executors":[]}`)
				}))
				defer srv.Close()
				run, file := recorder(t, t.TempDir(), c.exitOn, c.kv...)
				run.DecommURL, run.Poll, run.Grace = srv.URL, 10*time.Millisecond, c.grace
				s := startSup(t, m, run)
				waitRecorded(t, file, 0)
				s.kill(syscall.SIGTERM)
				r := s.wait1()
				if r.Status != c.want || r.Err != "" {
					t.Errorf("status %d, err %q; want %d", r.Status, r.Err, c.want)
				}
				if got, want := waitRecorded(t, file, 2), []string{"SIGPWR", "SIGTERM"}; !slices.Equal(got, want) {
					t.Errorf("child received %q, want %q", got, want)
				}
				if c.busy >= 0 && hits.Load() <= c.busy {
					t.Errorf("worker UI polled %d times, want more than %d", hits.Load(), c.busy)
				}
			})
		}
	}
}

// TestDrainNeedsAHandler: a workload that does not handle the drain's
// signal (a JVM before Spark has installed its handler) would die of it;
// a stop then goes without the drain, straight to SIGTERM, and the run
// keeps SIGTERM's 143.
func TestDrainNeedsAHandler(t *testing.T) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			var hits atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hits.Add(1)
				fmt.Fprint(w, `{"executors":[]}`)
			}))
			defer srv.Close()
			file := filepath.Join(t.TempDir(), "signals")
			run := shRun("echo ready > " + file + "; exec sleep 600")
			run.DecommURL, run.Poll, run.Grace = srv.URL, 10*time.Millisecond, backstop
			s := startSup(t, m, run)
			waitRecorded(t, file, 0)
			s.kill(syscall.SIGTERM)
			if r := s.wait1(); r.Status != 128+int(syscall.SIGTERM) || r.Err != "" {
				t.Errorf("status %d, err %q; want %d (SIGTERM, not SIGPWR's %d)", r.Status, r.Err, 128+int(syscall.SIGTERM), 128+int(syscall.SIGPWR))
			}
			if n := hits.Load(); n != 0 {
				t.Errorf("the worker UI was polled %d times: a drain started", n)
			}
		})
	}
}

// TestTerminalForeground: with SignalGroup the workload's group of its own
// becomes the terminal's foreground group, as under tini -g, so that a
// shell or REPL under docker run -it can read the terminal; otherwise its
// first read stops it with SIGTTIN.
func TestTerminalForeground(t *testing.T) {
	for _, m := range modes {
		if m.pidns {
			continue // unshare stands between the terminal's session and the supervisor
		}
		t.Run(m.name, func(t *testing.T) {
			ptm, pts := openPTY(t)
			file := filepath.Join(t.TempDir(), "read")
			run := shRun(`read x; echo "got $x" > ` + file)
			run.Group = true
			s := startSupIn(t, m, "", pts, run)
			pts.Close()
			if _, err := ptm.Write([]byte("hello\n")); err != nil {
				t.Fatal(err)
			}
			if r := s.wait1(); r.Status != 0 || r.Err != "" {
				t.Errorf("status %d, err %q; want 0", r.Status, r.Err)
			}
			if b, _ := os.ReadFile(file); strings.TrimSpace(string(b)) != "got hello" {
				t.Errorf("the workload read %q from the terminal, want \"got hello\"", b)
			}
		})
	}
}

// openPTY opens a pseudo-terminal pair: its master and its slave.
func openPTY(t *testing.T) (*os.File, *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	var unlock int32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptm.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, ptm.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("ptsname: %v", e)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return ptm, pts
}

// TestStormExitStatus is the test go-reap's stolen status would fail: every
// round the workload leaves a burst of orphans dying around its own exit,
// and its exit status must come back exact with no zombie left.
func TestStormExitStatus(t *testing.T) {
	rounds, orphans := 25, 100
	if *stress {
		rounds = 500
	}
	if n, err := strconv.Atoi(os.Getenv("SUPTEST_STRESS")); err == nil && n > 0 {
		rounds = n // make stress: SUPTEST_STRESS=10000
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			// One supervisor process takes a batch of runs: the runs travel
			// in its environment, which the kernel caps (E2BIG).
			const batch = 500
			bad := 0
			for first := 0; first < rounds; first += batch {
				n := min(batch, rounds-first)
				var runs []runSpec
				var want []int
				for i := first; i < first+n; i++ {
					code := rand.IntN(256)
					end := fmt.Sprintf("exit %d", code)
					if rand.IntN(4) == 0 {
						// A quarter of the rounds die by a signal instead.
						sig := []syscall.Signal{syscall.SIGHUP, syscall.SIGINT, syscall.SIGTERM, syscall.SIGKILL,
							syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGALRM}[rand.IntN(7)]
						code = 128 + int(sig)
						end = fmt.Sprintf("kill -%d $$", int(sig))
					}
					want = append(want, code)
					// Half the orphans die at once, half a moment later, so
					// some are reaped by the workload's shell, some become
					// zombies that re-parent to us, and some die after it is
					// gone.
					script := fmt.Sprintf(`i=0; while [ $i -lt %d ]; do :& sleep 0.00%d & i=$((i+1)); done; %s`, orphans/2, 1+i%9, end)
					r := shRun(script)
					r.Grace = backstop
					runs = append(runs, r)
				}
				rs := startSup(t, m, runs...).wait()
				if len(rs) != n {
					t.Fatalf("rounds %d-%d: got %d results, want %d", first, first+n-1, len(rs), n)
				}
				for i, r := range rs {
					if r.Status != want[i] || r.Err != "" || r.All != 0 {
						bad++
						t.Errorf("round %d: status %d, err %q, %d left; want %d, none left", first+i, r.Status, r.Err, r.All, want[i])
					}
				}
			}
			t.Logf("%d rounds of %d orphans: %d wrong", rounds, orphans, bad)
		})
	}
}

// TestShownArgs: the start line logs the caller's form of the command, so
// that a secret the command carries stays out of the log.
func TestShownArgs(t *testing.T) {
	run := shRun("exit 0 # -Dspark.ssl.keyStorePassword=hunter2")
	run.Shown = []string{"/bin/sh", "-c", "(not shown)"}
	s := startSup(t, modes[0], run)
	if r := s.wait1(); r.Status != 0 {
		t.Fatalf("status %d, want 0", r.Status)
	}
	log, _ := os.ReadFile(s.log)
	if bytes.Contains(log, []byte("hunter2")) || !bytes.Contains(log, []byte(`"args":["/bin/sh","-c","(not shown)"]`)) {
		t.Errorf("the start line does not show Shown instead of Args:\n%s", log)
	}
}
