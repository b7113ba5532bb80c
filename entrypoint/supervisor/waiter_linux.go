//go:build linux

package supervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unsafe"
)

// The waiter's argv after WaiterArg names its two inherited pipe ends.
// They are passed as fds, not environment variables, so nothing of the
// protocol leaks into the workload's environment.
const (
	waiterSpecFD   = 3
	waiterReportFD = 4
)

// spec is what the supervisor sends the waiter, as JSON on the spec pipe.
type spec struct {
	Args    []string `json:"args"`
	Env     []string `json:"env"`
	Dir     string   `json:"dir,omitempty"`
	Setpgid bool     `json:"setpgid,omitempty"`
}

// Report lines, waiter to supervisor, one per line:
//
//	pid <n>             the workload started
//	status <raw>        its raw wait status; the waiter then exits
//	error <kind> <msg>  it could not be started (kind: notfound, notexec, other)
const (
	errKindNotFound = "notfound"
	errKindNotExec  = "notexec"
	errKindOther    = "other"
)

// Waiter runs the waiter role; main calls os.Exit(supervisor.Waiter(os.Args[2:]))
// when os.Args[1] == WaiterArg, before anything else.
//
// The waiter is deliberately not a subreaper and waits for exactly one pid,
// so it can never take another process's status and the workload's status
// can never be taken from it.  It runs with the workload's credentials, so
// the workload inherits them without the supervisor having to fork twice.
func Waiter(args []string) int {
	// Anything aimed at the process group (a terminal's ^C, kill -TERM -pgid)
	// must not kill the waiter before it has reported the status; the
	// supervisor forwards to the workload's own pid or group instead.
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, relayed()...)
	go func() {
		for range sigs {
		}
	}()

	specFD, reportFD := waiterSpecFD, waiterReportFD
	if len(args) >= 2 {
		a, err1 := strconv.Atoi(args[0])
		b, err2 := strconv.Atoi(args[1])
		if err1 != nil || err2 != nil {
			fmt.Fprintf(os.Stderr, "entrypoint waiter: bad arguments %q\n", args)
			return StatusInternal
		}
		specFD, reportFD = a, b
	}
	// Only the workload's stdio may reach the workload.
	syscall.CloseOnExec(specFD)
	syscall.CloseOnExec(reportFD)
	specIn := os.NewFile(uintptr(specFD), "spec")
	report := os.NewFile(uintptr(reportFD), "report")
	if specIn == nil || report == nil {
		fmt.Fprintln(os.Stderr, "entrypoint waiter: missing pipes")
		return StatusInternal
	}

	var sp spec
	data, err := io.ReadAll(specIn)
	specIn.Close()
	if err == nil {
		err = json.Unmarshal(data, &sp)
	}
	if err == nil && len(sp.Args) == 0 {
		err = errors.New("empty command")
	}
	if err != nil {
		fmt.Fprintf(report, "error %s read spec: %s\n", errKindOther, oneLine(err))
		return StatusInternal
	}

	pid, kind, err := startChild(sp, []uintptr{0, 1, 2}, nil, nil)
	if err != nil {
		fmt.Fprintf(report, "error %s %s\n", kind, oneLine(err))
		return 0
	}
	// The workload has its working directory now; staying in it would pin
	// it as the supervisor's would (see leaveStartDir).  The waiter has no
	// log, and a failure only leaves it where it was.
	_ = os.Chdir("/")
	if _, err := fmt.Fprintf(report, "pid %d\n", pid); err != nil {
		// Nobody is listening any more; still reap the child so it does not
		// linger as our zombie.
		waitPid(pid)
		return StatusInternal
	}
	// The waiter stays as long as the workload: as small as it can be.
	trim := time.AfterFunc(trimDelay, trimMemory)
	ws := waitPid(pid)
	trim.Stop()
	if _, err := fmt.Fprintf(report, "status %d\n", uint32(ws)); err != nil {
		return StatusInternal
	}
	return 0
}

func waitPid(pid int) syscall.WaitStatus {
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			return ws
		}
	}
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

