package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// dist summarises a sample.
type dist struct {
	median, min, max, p90 float64
	n                     int
}

func summarise(v []float64) dist {
	if len(v) == 0 {
		return dist{}
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return dist{median: m, min: s[0], max: s[len(s)-1], p90: s[len(s)*9/10], n: len(s)}
}

// monoNs reads CLOCK_MONOTONIC, which the helper children read too, so the
// two sides of a measurement share one clock.
func monoNs() int64 {
	var ts syscall.Timespec
	const clockMonotonic = 1
	syscall.RawSyscall(syscall.SYS_CLOCK_GETTIME, clockMonotonic, uintptrOf(&ts), 0)
	return ts.Nano()
}

// command resolves the init prefix plus the child's argv into a path and argv.
func command(prefix, child []string) (string, []string, error) {
	argv := append(append([]string(nil), prefix...), child...)
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return "", nil, err
	}
	return path, argv, nil
}

var devNull = func() *os.File {
	f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		panic(err)
	}
	return f
}()

// self is this binary, re-executed for the helper roles.
var self = func() string {
	p, err := os.Executable()
	if err != nil {
		panic(err)
	}
	return p
}()

// startInNS starts argv as PID 1 of a new PID namespace with a /proc of its
// own (through the __ns role, which mounts it and execs argv in place), with
// extra descriptors from 3 on.  It returns the host pid of that PID 1.
func startInNS(argv []string, extra ...*os.File) (int, error) {
	files := []uintptr{devNull.Fd(), devNull.Fd(), devNull.Fd()}
	for _, f := range extra {
		files = append(files, f.Fd())
	}
	return syscall.ForkExec(self, append([]string{self, "__ns"}, argv...), &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: files,
		Sys:   &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID | syscall.CLONE_NEWNS},
	})
}

// nsRole runs inside the new namespace: private mounts, a fresh /proc, then
// exec, so the init under test keeps PID 1.
func nsRole(argv []string) int {
	if len(argv) == 0 {
		return 64
	}
	if err := syscall.Mount("", "/", "", syscall.MS_REC|syscall.MS_PRIVATE, ""); err != nil {
		fmt.Fprintf(os.Stderr, "initbench: private mounts: %v\n", err)
		return 71
	}
	if err := syscall.Mount("proc", "/proc", "proc", syscall.MS_NOSUID|syscall.MS_NODEV|syscall.MS_NOEXEC, ""); err != nil {
		fmt.Fprintf(os.Stderr, "initbench: mount /proc: %v\n", err)
		return 71
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "initbench: %v\n", err)
		return 127
	}
	err = syscall.Exec(path, argv, os.Environ())
	fmt.Fprintf(os.Stderr, "initbench: exec %s: %v\n", path, err)
	return 126
}

