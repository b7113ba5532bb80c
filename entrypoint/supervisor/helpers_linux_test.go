//go:build linux

package supervisor

// Helper-process registry: the test binary re-executes itself in the roles
// below, chosen by SUPTEST_ROLE, so every process in these tests is real and
// the supervisor is exercised exactly as the entrypoint binary uses it.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

const (
	roleEnv = "SUPTEST_ROLE"
	specEnv = "SUPTEST_SPEC"
)

// runSpec is one supervisor.Run call made by the "supervisor" role.
type runSpec struct {
	Args      []string
	Shown     []string
	Env       []string
	Dir       string
	Grace     time.Duration
	Group     bool
	Rewrite   map[int]int
	Stops     []syscall.Signal // Config.StopSignals
	DecommURL string
	Poll      time.Duration
	UID       int           // -1: keep ours
	Waiter    bool          // use the waiter even where the kernel keeps exit statuses
	StopAfter time.Duration // > 0: a reason on Config.Stop after this long
}

// supSpec is what the "supervisor" role does: the runs in order, one JSON
// result line per run appended to Result, zerolog output to Log.
type supSpec struct {
	Runs   []runSpec
	Result string
	Log    string
}

// result is what the "supervisor" role records for one run.
type result struct {
	Status int
	Err    string
	Kind   string // "notfound", "notexec", "other" or ""
	Live   int    // processes still alive after Run returned
	All    int    // processes (zombies included) left after Run returned
}

func runRole(role string) int {
	switch role {
	case "supervisor":
		return roleSupervisor()
	case "exit":
		n, _ := strconv.Atoi(os.Getenv("SUPTEST_ARG"))
		return n
	case "record":
		return roleRecord()
	case "info":
		return roleInfo()
	case "orphans":
		return roleOrphans()
	case "spawn":
		return roleSpawn()
	case "sleepexit":
		ms, _ := strconv.Atoi(os.Getenv("SUPTEST_ARG"))
		time.Sleep(time.Duration(ms) * time.Millisecond)
		return 0
	case "lazyreaper":
		return roleLazyReaper()
	}
	fmt.Fprintln(os.Stderr, "unknown role", role)
	return 99
}

func roleSupervisor() int {
	var sp supSpec
	if err := json.Unmarshal([]byte(os.Getenv(specEnv)), &sp); err != nil {
		fmt.Fprintln(os.Stderr, "bad spec:", err)
		return 98
	}
	logf, err := os.OpenFile(sp.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 98
	}
	out, err := os.OpenFile(sp.Result, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 98
	}
	log := zerolog.New(logf).With().Timestamp().Logger()
	for i, r := range sp.Runs {
		cfg := Config{
			Args: r.Args, Shown: r.Shown, Env: r.Env, Dir: r.Dir, Grace: r.Grace, SignalGroup: r.Group, StopSignals: r.Stops,
			Log: log.With().Int("run", i).Logger(),
		}
		if len(r.Rewrite) > 0 {
			cfg.Rewrite = map[syscall.Signal]syscall.Signal{}
			for k, v := range r.Rewrite {
				cfg.Rewrite[syscall.Signal(k)] = syscall.Signal(v)
			}
		}
		if r.DecommURL != "" {
			url, poll := r.DecommURL+"/json/", r.Poll
			cfg.Drain = &Drain{Signal: syscall.SIGPWR, Wait: func(ctx context.Context) (string, bool) { return pollIdle(ctx, url, poll) }}
		}
		if r.UID >= 0 {
			cfg.Credential = &syscall.Credential{Uid: uint32(r.UID), Gid: uint32(r.UID)}
		}
		forceWaiter = r.Waiter
		if r.StopAfter > 0 {
			stop := make(chan string, 1)
			cfg.Stop = stop
			time.AfterFunc(r.StopAfter, func() { stop <- "the caller says so" })
		}
		st, err := Run(cfg)
		res := result{Status: st}
		if err != nil {
			res.Err = err.Error()
			res.Kind = kindOf(err)
		}
		live, all := others(os.Getpid() == 1)
		res.Live, res.All = len(live), all
		b, _ := json.Marshal(res)
		if _, err := out.Write(append(b, '\n')); err != nil {
			return 97
		}
	}
	return 0
}

// recordEnv configures the "record" role:
//
//	SUPTEST_FILE        append "ready", then one line per signal received
//	SUPTEST_EXIT_ON     exit after recording this signal number
//	SUPTEST_EXIT_CODE   the status of that exit (default 0)
//	SUPTEST_SPAWN       start a grandchild recorder writing FILE.gc first
//	SUPTEST_SPAWN_EXIT  the grandchild's SUPTEST_EXIT_ON
//	SUPTEST_EXIT_NOW    exit with this code right after getting ready
//	SUPTEST_DIE_ON      die of this signal number (default action) after recording it
func roleRecord() int {
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, relayed()...)
	file := os.Getenv("SUPTEST_FILE")
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return 90
	}
	if os.Getenv("SUPTEST_SPAWN") != "" {
		exe, _ := os.Executable()
		gc := exec.Command(exe)
		gc.Env = []string{roleEnv + "=record", "SUPTEST_FILE=" + file + ".gc", "SUPTEST_EXIT_ON=" + os.Getenv("SUPTEST_SPAWN_EXIT")}
		gc.Stdout, gc.Stderr = os.Stdout, os.Stderr
		if err := gc.Start(); err != nil {
			return 91
		}
		if !waitLine(file+".gc", "ready", 20*time.Second) {
			return 92
		}
	}
	exitOn, _ := strconv.Atoi(os.Getenv("SUPTEST_EXIT_ON"))
	exitCode, _ := strconv.Atoi(os.Getenv("SUPTEST_EXIT_CODE"))
	dieOn, _ := strconv.Atoi(os.Getenv("SUPTEST_DIE_ON"))
	fmt.Fprintln(f, "ready")
	if s := os.Getenv("SUPTEST_EXIT_NOW"); s != "" {
		n, _ := strconv.Atoi(s)
		return n
	}
	for s := range sigs {
		n := s.(syscall.Signal)
		fmt.Fprintln(f, signalName(n))
		if int(n) == exitOn {
			return exitCode
		}
		if int(n) == dieOn {
			signal.Reset(n)
			_ = syscall.Kill(os.Getpid(), n)
			time.Sleep(time.Minute) // not reached: n's default action ends us
			return 93
		}
	}
	return 0
}

