package etcfiles

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/snufkin/swarming-spark/discovery/etcformat"
)

// addGoldenSeeds seeds f with every platform file and golden output under
// testdata, each paired with every set of arguments, so the fuzzer starts
// from real shapes (and from files that already carry our block).
func addGoldenSeeds(f *testing.F, k goldenKind) {
	var inputs, args [][]byte
	for _, dir := range caseDirs(f) {
		for _, name := range []string{k.input, k.want} {
			if b := readOptional(f, filepath.Join(dir, name)); b != nil {
				inputs = append(inputs, b)
			}
		}
		if b := readOptional(f, filepath.Join(dir, k.args)); b != nil {
			args = append(args, b)
		}
	}
	args = append(args, []byte(""))
	for _, in := range inputs {
		for _, a := range args {
			f.Add(in, string(a))
		}
	}
}

// FuzzRewriteHosts feeds arbitrary files and entries (written in hosts
// syntax) to RewriteHosts and checks it never panics, is idempotent, keeps
// the lines outside its block, and writes entries LookupHosts can read.
func FuzzRewriteHosts(f *testing.F) {
	addGoldenSeeds(f, goldenKinds[0])
	f.Add([]byte("a\n"+beginMarker+"\n"), "10.0.0.1 x")
	f.Add([]byte("1.2.3.4 a\r\nno newline"), "::1 y z")
	f.Fuzz(func(t *testing.T, in []byte, args string) {
		entries, err := parseEntries([]byte(args))
		if err != nil {
			return
		}
		checkHostsProps(t, in, entries)
		for _, name := range []string{"localhost", "spark-master", args} {
			LookupHosts(in, name) // must not panic
		}
	})
}

// FuzzRewriteResolv feeds arbitrary files and wanted configurations
// (written in resolv.conf syntax) to RewriteResolv and checks it never
// panics, is idempotent, round-trips on removal and produces a file whose
// effective configuration is the documented merge.
func FuzzRewriteResolv(f *testing.F) {
	addGoldenSeeds(f, goldenKinds[1])
	f.Add([]byte("# swarming-spark disabled: # swarming-spark disabled: search a\n"), "options ndots:5")
	f.Add([]byte("nameserver 1.1.1.1\r\nsearch\n  domain x"), "nameserver 10.96.0.10\nsearch a b")
	f.Fuzz(func(t *testing.T, in []byte, args string) {
		want, err := etcformat.ParseResolv([]byte(args))
		if err != nil {
			return
		}
		etcformat.ParseResolv(in) // must not panic
		checkResolvProps(t, in, want)
	})
}

// TestFuzzCorpusLayout keeps the regression corpus where go test finds it:
// crashers found while fuzzing are committed under testdata/fuzz/<Target>/.
func TestFuzzCorpusLayout(t *testing.T) {
	entries, err := os.ReadDir(filepath.Join("testdata", "fuzz"))
	if err != nil {
		t.Skip("no regression corpus yet")
	}
	for _, e := range entries {
		if n := e.Name(); n != "FuzzRewriteHosts" && n != "FuzzRewriteResolv" {
			t.Errorf("testdata/fuzz/%s belongs to no fuzz target", n)
		}
	}
}