// waitTimeout waits for pid, SIGKILLing it after d.  killed reports that the
// deadline passed.
func waitTimeout(pid int, d time.Duration) (ws syscall.WaitStatus, killed bool) {
	done := make(chan struct{})
	timer := time.AfterFunc(d, func() {
		select {
		case <-done:
		default:
			killed = true
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	close(done)
	timer.Stop()
	return ws, killed
}

// --- startup overhead --------------------------------------------------------

type startResult struct {
	ratio, addedUs, initUs, trueUs, cpuUs dist
}

// runOnce runs argv to completion and returns its wall time and the CPU time
// of everything it ran (children included, as rusage counts reaped ones).
func runOnce(path string, argv []string) (wall, cpu time.Duration, err error) {
	t0 := time.Now()
	pid, err := syscall.ForkExec(path, argv, &syscall.ProcAttr{
		Env: os.Environ(), Files: []uintptr{devNull.Fd(), devNull.Fd(), devNull.Fd()}})
	if err != nil {
		return 0, 0, err
	}
	var ws syscall.WaitStatus
	var ru syscall.Rusage
	for {
		_, err = syscall.Wait4(pid, &ws, 0, &ru)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	wall = time.Since(t0)
	if err != nil {
		return 0, 0, err
	}
	if !ws.Exited() || ws.ExitStatus() != 0 {
		return 0, 0, fmt.Errorf("%s exited with %v", argv[0], ws)
	}
	cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return wall, cpu, nil
}

// measureStart times "PREFIX /bin/true" against "/bin/true" in alternating
// pairs (alternating which goes first), so slow phases of a shared machine
// hit both halves of a pair; the ratio is taken pair by pair.
func measureStart(prefix []string, sz sizes) (startResult, error) {
	var r startResult
	path, argv, err := command(prefix, []string{"/bin/true"})
	if err != nil {
		return r, err
	}
	var ratio, added, a, b, cpu []float64
	for i := 0; i < sz.startWarm+sz.startPairs; i++ {
		var wa, wb, ca time.Duration
		var errA, errB error
		if i%2 == 0 {
			wa, ca, errA = runOnce(path, argv)
			wb, _, errB = runOnce("/bin/true", []string{"/bin/true"})
		} else {
			wb, _, errB = runOnce("/bin/true", []string{"/bin/true"})
			wa, ca, errA = runOnce(path, argv)
		}
		if err := errors.Join(errA, errB); err != nil {
			return r, err
		}
		if i < sz.startWarm {
			continue
		}
		ratio = append(ratio, float64(wa)/float64(wb))
		added = append(added, float64(wa-wb)/1e3)
		a = append(a, float64(wa)/1e3)
		b = append(b, float64(wb)/1e3)
		cpu = append(cpu, float64(ca)/1e3)
	}
	r.ratio, r.addedUs, r.initUs, r.trueUs, r.cpuUs = summarise(ratio), summarise(added), summarise(a), summarise(b), summarise(cpu)
	return r, nil
}

// --- idle memory -------------------------------------------------------------

type rssResult struct {
	vmrss, pss, hwm dist
	stopFailures    int
}

// measureRSS reads the init's VmRSS, VmHWM and Pss while it supervises
// sleep, then stops it with SIGTERM (an init that does not pass the signal on
// within 3 s is killed and counted as a failure).
func measureRSS(prefix []string, sz sizes) (rssResult, error) {
	var r rssResult
	var rss, pss, hwm []float64
	for t := 0; t < sz.rssTrials; t++ {
		_, argv, err := command(prefix, []string{"/bin/sleep", "30"})
		if err != nil {
			return r, err
		}
		pid, err := startInNS(argv)
		if err != nil {
			return r, err
		}
		deadline := time.Now().Add(5 * time.Second)
		for !hasGrandchild(pid, prefix) && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond)
		st := statusFields(pid)
		rss = append(rss, st["VmRSS"])
		hwm = append(hwm, st["VmHWM"])
		pss = append(pss, rollupPss(pid))
		_ = syscall.Kill(pid, syscall.SIGTERM)
		if _, killed := waitTimeout(pid, 3*time.Second); killed {
			r.stopFailures++
		}
	}
	r.vmrss, r.pss, r.hwm = summarise(rss), summarise(pss), summarise(hwm)
	if r.stopFailures > 0 {
		return r, fmt.Errorf("%d of %d trials did not stop on SIGTERM within 3 s", r.stopFailures, sz.rssTrials)
	}
	return r, nil
}

// hasGrandchild reports whether sleep has started under the init: any
// process below pid whose command is sleep.
func hasGrandchild(pid int, _ []string) bool {
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p != pid {
			if b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/comm"); err == nil && strings.TrimSpace(string(b)) == "sleep" {
				return true
			}
		}
		queue = append(queue, children(p)...)
	}
	return false
}

func children(pid int) []int {
	var out []int
	tasks, _ := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/task")
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/task/" + t.Name() + "/children")
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

func statusFields(pid int) map[string]float64 {
	m := map[string]float64{}
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		f := strings.Fields(v)
		if len(f) > 0 {
			if n, err := strconv.ParseFloat(f[0], 64); err == nil {
				m[k] = n
			}
		}
	}
	return m
}

func rollupPss(pid int) float64 {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/smaps_rollup")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "Pss:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				n, _ := strconv.ParseFloat(f[0], 64)
				return n
			}
		}
	}
	return 0
}
