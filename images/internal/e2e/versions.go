package e2e

import (
	"bufio"
	"bytes"
	"fmt"
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

// RequireTag is Require for images tagged tag only (never :latest): another
// Spark line or Debian suite. It builds them with `make target` when one is
// missing.
func RequireTag(t *testing.T, tag, target string) {
	t.Helper()
	Require(t)
	for _, img := range Images {
		if _, err := Try("docker", "image", "inspect", "--format", "{{.Id}}", img+":"+tag); err != nil {
			t.Logf("image %s:%s missing: make %s", img, tag, target)
			Run(t, "make", "-C", Root, target)
			return
		}
	}
}

var lineVenvs sync.Map // version -> *lineVenv

type lineVenv struct {
	once sync.Once
	py   string
	err  error
}

// Python returns the Python of the driver's venv with the default line's
// pyspark (PythonFor).
func Python(t *testing.T) string {
	t.Helper()
	return PythonFor(t, Versions(t)["SPARK_VERSION_DEFAULT"])
}

// PythonFor returns the Python of a venv with pyspark version, made once
// per test process by `SPARK_VERSION=version scripts/cluster.sh python`,
// which also says where it is.
func PythonFor(t *testing.T, version string) string {
	t.Helper()
	return venvPython(t, "python", version)
}

// ClientPython returns the Python of the Connect client's venv, with
// pyspark-client of the default line (no JVM), made by `scripts/cluster.sh
// client-python`, which also checks it against the images' labels.
func ClientPython(t *testing.T) string {
	t.Helper()
	return venvPython(t, "client-python", Versions(t)["SPARK_VERSION_DEFAULT"])
}

// venvPython runs `SPARK_VERSION=version scripts/cluster.sh sub` once per
// test process and returns the python it prints.
func venvPython(t *testing.T, sub, version string) string {
	t.Helper()
	v, _ := lineVenvs.LoadOrStore(sub+" "+version, &lineVenv{})
	lv := v.(*lineVenv)
	lv.once.Do(func() {
		argv := []string{"bash", filepath.Join(Root, "scripts", "cluster.sh"), sub}
		// Test binaries of several packages may run at once; only one of
		// them may make a venv.
		if _, err := exec.LookPath("flock"); err == nil {
			argv = append([]string{"flock", filepath.Join(os.TempDir(), "swarming-spark-venv.lock")}, argv...)
		}
		var out, stderr bytes.Buffer
		err := runTo(append(os.Environ(), "SPARK_VERSION="+version), &out, &stderr, argv...)
		lv.py = strings.TrimSpace(out.String())
		if err == nil && !filepath.IsAbs(lv.py) {
			err = fmt.Errorf("printed %q, not the path of a python", lv.py)
		}
		if err != nil {
			lv.err = fmt.Errorf("SPARK_VERSION=%s scripts/cluster.sh %s: %w\n%s", version, sub, err, stderr.String())
		}
	})
	if lv.err != nil {
		t.Fatal(lv.err)
	}
	return lv.py
}
