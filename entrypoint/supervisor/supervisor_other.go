//go:build !linux

package supervisor

import "errors"

// errUnsupported keeps the package buildable on developer laptops; the
// supervisor relies on Linux-only prctl, /proc and PID namespaces.
var errUnsupported = errors.New("the supervisor runs on Linux only")

// Waiter runs the waiter role; it is never reached outside Linux.
func Waiter(args []string) int { return StatusInternal }

// Run reports that supervision is unsupported on this platform.
func Run(cfg Config) (status int, err error) { return StatusInternal, errUnsupported }

// Listen does nothing where the supervisor does not run.
func Listen() {}
