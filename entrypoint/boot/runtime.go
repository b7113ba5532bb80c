package boot

import (
	"context"
	"os/exec"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"time"

	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// runtimeView is explain's account of what a driver or Connect client must
// match: the same Spark release and, for Python UDFs, the same Python minor
// version as the executors (PySpark's worker refuses another one with
// PYTHON_VERSION_MISMATCH). The images carry the same as labels. Arch is
// the machine's (GOARCH names: amd64, arm64), which the image's must be.
type runtimeView struct {
	Spark  string `json:"spark"`
	Python string `json:"python"`
	Java   string `json:"java"`
	Arch   string `json:"arch"`
}

// readRuntime reads the versions from the container: the spark-core jar's
// name, python3 (what executors start unless PYSPARK_PYTHON says
// otherwise) and the JVM's java.version. What cannot be read is "".
func readRuntime(env []string) runtimeView {
	r := runtimeView{Arch: goruntime.GOARCH}
	jars, _ := filepath.Glob(filepath.Join(sparkenv.Get(env, "SPARK_HOME"), "jars", "spark-core_*.jar"))
	for _, j := range jars {
		// spark-core_SCALA-VERSION.jar
		name := strings.TrimSuffix(filepath.Base(j), ".jar")
		if i := strings.LastIndex(name, "-"); i >= 0 {
			r.Spark = name[i+1:]
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	py := sparkenv.Get(env, "PYSPARK_PYTHON")
	if py == "" {
		py = "python3"
	}
	if out, err := exec.CommandContext(ctx, py, "-c", "import platform; print(platform.python_version())").Output(); err == nil {
		r.Python = strings.TrimSpace(string(out))
	}
	java := "java"
	if jh := sparkenv.Get(env, "JAVA_HOME"); jh != "" {
		java = filepath.Join(jh, "bin", "java")
	}
	if out, err := exec.CommandContext(ctx, java, "-XshowSettings:properties", "-version").CombinedOutput(); err == nil {
		for _, l := range strings.Split(string(out), "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(l), "java.version = "); ok {
				r.Java = v
			}
		}
	}
	return r
}
