// Package limits reads what a container may use: the CPUs its processes
// may run on, its cgroup's CPU quota and memory limit, and the host's
// memory, from /proc and /sys/fs/cgroup (cgroup v1 or v2).
//
// A JVM sizes itself from the same figures (JDK 17's container support),
// and a Spark worker offers the cores and memory its JVM reports
// (WorkerArguments: Runtime.availableProcessors, and the total memory
// less 1 GiB, at least 1 GiB). Reading them here lets the entrypoint show
// them and choose a worker's offer before the JVM starts.
//
// Everything is read through an fs.FS rooted at "/", so the parsing is
// tested on files captured from real engines.
package limits

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
)

// Limits is what one container may use. Zero CPUQuota or MemoryLimit
// means its cgroup sets none.
type Limits struct {
	// Cgroup is "v1", "v2" or "" (no cgroup file system mounted).
	Cgroup string `json:"cgroup"`
	// CPUs is how many CPUs the process may run on (its affinity,
	// Cpus_allowed_list, which a cpuset narrows).
	CPUs int `json:"cpus"`
	// CPUQuota is the cgroup's CPU time per period, in CPUs (1.5 for
	// docker run --cpus=1.5).
	CPUQuota float64 `json:"cpu_quota,omitempty"`
	// HostMemory is the machine's memory (MemTotal), in bytes.
	HostMemory int64 `json:"host_memory"`
	// MemoryLimit is the cgroup's memory limit in bytes, when below the
	// host's memory (cgroup v1 writes "no limit" as a huge number).
	MemoryLimit int64 `json:"memory_limit,omitempty"`
}

// ErrUnreadable marks /proc files a Linux process always has that could not
// be read or parsed.
var ErrUnreadable = errors.New("cannot read the container's limits")

