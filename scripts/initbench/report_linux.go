package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

// The supervisor section is its heading, then everything between these
// markers; the rest of the file (other benchmarks) is kept as it is.  The
// heading comes first so that a neighbour section that runs "until the next
// heading" never takes the begin marker with it.
const (
	heading   = "## Supervisor (PID 1) against tini and dumb-init"
	beginMark = "<!-- initbench: begin (scripts/bench.sh writes this section) -->"
	endMark   = "<!-- initbench: end -->"
)

// Targets from the supervisor's issue.
const (
	targetOverFloor       = 1.10
	targetTermOverFloorUs = 10
	targetRSSkB           = 3 * 1024
)

func writeReport(path string, rows, refs []result, sz sizes) error {
	var b bytes.Buffer
	section(&b, rows, refs, sz)
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(path, splice(old, b.Bytes()), 0o644)
}

// splice replaces the marked section of old with sec.  A file without the
// markers that starts with the section the shell harness used to write
// ("# Init benchmarks", no second-level headings) has that part replaced.
func splice(old, sec []byte) []byte {
	s := string(old)
	if i := strings.Index(s, beginMark); i >= 0 {
		if j := strings.Index(s[i:], endMark); j >= 0 {
			end := i + j + len(endMark)
			if strings.HasPrefix(s[end:], "\n") {
				end++ // sec ends with its own newline
			}
			if h := strings.LastIndex(s[:i], heading); h >= 0 && strings.TrimSpace(s[h+len(heading):i]) == "" {
				i = h
			}
			return []byte(s[:i] + string(sec) + s[end:])
		}
	}
	if strings.HasPrefix(s, "# Init benchmarks") {
		rest := ""
		if k := strings.Index(s, "\n## "); k >= 0 {
			rest = s[k+1:]
		}
		return []byte("# Benchmarks\n\n" + string(sec) + "\n" + rest)
	}
	if strings.TrimSpace(s) == "" {
		return []byte("# Benchmarks\n\n" + string(sec))
	}
	return []byte(strings.TrimRight(s, "\n") + "\n\n" + string(sec))
}

