package sparkenv

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseLauncherOutput(t *testing.T) {
	tests := []struct {
		name, out, want string
		wantErr         bool
	}{
		{"3.4 and later", "\x00\n/usr/bin/java\x00-cp\x00/opt/spark/jars/*\x00-Xmx1g\x00org.apache.spark.deploy.master.Master\x00--port\x007077\x00",
			"/usr/bin/java|-cp|/opt/spark/jars/*|-Xmx1g|org.apache.spark.deploy.master.Master|--port|7077", false},
		{"jvm warning before the marker", "OpenJDK warning: something\n\x00\n/j/bin/java\x00-cp\x00x\x00",
			"/j/bin/java|-cp|x", false},
		{"older launcher", "/j/bin/java\x00-cp\x00x\x00", "/j/bin/java|-cp|x", false},
		{"argument with a newline", "\x00\n/j/bin/java\x00-Da=b\nc\x00", "/j/bin/java|-Da=b\nc", false},
		{"empty", "", "", true},
		{"error text", "Error: Could not find or load main class\n", "", true},
	}
	for _, tt := range tests {
		got, err := ParseLauncherOutput([]byte(tt.out))
		if (err != nil) != tt.wantErr || strings.Join(got, "|") != tt.want {
			t.Errorf("%s: ParseLauncherOutput() = %q, %v; want %q (error %v)", tt.name, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestSourceSparkEnv(t *testing.T) {
	conf := t.TempDir()
	env := []string{"PATH=" + os.Getenv("PATH"), "SPARK_CONF_DIR=" + conf, "SPARK_WORKER_CORES=2"}
	got, err := SourceSparkEnv(context.Background(), env)
	if err != nil || strings.Join(got, " ") != strings.Join(env, " ") {
		t.Fatalf("without spark-env.sh: SourceSparkEnv() = %q, %v; want env unchanged", got, err)
	}
	script := "SPARK_WORKER_CORES=4\nSPARK_DAEMON_MEMORY=\"2g\"\necho sourced\n"
	if err := os.WriteFile(filepath.Join(conf, "spark-env.sh"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err = SourceSparkEnv(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	if Get(got, "SPARK_WORKER_CORES") != "4" || Get(got, "SPARK_DAEMON_MEMORY") != "2g" || Get(got, "SPARK_ENV_LOADED") != "1" {
		t.Errorf("SourceSparkEnv() = %q", got)
	}
	if err := os.WriteFile(filepath.Join(conf, "spark-env.sh"), []byte("exit 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := SourceSparkEnv(context.Background(), env); err == nil {
		t.Error("a failing spark-env.sh: SourceSparkEnv() succeeded")
	}
}

func TestWithScalaVersion(t *testing.T) {
	home := t.TempDir()
	os.Mkdir(filepath.Join(home, "jars"), 0o755)
	os.WriteFile(filepath.Join(home, "jars", "spark-core_2.12-3.5.8.jar"), nil, 0o644)
	if got := Get(WithScalaVersion([]string{"SPARK_HOME=" + home}), "SPARK_SCALA_VERSION"); got != "2.12" {
		t.Errorf("SPARK_SCALA_VERSION = %q, want 2.12", got)
	}
	if got := Get(WithScalaVersion([]string{"SPARK_HOME=" + home, "SPARK_SCALA_VERSION=2.13"}), "SPARK_SCALA_VERSION"); got != "2.13" {
		t.Errorf("a set SPARK_SCALA_VERSION was replaced: %q", got)
	}
}

func TestRedact(t *testing.T) {
	got := Redact([]string{"java", "-Dspark.authenticate.secret=hunter2", "-Dspark.ssl.keyPassword=pw", "-Dspark.authenticate=true", "-cp"})
	want := "java -Dspark.authenticate.secret=(not shown) -Dspark.ssl.keyPassword=(not shown) -Dspark.authenticate=true -cp"
	if strings.Join(got, " ") != want {
		t.Errorf("Redact() = %q, want %q", got, want)
	}
}

func TestLauncherRefusal(t *testing.T) {
	// What Spark 4.1's launcher prints for an -Xmx in SPARK_WORKER_OPTS.
	trace := "Exception in thread \"main\" java.lang.IllegalArgumentException: SPARK_WORKER_OPTS is not allowed to specify max heap(Xmx) memory settings (was -Xmx1g -Dspark.authenticate.secret=hunter2). Use the corresponding configuration instead.\n" +
		"\tat org.apache.spark.launcher.SparkClassCommandBuilder.buildCommand(SparkClassCommandBuilder.java:98)\n" +
		"\tat org.apache.spark.launcher.Main.main(Main.java:87)\n"
	tests := []struct {
		name, out, want string
		ok              bool
	}{
		{"refused setting", trace, "SPARK_WORKER_OPTS is not allowed to specify max heap(Xmx) memory settings (was -Xmx1g -Dspark.authenticate.secret=(not shown)). Use the corresponding configuration instead.", true},
		{"other failure", "Error: Could not find or load main class org.apache.spark.launcher.Main\n", "", false},
		{"nothing", "", "", false},
	}
	for _, tt := range tests {
		got, ok := launcherRefusal(tt.out)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: launcherRefusal() = %q, %v; want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}
