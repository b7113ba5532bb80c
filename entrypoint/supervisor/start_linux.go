//go:build linux

package supervisor

// How the workload starts: directly, or under the waiter, whose reports
// arrive on a pipe.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// errPidfdRefused: the clone that asked for the workload's pidfd failed.
var errPidfdRefused = errors.New("clone with a pidfd refused")

func (s *sup) startWaiter() (<-chan report, error) {
	specR, specW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("waiter pipe: %w", err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		specR.Close()
		specW.Close()
		return nil, fmt.Errorf("waiter pipe: %w", err)
	}
	// The waiter's pipes go above the inherited descriptors.
	files := inheritedFiles()
	specFD, reportFD := len(files), len(files)+1
	files = append(files, specR.Fd(), repW.Fd())
	// /proc/self/exe, not a path: it still works after the binary was
	// replaced or when the workload's user cannot traverse its directory.
	pid, err := syscall.ForkExec("/proc/self/exe",
		[]string{os.Args[0], WaiterArg, strconv.Itoa(specFD), strconv.Itoa(reportFD)},
		&syscall.ProcAttr{
			Env:   os.Environ(),
			Files: files,
			Sys:   &syscall.SysProcAttr{Credential: s.cfg.Credential},
		})
	specR.Close()
	repW.Close()
	if err != nil {
		specW.Close()
		repR.Close()
		return nil, fmt.Errorf("start waiter: %w", err)
	}
	s.waiterPid = pid

	ch := make(chan report, 4)
	go readReports(repR, ch)

	data, _ := json.Marshal(spec{Args: s.cfg.Args, Env: s.cfg.Env, Dir: s.childDir(), Setpgid: s.cfg.SignalGroup})
	// A write error means the waiter died; its missing report says so.
	_, _ = specW.Write(data)
	specW.Close()
	return ch, nil
}

// inheritedFiles lists the descriptors the workload gets: stdio and those
// we inherited (socket activation, a harness's pipe), at their own numbers,
// as tini and dumb-init pass them.
func inheritedFiles() []uintptr {
	files := []uintptr{0, 1, 2}
	for _, fd := range inheritedFDs() {
		for len(files) < fd {
			files = append(files, ^uintptr(0)) // closed in the child
		}
		files = append(files, uintptr(fd))
	}
	return files
}

// direct reports whether the workload can be started without the waiter:
// the kernel keeps its exit status for us (see awaitExit), and nothing of
// the start has to be judged with the workload's own credentials (a PATH
// search or a working directory, which the waiter checks as that user).
func (s *sup) direct() bool {
	if forceWaiter || !kernelKeepsExitStatus() {
		return false
	}
	return s.cfg.Credential == nil || strings.Contains(s.cfg.Args[0], "/") && s.cfg.Dir == ""
}

// startDirect starts the workload as our own child, with a pidfd through
// which its exit status survives go-reap reaping it.  It reports like the
// waiter does, on a channel that ends with "eof".
//
// A clone that asks for a pidfd can be refused where the kernel would give
// one: QEMU's user-mode emulator (an arm64 image on an amd64 host) rejects
// CLONE_PIDFD with EINVAL. Nothing has started then, and startDirect
// returns errPidfdRefused for the caller to start the waiter instead.
func (s *sup) startDirect() (<-chan report, error) {
	ch := make(chan report, 4)
	pidfd := -1
	pid, kind, err := startChild(spec{Args: s.cfg.Args, Env: s.cfg.Env, Dir: s.childDir(), Setpgid: s.cfg.SignalGroup},
		inheritedFiles(), s.cfg.Credential, &pidfd)
	if errors.Is(err, syscall.EINVAL) {
		return nil, errPidfdRefused
	}
	if err != nil {
		ch <- report{kind: "error", err: startError(kind, oneLine(err))}
		ch <- report{kind: "eof"}
		return ch, nil
	}
	ch <- report{kind: "pid", n: pid}
	if pidfd < 0 {
		// Cannot happen on the kernels direct() admits; without a pidfd the
		// status could be lost, so do not pretend.
		ch <- report{kind: "error", err: errors.New("no pidfd for the workload")}
		ch <- report{kind: "eof"}
		return ch, nil
	}
	go func() {
		defer syscall.Close(pidfd)
		ws, err := awaitExit(pidfd)
		if err != nil {
			ch <- report{kind: "error", err: fmt.Errorf("wait for the workload: %w", err)}
		} else {
			ch <- report{kind: "status", ws: ws}
		}
		ch <- report{kind: "eof"}
	}()
	return ch, nil
}

// leaveStartDir moves the supervisor to "/" once the workload has started
// in the directory the supervisor was started in, so as not to pin that
// directory (a mount point, a volume) for as long as the container runs.
func (s *sup) leaveStartDir() {
	if s.startDir != "" {
		return // left before the start (leaveBeforeStart)
	}
	if err := os.Chdir("/"); err != nil {
		s.log.Warn().Err(err).Msg("cannot leave the start directory")
	}
}

// leaveBeforeStart moves the supervisor to "/" before the workload starts,
// and starts the workload in the directory it leaves, by name: then no
// workload that looks at its parent's directory as it starts (dumb-init's
// suite does) can find the old one. Only for a workload that runs as the
// supervisor's own user: the child enters its directory after taking on
// its credential, and another user may not be allowed in where the
// supervisor was, while an inherited directory needs no permission.
func (s *sup) leaveBeforeStart() {
	if s.cfg.Dir != "" || s.cfg.Credential != nil {
		return
	}
	wd, err := os.Getwd()
	if err != nil || os.Chdir("/") != nil {
		return // leaveStartDir tries again once the workload runs
	}
	s.startDir = wd
}

// childDir is the directory the workload starts in: Config.Dir, or the
// one leaveBeforeStart left, or "" to inherit the supervisor's.
func (s *sup) childDir() string {
	if s.cfg.Dir != "" {
		return s.cfg.Dir
	}
	return s.startDir
}

func readReports(r *os.File, ch chan<- report) {
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), 1<<20)
	for sc.Scan() {
		word, rest, _ := strings.Cut(sc.Text(), " ")
		switch word {
		case "pid":
			n, err := strconv.Atoi(rest)
			if err != nil || n <= 0 {
				ch <- report{kind: "error", err: fmt.Errorf("waiter sent bad pid %q", rest)}
				continue
			}
			ch <- report{kind: "pid", n: n}
		case "status":
			n, err := strconv.ParseUint(rest, 10, 32)
			if err != nil {
				ch <- report{kind: "error", err: fmt.Errorf("waiter sent bad status %q", rest)}
				continue
			}
			ch <- report{kind: "status", ws: syscall.WaitStatus(n)}
		case "error":
			kind, msg, _ := strings.Cut(rest, " ")
			ch <- report{kind: "error", err: startError(kind, msg)}
		}
	}
	ch <- report{kind: "eof"}
}

// startError rebuilds a start failure from its kind and message.
func startError(kind, msg string) error {
	switch kind {
	case errKindNotFound:
		return fmt.Errorf("%w: %s", ErrNotFound, strings.TrimPrefix(msg, ErrNotFound.Error()+": "))
	case errKindNotExec:
		return fmt.Errorf("%w: %s", ErrNotExecutable, strings.TrimPrefix(msg, ErrNotExecutable.Error()+": "))
	}
	return fmt.Errorf("start workload: %s", msg)
}
