// Package commands_test runs what a user types into the images besides the
// roles, as with the official image: a command in place of the role runs
// as the spark user with the environment the JVMs get (Spark's shells and
// spark-submit among them, each with its answer checked), `-- CMD` runs as
// the container's user, and `version` names what a driver must match.
package commands_test

import (
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

func TestCommandsInTheImages(t *testing.T) {
	e2e.Require(t)
	spark := e2e.Versions(t)["SPARK_VERSION_DEFAULT"]
	for _, image := range e2e.Images {
		t.Run(image[strings.LastIndex(image, "/")+1:], func(t *testing.T) {
			run := func(stdin string, args ...string) string {
				t.Helper()
				argv := append([]string{"docker", "run", "--rm", "-i"}, args...)
				out, err := e2e.TryInput(stdin, argv...)
				if err != nil {
					t.Errorf("%s: %v\n%s", strings.Join(argv[2:], " "), err, tail(out))
				}
				return out
			}
			want := func(what, out, sub string) {
				t.Helper()
				if !strings.Contains(out, sub) {
					t.Errorf("%s: no %q in:\n%s", what, sub, tail(out))
				}
			}

			out := run("", image, "version")
			want("version", out, "spark "+spark+"\n")
			want("version", out, "python 3.")
			want("version", out, "java ")
			// The binary's architecture is the image's.
			arch := strings.TrimSpace(e2e.Run(t, "docker", "image", "inspect", "-f", "{{.Architecture}}", image))
			want("version", out, "arch "+arch+"\n")
			if strings.Contains(out, "entrypoint devel") || strings.Contains(out, "unknown") {
				t.Errorf("version names no build or misses a version:\n%s", out)
			}

			want("a command's user", run("", image, "id", "-un"), "spark\n")
			want("-- runs as the container's user", run("", image, "--", "id", "-un"), "root\n")
			// A Docker link's variable that collides with Spark's own name
			// is gone, as for the JVMs.
			want("scrubbed environment", run("", "-e", "SPARK_MASTER_PORT=tcp://172.17.0.2:7077", image,
				"bash", "-c", "echo port=${SPARK_MASTER_PORT-unset}"), "port=unset")

			want("spark-submit --version", run("", image, "spark-submit", "--version"), "version "+spark)
			want("spark-sql", run("", image, "spark-sql", "--master", "local[1]", "-e", "SELECT 40 + 2 AS answer"), "42")
			// The Python shell makes sc and spark at start (its shell.py);
			// -i makes Python run it with standard input not a terminal.
			want("pyspark", run(`print("answer=%d sc=%s" % (spark.range(1, 101).groupBy().sum("id").first()[0], sc.version))`+"\n",
				"-e", "PYSPARK_DRIVER_PYTHON_OPTS=-i", image, "pyspark", "--master", "local[1]"), "answer=5050 sc="+spark)
			// spark-submit of a Python file with a UDF: the worker's
			// pyarrow (Arrow-optimised UDFs are the default from 4.3).
			want("spark-submit app.py", run("", image, "bash", "-c", `cat > /tmp/app.py <<'PY'
from pyspark.sql import SparkSession, functions as F
s = SparkSession.builder.getOrCreate()
plus1 = F.udf(lambda x: x + 1, "long")
print("submit: sum=%d" % s.range(1, 101).select(plus1("id").alias("v")).groupBy().sum("v").first()[0])
PY
spark-submit --master local[1] /tmp/app.py`), "submit: sum=5150")
		})
	}
}

// tail keeps the last lines of a long output.
func tail(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}
