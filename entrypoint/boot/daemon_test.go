package boot

import (
	"testing"

	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

func TestDaemonOptions(t *testing.T) {
	cases := []struct {
		name       string
		env        []string
		want, show string // SPARK_DAEMON_JAVA_OPTS after; explain's java_opts
		source     string
	}{
		{"unset", nil, daemonJavaOpts, daemonJavaOpts, "entrypoint default"},
		{"the user's", []string{"SPARK_DAEMON_JAVA_OPTS=-XX:+UseG1GC"}, "-XX:+UseG1GC", "-XX:+UseG1GC", "SPARK_DAEMON_JAVA_OPTS"},
		{"empty: Spark's own defaults", []string{"SPARK_DAEMON_JAVA_OPTS="}, "", "", "SPARK_DAEMON_JAVA_OPTS"},
		{"a secret in it", []string{"SPARK_DAEMON_JAVA_OPTS=-Dspark.authenticate.secret=s3cr3t -Xss1m"},
			"-Dspark.authenticate.secret=s3cr3t -Xss1m", "-Dspark.authenticate.secret=(not shown) -Xss1m", "SPARK_DAEMON_JAVA_OPTS"},
	}
	for _, c := range cases {
		env, v := daemonOptions(c.env)
		if got, _ := sparkenv.Lookup(env, "SPARK_DAEMON_JAVA_OPTS"); got != c.want || v.JavaOpts != c.show || v.Source != c.source {
			t.Errorf("%s: SPARK_DAEMON_JAVA_OPTS %q, explain %+v; want %q, %q from %s", c.name, got, v, c.want, c.show, c.source)
		}
	}
}
