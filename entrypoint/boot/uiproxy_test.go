package boot

import (
	"slices"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

func TestPlanUIProxy(t *testing.T) {
	for _, tt := range []struct {
		name    string
		role    sparkenv.Role
		setting string
		optsVar string
		want    []string
		url     string // in explain; "-": no ui_proxy
	}{
		{"off", sparkenv.Master, settings.UIProxyOff, "SPARK_MASTER_OPTS", nil, "-"},
		{"master, relative links", sparkenv.Master, settings.UIProxyOn, "SPARK_MASTER_OPTS", []string{"-Dspark.ui.reverseProxy=true"}, ""},
		{"worker behind a front proxy", sparkenv.Worker, "https://spark.example.com/c1", "SPARK_WORKER_OPTS",
			[]string{"-Dspark.ui.reverseProxy=true", "-Dspark.ui.reverseProxyUrl=https://spark.example.com/c1"}, "https://spark.example.com/c1"},
		{"the Connect server's driver", sparkenv.Connect, settings.UIProxyOn, sparkenv.ConnectOpts, []string{"-Dspark.ui.reverseProxy=true"}, ""},
		{"history has no proxy", sparkenv.History, settings.UIProxyOn, sparkenv.HistoryOpts, nil, "-"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var p Plan
			env := planUIProxy(&p, tt.role, nil, settings.Settings{UIProxy: tt.setting})
			if got := strings.Fields(sparkenv.Get(env, tt.optsVar)); !slices.Equal(got, tt.want) {
				t.Errorf("%s = %q, want %q", tt.optsVar, got, tt.want)
			}
			if (p.UIProxy == nil) != (tt.url == "-") || p.UIProxy != nil && p.UIProxy.URL != tt.url {
				t.Errorf("ui_proxy = %+v, want url %q", p.UIProxy, tt.url)
			}
		})
	}
}