// waitLine polls file until it has a line equal to want.  Used by helpers
// only; tests use waitRecorded.
func waitLine(file, want string, timeout time.Duration) bool {
	end := time.Now().Add(timeout)
	for time.Now().Before(end) {
		for _, l := range readLines(file) {
			if l == want {
				return true
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func readLines(file string) []string {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// info is what the "info" role reports about the environment it was given,
// into SUPTEST_FILE.  With SUPTEST_STAY set it then stays until SIGTERM.
type info struct {
	Env            []string
	Cwd            string
	ParentCwd      string // the parent's working directory as the workload starts
	UID, GID       int
	SigIgn, SigBlk string
	Pgid, Pid      int
}

func roleInfo() int {
	in := info{Env: os.Environ(), UID: os.Getuid(), GID: os.Getgid(), Pid: os.Getpid()}
	in.ParentCwd, _ = os.Readlink(fmt.Sprintf("/proc/%d/cwd", os.Getppid()))
	in.Cwd, _ = os.Getwd()
	in.Pgid, _ = syscall.Getpgid(0)
	// Read before the Go runtime of this process could matter: the kernel
	// keeps ignored dispositions and the mask across exec, so these show
	// what the supervisor and waiter handed down.
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "SigIgn:"); ok {
				in.SigIgn = strings.TrimSpace(v)
			}
			if v, ok := strings.CutPrefix(l, "SigBlk:"); ok {
				in.SigBlk = strings.TrimSpace(v)
			}
		}
	}
	var term chan os.Signal
	if os.Getenv("SUPTEST_STAY") != "" {
		term = make(chan os.Signal, 1)
		signal.Notify(term, syscall.SIGTERM) // before the file says we are up
	}
	b, _ := json.Marshal(in)
	// Written whole under another name first: the test polls for the file.
	file := os.Getenv("SUPTEST_FILE")
	if err := os.WriteFile(file+".tmp", b, 0o644); err != nil {
		return 90
	}
	if err := os.Rename(file+".tmp", file); err != nil {
		return 90
	}
	if term != nil {
		<-term
	}
	return 0
}

// roleOrphans makes SUPTEST_ARG orphans that exit at once and then waits for
// whoever inherited them to reap them: exit 0 when all are gone, 1 when some
// are still zombies after SUPTEST_TIMEOUT ms, 2 on a setup failure.
func roleOrphans() int {
	k, _ := strconv.Atoi(os.Getenv("SUPTEST_ARG"))
	timeout, _ := strconv.Atoi(os.Getenv("SUPTEST_TIMEOUT"))
	exe, _ := os.Executable()
	mid := exec.Command(exe)
	mid.Env = []string{roleEnv + "=spawn", "SUPTEST_ARG=" + strconv.Itoa(k)}
	mid.Stderr = os.Stderr
	out, err := mid.Output() // the intermediate exits without waiting for its children
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawn:", err)
		return 2
	}
	var pids []int
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		n, err := strconv.Atoi(sc.Text())
		if err == nil {
			pids = append(pids, n)
		}
	}
	if len(pids) != k {
		return 2
	}
	end := time.Now().Add(time.Duration(timeout) * time.Millisecond)
	for {
		left := 0
		for _, p := range pids {
			if _, err := os.Stat("/proc/" + strconv.Itoa(p)); err == nil {
				left++
			}
		}
		if left == 0 {
			return 0
		}
		if time.Now().After(end) {
			fmt.Fprintf(os.Stderr, "orphans: %d of %d not reaped\n", left, k)
			return 1
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func roleSpawn() int {
	k, _ := strconv.Atoi(os.Getenv("SUPTEST_ARG"))
	exe, _ := os.Executable()
	for i := 0; i < k; i++ {
		c := exec.Command(exe)
		c.Env = []string{roleEnv + "=sleepexit", "SUPTEST_ARG=0"}
		if err := c.Start(); err != nil {
			return 2
		}
		fmt.Println(c.Process.Pid)
	}
	return 0
}

// roleLazyReaper is a subreaper that waits for its own child only: the
// negative control for the orphan test.
func roleLazyReaper() int {
	if err := setSubreaper(); err != nil {
		return 3
	}
	exe, _ := os.Executable()
	c := exec.Command(exe)
	c.Env = []string{roleEnv + "=orphans", "SUPTEST_ARG=5", "SUPTEST_TIMEOUT=1000"}
	c.Stderr = os.Stderr
	err := c.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		return 4
	}
	return 0
}

// pollIdle is a drain's wait as a Spark worker's is (boot's own is tested
// there): it polls url until the reply lists no executors, or ctx ends.
func pollIdle(ctx context.Context, url string, poll time.Duration) (string, bool) {
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), `"executors":[]`) {
				return "no executors left", true
			}
		}
		select {
		case <-ctx.Done():
			return "timed out", false
		case <-time.After(poll):
		}
	}
}