func section(b *bytes.Buffer, rows, refs []result, sz sizes) {
	w := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	w("%s\n\n%s\n\n", heading, beginMark)
	w("Written by `make bench` (`scripts/bench.sh`, the Go harness in `scripts/initbench`), %s run.\n", sz.name)
	w("Every init runs the same child commands in the same run, interleaved with its baseline.\n\n")
	w("- Date: %s\n", time.Now().UTC().Format("2006-01-02 15:04 UTC"))
	w("- Machine: %s, %d CPUs, load average %s at the end (other jobs were running: compare columns of one run, not runs)\n",
		uname(), runtime.NumCPU(), loadavg())
	for _, r := range rows {
		w("- `%s`: %s\n", strings.Join(r.prefix, " "), describe(r.prefix[0]))
	}
	for i, r := range refs {
		if i > 0 && r.prefix[0] == refs[0].prefix[0] {
			w("- reference `%s`: the same program\n", refName(r))
			continue
		}
		size := "not found"
		if fi, err := os.Stat(r.prefix[0]); err == nil {
			size = fmt.Sprintf("%d KB", fi.Size()/1024)
		}
		w("- reference `%s`: %s, `scripts/initbench/gofloor` built like the entrypoint: starts the command with os/exec,\n"+
			"  relays SIGTERM and SIGINT (with `-all`: every signal the entrypoint relays) and exits with its status, nothing else\n",
			refName(r), size)
	}
	w("\n| init | startup ÷ /bin/true | added µs | init CPU µs | VmRSS kB | Pss kB | burst drain ms | CPU ms / 10k reaps | zombies left | exit 42 through storm | race rounds exact | SIGTERM latency µs | added µs | stop µs |\n")
	w("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n")
	for i, r := range rows {
		name := "`" + strings.Join(r.prefix, " ") + "`"
		if i == 0 {
			name = "**" + name + "**"
		}
		w("| %s | %.2f (%.2f–%.2f) | %.0f | %.0f | %.0f | %.0f | %.2f (%.2f–%.2f) | %.1f | %d | %d/%d | %d/%d | %.0f (%.0f–%.0f) | %.0f | %.0f |\n",
			name, r.start.ratio.median, r.start.ratio.min, r.start.ratio.max, r.start.addedUs.median, r.start.cpuUs.median,
			r.rss.vmrss.median, r.rss.pss.median,
			r.storm.drainMs.median, r.storm.drainMs.min, r.storm.drainMs.max, r.storm.cpuMsPer10k.median,
			r.storm.leftMax, r.storm.exitOK, r.storm.rounds, r.storm.raceOK, r.storm.races,
			r.term.latency.median, r.term.latency.min, r.term.latency.max, r.term.addedUs.median, r.term.stopUs.median)
	}
	for _, r := range refs {
		w("| *reference:* `%s` | %.2f (%.2f–%.2f) | %.0f | %.0f | %.0f | %.0f | — | — | — | — | — | %.0f (%.0f–%.0f) | %.0f | %.0f |\n",
			refName(r), r.start.ratio.median, r.start.ratio.min, r.start.ratio.max, r.start.addedUs.median, r.start.cpuUs.median,
			r.rss.vmrss.median, r.rss.pss.median,
			r.term.latency.median, r.term.latency.min, r.term.latency.max, r.term.addedUs.median, r.term.stopUs.median)
	}
	w("\nMedians, min–max in brackets. /bin/true alone took %.0f µs (median) in this run; no-init SIGTERM delivery %.0f µs.\n",
		rows[0].start.trueUs.median, rows[0].term.base.median)
	w("Startup: `INIT /bin/true` against `/bin/true`, %d alternating pairs, ratio per pair; init CPU is\n", sz.startPairs)
	w("user+system of the whole run (the child's included). Memory: PID 1 of a new PID namespace supervising\n")
	w("`sleep 30`, read after 0.5 s, %d trials. Storm: %d orphans in bursts of %d released together,\n", sz.rssTrials, sz.stormN, sz.stormBatch)
	w("%d rounds, drain = release until every orphan is reaped; then %d race rounds where the main child exits\n", sz.stormRounds, sz.raceRounds)
	w("with a random status while %d orphans die. SIGTERM: %d trials, each paired with termrec alone as PID 1.\n", sz.raceOrphans, sz.termPairs)
	targets(w, rows, refs)
	for _, r := range append(append([]result(nil), rows...), refs...) {
		for _, n := range r.notes {
			w("\n**%s failed:** %s\n", strings.Join(r.prefix, " "), n)
		}
	}
	w("%s\n", endMark)
}

// floorRef is the reference the targets are held against: the Go floor
// that relays every signal ours relays (gofloor -all), else the first.
func floorRef(refs []result) (result, bool) {
	for _, r := range refs {
		if slices.Contains(r.prefix, "-all") {
			return r, true
		}
	}
	if len(refs) > 0 {
		return refs[0], true
	}
	return result{}, false
}

