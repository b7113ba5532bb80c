package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// DriverConf is what `entrypoint driver-conf --json` prints.
type DriverConf struct {
	Platform string `json:"platform"`
	Driver   string `json:"driver"`
	Master   string `json:"master"`
	Confs    []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"confs"`
	Notes []string `json:"notes"`
}

// Conf returns the value of key in the confs, "" when it is not there.
func (d DriverConf) Conf(key string) string {
	for _, kv := range d.Confs {
		if kv.Key == key {
			return kv.Value
		}
	}
	return ""
}

// Argv is script (a driver in scripts/, sparkjob.py or one sharing its
// options) with the driver options they share, then the confs as --conf
// options. spark.master is master in both: driver-conf names the master's
// port as published on the Docker host, which the test publishes on a
// random one instead.
func (d DriverConf) Argv(script, master string, port, executors int) []string {
	args := []string{filepath.Join(Root, "scripts", script), "--master", master, "--driver-host", d.Conf("spark.driver.host"),
		"--driver-port", strconv.Itoa(port), "--executors", strconv.Itoa(executors)}
	for _, kv := range d.Confs {
		v := kv.Value
		if kv.Key == "spark.master" {
			v = master
		}
		args = append(args, "--conf", kv.Key+"="+v)
	}
	return args
}

// HostDriverConf is driver-conf in worker for a driver on the Docker host
// with a free pair of driver ports (FreePortPair), given to driver-conf as
// its settings so that other runs on this host keep theirs; it returns the
// confs and the driver's RPC port.
func HostDriverConf(t *testing.T, worker string) (DriverConf, int) {
	t.Helper()
	port := FreePortPair(t)
	return DriverConfIn(t, worker, "SPARK_DRIVER_PORT="+strconv.Itoa(port), "SPARK_DRIVER_BLOCK_MANAGER_PORT="+strconv.Itoa(port+1)), port
}

// DriverEnv is the environment of a driver on the host: the executors in
// the images run its Python UDFs with their own python3.
func DriverEnv() []string {
	return append(os.Environ(), "PYSPARK_PYTHON=python3")
}

// DriverConfIn runs `entrypoint driver-conf --json` in container, with env
// (KEY=VALUE) added to the exec's environment, and parses it.
func DriverConfIn(t *testing.T, container string, env ...string) DriverConf {
	t.Helper()
	argv := []string{"docker", "exec"}
	for _, kv := range env {
		argv = append(argv, "-e", kv)
	}
	argv = append(argv, container, "/usr/local/bin/entrypoint", "driver-conf", "--json")
	var stdout, stderr strings.Builder
	if err := runTo(nil, &stdout, &stderr, argv...); err != nil {
		t.Fatalf("%s: %v\n%s%s", strings.Join(argv, " "), err, stdout.String(), stderr.String())
	}
	var d DriverConf
	if err := json.Unmarshal([]byte(stdout.String()), &d); err != nil {
		t.Fatalf("%s: %v:\n%s", strings.Join(argv, " "), err, stdout.String())
	}
	return d
}

// CheckDriverConf checks driver-conf from worker against the Docker host's
// classic driver it is for. With the driver not running yet, `entrypoint
// doctor driver` in worker must fail on both of its ports and say why;
// then scripts/sparkjob.py on the host runs with exactly the confs
// driver-conf printed, only the master's port replaced by the one Docker
// published for master's 7077 (HostDriverConf).
func CheckDriverConf(t *testing.T, worker, master, py string, executors int) bool {
	t.Helper()
	d, port := HostDriverConf(t, worker)
	host, url := d.Conf("spark.driver.host"), d.Conf("spark.master")
	t.Logf("driver-conf in %s: platform %s, driver %s, confs %v", Short(worker), d.Platform, d.Driver, d.Confs)
	ok := true
	if d.Platform != "docker" || d.Driver != "docker-host" {
		t.Errorf("driver-conf in %s: platform %q driver %q, want docker and docker-host", Short(worker), d.Platform, d.Driver)
		ok = false
	}
	// The job would run with other ports or a bind address too; these
	// are what the firewall note, doctor driver and a fixed published
	// port rely on.
	for key, want := range map[string]string{"spark.driver.port": strconv.Itoa(port), "spark.driver.blockManager.port": strconv.Itoa(port + 1), "spark.driver.bindAddress": "0.0.0.0"} {
		if got := d.Conf(key); got != want {
			t.Errorf("driver-conf in %s: %s %q, want %q", Short(worker), key, got, want)
			ok = false
		}
	}
	if gw := Gateway(t, master); host != gw {
		t.Errorf("driver-conf in %s: spark.driver.host %q, want the network's gateway %s", Short(worker), host, gw)
		ok = false
	}
	base, found := strings.CutSuffix(url, ":7077")
	if !found || base != "spark://127.0.0.1" {
		t.Fatalf("driver-conf in %s: spark.master %q, want spark://127.0.0.1:7077 (the master's port, published)", Short(worker), url)
	}

	target := fmt.Sprintf("%s:%d,%d", host, port, port+1)
	out, err := Try("docker", "exec", worker, "/usr/local/bin/entrypoint", "doctor", "driver", target)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || strings.Count(out, "FAIL  driver:") != 2 || !strings.Contains(out, "fix: ") {
		t.Errorf("doctor driver %s in %s with no driver: %v, want exit 1 with two FAIL lines and their fixes:\n%s", target, Short(worker), err, out)
		ok = false
	} else {
		t.Logf("doctor driver %s in %s with no driver:\n%s", target, Short(worker), strings.TrimSpace(out))
	}

	argv := append([]string{py}, d.Argv("sparkjob.py", base+":"+Published(t, master, "7077/tcp"), port, executors)...)
	t.Logf("job: driver on the host with driver-conf's confs: %s", strings.Join(argv[2:], " "))
	jobOK, _ := runChecked(t, DriverEnv(), "job:", "result=500000500000 expected=500000500000", argv...)
	return ok && jobOK
}
