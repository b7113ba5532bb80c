//go:build !linux

package boot

import "syscall"

// decommissionSignal is SIGPWR, which only Linux has; the supervisor does
// not run elsewhere.
const decommissionSignal = syscall.Signal(0)
