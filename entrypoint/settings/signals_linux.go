package settings

import "syscall"

// linuxSignal names the signals only Linux has (the images run on Linux;
// the rest of the package also builds where developers run its tests).
func linuxSignal(name string) (syscall.Signal, bool) {
	switch name {
	case "PWR":
		return syscall.SIGPWR, true
	case "STKFLT":
		return syscall.SIGSTKFLT, true
	}
	return 0, false
}
