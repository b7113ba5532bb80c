//go:build linux

package supervisor

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// trimDelay is how long the workload runs before the supervisor gives back
// the memory it needed to start; a short command is over before then and
// costs nothing extra.
const trimDelay = 100 * time.Millisecond

// trimMemory shrinks the resident set of an idle supervisor.  Start-up
// (settings, logging, discovery, the runtime's own initialisation) touches
// most of this large static binary; the idle loop needs a few pages of it.
// The read-only mappings of the executable are dropped from our page tables
// (the pages stay in the page cache, and whatever runs later faults its
// pages back, with the kernel's fault-around: about 1.5 MB for the idle
// loop, signal relay and reaping), and the heap's free pages go back to the
// kernel.  Writable mappings are never touched: dropping them would lose
// data.
func trimMemory() {
	debug.FreeOSMemory()
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil || !fixedAddress() {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	type span struct{ start, end uintptr }
	var spans []span
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 00400000-0066c000 r-xp 00000000 fd:01 123 /path/to/exe
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		lo, hi, ok := strings.Cut(fields[0], "-")
		if !ok {
			continue
		}
		a, err1 := strconv.ParseUint(lo, 16, 64)
		b, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || b <= a {
			continue
		}
		spans = append(spans, span{uintptr(a), uintptr(b)})
	}
	for _, s := range spans {
		_, _, _ = syscall.Syscall(syscall.SYS_MADVISE, s.start, s.end-s.start, syscall.MADV_DONTNEED)
	}
}

// fixedAddress reports whether this executable is linked at a fixed address
// (ELF type ET_EXEC, what CGO_ENABLED=0 builds on Linux by default). A
// position-independent one has read-only pages that the loader relocated
// before write-protecting them (RELRO); dropping those would bring back the
// file's unrelocated bytes.
func fixedAddress() bool {
	f, err := os.Open("/proc/self/exe")
	if err != nil {
		return false
	}
	defer f.Close()
	var hdr [18]byte // e_ident (16 bytes), then e_type
	if _, err := f.ReadAt(hdr[:], 0); err != nil || string(hdr[:4]) != "\x7fELF" {
		return false
	}
	const etExec = 2
	if hdr[5] == 2 { // ELFDATA2MSB
		return hdr[16] == 0 && hdr[17] == etExec
	}
	return hdr[16] == etExec && hdr[17] == 0
}
