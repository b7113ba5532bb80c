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
