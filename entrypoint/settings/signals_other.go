//go:build !linux

package settings

import "syscall"

// linuxSignal knows no Linux-only signal on other systems.
func linuxSignal(string) (syscall.Signal, bool) { return 0, false }
