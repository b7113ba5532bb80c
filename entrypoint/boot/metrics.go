package boot

import (
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// Spark's metrics system serves its metrics in Prometheus's text format on
// a node's own web UI port once the PrometheusServlet sink is configured,
// so scraping needs no extra port, agent or exporter. The sink needs its
// class and its paths (Spark 4.3's MetricsConfig gives only the JSON
// servlet default paths; without a path the sink serves nothing): the
// master at
// /metrics/master/prometheus (and its applications at
// /metrics/applications/prometheus), a worker and a driver at
// /metrics/prometheus, and a driver's executors at
// /metrics/executors/prometheus once spark.ui.prometheus.enabled is on.

const (
	prometheusSinkKey   = "spark.metrics.conf.*.sink.prometheusServlet.class"
	prometheusSinkClass = "org.apache.spark.metrics.sink.PrometheusServlet"
)

// prometheusPathKey is the option naming the sink's path for a metrics
// instance (master, applications, or * for the worker's and the driver's).
func prometheusPathKey(instance string) string {
	return "spark.metrics.conf." + instance + ".sink.prometheusServlet.path"
}

// metricsView is explain's "metrics": where this node serves them.
type metricsView struct {
	Format string   `json:"format"`
	Port   int      `json:"port"`
	Paths  []string `json:"paths"`
}

// planMetrics turns on the Prometheus endpoints of a master, a worker or
// the Connect server, unless ENTRYPOINT_METRICS=off or the JVM's options
// already name the sink.
func planMetrics(p *Plan, role sparkenv.Role, env []string, s settings.Settings, uiPort int) []string {
	if s.Metrics != settings.MetricsPrometheus {
		return env
	}
	opts := optsOf(role)
	var paths []string
	// The sink's class, and its path for each metrics instance of this JVM.
	sink := []javaOption{{prometheusSinkKey, prometheusSinkClass}, {prometheusPathKey("*"), "/metrics/prometheus"}}
	switch role {
	case sparkenv.Master:
		paths = []string{"/metrics/master/prometheus", "/metrics/applications/prometheus"}
		sink = []javaOption{sink[0], {prometheusPathKey("master"), paths[0]}, {prometheusPathKey("applications"), paths[1]}}
	case sparkenv.Worker:
		paths = []string{"/metrics/prometheus"}
	case sparkenv.Connect:
		if uiPort == 0 {
			uiPort = 4040 // spark.ui.port
		}
		paths = []string{"/metrics/prometheus", "/metrics/executors/prometheus"}
		env = sparkenv.AddJavaOption(env, opts, "spark.ui.prometheus.enabled", "true")
	default:
		return env
	}
	if _, ok := sparkenv.JavaOption(env, opts, prometheusSinkKey); ok {
		// The user's own sink.
		return env
	}
	env = addJavaOptions(env, opts, sink)
	p.Metrics = &metricsView{Format: "prometheus", Port: uiPort, Paths: paths}
	return env
}
