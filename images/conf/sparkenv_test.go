// Package conf_test runs the images' spark-env.sh as Spark's scripts
// source it (bin/load-spark-env.sh, with spark-class's arguments) and
// checks what it gives a driver and leaves alone for anything else.
package conf_test

import (
	"os/exec"
	"strings"
	"testing"
)

func TestSparkEnv(t *testing.T) {
	const submit = "org.apache.spark.deploy.SparkSubmit"
	for _, tt := range []struct {
		name  string
		class string
		env   []string
		want  string // SPARK_SUBMIT_OPTS
	}{
		{"a driver", submit, nil, "-Dspark.decommission.enabled=true"},
		{"the user's decommission wins", submit, []string{"SPARK_SUBMIT_OPTS=-Dspark.decommission.enabled=false"}, "-Dspark.decommission.enabled=false"},
		{"ui proxy off", submit, []string{"ENTRYPOINT_UI_PROXY=off"}, "-Dspark.decommission.enabled=true"},
		{"ui proxy on", submit, []string{"ENTRYPOINT_UI_PROXY=on"}, "-Dspark.decommission.enabled=true -Dspark.ui.reverseProxy=true"},
		{"ui proxy behind a front proxy", submit, []string{"ENTRYPOINT_UI_PROXY=https://spark.example.com/c1"},
			"-Dspark.decommission.enabled=true -Dspark.ui.reverseProxy=true -Dspark.ui.reverseProxyUrl=https://spark.example.com/c1"},
		{"the user's proxy setting wins", submit, []string{"ENTRYPOINT_UI_PROXY=on", "SPARK_SUBMIT_OPTS=-Dspark.ui.reverseProxy=false"},
			"-Dspark.ui.reverseProxy=false -Dspark.decommission.enabled=true"},
		{"a daemon is left alone", "org.apache.spark.deploy.worker.Worker", []string{"ENTRYPOINT_UI_PROXY=on"}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command("bash", "-c", `. ./spark-env.sh; printf '%s' "${SPARK_SUBMIT_OPTS:-}"`, "bash", tt.class)
			cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, tt.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%v: %s", err, out)
			}
			if got := strings.TrimSpace(string(out)); got != tt.want {
				t.Errorf("SPARK_SUBMIT_OPTS = %q, want %q", got, tt.want)
			}
		})
	}
}
