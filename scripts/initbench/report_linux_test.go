package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

func TestSplice(t *testing.T) {
	sec := heading + "\n\n" + beginMark + "\nNEW\n" + endMark + "\n"
	old := heading + "\n\n" + beginMark + "\nOLD\n" + endMark + "\n"
	cluster := "## Cluster\n\nnumbers\n"
	cases := []struct {
		name, in, want string
	}{
		{"empty file", "", "# Benchmarks\n\n" + sec},
		{"shell harness output", "# Init benchmarks\n\n| table |\n", "# Benchmarks\n\n" + sec + "\n"},
		{"shell harness output, cluster after", "# Init benchmarks\n\n| table |\n\n" + cluster, "# Benchmarks\n\n" + sec + "\n" + cluster},
		{"ours, cluster after", "# Benchmarks\n\n" + old + "\n" + cluster, "# Benchmarks\n\n" + sec + "\n" + cluster},
		{"ours, cluster before", "# Benchmarks\n\n" + cluster + "\n" + old, "# Benchmarks\n\n" + cluster + "\n" + sec},
		{"someone else's file", "# Notes\n\ntext\n", "# Notes\n\ntext\n\n" + sec},
	}
	for _, c := range cases {
		if got := string(splice([]byte(c.in), []byte(sec))); got != c.want {
			t.Errorf("%s:\ngot  %q\nwant %q", c.name, got, c.want)
		}
	}
}

func TestTargets(t *testing.T) {
	row := func(prefix string, ratio, termAdded float64) result {
		return result{prefix: strings.Fields(prefix), start: startResult{ratio: dist{median: ratio}}, term: termResult{addedUs: dist{median: termAdded}}}
	}
	inits := []result{row("bin/entrypoint --", 6, 150), row("tini --", 2, 50)}
	cases := []struct {
		name string
		refs []result
		want []string // phrases the section must hold
	}{
		{"against -all, met", []result{row("/tmp/x/gofloor --", 3, 100), row("/tmp/x/gofloor -all --", 5.5, 145)},
			[]string{"against the Go floor `gofloor -all --`", "6.00 vs 5.50 (1.09x): met", "150 vs 145 µs (+5): met"}},
		{"missed", []result{row("/tmp/x/gofloor -all --", 4, 100)},
			[]string{"6.00 vs 4.00 (1.50x): **missed**", "150 vs 100 µs (+50): **missed**", "against `tini --`"}},
		{"one reference without -all", []result{row("/tmp/x/gofloor --", 6, 150)},
			[]string{"against the Go floor `gofloor --`", "(1.00x): met"}},
	}
	for _, c := range cases {
		var b strings.Builder
		targets(func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }, inits, c.refs)
		out := b.String()
		for _, want := range c.want {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q lacks %q", c.name, out, want)
			}
		}
		if strings.Contains(out, "/tmp/x") {
			t.Errorf("%s: %q names the temporary directory", c.name, out)
		}
	}
	var b bytes.Buffer
	section(&b, inits, []result{row("/tmp/x/gofloor -all --", 9, 1)}, short)
	if !strings.Contains(b.String(), "Targets (ours against the Go floor") || !strings.Contains(b.String(), endMark) {
		t.Errorf("the section has no targets against the floor:\n%s", b.String())
	}
}

func TestInitTrace(t *testing.T) {
	trace := []byte("init runtime @0.27 ms, 0.053 ms clock, 0 bytes, 0 allocs\n" +
		"init github.com/miekg/dns @4.0 ms, 0.14 ms clock, 22672 bytes, 84 allocs\n" +
		"GC forced\n" +
		"init os @1.3 ms, 0.079 ms clock, 448 bytes, 9 allocs\n")
	got := parseInitTrace(trace)
	want := map[string]float64{"runtime": 53, "github.com/miekg/dns": 140, "os": 79}
	if len(got) != len(want) {
		t.Fatalf("parseInitTrace = %v, want %v", got, want)
	}
	for p, us := range want {
		if d := got[p] - us; d > 0.001 || d < -0.001 {
			t.Errorf("parseInitTrace[%s] = %v, want %v", p, got[p], us)
		}
	}
	ours := initResult{pkgUs: got, packages: 3}
	floor := initResult{pkgUs: map[string]float64{"runtime": 50, "os": 70}, packages: 2}
	top, sum := initsAbove(ours, floor, 8)
	if len(top) != 1 || top[0] != "github.com/miekg/dns 140" || sum != 140 {
		t.Errorf("initsAbove = %v, %v; want [github.com/miekg/dns 140], 140", top, sum)
	}
}