// startChild starts the workload with descriptors files, as cred when not
// nil, storing a pidfd in *pidfd when not nil, and returns its pid, or an
// error kind and the error.
func startChild(sp spec, files []uintptr, cred *syscall.Credential, pidfd *int) (int, string, error) {
	if sp.Dir != "" {
		// ForkExec reports a failed chdir with the same errno as a failed
		// exec; checked here so a missing directory is not taken for a
		// missing command (127).
		if fi, err := os.Stat(sp.Dir); err != nil {
			return 0, errKindOther, fmt.Errorf("working directory: %w", err)
		} else if !fi.IsDir() {
			return 0, errKindOther, fmt.Errorf("working directory %q is not a directory", sp.Dir)
		}
	}
	path, err := lookPath(sp.Args[0], sp.Env, sp.Dir)
	if err != nil {
		return 0, kindOf(err), err
	}
	sys := &syscall.SysProcAttr{Setpgid: sp.Setpgid, Credential: cred, PidFD: pidfd}
	if sp.Setpgid && len(files) > 0 && foregroundTTY(int(files[0])) {
		// A group of its own must also be the terminal's foreground group,
		// or the workload's first read of the terminal (a shell, a REPL
		// under docker run -it) stops it with SIGTTIN, as tini does.
		sys.Foreground, sys.Ctty = true, int(files[0])
	}
	pid, err := syscall.ForkExec(path, sp.Args, &syscall.ProcAttr{
		Dir:   sp.Dir,
		Env:   sp.Env,
		Files: files,
		Sys:   sys,
	})
	if err != nil {
		err = fmt.Errorf("exec %q: %w", path, err)
		return 0, kindOf(err), err
	}
	return pid, "", nil
}

// foregroundTTY reports whether fd is this process's controlling terminal
// with this process's group in the foreground (TIOCGPGRP answers only for
// the controlling terminal).
func foregroundTTY(fd int) bool {
	var pgrp int32
	_, _, e := syscall.RawSyscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCGPGRP, uintptr(unsafe.Pointer(&pgrp)))
	return e == 0 && int(pgrp) == syscall.Getpgrp()
}

// kindOf classifies a start error the way shells do: 127 for a missing
// command, 126 for one that exists but cannot be run.
func kindOf(err error) string {
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, syscall.ENOENT), errors.Is(err, syscall.ENOTDIR):
		return errKindNotFound
	case errors.Is(err, ErrNotExecutable), errors.Is(err, syscall.EACCES), errors.Is(err, syscall.ENOEXEC),
		errors.Is(err, syscall.EISDIR), errors.Is(err, syscall.EPERM):
		return errKindNotExec
	}
	return errKindOther
}

// defaultPath is what execvp(3) searches when PATH is unset.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// lookPath finds file in the PATH of env (not our own environment, which is
// the supervisor's).  Like execvp, a match that exists but is not executable
// is remembered and reported as not executable if nothing better is found.
func lookPath(file string, env []string, dir string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	if file == "" {
		return "", fmt.Errorf("%w: empty command name", ErrNotFound)
	}
	pathList := defaultPath
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], "PATH="); ok {
			pathList = v
			break
		}
	}
	var denied string
	for _, d := range filepath.SplitList(pathList) {
		if d == "" {
			d = "."
		}
		p := filepath.Join(d, file)
		check := p
		if !filepath.IsAbs(p) && dir != "" {
			check = filepath.Join(dir, p)
		}
		fi, err := os.Stat(check)
		if err != nil || fi.IsDir() {
			continue // shells skip directories in PATH too
		}
		if fi.Mode().IsRegular() && syscall.Access(check, 1 /* X_OK */) == nil {
			if !filepath.IsAbs(p) && !strings.Contains(p, "/") {
				p = "./" + p
			}
			return p, nil
		}
		if denied == "" {
			denied = p
		}
	}
	if denied != "" {
		return "", fmt.Errorf("%w: %s", ErrNotExecutable, denied)
	}
	return "", fmt.Errorf("%w: %s (PATH=%s)", ErrNotFound, file, pathList)
}
