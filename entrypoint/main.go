// An init does not follow changes of its CPU limit: the periodic re-reading
// of the cgroup costs a goroutine at start and wake-ups for the container's
// whole life.
//
//go:debug updatemaxprocs=0

package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/boot"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
	"github.com/snufkin/swarming-spark/entrypoint/supervisor"
)

// Exit statuses of the entrypoint's own failures (sysexits.h), apart from
// the workload's status, which passes through unchanged.
const (
	exitUsage       = 64 // EX_USAGE: a setting or the command line is wrong
	exitUnavailable = 69 // EX_UNAVAILABLE: no master within ENTRYPOINT_MASTER_WAIT
	exitSoftware    = 70 // EX_SOFTWARE: an internal failure
)

func main() {
	// The supervisor re-executes this binary as the waiter of its child;
	// that role must start before anything reads settings or logs.
	if len(os.Args) > 1 && os.Args[1] == supervisor.WaiterArg {
		os.Exit(supervisor.Waiter(os.Args[2:]))
	}
	os.Exit(exitCode(run()))
}

func run() error {
	return boot.Main(os.Args[1:], os.Stdout, os.Stderr)
}

// exitCode prints err, unless it is the workload's own status, and maps it
// to the container's exit status.
func exitCode(err error) int {
	var status boot.ExitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &status):
		return int(status)
	}
	// The supervisor has logged why the workload could not start.
	if !errors.Is(err, supervisor.ErrNotFound) && !errors.Is(err, supervisor.ErrNotExecutable) {
		fmt.Fprintf(os.Stderr, "entrypoint: %v\n", err)
	}
	switch {
	case errors.Is(err, boot.ErrUsage), errors.Is(err, settings.ErrInvalid),
		errors.Is(err, sparkenv.ErrInvalid), errors.Is(err, discovery.ErrInvalid):
		return exitUsage
	case errors.Is(err, boot.ErrNotReady), errors.Is(err, boot.ErrFindings):
		return 1
	case errors.Is(err, boot.ErrNoMaster), errors.Is(err, discovery.ErrNotFound):
		return exitUnavailable
	case errors.Is(err, supervisor.ErrNotFound), errors.Is(err, supervisor.ErrNotExecutable):
		return supervisor.StartStatus(err)
	}
	return exitSoftware
}
