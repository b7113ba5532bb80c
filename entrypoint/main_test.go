package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/kelseyhightower/envconfig"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
)

// binary is the entrypoint built once for the black-box tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "entrypoint-test")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "entrypoint")
	build := exec.Command("go", "build", "-o", binary, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// TestDocNamesEverySetting keeps the package doc the reference: it names
// every ENTRYPOINT_* setting, and only those.
func TestDocNamesEverySetting(t *testing.T) {
	var buf bytes.Buffer
	if err := envconfig.Usagef(settings.Prefix, &settings.Settings{}, &buf, "{{range .}}{{usage_key .}}\n{{end}}"); err != nil {
		t.Fatal(err)
	}
	want := strings.Fields(buf.String())
	sort.Strings(want)
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, k := range regexp.MustCompile(`ENTRYPOINT_[A-Z_]+[A-Z]`).FindAllString(string(doc), -1) {
		seen[k] = true
	}
	var got []string
	for k := range seen {
		got = append(got, k)
	}
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("doc.go names %q, settings are %q", got, want)
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    []string
		want   int
		stderr string
	}{
		{"child status passes through", []string{"--", "sh", "-c", "exit 7"}, nil, 7, ""},
		{"child killed by signal", []string{"--", "sh", "-c", "kill -TERM $$"}, nil, 143, ""},
		{"command not found", []string{"--", "/nonexistent/cmd"}, nil, 127, "not found"},
		{"command not executable", []string{"--", "/etc/hostname"}, nil, 126, "not executable"},
		{"no subcommand", nil, nil, 64, "usage"},
		{"unknown subcommand", []string{"drive"}, nil, 64, `unknown subcommand "drive"`},
		{"bad duration", []string{"--", "true"}, []string{"ENTRYPOINT_GRACE=10"}, 64, `ENTRYPOINT_GRACE="10"`},
		{"typo in a setting", []string{"--", "true"}, []string{"ENTRYPOINT_GRACEFUL=1s"}, 64, "ENTRYPOINT_GRACEFUL"},
		{"bad log level", []string{"--", "true"}, []string{"ENTRYPOINT_LOG_LEVEL=warning"}, 64, `ENTRYPOINT_LOG_LEVEL="warning"`},
		{"bad master url", []string{"explain"}, []string{"SPARK_MASTER_URL=spark:/x"}, 64, "SPARK_MASTER_URL"},
		{"bad spark port", []string{"explain", "master"}, []string{"SPARK_MASTER_PORT=seventy"}, 64, `SPARK_MASTER_PORT="seventy"`},
		{"worker args", []string{"worker", "spark://a:7077"}, nil, 64, "takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, tt.args...)
			cmd.Env = append([]string{"PATH=/usr/bin:/bin", "ENTRYPOINT_USER=0"}, tt.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			got := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				got = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("entrypoint %q exited %d, want %d; stderr:\n%s", tt.args, got, tt.want, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.stderr) {
				t.Errorf("entrypoint %q stderr = %q, want it to contain %q", tt.args, stderr.String(), tt.stderr)
			}
			if tt.want == 64 && strings.Count(strings.TrimSpace(stderr.String()), "entrypoint: ") != 1 {
				t.Errorf("entrypoint %q: want exactly one error line, got:\n%s", tt.args, stderr.String())
			}
		})
	}
}
