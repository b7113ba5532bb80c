package e2e

import (
	"encoding/json"
	"os/exec"
	"sync"
	"testing"
)

var (
	yamlMu    sync.Mutex
	yamlCache = map[string][]json.RawMessage{}
)

// LoadYAML converts a (multi-document) YAML file to JSON documents with
// python3 and PyYAML, the one YAML parser this machine is sure to have
// without a new Go module; it skips the test when neither is there.
func LoadYAML(t *testing.T, file string) []json.RawMessage {
	t.Helper()
	yamlMu.Lock()
	defer yamlMu.Unlock()
	if docs, ok := yamlCache[file]; ok {
		return docs
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("no python3 to parse YAML")
	}
	if err := exec.Command("python3", "-c", "import yaml").Run(); err != nil {
		t.Skip("python3 has no PyYAML to parse YAML")
	}
	out, err := exec.Command("python3", "-c",
		`import json, sys, yaml; json.dump([d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None], sys.stdout)`,
		file).Output()
	if err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	var docs []json.RawMessage
	if err := json.Unmarshal(out, &docs); err != nil {
		t.Fatalf("parse %s: %v", file, err)
	}
	yamlCache[file] = docs
	return docs
}
