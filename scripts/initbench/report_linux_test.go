package main

import "testing"

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
