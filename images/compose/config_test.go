package compose_test

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// TestComposeFilesConfig has docker-compose parse and validate both files
// (no daemon needed) and checks the Compose Specification file's essentials.
func TestComposeFilesConfig(t *testing.T) {
	if _, err := exec.LookPath("docker-compose"); err != nil {
		t.Skip("no docker-compose")
	}
	for _, f := range []string{"docker-compose.v1.yml", "docker-compose.yml"} {
		out, err := exec.Command("docker-compose", "-p", "configcheck", "-f", filepath.Join(e2e.Root, "images", "compose", f), "config", "-q").CombinedOutput()
		if err != nil {
			t.Errorf("docker-compose config %s: %v\n%s", f, err, out)
		}
	}
	docs := e2e.LoadYAML(t, filepath.Join(e2e.Root, "images", "compose", "docker-compose.yml"))
	s := string(docs[0])
	for _, want := range []string{`"spark-master":`, `"hostname": "spark-master"`, `"worker":`, `"stop_grace_period": "10s"`, `"depends_on": ["spark-master"]`, `"master-state:/var/lib/spark/master"`, `"networks": {"spark":`, `"connect":`, `"command": ["connect"]`, `:15002"`} {
		if !strings.Contains(s, want) {
			t.Errorf("docker-compose.yml lacks %s", want)
		}
	}
	if strings.Contains(s, `"version":`) {
		t.Error("docker-compose.yml has a version key: the Compose Specification has none")
	}
}
