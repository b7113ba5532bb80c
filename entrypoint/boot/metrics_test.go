package boot

import (
	"slices"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

func TestPlanMetrics(t *testing.T) {
	sink := "-D" + prometheusSinkKey + "=" + prometheusSinkClass
	path := func(instance, p string) string { return "-D" + prometheusPathKey(instance) + "=" + p }
	for _, tt := range []struct {
		name    string
		role    sparkenv.Role
		metrics string
		env     []string
		optsVar string
		want    []string // in optsVar
		paths   []string // nil: no "metrics" in explain
		port    int
	}{
		{"master", sparkenv.Master, settings.MetricsPrometheus, nil, "SPARK_MASTER_OPTS",
			[]string{sink, path("master", "/metrics/master/prometheus"), path("applications", "/metrics/applications/prometheus")},
			[]string{"/metrics/master/prometheus", "/metrics/applications/prometheus"}, 8080},
		{"worker", sparkenv.Worker, settings.MetricsPrometheus, nil, "SPARK_WORKER_OPTS", []string{sink, path("*", "/metrics/prometheus")}, []string{"/metrics/prometheus"}, 8081},
		{"connect", sparkenv.Connect, settings.MetricsPrometheus, nil, sparkenv.ConnectOpts,
			[]string{"-Dspark.ui.prometheus.enabled=true", sink, path("*", "/metrics/prometheus")}, []string{"/metrics/prometheus", "/metrics/executors/prometheus"}, 4040},
		{"history has no metrics system", sparkenv.History, settings.MetricsPrometheus, nil, sparkenv.HistoryOpts, nil, nil, 0},
		{"off", sparkenv.Master, settings.MetricsOff, nil, "SPARK_MASTER_OPTS", nil, nil, 0},
		{"the user's sink wins", sparkenv.Worker, settings.MetricsPrometheus,
			[]string{"SPARK_WORKER_OPTS=-D" + prometheusSinkKey + "=com.example.Sink"}, "SPARK_WORKER_OPTS",
			[]string{"-D" + prometheusSinkKey + "=com.example.Sink"}, nil, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var p Plan
			port := map[sparkenv.Role]int{sparkenv.Master: 8080, sparkenv.Worker: 8081}[tt.role]
			env := planMetrics(&p, tt.role, tt.env, settings.Settings{Metrics: tt.metrics}, port)
			got := strings.Fields(sparkenv.Get(env, tt.optsVar))
			if !slices.Equal(got, tt.want) {
				t.Errorf("%s = %q, want %q", tt.optsVar, got, tt.want)
			}
			if tt.paths == nil {
				if p.Metrics != nil {
					t.Errorf("metrics = %+v, want none", p.Metrics)
				}
				return
			}
			if p.Metrics == nil || !slices.Equal(p.Metrics.Paths, tt.paths) || p.Metrics.Port != tt.port {
				t.Errorf("metrics = %+v, want paths %q on port %d", p.Metrics, tt.paths, tt.port)
			}
		})
	}
}
