package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

func uintptrOf(ts *syscall.Timespec) uintptr { return uintptr(unsafe.Pointer(ts)) }

// role runs one of the helper roles this binary is re-executed in.
func role(name string, args []string) int {
	switch name {
	case "__ns":
		return nsRole(args)
	case "__storm":
		return stormRole(args)
	case "__race":
		return raceRole(args)
	case "__termrec":
		return termrecRole(args)
	}
	fmt.Fprintf(os.Stderr, "initbench: unknown role %q\n", name)
	return 64
}

// --- zombie storm ------------------------------------------------------------

type stormResult struct {
	drainMs, cpuMsPer10k dist
	worstMs              float64
	leftMax              int
	exitOK, rounds       int
	raceOK, races        int
}

// sigSetmask is SIG_SETMASK from <signal.h>.
const sigSetmask = 2

// stormExit is the storm child's own exit status, which the init must pass on.
const stormExit = 42

// measureStorm runs the storm child under the init as PID 1: it orphans
// bursts of processes that all exit at once and times how long the init
// takes to reap each burst, then reports zombies left and exits 42.  Then
// race rounds: the main child exits while a burst of orphans is dying, and
// its random exit status must come out of the init unchanged.
func measureStorm(prefix []string, sz sizes) (stormResult, error) {
	var r stormResult
	var drains, cpu []float64
	var problems []string
	for round := 0; round < sz.stormRounds; round++ {
		r.rounds++
		rd, wr, err := os.Pipe()
		if err != nil {
			return r, err
		}
		_, argv, err := command(prefix, []string{self, "__storm", strconv.Itoa(sz.stormN), strconv.Itoa(sz.stormBatch), "3"})
		if err != nil {
			return r, err
		}
		pid, err := startInNS(argv, wr)
		wr.Close()
		if err != nil {
			rd.Close()
			return r, err
		}
		out, _ := io.ReadAll(rd)
		rd.Close()
		ws, killed := waitTimeout(pid, 3*time.Minute)
		if killed {
			problems = append(problems, "storm round timed out")
			continue
		}
		if ws.Exited() && ws.ExitStatus() == stormExit {
			r.exitOK++
		} else {
			problems = append(problems, fmt.Sprintf("storm exit %v, want %d", ws, stormExit))
		}
		sc := bufio.NewScanner(strings.NewReader(string(out)))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 2 && f[0] == "burst":
				ms, _ := strconv.ParseFloat(f[1], 64)
				drains = append(drains, ms)
				r.worstMs = max(r.worstMs, ms)
			case len(f) == 4 && f[0] == "end":
				left, _ := strconv.Atoi(f[1])
				r.leftMax = max(r.leftMax, left)
				cpuNs, _ := strconv.ParseFloat(f[2], 64)
				n, _ := strconv.ParseFloat(f[3], 64)
				if n > 0 {
					cpu = append(cpu, cpuNs/1e6*10000/n)
				}
			}
		}
	}
	r.drainMs, r.cpuMsPer10k = summarise(drains), summarise(cpu)
	for i := 0; i < sz.raceRounds; i++ {
		r.races++
		code := 1 + rand.IntN(255)
		_, argv, err := command(prefix, []string{self, "__race", strconv.Itoa(sz.raceOrphans), strconv.Itoa(code)})
		if err != nil {
			return r, err
		}
		pid, err := startInNS(argv)
		if err != nil {
			return r, err
		}
		ws, killed := waitTimeout(pid, time.Minute)
		if !killed && ws.Exited() && ws.ExitStatus() == code {
			r.raceOK++
		} else {
			problems = append(problems, fmt.Sprintf("race round: status %v, want exit %d", ws, code))
		}
	}
	if r.leftMax > 0 {
		problems = append(problems, fmt.Sprintf("%d zombies left", r.leftMax))
	}
	if len(problems) > 0 {
		return r, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return r, nil
}

// stormRole: argv N BATCH FD.  Orphans N processes in bursts of BATCH, each
// burst released at once, and writes "burst MS" per burst and
// "end LEFT INIT_CPU_NS N" to FD, then exits 42.
func stormRole(args []string) int {
	if len(args) != 3 {
		return 64
	}
	n, _ := strconv.Atoi(args[0])
	batch, _ := strconv.Atoi(args[1])
	fd, _ := strconv.Atoi(args[2])
	out := os.NewFile(uintptr(fd), "result")
	cpu0 := initCPU()
	reaped := 0
	for done := 0; done < n; done += batch {
		pids, release, err := orphans(batch)
		if err != nil {
			fmt.Fprintf(os.Stderr, "initbench storm: %v\n", err)
			return 70
		}
		t0 := time.Now()
		release()
		if !waitGone(pids, 10*time.Second) {
			fmt.Fprintf(out, "burst %.3f\n", float64(time.Since(t0).Microseconds())/1e3)
			break
		}
		fmt.Fprintf(out, "burst %.3f\n", float64(time.Since(t0).Microseconds())/1e3)
		reaped += len(pids)
	}
	cpu := initCPU() - cpu0
	time.Sleep(100 * time.Millisecond)
	fmt.Fprintf(out, "end %d %d %d\n", zombies(), cpu, reaped)
	out.Close()
	return stormExit
}