// targets states the supervisor's targets for ours (rows[0]): against the
// Go floor measured in the same run, since no Go program starts as fast as
// tini (the floor shows it), and what ours adds to the floor's package
// initialisation, which is where the rest of its start goes.
func targets(w func(string, ...any), rows, refs []result) {
	if len(rows) == 0 {
		return
	}
	ours := rows[0]
	check := func(ok bool) string {
		if ok {
			return "met"
		}
		return "**missed**"
	}
	lost := (ours.storm.rounds - ours.storm.exitOK) + (ours.storm.races - ours.storm.raceOK)
	f, ok := floorRef(refs)
	if !ok {
		w("\nTargets (no Go floor in this run):\n\n")
		w("- PID 1 VmRSS ≤ 3 MiB: %.0f kB: %s\n", ours.rss.vmrss.median, check(ours.rss.vmrss.median <= targetRSSkB))
		w("- 0 zombies left, 0 lost statuses: %d left, %d lost: %s\n", ours.storm.leftMax, lost, check(ours.storm.leftMax == 0 && lost == 0))
		return
	}
	w("\nTargets (ours against the Go floor `%s` in this run):\n\n", refName(f))
	x := ours.start.ratio.median / f.start.ratio.median
	w("- startup within %.2fx of the floor's: %.2f vs %.2f (%.2fx): %s\n", targetOverFloor, ours.start.ratio.median, f.start.ratio.median, x, check(x <= targetOverFloor))
	d := ours.term.addedUs.median - f.term.addedUs.median
	w("- SIGTERM added latency within %d µs of the floor's (median): %.0f vs %.0f µs (%+.0f): %s\n", targetTermOverFloorUs, ours.term.addedUs.median, f.term.addedUs.median, d, check(d <= targetTermOverFloorUs))
	w("- PID 1 VmRSS ≤ 3 MiB: %.0f kB: %s\n", ours.rss.vmrss.median, check(ours.rss.vmrss.median <= targetRSSkB))
	w("- 0 zombies left, 0 lost statuses: %d left, %d lost: %s\n", ours.storm.leftMax, lost, check(ours.storm.leftMax == 0 && lost == 0))
	if ours.inits.packages > 0 && f.inits.packages > 0 {
		top, sum := initsAbove(ours.inits, f.inits, 8)
		w("\nPackage initialisation before main (GODEBUG=inittrace=1, median of %d runs): ours %d packages, %.0f µs; the floor %d packages, %.0f µs.\n",
			ours.inits.totalUs.n, ours.inits.packages, ours.inits.totalUs.median, f.inits.packages, f.inits.totalUs.median)
		w("The packages the floor does not have take %.0f µs; the costliest (µs): %s.\n", sum, strings.Join(top, ", "))
	}
	if len(rows) > 1 {
		w("\nFor comparison, against `%s` (the earlier target, below any Go program): startup %.2f vs %.2f (%+.2f), SIGTERM added %.0f vs %.0f µs\n",
			strings.Join(rows[1].prefix, " "), ours.start.ratio.median, rows[1].start.ratio.median, ours.start.ratio.median-rows[1].start.ratio.median,
			ours.term.addedUs.median, rows[1].term.addedUs.median)
	}
	w("\nGo floor rows (no orphan reaping, so no storm):\n\n")
	for _, r := range refs {
		w("- `%s`: startup ratio %.2f, init CPU %.0f µs, VmRSS %.0f kB, SIGTERM added %.0f µs; ours is %+.2f in ratio, %+.0f µs CPU, %+.0f kB above it\n",
			refName(r), r.start.ratio.median, r.start.cpuUs.median, r.rss.vmrss.median, r.term.addedUs.median,
			ours.start.ratio.median-r.start.ratio.median, ours.start.cpuUs.median-r.start.cpuUs.median,
			ours.rss.vmrss.median-r.rss.vmrss.median)
	}
}

// refName is a reference's prefix with the program's directory left out:
// the harness builds it in a temporary one.
func refName(r result) string {
	return strings.Join(append([]string{filepath.Base(r.prefix[0])}, r.prefix[1:]...), " ")
}

func uname() string {
	out, err := exec.Command("uname", "-srm").Output()
	if err != nil {
		return runtime.GOOS + "/" + runtime.GOARCH
	}
	return strings.TrimSpace(string(out))
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// describe names the binary behind an init: its path, size and, for a
// Debian package, the package version.
func describe(name string) string {
	path, err := exec.LookPath(name)
	if err != nil {
		return "not found"
	}
	s := path
	if fi, err := os.Stat(path); err == nil {
		s += fmt.Sprintf(", %d KB", fi.Size()/1024)
	}
	if out, err := exec.Command("dpkg-query", "-S", path).Output(); err == nil {
		pkg, _, _ := strings.Cut(strings.TrimSpace(string(out)), ":")
		if v, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output(); err == nil {
			s += fmt.Sprintf(", Debian %s %s", pkg, v)
		}
	}
	return s
}
