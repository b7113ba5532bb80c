package discovery

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/discovery/discoverytest"
)

var update = flag.Bool("update", false, "rewrite testdata/*/*/want.golden with the current results")

// TestGolden runs Find over every testdata/<platform>/<case>/ directory
// (its files: discoverytest.Case) and compares the rendered Master or error
// with want.golden. The entrypoint's explain test reads the same
// directories and compares explain.json.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range dirs {
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || filepath.Base(filepath.Dir(dir)) == "fuzz" {
			continue
		}
		name := filepath.ToSlash(strings.TrimPrefix(dir, "testdata"+string(filepath.Separator)))
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			in, sources, scrub := loadCase(t, dir)
			m, err := Find(context.Background(), in, sources)
			// The loopback servers' ports change every run.
			got := scrub.Replace(renderResult(m, err))
			golden := filepath.Join(dir, "want.golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", err)
			}
			if got != string(want) {
				t.Errorf("Find(%s):\ngot:\n%s\nwant:\n%s", dir, got, want)
			}
		})
	}
}

// renderResult renders what Find returned in a stable text form.
func renderResult(m Master, err error) string {
	var b strings.Builder
	switch {
	case err == nil:
		fmt.Fprintf(&b, "source: %s\nurl: %s\n", m.Source, m.URL)
		for _, d := range m.Detail {
			fmt.Fprintf(&b, "detail: %s\n", d)
		}
	case errors.Is(err, ErrInvalid):
		fmt.Fprintf(&b, "invalid: %v\n", err)
	case errors.Is(err, ErrNotFound):
		fmt.Fprintf(&b, "not found: %v\n", err)
	default:
		fmt.Fprintf(&b, "error: %v\n", err)
	}
	return b.String()
}

func loadCase(t *testing.T, dir string) (Inputs, []string, *strings.Replacer) {
	t.Helper()
	c := discoverytest.Load(t, dir)
	in := Inputs{Env: c.Env, Hosts: c.Hosts, Resolv: c.Resolv, Service: c.Service, Port: c.Port, HTTP: c.HTTP, DNSServer: c.DNSServer}
	return in, c.Sources, c.Scrub
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
