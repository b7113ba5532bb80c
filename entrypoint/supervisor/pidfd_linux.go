//go:build linux

package supervisor

import (
	"errors"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"
)

// Since Linux 6.15 the kernel records a process's wait status in its pidfd
// when the process is reaped, whoever reaps it (PIDFD_INFO_EXIT).  With a
// pidfd taken at fork, the supervisor can start the workload itself and let
// go-reap reap everything, the workload included, without losing the
// status: no waiter process is needed.  Older kernels use the waiter.

// pidfdInfo is struct pidfd_info from <linux/pidfd.h>, first version.
type pidfdInfo struct {
	mask, cgroupid                uint64
	pid, tgid, ppid, ruid, rgid   uint32
	euid, egid, suid, sgid, fsuid uint32
	fsgid                         uint32
	exitCode                      int32
}

const (
	// pidfdGetInfo is PIDFD_GET_INFO: _IOWR(0xFF, 11, struct pidfd_info).
	pidfdGetInfo  = 3<<30 | uintptr(unsafe.Sizeof(pidfdInfo{}))<<16 | 0xFF<<8 | 11
	pidfdInfoExit = 1 << 3 // PIDFD_INFO_EXIT
	pPIDFD        = 3      // P_PIDFD for waitid
	wNOWAIT       = 0x01000000
	cldExited     = 1 // CLD_EXITED
	cldKilled     = 2 // CLD_KILLED
	cldDumped     = 3 // CLD_DUMPED
)

// forceWaiter makes Run use the waiter on any kernel; the tests set it to
// cover the path older kernels take.
var forceWaiter bool

var (
	exitInfoOnce sync.Once
	exitInfoOK   bool
)

// kernelKeepsExitStatus reports whether the kernel is 6.15 or later.  The
// version is the only safe probe: proving the feature needs a process that
// has exited and been reaped, and a wrong guess would lose a status.
func kernelKeepsExitStatus() bool {
	exitInfoOnce.Do(func() {
		var u syscall.Utsname
		if syscall.Uname(&u) != nil {
			return
		}
		var b strings.Builder
		for _, c := range u.Release {
			if c == 0 {
				break
			}
			b.WriteByte(byte(c))
		}
		exitInfoOK = releaseAtLeast(b.String(), 6, 15)
	})
	return exitInfoOK
}

// releaseAtLeast compares a kernel release such as "6.18.44-fc" with
// major.minor.
func releaseAtLeast(release string, major, minor int) bool {
	f := strings.FieldsFunc(release, func(r rune) bool { return r < '0' || r > '9' })
	if len(f) < 2 {
		return false
	}
	ma, err1 := strconv.Atoi(f[0])
	mi, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil {
		return false
	}
	return ma > major || ma == major && mi >= minor
}

// siginfo is the part of siginfo_t that waitid fills for a child.
type siginfo struct {
	signo, errno, code int32
	_                  int32
	pid                int32
	uid                uint32
	status             int32
	_                  [100]byte
}

// awaitExit blocks until the process behind pidfd has exited and returns its
// raw wait status, whether we reap it or go-reap does.
func awaitExit(pidfd int) (syscall.WaitStatus, error) {
	// A pidfd polls readable once its process has exited: wait for that in
	// the runtime's poller rather than in a blocking waitid, which would
	// hold an OS thread (and its stacks) for the workload's whole life.
	// WNOWAIT leaves the zombie to be reaped below or by go-reap; ECHILD
	// means go-reap has reaped it already.
	exited := func(fd uintptr) bool {
		var si siginfo
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pPIDFD, fd, uintptr(unsafe.Pointer(&si)),
			syscall.WEXITED|syscall.WNOHANG|wNOWAIT, 0, 0)
		return e != 0 && e != syscall.EINTR || si.pid != 0
	}
	polled := false
	if err := syscall.SetNonblock(pidfd, true); err == nil {
		// NewFile takes the pidfd into the poller; its Close must not
		// close pidfd, which the caller owns, so it works on a duplicate.
		if dup, err := syscall.Dup(pidfd); err == nil {
			f := os.NewFile(uintptr(dup), "pidfd")
			if rc, err := f.SyscallConn(); err == nil {
				polled = rc.Read(exited) == nil
			}
			f.Close()
		}
	}
	for !polled && !exited(uintptr(pidfd)) {
		time.Sleep(time.Millisecond) // no poller: cannot happen with pidfds, but never spin
	}
	deadline := time.Now().Add(reapBound)
	for {
		in := pidfdInfo{mask: pidfdInfoExit}
		_, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(pidfd), pidfdGetInfo, uintptr(unsafe.Pointer(&in)))
		if e == 0 && in.mask&pidfdInfoExit != 0 {
			return syscall.WaitStatus(uint32(in.exitCode)), nil
		}
		// Still a zombie: reap it here.  If go-reap takes it first this
		// returns ECHILD, and its exit information appears in a moment
		// (the kernel records it while releasing the process).
		var si siginfo
		_, _, e = syscall.Syscall6(syscall.SYS_WAITID, pPIDFD, uintptr(pidfd), uintptr(unsafe.Pointer(&si)),
			syscall.WEXITED|syscall.WNOHANG, 0, 0)
		if e == 0 && si.pid != 0 {
			return waitStatusOf(si), nil
		}
		if e != 0 && e != syscall.ECHILD && e != syscall.EINTR {
			return 0, e
		}
		if time.Now().After(deadline) {
			return 0, errors.New("the workload was reaped but the kernel kept no exit status")
		}
		time.Sleep(50 * time.Microsecond)
	}
}

// waitStatusOf encodes waitid's report the way wait4 does.
func waitStatusOf(si siginfo) syscall.WaitStatus {
	switch si.code {
	case cldExited:
		return syscall.WaitStatus(uint32(si.status&0xff) << 8)
	case cldKilled:
		return syscall.WaitStatus(uint32(si.status & 0x7f))
	case cldDumped:
		return syscall.WaitStatus(uint32(si.status&0x7f) | 0x80)
	}
	return syscall.WaitStatus(0xffff) // neither exited nor signalled: statusOf makes it StatusInternal
}
