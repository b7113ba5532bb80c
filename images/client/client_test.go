// Package client_test proves the host helper's version check: a client
// whose pyspark or Python minor version differs from the images' is
// refused before it runs anything, with one sentence naming both versions
// and the fix; the matching client passes.
package client_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

func TestClientCheck(t *testing.T) {
	e2e.Require(t)
	spark := e2e.Versions(t)["SPARK_VERSION_DEFAULT"]
	check := func(py string) (string, error) {
		return e2e.Try("bash", filepath.Join(e2e.Root, "scripts", "cluster.sh"), "client-check", py)
	}

	if out, err := check(e2e.ClientPython(t)); err != nil {
		t.Errorf("the matching client is refused (%v): %s", err, out)
	}

	// Another pyspark-client release; its dependencies are not needed to
	// read its version.
	other := "4.1.1"
	if spark == other {
		other = "4.1.2"
	}
	venv := filepath.Join(t.TempDir(), "venv")
	e2e.Run(t, "python3", "-m", "venv", venv)
	e2e.Run(t, filepath.Join(venv, "bin", "pip"), "install", "--quiet", "--disable-pip-version-check", "--no-deps", "pyspark-client=="+other)
	out, err := check(filepath.Join(venv, "bin", "python"))
	want := "with pyspark " + other + ", but the cluster's executors run Python "
	if err == nil || !strings.Contains(out, want) || !strings.Contains(out, "and Spark "+spark+"; use Python ") || strings.Count(strings.TrimSpace(out), "\n") != 0 {
		t.Errorf("a client with pyspark-client %s: %v, want exit 1 and one line naming both versions:\n%s", other, err, out)
	}

	// Another Python minor, where this machine has one.
	py := otherPython(t)
	if py == "" {
		t.Log("no python3 of another minor version here: only the pyspark mismatch was checked")
		return
	}
	out, err = check(py)
	if err == nil || !strings.Contains(out, "this client runs Python ") || !strings.Contains(out, "PYTHON=python3.") {
		t.Errorf("a client on %s: %v, want exit 1 naming both Python versions:\n%s", py, err, out)
	}
}

// otherPython finds an interpreter whose minor version differs from the
// images' python3 (3.11 on bookworm), or "".
func otherPython(t *testing.T) string {
	t.Helper()
	want := strings.TrimSpace(e2e.Run(t, "docker", "image", "inspect", "-f", `{{index .Config.Labels "swarming-spark.python.version"}}`, "snufkin/spark-worker"))
	cands, _ := filepath.Glob(filepath.Join(os.Getenv("HOME"), ".pyenv", "versions", "3.*", "bin", "python3"))
	for _, name := range []string{"python3.13", "python3.12", "python3.10"} {
		if p, err := exec.LookPath(name); err == nil {
			cands = append(cands, p)
		}
	}
	for _, c := range cands {
		v, err := exec.Command(c, "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
		if err == nil && !strings.HasPrefix(want, strings.TrimSpace(string(v))+".") {
			return c
		}
	}
	return ""
}
