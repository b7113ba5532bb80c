// Package versions_test keeps the Spark versions in step: scripts/versions.env
// pins them once, and the Dockerfiles' default base, every platform file,
// the README and the images built for the tests must say the same.
package versions_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// sparkRelease matches a Spark release number of the lines the images
// build (3.5.x, 4.x.y), not bare lines such as "Spark 4.3".
var sparkRelease = regexp.MustCompile(`\b(3\.5|4\.\d+)\.\d+\b`)

// imageRef matches the project's images with their tag.
var imageRef = regexp.MustCompile(`snufkin/spark-(master|worker)(:[A-Za-z0-9._-]+)?`)

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(e2e.Root, rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestVersionsAgree(t *testing.T) {
	v := e2e.Versions(t)
	def, v35 := v["SPARK_VERSION_DEFAULT"], v["SPARK_VERSION_35"]
	if !sparkRelease.MatchString(def) || !strings.HasPrefix(v35, "3.5.") {
		t.Fatalf("scripts/versions.env: SPARK_VERSION_DEFAULT=%q SPARK_VERSION_35=%q", def, v35)
	}

	for _, f := range []string{"Dockerfile.master", "Dockerfile.worker"} {
		if want := "ARG BASE_IMAGE=apache/spark:" + def; !strings.Contains(read(t, f), want) {
			t.Errorf("%s: no %q", f, want)
		}
	}

	// Platform files run the default line, pinned where the platform pulls
	// by tag (Kubernetes, Swarm, ECS); the Compose files run the tag
	// `make images` sets last (latest).
	files, _ := filepath.Glob(filepath.Join(e2e.Root, "images", "*", "*.y*ml"))
	nested, _ := filepath.Glob(filepath.Join(e2e.Root, "images", "*", "*", "*.y*ml"))
	files = append(files, nested...)
	ecs, _ := filepath.Glob(filepath.Join(e2e.Root, "images", "ecs", "*.json"))
	for _, path := range append(files, ecs...) {
		rel, _ := filepath.Rel(e2e.Root, path)
		compose := strings.HasPrefix(rel, filepath.Join("images", "compose"))
		for _, ref := range imageRef.FindAllStringSubmatch(read(t, rel), -1) {
			tag := strings.TrimPrefix(ref[2], ":")
			if compose && tag != "" || !compose && tag != def {
				t.Errorf("%s: %s, want the tag %q", rel, ref[0], map[bool]string{true: "(none)", false: def}[compose])
			}
		}
	}

	// The README names only the pinned releases, and names both.
	readme := read(t, "README.md")
	for _, m := range sparkRelease.FindAllString(readme, -1) {
		if m != def && m != v35 {
			t.Errorf("README.md names Spark %s; scripts/versions.env pins %s and %s", m, def, v35)
		}
	}
	for _, want := range []string{"Spark " + def, "pyspark[connect]==" + def, "SPARK_VERSION=" + v35} {
		if !strings.Contains(readme, want) {
			t.Errorf("README.md does not say %q", want)
		}
	}
}

// TestImagesCarryThePinnedVersions: the images the tests run are the
// pinned releases (their labels, read from the base at build time).
func TestImagesCarryThePinnedVersions(t *testing.T) {
	e2e.Require(t)
	v := e2e.Versions(t)
	for ref, want := range map[string]string{
		"snufkin/spark-master":                               v["SPARK_VERSION_DEFAULT"],
		"snufkin/spark-worker":                               v["SPARK_VERSION_DEFAULT"],
		"snufkin/spark-worker:" + v["SPARK_VERSION_DEFAULT"]: v["SPARK_VERSION_DEFAULT"],
		"snufkin/spark-worker:" + v["SPARK_VERSION_35"]:      v["SPARK_VERSION_35"],
	} {
		out, err := e2e.Try("docker", "image", "inspect", "-f", `{{index .Config.Labels "org.apache.spark.version"}}`, ref)
		if err != nil {
			if strings.Contains(ref, v["SPARK_VERSION_35"]) {
				t.Logf("%s not built (make images-35): %v", ref, err)
				continue
			}
			t.Errorf("%s: %v: %s", ref, err, out)
			continue
		}
		if got := strings.TrimSpace(out); got != want {
			t.Errorf("%s carries Spark %q, want %s (make images)", ref, got, want)
		}
	}
}
