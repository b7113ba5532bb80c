package boot

import (
	"reflect"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

func TestExecutorPorts(t *testing.T) {
	tests := []struct {
		name, own string
		r         settings.PortRange
		want      string
		wantOpts  map[string]string
	}{
		{"range", "", settings.PortRange{First: 7100, Last: 7103},
			"-Dspark.blockManager.port=7100 -Dspark.port.maxRetries=3",
			map[string]string{"spark.blockManager.port": "7100", "spark.port.maxRetries": "3"}},
		{"one port: no retry", "", settings.PortRange{First: 7100, Last: 7100},
			"-Dspark.blockManager.port=7100 -Dspark.port.maxRetries=0",
			map[string]string{"spark.blockManager.port": "7100", "spark.port.maxRetries": "0"}},
		{"the user's options stay, and their port", "-Xshare:auto -Dspark.blockManager.port=9000", settings.PortRange{First: 7100, Last: 7101},
			"-Xshare:auto -Dspark.blockManager.port=9000 -Dspark.port.maxRetries=1",
			map[string]string{"spark.blockManager.port": "9000", "spark.port.maxRetries": "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := []string{"SPARK_HOME=/opt/spark"}
			if tt.own != "" {
				env = append(env, "JDK_JAVA_OPTIONS="+tt.own)
			}
			env, v := executorPorts(env, tt.r, "ip-10-20-1-17.eu-west-1.compute.internal")
			if got := sparkenv.Get(env, "JDK_JAVA_OPTIONS"); got != tt.want {
				t.Errorf("JDK_JAVA_OPTIONS = %q, want %q", got, tt.want)
			}
			if !reflect.DeepEqual(v.JavaOptions, tt.wantOpts) || v.BlockManagerPorts != tt.r.String() || v.Via != "JDK_JAVA_OPTIONS" {
				t.Errorf("view = %+v, want java options %v for %s via JDK_JAVA_OPTIONS", v, tt.wantOpts, tt.r)
			}
			if tt.own != "" && !strings.Contains(strings.Join(v.Detail, "\n"), "already sets spark.blockManager.port=9000: kept") {
				t.Errorf("detail %q does not say the user's port is kept", v.Detail)
			}
		})
	}
}

func TestECSExecutorPortsWarnings(t *testing.T) {
	mappings := func(m map[int]int) func(int) (int, bool) {
		return func(p int) (int, bool) { hp, ok := m[p]; return hp, ok }
	}
	r := settings.PortRange{First: 7100, Last: 7102}
	tests := []struct {
		name    string
		r       settings.PortRange
		m       map[int]int
		wantIn  string // "" wants no warning
		wantNot string
	}{
		{"unset", settings.PortRange{}, map[int]int{7078: 7078}, "ENTRYPOINT_EXECUTOR_PORTS is not set", ""},
		{"all one to one", r, map[int]int{7100: 7100, 7101: 7101, 7102: 7102}, "", ""},
		{"one missing, one dynamic", r, map[int]int{7100: 7100, 7102: 32768}, "executor port(s) 7101,7102 of ENTRYPOINT_EXECUTOR_PORTS=7100-7102", "7100,"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := ecsExecutorPortsWarnings(tt.r, mappings(tt.m))
			switch {
			case tt.wantIn == "" && len(w) > 0:
				t.Errorf("warnings %q, want none", w)
			case tt.wantIn != "" && (len(w) != 1 || !strings.Contains(w[0], tt.wantIn)):
				t.Errorf("warnings %q, want one with %q", w, tt.wantIn)
			case tt.wantNot != "" && strings.Contains(w[0], tt.wantNot):
				t.Errorf("warning %q names %q, which is mapped one to one", w[0], tt.wantNot)
			}
		})
	}
}
