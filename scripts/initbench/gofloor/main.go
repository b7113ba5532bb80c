// Command gofloor is the least a Go supervisor does: start a command with
// os/exec, relay SIGTERM and SIGINT to it, and exit with its status.  It
// reaps nothing but its own child, logs nothing and reads no settings.
// initbench measures it next to the inits as a reference: what Go's runtime
// start, os/exec and os/signal cost on their own, the floor of an init
// written in Go.
//
// With -all it relays every catchable signal, as the entrypoint does; Go's
// runtime enables each one with a round trip to its signal thread, so the
// difference between the two rows is the price of relaying them all.
//
// usage: gofloor [-all] [--] CMD [ARG...]
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

func main() {
	args := os.Args[1:]
	sigs := []os.Signal{syscall.SIGTERM, syscall.SIGINT}
	if len(args) > 0 && args[0] == "-all" {
		sigs = catchable()
		args = args[1:]
	}
	if len(args) > 0 && args[0] == "--" {
		args = args[1:]
	}
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: gofloor [-all] [--] CMD [ARG...]")
		os.Exit(64)
	}
	// Registered before the start, as any init must: a stop signal that
	// arrives in between would otherwise end us and orphan the command.
	c := make(chan os.Signal, 64)
	signal.Notify(c, sigs...)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = inherited()
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "gofloor: %v\n", err)
		os.Exit(127)
	}
	go func() {
		for s := range c {
			_ = cmd.Process.Signal(s)
		}
	}()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		os.Exit(0)
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			os.Exit(128 + int(ws.Signal()))
		}
		os.Exit(ee.ExitCode())
	}
	fmt.Fprintf(os.Stderr, "gofloor: %v\n", err)
	os.Exit(70)
}

// inherited passes on the descriptors from 3 up that we were started with
// (initbench hands its SIGTERM probe a pipe at 3), as inits do; the first
// closed or close-on-exec one ends the run.
func inherited() []*os.File {
	var files []*os.File
	for fd := 3; ; fd++ {
		flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if e != 0 || flags&syscall.FD_CLOEXEC != 0 {
			return files
		}
		files = append(files, os.NewFile(uintptr(fd), "inherited"))
	}
}

// catchable lists what the entrypoint catches: every signal but the
// uncatchable, SIGCHLD, SIGURG (Go's preemption), SIGPIPE and the C
// libraries' 32, 33 and 34 (the fault signals it catches to drop).
func catchable() []os.Signal {
	var s []os.Signal
	for n := syscall.Signal(1); n <= 64; n++ {
		switch n {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGCHLD, syscall.SIGURG, syscall.SIGPIPE, 32, 33, 34:
			continue
		}
		s = append(s, n)
	}
	return s
}
