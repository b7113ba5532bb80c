//go:build trixie

package links_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// TestDockerRunLinksTrixie runs the default Spark line on the other Debian
// suite the base can be built on (`make images-trixie`: Python 3.13, Java
// 21), for users whose drivers run that Python. The host's Python is
// another minor, so the drivers here are the ones inside the cluster: the
// 2015 recipe's spark-shell and a PySpark spark-submit in the master
// (executors run the driver's pickled functions on their own python3), and
// the Connect server. The host's client is refused by the version check,
// naming both Pythons, before it runs anything. Its own target, `make
// test-trixie` (build tag trixie), keeps it out of make test's hour.
func TestDockerRunLinksTrixie(t *testing.T) {
	const suite = "trixie"
	version := e2e.Versions(t)["SPARK_VERSION_DEFAULT"]
	tag := version + "-" + suite
	e2e.RequireTag(t, tag, "images-"+suite)
	m := e2e.NewMatrix(t, "docker-links-"+suite)
	start := time.Now()
	prefix := e2e.Name("link" + suite)
	res := e2e.NewResources(t, prefix)
	masterImage, workerImage := "snufkin/spark-master:"+tag, "snufkin/spark-worker:"+tag

	master := prefix + "-spark-master"
	res.Container(master)
	e2e.Run(t, "docker", "run", "-d", "--name", master, "-p", "127.0.0.1::8080", "--stop-timeout", "10", masterImage)
	ids := startWorkers(t, res, prefix, master, workerImage)

	// What explain reports is what the labels promise, and what a driver
	// must match.
	runtime := e2e.Runtime(t, ids[0])
	label := func(key string) string {
		return strings.TrimSpace(e2e.Run(t, "docker", "image", "inspect", "-f", `{{index .Config.Labels "`+key+`"}}`, workerImage))
	}
	pyLabel, javaLabel := label("swarming-spark.python.version"), label("swarming-spark.java.version")
	if !strings.HasPrefix(runtime.Python, "3.13.") || runtime.Python != pyLabel || !strings.HasPrefix(runtime.Java, "21.") || runtime.Java != javaLabel || runtime.Spark != version {
		t.Errorf("%s: explain's runtime %+v, labels python %q java %q: want Spark %s, Python 3.13, Java 21 in both", workerImage, runtime, pyLabel, javaLabel, version)
	}
	m.Set("python", runtime.Python)
	m.Set("java", runtime.Java)

	checkFormation(t, m, master, ids)
	shell := e2e.CheckDriversInMaster(t, master)
	m.OK("shell", shell)
	// No driver on the host here: its Python is another minor.
	if shell {
		m.Set("job", "ok(in-master)")
	}

	connect := prefix + "-connect"
	res.Container(connect)
	e2e.Run(t, "docker", "run", "-d", "--name", connect, "--link", master+":spark-master", "--stop-timeout", "10", workerImage, "connect")
	m.OK("connect-ready", e2e.WaitConnectReady(t, connect, 3*time.Minute))

	// The host's client: the same pyspark-client, another Python.
	out, err := e2e.TryEnv(append(os.Environ(), "DEBIAN_SUITE="+suite), "bash", filepath.Join(e2e.Root, "scripts", "cluster.sh"), "client-check", e2e.ClientPython(t))
	want := "but the cluster's executors run Python 3.13 and Spark " + version
	refused := err != nil && strings.Contains(out, want) && strings.Contains(out, "PYTHON=python3.13")
	if !refused {
		t.Errorf("cluster.sh client-check with the host's client against %s: %v, want a refusal naming Python 3.13:\n%s", workerImage, err, out)
	}
	host, _ := exec.Command(e2e.ClientPython(t), "-c", "import sys; print('%d.%d' % sys.version_info[:2])").Output()
	m.OK("client-"+strings.TrimSpace(string(host))+"-refused", refused)

	all := append(ids, master, connect)
	for _, id := range all {
		e2e.CheckProcesses(t, id)
	}
	m.OK("stop", e2e.Stop(t, all))
	t.Logf("trixie path took %s", time.Since(start).Round(time.Second))
}