// Read reads the limits of the calling process from fsys, the root file
// system ("/").
func Read(fsys fs.FS) (Limits, error) {
	var l Limits
	status, err := fs.ReadFile(fsys, "proc/self/status")
	if err != nil {
		return l, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if l.CPUs, err = allowedCPUs(status); err != nil {
		return l, err
	}
	meminfo, err := fs.ReadFile(fsys, "proc/meminfo")
	if err != nil {
		return l, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	if l.HostMemory, err = memTotal(meminfo); err != nil {
		return l, err
	}
	mounts, _ := fs.ReadFile(fsys, "proc/self/mountinfo")
	groups, _ := fs.ReadFile(fsys, "proc/self/cgroup")
	dirs := cgroupDirs(mounts, groups)
	if len(dirs) == 0 {
		return l, nil
	}
	l.Cgroup = "v1"
	if dirs["cpu"].v2 || dirs["memory"].v2 {
		l.Cgroup = "v2"
	}
	l.CPUQuota = cpuQuota(fsys, dirs["cpu"])
	if m := memoryLimit(fsys, dirs["memory"]); m > 0 && m < l.HostMemory {
		l.MemoryLimit = m
	}
	return l, nil
}

// cgroupDir is where a controller's files for this process are.
type cgroupDir struct {
	dir string
	v2  bool
}

// cgroupDirs finds the directory of the cpu and memory controllers. A
// controller's files are at its mount point joined with the process's
// cgroup path relative to the mount's root: Docker and the kubelet mount
// the container's own cgroup at the mount point (root /docker/ID, path
// /docker/ID), a host process sees the whole hierarchy (root /). A v1
// hierarchy that names the controller wins over the v2 one: on a hybrid
// host the v2 mount (/sys/fs/cgroup/unified) holds no controller.
func cgroupDirs(mountinfo, cgroup []byte) map[string]cgroupDir {
	paths := map[string]string{} // v1 controller or "" (v2) -> cgroup path
	for _, line := range lines(cgroup) {
		// hierarchy-ID:controller-list:cgroup-path (proc(5))
		f := strings.SplitN(line, ":", 3)
		if len(f) != 3 {
			continue
		}
		if f[1] == "" {
			paths[""] = f[2]
			continue
		}
		for _, c := range strings.Split(f[1], ",") {
			paths[c] = f[2]
		}
	}
	dirs := map[string]cgroupDir{}
	var v2 string
	for _, line := range lines(mountinfo) {
		// ID parent major:minor root mount-point options [optional...] - fstype source super-options
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 {
			continue
		}
		root, point := unescape(f[3]), unescape(f[4])
		switch g[0] {
		case "cgroup2":
			v2 = join(point, root, paths[""])
		case "cgroup":
			for _, c := range strings.Split(g[2], ",") {
				if c == "cpu" || c == "memory" {
					dirs[c] = cgroupDir{dir: join(point, root, paths[c])}
				}
			}
		}
	}
	if v2 != "" {
		for _, c := range []string{"cpu", "memory"} {
			if _, ok := dirs[c]; !ok {
				dirs[c] = cgroupDir{dir: v2, v2: true}
			}
		}
	}
	return dirs
}

// join is the directory of cgroup path p under a mount of root at point.
func join(point, root, p string) string {
	rel := ""
	switch {
	case root == "/":
		rel = p
	case p == root || strings.HasPrefix(p, root+"/"):
		rel = strings.TrimPrefix(p, root)
	}
	return strings.TrimPrefix(path.Join(point, rel), "/")
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// cpuQuota is the quota in CPUs: cpu.max ("max 100000" or "150000
// 100000") on v2, cpu.cfs_quota_us (-1: none) over cpu.cfs_period_us on v1.
func cpuQuota(fsys fs.FS, d cgroupDir) float64 {
	if d.dir == "" {
		return 0
	}
	var quota, period string
	if d.v2 {
		f := strings.Fields(readString(fsys, path.Join(d.dir, "cpu.max")))
		if len(f) != 2 {
			return 0
		}
		quota, period = f[0], f[1]
	} else {
		quota = readString(fsys, path.Join(d.dir, "cpu.cfs_quota_us"))
		period = readString(fsys, path.Join(d.dir, "cpu.cfs_period_us"))
	}
	q, err1 := strconv.ParseInt(quota, 10, 64)
	p, err2 := strconv.ParseInt(period, 10, 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0
	}
	return float64(q) / float64(p)
}

// memoryLimit is memory.max ("max": none) on v2, memory.limit_in_bytes on
// v1, in bytes; 0 when none is set or the file is missing.
func memoryLimit(fsys fs.FS, d cgroupDir) int64 {
	if d.dir == "" {
		return 0
	}
	name := "memory.limit_in_bytes"
	if d.v2 {
		name = "memory.max"
	}
	n, err := strconv.ParseInt(readString(fsys, path.Join(d.dir, name)), 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

func readString(fsys fs.FS, name string) string {
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return ""
	}
	return string(bytes.TrimSpace(b))
}

// allowedCPUs counts Cpus_allowed_list ("0-3,6") in /proc/self/status.
func allowedCPUs(status []byte) (int, error) {
	for _, line := range lines(status) {
		v, ok := strings.CutPrefix(line, "Cpus_allowed_list:")
		if !ok {
			continue
		}
		n := 0
		for _, r := range strings.Split(strings.TrimSpace(v), ",") {
			lo, hi, isRange := strings.Cut(r, "-")
			a, err1 := strconv.Atoi(lo)
			b, err2 := a, error(nil)
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || b < a {
				return 0, fmt.Errorf("%w: Cpus_allowed_list %q", ErrUnreadable, strings.TrimSpace(v))
			}
			n += b - a + 1
		}
		return n, nil
	}
	return 0, fmt.Errorf("%w: no Cpus_allowed_list in /proc/self/status", ErrUnreadable)
}

// memTotal is MemTotal in /proc/meminfo, in bytes.
func memTotal(meminfo []byte) (int64, error) {
	for _, line := range lines(meminfo) {
		if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil || kb <= 0 || kb > math.MaxInt64/1024 {
				return 0, fmt.Errorf("%w: MemTotal %q", ErrUnreadable, strings.TrimSpace(v))
			}
			return kb * 1024, nil
		}
	}
	return 0, fmt.Errorf("%w: no MemTotal in /proc/meminfo", ErrUnreadable)
}

func lines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	return out
}

// Cores is how many CPUs the container may keep busy: its CPUs, fewer when
// a quota is set (rounded up, as the JVM's availableProcessors does), at
// least 1.
func (l Limits) Cores() int {
	n := l.CPUs
	if q := int(math.Ceil(l.CPUQuota)); q > 0 && q < n {
		n = q
	}
	return max(n, 1)
}

// Memory is the memory the container may use: its limit, or the host's.
func (l Limits) Memory() int64 {
	if l.MemoryLimit > 0 {
		return l.MemoryLimit
	}
	return l.HostMemory
}
