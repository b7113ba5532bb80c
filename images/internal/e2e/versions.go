package e2e

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Versions reads scripts/versions.env, the one place Spark's versions are
// pinned: SPARK_VERSION_DEFAULT and SPARK_VERSION_35.
func Versions(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(Root, "scripts", "versions.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	v := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if k, val, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			v[k] = val
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return v
}

// RequireLine is Require for the images of another Spark line, tagged
// :version only (never :latest); it builds them with `make images-35`
// when one is missing.
func RequireLine(t *testing.T, version string) {
	t.Helper()
	Require(t)
	for _, img := range Images {
		if _, err := Try("docker", "image", "inspect", "--format", "{{.Id}}", img+":"+version); err != nil {
			t.Logf("image %s:%s missing: make images-35", img, version)
			Run(t, "make", "-C", Root, "images-35")
			return
		}
	}
}

var lineVenvs sync.Map // version -> *lineVenv

type lineVenv struct {
	once sync.Once
	py   string
	out  string
	err  error
}

// PythonFor returns the Python of a venv with pyspark version, made once
// per test process with `SPARK_VERSION=version scripts/cluster.sh venv`.
func PythonFor(t *testing.T, version string) string {
	t.Helper()
	if version == Versions(t)["SPARK_VERSION_DEFAULT"] {
		return Python(t)
	}
	v, _ := lineVenvs.LoadOrStore(version, &lineVenv{})
	lv := v.(*lineVenv)
	lv.once.Do(func() {
		argv := []string{"bash", filepath.Join(Root, "scripts", "cluster.sh"), "venv"}
		if _, err := exec.LookPath("flock"); err == nil {
			argv = append([]string{"flock", filepath.Join(os.TempDir(), "swarming-spark-venv.lock")}, argv...)
		}
		lv.out, lv.err = TryEnv(append(os.Environ(), "SPARK_VERSION="+version), argv...)
		lv.py = filepath.Join(Root, ".cache", "venv-"+version, "bin", "python")
	})
	if lv.err != nil {
		t.Fatalf("SPARK_VERSION=%s scripts/cluster.sh venv: %v\n%s", version, lv.err, lv.out)
	}
	return lv.py
}
