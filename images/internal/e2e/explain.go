package e2e

// What the entrypoint says of itself in a container: explain, and the
// checks built on it and on ready.

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// Explanation is the part of `entrypoint explain` the tests read.
type Explanation struct {
	Role   string `json:"role"`
	Master *struct {
		URL    string   `json:"url"`
		Source string   `json:"source"`
		Detail []string `json:"detail"`
	} `json:"master"`
	Advertise struct {
		Host      string `json:"host"`
		PublicDNS string `json:"public_dns"`
		Source    string `json:"source"`
	} `json:"advertise"`
	Removed []struct {
		Name, Value, Reason string
	} `json:"env_removed"`
	Warnings     []string `json:"warnings"`
	Error        string   `json:"error"`
	ClassArchive *struct {
		File string `json:"file"`
		Used bool   `json:"used"`
		Why  string `json:"why"`
	} `json:"class_archive"`
	Runtime RuntimeVersions `json:"runtime"`
}

// RuntimeVersions is explain's runtime block: what a driver must match.
type RuntimeVersions struct {
	Spark  string `json:"spark"`
	Python string `json:"python"`
	Java   string `json:"java"`
	Arch   string `json:"arch"`
}

// Runtime is the runtime block of `entrypoint explain` in container.
func Runtime(t *testing.T, container string) RuntimeVersions {
	t.Helper()
	e, _ := Explain(t, container)
	return e.Runtime
}

// Explain runs `entrypoint explain [role]` in a running container and
// parses its JSON, which it prints even when discovery failed (and then
// exits non-zero).
func Explain(t *testing.T, container string, role ...string) (Explanation, string) {
	t.Helper()
	return ExplainIn(t, []string{"docker"}, container, role...)
}

// ExplainIn is Explain with the docker command docker, e.g. the engine of
// a node of the multi-node bed (docker exec NODE docker).
func ExplainIn(t *testing.T, docker []string, container string, role ...string) (Explanation, string) {
	t.Helper()
	argv := append(append(slices.Clone(docker), "exec", container, "/usr/local/bin/entrypoint", "explain"), role...)
	out, err := Try(argv...)
	var e Explanation
	i := strings.Index(out, "{")
	if i < 0 {
		t.Fatalf("%s: %v: no JSON:\n%s", strings.Join(argv, " "), err, out)
	}
	if jerr := json.Unmarshal([]byte(out[i:]), &e); jerr != nil {
		t.Fatalf("%s: %v (exit %v):\n%s", strings.Join(argv, " "), jerr, err, out)
	}
	return e, out
}

// CheckClassArchive checks that the node's JVM in container maps the
// image's class-data archive: explain says it is used, and the memory map
// of the JVM, read as the JVM's user (185, spark) because reading another
// user's maps needs CAP_SYS_PTRACE, lists the archive file.
func CheckClassArchive(t *testing.T, container, role string) bool {
	t.Helper()
	e, out := Explain(t, container, role)
	if e.ClassArchive == nil || !e.ClassArchive.Used {
		t.Errorf("explain %s in %s: class-data archive not used:\n%s", role, Short(container), out)
		return false
	}
	maps, err := Try("docker", "exec", "-u", "185", container, "sh", "-c",
		`for m in /proc/[0-9]*/maps; do grep -qF "$1" "$m" 2>/dev/null && echo "$m"; done; true`, "sh", e.ClassArchive.File)
	if err != nil || !strings.Contains(maps, "/maps") {
		t.Errorf("%s: no process maps %s (%v): %q", Short(container), e.ClassArchive.File, err, maps)
		return false
	}
	return true
}

// CheckDiscovery checks that explain in container names source and url,
// logs what it found, and reports whether it matched.
func CheckDiscovery(t *testing.T, container, source, url string) bool {
	t.Helper()
	e, out := Explain(t, container)
	if e.Master == nil {
		t.Errorf("explain in %s found no master (error %q):\n%s", Short(container), e.Error, out)
		return false
	}
	t.Logf("explain in %s: master %s from %s (%s)", Short(container), e.Master.URL, e.Master.Source, strings.Join(e.Master.Detail, "; "))
	if e.Master.Source != source || e.Master.URL != url {
		t.Errorf("explain in %s: master %s from %s, want %s from %s:\n%s", Short(container), e.Master.URL, e.Master.Source, url, source, out)
		return false
	}
	return true
}

// CheckReady runs `entrypoint ready role` in container (what the
// images' HEALTHCHECK and the probes run), logs its answer and reports
// whether it said ready.
func CheckReady(t *testing.T, container, role string) bool {
	t.Helper()
	out, err := Try("docker", "exec", container, "/usr/local/bin/entrypoint", "ready", role)
	out = strings.TrimSpace(out)
	if err != nil {
		t.Errorf("entrypoint ready %s in %s: %v: %s", role, Short(container), err, out)
		return false
	}
	t.Logf("entrypoint ready %s in %s: %s", role, Short(container), out)
	return true
}
