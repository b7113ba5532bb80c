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
	var opts string
	var paths []string
	// instances are the metrics instances of this JVM, with their paths.
	instances := [][2]string{{"*", "/metrics/prometheus"}}
	switch role {
	case sparkenv.Master:
		opts, paths = "SPARK_MASTER_OPTS", []string{"/metrics/master/prometheus", "/metrics/applications/prometheus"}
		instances = [][2]string{{"master", paths[0]}, {"applications", paths[1]}}
	case sparkenv.Worker:
		opts, paths = "SPARK_WORKER_OPTS", []string{"/metrics/prometheus"}
	case sparkenv.Connect:
		if uiPort == 0 {
			uiPort = 4040 // spark.ui.port
		}
		opts, paths = sparkenv.ConnectOpts, []string{"/metrics/prometheus", "/metrics/executors/prometheus"}
		env = sparkenv.AddJavaOption(env, opts, "spark.ui.prometheus.enabled", "true")
	default:
		return env
	}
	if _, ok := sparkenv.JavaOption(env, opts, prometheusSinkKey); ok {
		// The user's own sink.
		return env
	}
	env = sparkenv.AddJavaOption(env, opts, prometheusSinkKey, prometheusSinkClass)
	for _, in := range instances {
		env = sparkenv.AddJavaOption(env, opts, prometheusPathKey(in[0]), in[1])
	}
	p.Metrics = &metricsView{Format: "prometheus", Port: uiPort, Paths: paths}
	return env
}
