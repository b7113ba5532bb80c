package limits

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
)

var update = flag.Bool("update", false, "rewrite the want.json golden files under testdata")

// TestGolden reads each captured or documented root under
// testdata/<platform>/<case>/root and compares the limits, with the cores
// and memory they leave, against want.json beside it.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob("testdata/*/*/root")
	if err != nil || len(cases) == 0 {
		t.Fatalf("no cases under testdata: %v", err)
	}
	for _, root := range cases {
		dir := filepath.Dir(root)
		t.Run(filepath.ToSlash(dir[len("testdata/"):]), func(t *testing.T) {
			l, err := Read(os.DirFS(root))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := json.MarshalIndent(struct {
				Limits
				Cores  int   `json:"cores"`
				Memory int64 `json:"memory"`
			}{l, l.Cores(), l.Memory()}, "", "  ")
			got = append(got, '\n')
			want := filepath.Join(dir, "want.json")
			if *update {
				if err := os.WriteFile(want, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			b, err := os.ReadFile(want)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != string(got) {
				t.Errorf("got\n%s\nwant\n%s", got, b)
			}
		})
	}
}

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		name  string
		l     Limits
		cores int
		mem   int64
	}{
		{"no limits", Limits{CPUs: 8, HostMemory: 16 << 30}, 8, 16 << 30},
		{"quota rounds up", Limits{CPUs: 8, CPUQuota: 1.5, HostMemory: 16 << 30, MemoryLimit: 3 << 30}, 2, 3 << 30},
		{"quota above the cpus", Limits{CPUs: 2, CPUQuota: 4}, 2, 0},
		{"a fraction of one cpu", Limits{CPUs: 2, CPUQuota: 0.25}, 1, 0},
		{"no cpus read", Limits{}, 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.l.Cores(); got != tc.cores {
				t.Errorf("Cores() = %d, want %d", got, tc.cores)
			}
			if got := tc.l.Memory(); got != tc.mem {
				t.Errorf("Memory() = %d, want %d", got, tc.mem)
			}
		})
	}
}

func TestUnreadable(t *testing.T) {
	status := &fstest.MapFile{Data: []byte("Name:\tsh\nCpus_allowed_list:\t0-1\n")}
	meminfo := &fstest.MapFile{Data: []byte("MemTotal:       24683784 kB\n")}
	for _, tc := range []struct {
		name string
		fsys fstest.MapFS
	}{
		{"no status", fstest.MapFS{"proc/meminfo": meminfo}},
		{"no meminfo", fstest.MapFS{"proc/self/status": status}},
		{"bad cpu list", fstest.MapFS{"proc/meminfo": meminfo, "proc/self/status": {Data: []byte("Cpus_allowed_list:\t3-1\n")}}},
		{"no cpu list", fstest.MapFS{"proc/meminfo": meminfo, "proc/self/status": {Data: []byte("Name:\tsh\n")}}},
		{"bad memtotal", fstest.MapFS{"proc/self/status": status, "proc/meminfo": {Data: []byte("MemTotal: lots kB\n")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Read(tc.fsys); !errors.Is(err, ErrUnreadable) {
				t.Errorf("Read: %v, want ErrUnreadable", err)
			}
		})
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{`/a\040b`: "/a b", `/plain`: "/plain", `/end\04`: `/end\04`, `\134x`: `\x`} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzRead: any bytes in the files give limits or ErrUnreadable, never a
// panic, and never a core count below 1.
func FuzzRead(f *testing.F) {
	f.Add([]byte("Cpus_allowed_list:\t0-1\n"), []byte("MemTotal: 1024 kB\n"), []byte("0::/\n"),
		[]byte("1 0 0:26 / /sys/fs/cgroup ro - cgroup2 cgroup rw\n"), []byte("150000 100000"))
	f.Fuzz(func(t *testing.T, status, meminfo, cgroup, mountinfo, cpumax []byte) {
		l, err := Read(fstest.MapFS{
			"proc/self/status": {Data: status}, "proc/meminfo": {Data: meminfo},
			"proc/self/cgroup": {Data: cgroup}, "proc/self/mountinfo": {Data: mountinfo},
			"sys/fs/cgroup/cpu.max": {Data: cpumax}, "sys/fs/cgroup/memory.max": {Data: cpumax},
		})
		if err != nil && !errors.Is(err, ErrUnreadable) {
			t.Fatalf("error without ErrUnreadable: %v", err)
		}
		if err == nil && l.Cores() < 1 {
			t.Fatalf("Cores() = %d", l.Cores())
		}
	})
}