// raceRole: argv K CODE.  Releases K orphans and exits CODE at once, so the
// init sees the main child's exit in the middle of a burst of reaps.
func raceRole(args []string) int {
	if len(args) != 2 {
		return 64
	}
	k, _ := strconv.Atoi(args[0])
	code, _ := strconv.Atoi(args[1])
	_, release, err := orphans(k)
	if err != nil {
		fmt.Fprintf(os.Stderr, "initbench race: %v\n", err)
		return 70
	}
	release()
	return code
}

// orphans makes k processes whose parent has exited, so they belong to
// PID 1 now, all blocked until release is called; then they exit together.
// They are forked without exec (raw clone; see forkBlocked), which makes a
// burst of 250 cost about as much as it does in C.
func orphans(k int) (pids []int, release func(), err error) {
	var gate, report [2]int
	if err := syscall.Pipe(gate[:]); err != nil {
		return nil, nil, err
	}
	if err := syscall.Pipe(report[:]); err != nil {
		return nil, nil, err
	}
	mid, errno := forkMiddle(gate[0], gate[1], report[1], k)
	syscall.Close(report[1])
	if errno != 0 {
		return nil, nil, errno
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(int(mid), &ws, 0, nil)
		if err != syscall.EINTR {
			break
		}
	}
	f := os.NewFile(uintptr(report[0]), "pids")
	b, _ := io.ReadAll(f)
	f.Close()
	for i := 0; i+4 <= len(b); i += 4 {
		pids = append(pids, int(binary.NativeEndian.Uint32(b[i:])))
	}
	syscall.Close(gate[0])
	if len(pids) != k {
		syscall.Close(gate[1])
		return pids, nil, fmt.Errorf("made %d orphans of %d", len(pids), k)
	}
	return pids, func() { syscall.Close(gate[1]) }, nil
}

// forkMiddle forks a process that forks k children, each of which writes its
// pid to report and blocks on the gate pipe, and exits, orphaning them.  The children run
// no Go code: between clone and exit_group they make raw system calls only,
// on a copy of this goroutine's stack, with every signal blocked, so the
// runtime state they inherit from a multi-threaded parent never matters.
//
//go:nosplit
//go:norace
func forkMiddle(gateR, gateW, report, k int) (uintptr, syscall.Errno) {
	all := ^uint64(0)
	var old uint64
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, sigSetmask, uintptr(unsafe.Pointer(&all)), uintptr(unsafe.Pointer(&old)), 8, 0, 0)
	pid, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
	if pid != 0 || e != 0 {
		syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, sigSetmask, uintptr(unsafe.Pointer(&old)), 0, 8, 0, 0)
		return pid, e
	}
	// the middle process
	for i := 0; i < k; i++ {
		c, _, e := syscall.RawSyscall6(syscall.SYS_CLONE, uintptr(syscall.SIGCHLD), 0, 0, 0, 0, 0)
		if e != 0 {
			break
		}
		if c == 0 {
			// Report our pid only once our copy of the gate's write end
			// is closed: when the parent has read every pid, closing its
			// own copy releases them all.
			var b [1]byte
			syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(gateW), 0, 0)
			me, _, _ := syscall.RawSyscall(syscall.SYS_GETPID, 0, 0, 0)
			v := uint32(me)
			syscall.RawSyscall(syscall.SYS_WRITE, uintptr(report), uintptr(unsafe.Pointer(&v)), 4)
			syscall.RawSyscall(syscall.SYS_CLOSE, uintptr(report), 0, 0)
			syscall.RawSyscall(syscall.SYS_READ, uintptr(gateR), uintptr(unsafe.Pointer(&b[0])), 1)
			syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
		}
	}
	syscall.RawSyscall(syscall.SYS_EXIT_GROUP, 0, 0, 0)
	return 0, 0
}

