package discovery

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*/*/want.golden with the current results")

// TestGolden runs Find over every testdata/<platform>/<case>/ directory.
//
// A case directory may hold:
//
//	env         KEY=VALUE lines (# comments); "{{ECS}}" is replaced by the
//	            URL of a loopback server serving the case's ecs/ directory
//	hosts       /etc/hosts contents
//	resolv.conf /etc/resolv.conf contents
//	dns.zone    records a loopback DNS server answers (RFC 1035 zone lines,
//	            absolute names); every other question gets NXDOMAIN
//	args        "sources: a b", "service: name", "port: n", "dns: truncate"
//	ecs/        files served at /v4/<path>; metadata.json is the container
//	            metadata file (ECS_CONTAINER_METADATA_FILE={{ECSFILE}})
//	want.golden the rendered Master or error
//
// The DNS server override always points at the case's own loopback server,
// so no case can reach a real resolver, not even 127.0.0.11.
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

type caseArgs struct {
	sources  []string
	truncate bool
}

func loadCase(t *testing.T, dir string) (Inputs, []string, *strings.Replacer) {
	t.Helper()
	in := Inputs{Env: map[string]string{}}
	var args caseArgs
	if b, err := os.ReadFile(filepath.Join(dir, "args")); err == nil {
		args = parseArgs(t, &in, b)
	}
	in.Hosts = readOptional(t, filepath.Join(dir, "hosts"))
	in.Resolv = readOptional(t, filepath.Join(dir, "resolv.conf"))

	repl := strings.NewReplacer()
	ecsURL := "{{ECS}}"
	if fi, err := os.Stat(filepath.Join(dir, "ecs")); err == nil && fi.IsDir() {
		srv := newECSServer(t, filepath.Join(dir, "ecs"))
		repl = strings.NewReplacer("{{ECS}}", srv.URL, "{{ECSFILE}}", filepath.Join(dir, "ecs", "metadata.json"))
		in.HTTP = srv.Client()
		ecsURL = srv.URL
	}
	for k, v := range parseEnvFile(t, readOptional(t, filepath.Join(dir, "env"))) {
		in.Env[k] = repl.Replace(v)
	}
	zone := readOptional(t, filepath.Join(dir, "dns.zone"))
	in.DNSServer = startDNS(t, parseZone(t, zone), args.truncate)
	return in, args.sources, strings.NewReplacer(in.DNSServer, "{{DNS}}", ecsURL, "{{ECS}}")
}

func parseArgs(t *testing.T, in *Inputs, b []byte) caseArgs {
	t.Helper()
	var a caseArgs
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		v = strings.TrimSpace(v)
		switch strings.TrimSpace(k) {
		case "sources":
			a.sources = strings.Fields(v)
		case "service":
			in.Service = v
		case "port":
			p, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("args port %q: %v", v, err)
			}
			in.Port = p
		case "dns":
			a.truncate = v == "truncate"
		default:
			t.Fatalf("unknown args key %q", k)
		}
	}
	return a
}

func parseEnvFile(t *testing.T, b []byte) map[string]string {
	t.Helper()
	env := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := sc.Text()
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("env line %q has no =", line)
		}
		env[k] = v
	}
	return env
}

func readOptional(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
