//go:build linux

package supervisor

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
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
// name processes outside the container.
func procMatches() bool {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return false
	}
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return false
	}
	pid, err := strconv.Atoi(string(b[:i]))
	return err == nil && pid == os.Getpid()
}

// others returns the processes other than us that the stop sequence must
// take care of: as PID 1 every process in the namespace (docker exec'd ones
// included, as kill(-1) would), otherwise our descendants.  live excludes
// zombies; all includes them.
func others(pid1 bool) (live []int, all int) {
	self := os.Getpid()
	if !pid1 {
		if l, a, ok := descendants(self); ok {
			return l, a
		}
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

// maxInherited returns the highest inherited descriptor number, or 2.
func maxInherited() int {
	max := 2
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return max
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err == nil && fd > max && inheritedFD(fd) {
			max = fd
		}
	}
	return max
}