// waitGone polls until none of pids exists any more (reaped, not merely
// zombies: kill(pid, 0) succeeds on a zombie).
func waitGone(pids []int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	left := pids
	for {
		var still []int
		for _, p := range left {
			if syscall.Kill(p, 0) != syscall.ESRCH {
				still = append(still, p)
			}
		}
		if len(still) == 0 {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		left = still
		// nanosleep itself: time.Sleep rounds this up to the
		// scheduler's timer resolution.
		ts := syscall.Timespec{Nsec: 20000}
		_ = syscall.Nanosleep(&ts, nil)
	}
}

// zombies counts zombie processes in this PID namespace's /proc.
func zombies() int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(b)
		if i := strings.LastIndexByte(s, ')'); i > 0 && i+2 < len(s) && s[i+2] == 'Z' {
			n++
		}
	}
	return n
}

// initCPU sums the CPU time of every thread of PID 1 (a Go init has several).
func initCPU() int64 {
	var sum int64
	tasks, _ := os.ReadDir("/proc/1/task")
	for _, t := range tasks {
		b, err := os.ReadFile("/proc/1/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		f := strings.Fields(string(b))
		if len(f) > 0 {
			n, _ := strconv.ParseInt(f[0], 10, 64)
			sum += n
		}
	}
	return sum
}

// --- SIGTERM latency ---------------------------------------------------------

type termResult struct {
	latency, base, addedUs, stopUs dist
	failed                         int
}

// measureTerm: each trial starts "PREFIX termrec" as PID 1 of a new
// namespace, waits until termrec has its handler in place, sends SIGTERM to
// PID 1 and reads the time termrec's handler ran.  Every trial is paired
// with one where termrec itself is PID 1 (the floor of signal delivery), in
// alternating order; "added" is the per-pair difference.
func measureTerm(prefix []string, sz sizes) (termResult, error) {
	var r termResult
	var lat, base, added, stop []float64
	for i := 0; i < sz.termWarm+sz.termPairs; i++ {
		var a, b, s float64
		var errA, errB error
		if i%2 == 0 {
			a, s, errA = termTrial(prefix)
			b, _, errB = termTrial(nil)
		} else {
			b, _, errB = termTrial(nil)
			a, s, errA = termTrial(prefix)
		}
		if errA != nil || errB != nil {
			r.failed++
			if r.failed > 3 {
				return r, fmt.Errorf("%d trials failed, last: %v", r.failed, firstErr(errA, errB))
			}
			continue
		}
		if i < sz.termWarm {
			continue
		}
		lat, base, added, stop = append(lat, a), append(base, b), append(added, a-b), append(stop, s)
	}
	r.latency, r.base, r.addedUs, r.stopUs = summarise(lat), summarise(base), summarise(added), summarise(stop)
	if r.failed > 0 {
		return r, fmt.Errorf("%d trials failed", r.failed)
	}
	return r, nil
}

func firstErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// termTrial returns the SIGTERM-to-handler latency and the SIGTERM-to-exit
// time of PID 1, in microseconds.
func termTrial(prefix []string) (latUs, stopUs float64, err error) {
	rd, wr, err := os.Pipe()
	if err != nil {
		return 0, 0, err
	}
	defer rd.Close()
	_, argv, err := command(prefix, []string{self, "__termrec", "3"})
	if err != nil {
		wr.Close()
		return 0, 0, err
	}
	pid, err := startInNS(argv, wr)
	wr.Close()
	if err != nil {
		return 0, 0, err
	}
	var buf [9]byte
	_ = rd.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(rd, buf[:1]); err != nil || buf[0] != 'R' {
		_ = syscall.Kill(pid, syscall.SIGKILL)
		waitTimeout(pid, time.Second)
		return 0, 0, fmt.Errorf("termrec never became ready: %v", err)
	}
	time.Sleep(20 * time.Millisecond) // let the init settle after starting it
	t0 := monoNs()
	_ = syscall.Kill(pid, syscall.SIGTERM)
	_ = rd.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, rerr := io.ReadFull(rd, buf[1:])
	ws, killed := waitTimeout(pid, 5*time.Second)
	t2 := monoNs()
	if rerr != nil || killed {
		return 0, 0, fmt.Errorf("handler never ran (status %v, killed %v): %v", ws, killed, rerr)
	}
	t1 := int64(binary.NativeEndian.Uint64(buf[1:]))
	return float64(t1-t0) / 1e3, float64(t2-t0) / 1e3, nil
}

// termrecRole: argv FD.  Writes 'R' to FD once SIGTERM is caught, then the
// CLOCK_MONOTONIC time its SIGTERM arrived, and exits 0.
func termrecRole(args []string) int {
	if len(args) != 1 {
		return 64
	}
	fd, _ := strconv.Atoi(args[0])
	out := os.NewFile(uintptr(fd), "result")
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM)
	if _, err := out.Write([]byte{'R'}); err != nil {
		return 70
	}
	<-c
	t := monoNs()
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], uint64(t))
	_, _ = out.Write(b[:])
	return 0
}
