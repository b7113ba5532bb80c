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

func TestFloor(t *testing.T) {
	row := func(prefix string, ratio float64) result {
		return result{prefix: strings.Fields(prefix), start: startResult{ratio: dist{median: ratio}}}
	}
	inits := []result{row("bin/entrypoint --", 6), row("tini --", 2)}
	cases := []struct {
		name       string
		floorRatio float64
		want       string // a phrase the verdict must hold
	}{
		{"floor misses the target", 3.5, "is below the Go floor itself (3.50, +0.50 over)"},
		{"floor meets the target", 2.5, "is above the Go floor (2.50): a minimal Go supervisor meets it here; ours is +3.00 from it"},
	}
	for _, c := range cases {
		var b strings.Builder
		refs := []result{row("/tmp/x/gofloor --", c.floorRatio)}
		floor(func(f string, a ...any) { fmt.Fprintf(&b, f, a...) }, inits, refs)
		out := b.String()
		if !strings.Contains(out, c.want) {
			t.Errorf("%s: %q lacks %q", c.name, out, c.want)
		}
		if strings.Contains(out, "/tmp/x") {
			t.Errorf("%s: %q names the temporary directory", c.name, out)
		}
	}
	var b bytes.Buffer
	section(&b, inits, []result{row("/tmp/x/gofloor --", 9)}, short)
	targets := b.String()[strings.Index(b.String(), "Targets"):strings.Index(b.String(), "Go floor")]
	if strings.Contains(targets, "gofloor") || strings.Contains(targets, "9.00") {
		t.Errorf("the targets mention the reference:\n%s", targets)
	}
}
