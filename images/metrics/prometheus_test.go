// Package metrics_test scrapes a running cluster with a real Prometheus
// server (Debian's prometheus package, in an image made locally by
// scripts/debian-image.sh) using the scrape configuration the project
// ships, images/compose/prometheus.yml, on a network where the containers
// have the Compose Specification file's service names, and asks it how
// many workers are ALIVE.
package metrics_test

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

const workers = 2

func TestPrometheusScrape(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "prometheus")
	// The image's name on standard output; the first call's progress on
	// standard error.
	image := strings.TrimSpace(e2e.Output(t, "bash", filepath.Join(e2e.Root, "scripts", "debian-image.sh"), "snufkin/prometheus", "prometheus"))
	prefix := e2e.Name("prom")
	res := e2e.NewResources(t, prefix)
	network := prefix + "-spark"
	e2e.Run(t, "docker", "network", "create", network)
	res.Network(network)

	master := prefix + "-spark-master"
	res.Container(master)
	e2e.Run(t, "docker", "run", "-d", "--name", master, "--network", network, "--network-alias", "spark-master",
		"--hostname", "spark-master", "-p", "127.0.0.1::8080", "snufkin/spark-master")
	var ids []string
	for i := range workers {
		w := fmt.Sprintf("%s-worker-%d", prefix, i+1)
		res.Container(w)
		e2e.Run(t, "docker", "run", "-d", "--name", w, "--network", network, "--network-alias", "worker", "snufkin/spark-worker")
		ids = append(ids, w)
	}
	ui := e2e.Published(t, master, "8080/tcp")
	e2e.RequireAlive(t, m, ui, workers, 4*time.Minute)
	m.OK("discovery", e2e.CheckDiscovery(t, ids[0], "docker-dns", "spark://spark-master:7077"))

	prom := prefix + "-prometheus"
	res.Container(prom)
	e2e.Run(t, "docker", "run", "-d", "--name", prom, "--network", network, "-p", "127.0.0.1::9090",
		"-v", filepath.Join(e2e.Root, "images", "compose", "prometheus.yml")+":/etc/prometheus/prometheus.yml:ro",
		image, "prometheus", "--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/tmp/prometheus",
		"--web.listen-address=:9090")
	api := "http://127.0.0.1:" + e2e.Published(t, prom, "9090/tcp")
	t.Logf("prometheus: %s", strings.TrimSpace(e2e.Run(t, "docker", "exec", prom, "prometheus", "--version")))

	// The master's own count of ALIVE workers, and one series per worker
	// from the workers' endpoints: every target was found and scraped.
	queries := []struct{ query, want string }{
		{"metrics_master_aliveWorkers_Value", fmt.Sprint(workers)},
		{"count(metrics_worker_coresFree_Value)", fmt.Sprint(workers)},
		{`count(up{job=~"spark-master|spark-worker"} == 1)`, fmt.Sprint(workers + 1)},
	}
	var got []string
	answered, took := e2e.Poll(2*time.Minute, 2*time.Second, func(time.Duration) bool {
		got = got[:0]
		for _, q := range queries {
			v, err := query(api, q.query)
			if err != nil {
				v = err.Error()
			}
			got = append(got, v)
		}
		for i, q := range queries {
			if got[i] != q.want {
				return false
			}
		}
		return true
	})
	for i, q := range queries {
		t.Logf("%s = %s (want %s)", q.query, got[i], q.want)
	}
	if !answered {
		t.Errorf("prometheus did not answer every query as expected within %s", took.Round(time.Second))
		targets, _ := e2e.Try("curl", "-s", api+"/api/v1/targets")
		t.Logf("targets: %s", targets)
		m.Set("prometheus", "fail")
	} else {
		m.Set("prometheus", fmt.Sprintf("ok(alive-workers=%d,targets=%d,after=%s)", workers, workers+1, took.Round(time.Second)))
	}
	m.OK("stop", e2e.Stop(t, append(ids, master)))
}

// query asks Prometheus's HTTP API for an instant vector of one sample and
// returns its value.
func query(api, q string) (string, error) {
	var r struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value []any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := e2e.GetJSON(api+"/api/v1/query?query="+url.QueryEscape(q), &r); err != nil {
		return "", err
	}
	if r.Status != "success" || len(r.Data.Result) != 1 || len(r.Data.Result[0].Value) != 2 {
		return "", fmt.Errorf("%s: %d samples (status %s)", q, len(r.Data.Result), r.Status)
	}
	return fmt.Sprint(r.Data.Result[0].Value[1]), nil
}
