//go:build linux

package supervisor

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// prSetChildSubreaper is PR_SET_CHILD_SUBREAPER from <linux/prctl.h>.
const prSetChildSubreaper = 36

func setSubreaper() error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); e != 0 {
		return e
	}
	return nil
}

// procEntry is one process as seen in /proc/<pid>/stat.
type procEntry struct {
	pid, ppid int
	zombie    bool
}

// readProcs lists every process visible in /proc.
func readProcs() []procEntry {
	d, err := os.Open("/proc")
	if err != nil {
		return nil
	}
	names, _ := d.Readdirnames(-1)
	d.Close()
	out := make([]procEntry, 0, len(names))
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + n + "/stat")
		if err != nil {
			continue // exited and reaped since Readdirnames
		}
		// comm may contain spaces and parentheses; the fields we need follow
		// the last ')'.
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) {
			continue
		}
		f := bytes.Fields(b[i+2:])
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(string(f[1]))
		out = append(out, procEntry{pid: pid, ppid: ppid, zombie: f[0][0] == 'Z' || f[0][0] == 'X'})
	}
	return out
}

// procMatches reports whether /proc belongs to our PID namespace.  Under
// `unshare -p` without --mount-proc it does not, and pids read from it would
// name processes outside the container.  /proc/self names our pid as that
// /proc's namespace sees it (and is missing when it cannot see us); reading
// the link costs one system call where reading /proc/self/stat costs four
// and a formatted record.
func procMatches() bool {
	self, err := os.Readlink("/proc/self")
	if err != nil {
		return false
	}
	pid, err := strconv.Atoi(self)
	return err == nil && pid == os.Getpid()
}

// others returns the processes other than us that the stop sequence must
// take care of: as PID 1 every process in the namespace (docker exec'd ones
// included, as kill(-1) would), otherwise our descendants.  live excludes
// zombies; all includes them.
func others(pid1 bool) (live []int, all int) {
	self := os.Getpid()
	if !pid1 {
		// Every descendant hangs below one of our children, a zombie child
		// included, so none left means there is nothing to walk.  This is
		// the usual case once a workload without children of its own has
		// exited, and it saves the walk at every exit.
		if !hasChildren() {
			return nil, 0
		}
		if l, a, ok := descendants(self); ok {
			return l, a
		}
	}
	if pid1 && syscall.Kill(-1, 0) == syscall.ESRCH {
		// kill(-1) found no process but us in the namespace, zombies
		// included: nothing to read /proc for, which costs a file per
		// process.
		return nil, 0
	}
	procs := readProcs()
	if pid1 {
		for _, p := range procs {
			if p.pid == self {
				continue
			}
			all++
			if !p.zombie {
				live = append(live, p.pid)
			}
		}
		return live, all
	}
	kids := make(map[int][]procEntry)
	for _, p := range procs {
		kids[p.ppid] = append(kids[p.ppid], p)
	}
	queue := []int{self}
	seen := map[int]bool{self: true}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, c := range kids[n] {
			if seen[c.pid] {
				continue
			}
			seen[c.pid] = true
			queue = append(queue, c.pid)
			all++
			if !c.zombie {
				live = append(live, c.pid)
			}
		}
	}
	return live, all
}

// descendants walks /proc/<pid>/task/<tid>/children from pid down.  Outside
// a PID namespace /proc holds the whole host, and reading every process's
// stat on each check made a start-and-exit cost milliseconds; this reads only
// our own subtree.  ok is false when the kernel lacks the children files.
func descendants(root int) (live []int, all int, ok bool) {
	queue := []int{root}
	seen := map[int]bool{root: true}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		tasks, err := os.ReadDir("/proc/" + strconv.Itoa(p) + "/task")
		if err != nil {
			if p == root {
				return nil, 0, false
			}
			continue // exited meanwhile
		}
		for _, t := range tasks {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(p) + "/task/" + t.Name() + "/children")
			if err != nil {
				if p == root && os.IsNotExist(err) {
					return nil, 0, false
				}
				continue
			}
			for _, f := range bytes.Fields(b) {
				c, err := strconv.Atoi(string(f))
				if err != nil || seen[c] {
					continue
				}
				seen[c] = true
				queue = append(queue, c)
				all++
				if !isZombie(c) {
					live = append(live, c)
				}
			}
		}
	}
	return live, all, true
}

// hasChildren reports whether we have any child, living or zombie, of any
// kind (__WALL).  waitid with WNOWAIT and WNOHANG changes nothing; only
// ECHILD proves that there is none, so any other answer counts as "yes".
func hasChildren() bool {
	const pAll, wALL = 0, 0x40000000
	var si siginfo
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, pAll, 0, uintptr(unsafe.Pointer(&si)),
			syscall.WEXITED|syscall.WNOHANG|wNOWAIT|wALL, 0, 0)
		if e != syscall.EINTR {
			return e != syscall.ECHILD
		}
	}
}

// catches reports whether process pid has a handler for sig: the SigCgt
// mask of /proc/PID/status (proc(5)), bit sig-1.
func catches(pid int, sig syscall.Signal) (bool, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if mask, ok := strings.CutPrefix(line, "SigCgt:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			if err != nil {
				return false, fmt.Errorf("/proc/%d/status: SigCgt: %w", pid, err)
			}
			return m&(1<<(uint(sig)-1)) != 0, nil
		}
	}
	return false, fmt.Errorf("/proc/%d/status has no SigCgt line", pid)
}

func isZombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // gone: nothing left to stop
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}

// inheritedFD reports whether fd is open without close-on-exec.  Go opens
// all of its own descriptors close-on-exec, so these came from our parent.
func inheritedFD(fd int) bool {
	flags, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
	return e == 0 && flags&syscall.FD_CLOEXEC == 0
}

// inheritedFDs lists the inherited descriptors above 2, in increasing
// order.  It reads the directory with plain system calls: os.ReadDir's
// file and directory buffers cost more than the few entries are worth on
// every start.
func inheritedFDs() []int {
	dir, err := syscall.Open("/proc/self/fd", syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil
	}
	defer syscall.Close(dir)
	var fds []int
	var buf [4096]byte
	var names []string
	for {
		n, err := syscall.ReadDirent(dir, buf[:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			slices.Sort(fds)
			return fds
		}
		_, _, names = syscall.ParseDirent(buf[:n], -1, names[:0])
		for _, name := range names {
			fd, err := strconv.Atoi(name)
			if err == nil && fd > 2 && inheritedFD(fd) {
				fds = append(fds, fd)
			}
		}
	}
}
