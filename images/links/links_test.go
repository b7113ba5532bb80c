// Package links_test runs the images with plain `docker run --link` on the
// default bridge: the oldest way to wire a Spark cluster with Docker, where
// the workers find the master through the link's environment variables
// and its /etc/hosts line (source docker-links).
package links_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

func TestDockerRunLinks(t *testing.T) {
	e2e.Require(t)
	m := e2e.NewMatrix(t, "docker-links")
	start := time.Now()
	prefix := e2e.Name("link")
	res := e2e.NewResources(t, prefix)

	master := prefix + "-spark-master"
	res.Container(master)
	// Random loopback ports: another cluster may hold 7077 and 8080.
	e2e.Run(t, "docker", "run", "-d", "--name", master,
		"-p", "127.0.0.1::7077", "-p", "127.0.0.1::8080", "--stop-timeout", "10",
		"snufkin/spark-master")
	ids := []string{}
	for i := 1; i <= e2e.Workers; i++ {
		name := fmt.Sprintf("%s-worker-%d", prefix, i)
		res.Container(name)
		e2e.Run(t, "docker", "run", "-d", "--name", name, "--link", master+":spark-master",
			"--stop-timeout", "10", "snufkin/spark-worker")
		ids = append(ids, name)
	}

	ok := true
	for _, id := range ids {
		ok = e2e.CheckDiscovery(t, id, "docker-links", "spark://spark-master:7077") && ok
	}
	m.OK("discovery", ok)

	state, took := e2e.WaitAlive(t, e2e.Published(t, master, "8080/tcp"), e2e.Workers, 3*time.Minute)
	t.Logf("%d workers ALIVE after %s", state.Alive(), took)
	m.Set("alive", fmt.Sprintf("%d/%d", state.Alive(), e2e.Workers))
	if !e2e.LogWorkers(t, state, e2e.Workers) {
		t.Fatalf("master /json/ lists %d ALIVE workers (status %s), want %d", state.Alive(), state.Status, e2e.Workers)
	}

	// What the images' HEALTHCHECK runs.
	for _, id := range ids {
		e2e.CheckReady(t, id, "worker")
	}
	e2e.CheckReady(t, master, "master")

	jobOK, _ := e2e.Job(t, "spark://127.0.0.1:"+e2e.Published(t, master, "7077/tcp"), e2e.Gateway(t, master), e2e.Workers)
	m.OK("job", jobOK)

	all := append(ids, master)
	for _, id := range all {
		e2e.CheckProcesses(t, id)
	}
	m.OK("stop", e2e.Stop(t, all))
	t.Logf("docker-links path took %s", time.Since(start).Round(time.Second))
}
