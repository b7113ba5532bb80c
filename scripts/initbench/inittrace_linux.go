package main

// What a Go init's package initialisation costs before its main runs, from
// the runtime's own trace (GODEBUG=inittrace=1: one line per package with
// its clock time and allocations, on stderr).

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// initResult is the package initialisation of one Go program.
type initResult struct {
	totalUs  dist               // the sum over its packages, per run
	pkgUs    map[string]float64 // each package's median clock time
	packages int
}

// measureInits runs prefix /bin/true runs times with the trace on. A
// program that prints no trace (not Go, or built without it) gives an
// empty result and no error.
func measureInits(prefix []string, runs int) (initResult, error) {
	r := initResult{pkgUs: map[string]float64{}}
	per := map[string][]float64{}
	var totals []float64
	for range runs {
		cmd := exec.Command(prefix[0], append(prefix[1:], "/bin/true")...)
		cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return r, fmt.Errorf("%s /bin/true: %v", strings.Join(prefix, " "), err)
		}
		pkgs := parseInitTrace(stderr.Bytes())
		if len(pkgs) == 0 {
			return r, nil
		}
		total := 0.0
		for p, us := range pkgs {
			per[p] = append(per[p], us)
			total += us
		}
		totals = append(totals, total)
		r.packages = len(pkgs)
	}
	if len(totals) == 0 {
		return r, nil
	}
	r.totalUs = summarise(totals)
	for p, v := range per {
		r.pkgUs[p] = summarise(v).median
	}
	return r, nil
}

// parseInitTrace reads the runtime's lines, "init PKG @T ms, C ms clock, B
// bytes, A allocs", into each package's clock time in µs.
func parseInitTrace(b []byte) map[string]float64 {
	pkgs := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 7 || f[0] != "init" || f[6] != "clock," {
			continue
		}
		ms, err := strconv.ParseFloat(f[4], 64)
		if err != nil {
			continue
		}
		pkgs[f[1]] += ms * 1000
	}
	return pkgs
}

// initsAbove lists the packages of ours that the floor does not have, the
// costliest first, at most n of them, and their sum.
func initsAbove(ours, floor initResult, n int) ([]string, float64) {
	type cost struct {
		pkg string
		us  float64
	}
	var extra []cost
	sum := 0.0
	for p, us := range ours.pkgUs {
		if _, shared := floor.pkgUs[p]; !shared {
			extra = append(extra, cost{p, us})
			sum += us
		}
	}
	sort.Slice(extra, func(i, j int) bool {
		if extra[i].us != extra[j].us {
			return extra[i].us > extra[j].us
		}
		return extra[i].pkg < extra[j].pkg
	})
	var top []string
	for _, c := range extra[:min(n, len(extra))] {
		top = append(top, fmt.Sprintf("%s %.0f", c.pkg, c.us))
	}
	return top, sum
}
