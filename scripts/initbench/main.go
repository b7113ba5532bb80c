//go:build linux

// Command initbench measures container inits side by side: what starting a
// command through them costs, how much memory they hold while idle, how fast
// they clear a storm of orphaned zombies and whether the main child's exit
// status survives it, and how much delay they add to a SIGTERM on its way to
// the workload.  It writes a Markdown section into BENCHMARKS.md.
//
// Every init is a command prefix ("tini --", "bin/entrypoint --"); the
// benchmark appends its own child command.  The children are this binary
// re-executed in a helper role, so nothing but Go, root and unshare-capable
// kernel is needed.  The PID-1 measurements run each init as PID 1 of a new
// PID namespace with its own /proc, the way a container runtime starts it.
//
// A -ref PREFIX (scripts/initbench/gofloor, the least a Go supervisor does)
// is measured the same way but reported apart, as the floor of an init
// written in Go; it reaps no orphans, so it skips the storm.
//
// usage: initbench [-quick] [-o FILE] [-ref PREFIX]... PREFIX [PREFIX...]
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

func main() {
	if len(os.Args) > 1 && strings.HasPrefix(os.Args[1], "__") {
		os.Exit(role(os.Args[1], os.Args[2:]))
	}
	quick := flag.Bool("quick", false, "fewer trials: a noisier run in about a minute")
	out := flag.String("o", "BENCHMARKS.md", "Markdown file whose supervisor section is replaced")
	var refs refList
	flag.Var(&refs, "ref", "a reference prefix, reported apart from the inits and not held to the targets (repeatable)")
	flag.StringVar(&only, "only", "", "comma-separated subset of startup,rss,storm,sigterm,inits to run (the report is then partial)")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: initbench [-quick] [-o FILE] [-ref PREFIX]... PREFIX [PREFIX...]\n"+
			"  the first PREFIX is ours, e.g. 'bin/entrypoint --'; the others are compared with it")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(64)
	}
	if os.Getuid() != 0 {
		fmt.Fprintln(os.Stderr, "initbench: root is needed for PID namespaces")
		os.Exit(1)
	}
	sz := full
	if *quick {
		sz = short
	}
	var rows []result
	failed := 0
	for _, p := range flag.Args() {
		r := measureInit(strings.Fields(p), sz, false)
		failed += r.failures
		rows = append(rows, r)
	}
	var refRows []result
	for _, p := range refs {
		r := measureInit(strings.Fields(p), sz, true)
		failed += r.failures
		refRows = append(refRows, r)
	}
	if err := writeReport(*out, rows, refRows, sz); err != nil {
		fmt.Fprintf(os.Stderr, "initbench: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s\n", *out)
	if failed > 0 {
		fmt.Fprintf(os.Stderr, "initbench: %d measurement(s) failed\n", failed)
		os.Exit(1)
	}
}

// refList collects the -ref flags.
type refList []string

func (l *refList) String() string { return strings.Join(*l, ";") }

func (l *refList) Set(v string) error {
	if strings.TrimSpace(v) == "" {
		return fmt.Errorf("empty -ref")
	}
	*l = append(*l, v)
	return nil
}

// only, when set, limits the measurements run.
var only string

func want(m string) bool {
	return only == "" || strings.Contains(","+only+",", ","+m+",")
}

// sizes sets how many trials each measurement runs.
type sizes struct {
	name                   string
	startPairs, startWarm  int
	rssTrials              int
	stormRounds, stormN    int
	stormBatch, raceRounds int
	raceOrphans            int
	termPairs, termWarm    int
	initRuns               int
}

var full = sizes{name: "full", startPairs: 200, startWarm: 20, rssTrials: 7,
	stormRounds: 5, stormN: 10000, stormBatch: 250, raceRounds: 30, raceOrphans: 1000,
	termPairs: 200, termWarm: 10, initRuns: 41}

var short = sizes{name: "quick", startPairs: 60, startWarm: 5, rssTrials: 5,
	stormRounds: 2, stormN: 10000, stormBatch: 250, raceRounds: 20, raceOrphans: 1000,
	termPairs: 60, termWarm: 5, initRuns: 11}

// result holds one init's figures.
type result struct {
	prefix   []string
	start    startResult
	rss      rssResult
	storm    stormResult
	term     termResult
	inits    initResult
	failures int
	notes    []string
	ref      bool // a reference program, not an init: no storm, no targets
}

func measureInit(prefix []string, sz sizes, ref bool) result {
	r := result{prefix: prefix, ref: ref}
	name := strings.Join(prefix, " ")
	fmt.Printf("== %s\n", name)
	var err error
	if want("startup") {
		if r.start, err = measureStart(prefix, sz); err != nil {
			r.fail("startup: %v", err)
		}
	}
	fmt.Printf("startup: ratio %.2f (added %.0f us)\n", r.start.ratio.median, r.start.addedUs.median)
	if want("rss") {
		if r.rss, err = measureRSS(prefix, sz); err != nil {
			r.fail("rss: %v", err)
		}
	}
	fmt.Printf("rss: VmRSS %.0f kB, Pss %.0f kB\n", r.rss.vmrss.median, r.rss.pss.median)
	if want("storm") && !ref {
		if r.storm, err = measureStorm(prefix, sz); err != nil {
			r.fail("storm: %v", err)
		}
	}
	fmt.Printf("storm: drain %.2f ms, left %d, exit %d/%d, race %d/%d\n", r.storm.drainMs.median,
		r.storm.leftMax, r.storm.exitOK, r.storm.rounds, r.storm.raceOK, r.storm.races)
	if want("sigterm") {
		if r.term, err = measureTerm(prefix, sz); err != nil {
			r.fail("sigterm: %v", err)
		}
	}
	fmt.Printf("sigterm: %.1f us, added %.1f us\n", r.term.latency.median, r.term.addedUs.median)
	if want("inits") {
		if r.inits, err = measureInits(prefix, sz.initRuns); err != nil {
			r.fail("inits: %v", err)
		}
		fmt.Printf("inits: %d packages, %.0f us\n", r.inits.packages, r.inits.totalUs.median)
	}
	return r
}

func (r *result) fail(format string, a ...any) {
	r.failures++
	msg := fmt.Sprintf(format, a...)
	r.notes = append(r.notes, msg)
	fmt.Fprintf(os.Stderr, "initbench: %s: %s\n", strings.Join(r.prefix, " "), msg)
}
