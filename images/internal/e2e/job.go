package e2e

// The classic driver job from the host, and the runner the host scripts
// share.

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FreePortPair returns a port p such that p and p+1 were free on every
// address of the host a moment ago: the driver's RPC and block manager
// ports, which the executors in the containers dial back.
func FreePortPair(t *testing.T) int {
	t.Helper()
	for range 50 {
		l1, err := net.Listen("tcp", ":0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		p := l1.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", ":"+strconv.Itoa(p+1))
		l1.Close()
		if err == nil {
			l2.Close()
			return p
		}
	}
	t.Fatal("no free pair of ports for the driver")
	return 0
}

// Job runs scripts/sparkjob.py on the host against masterURL with
// spark.driver.host = driverHost and free driver ports, logs its job:
// lines and reports whether it printed the checked result.
func Job(t *testing.T, masterURL, driverHost string, executors int) (bool, string) {
	t.Helper()
	return JobWith(t, Python(t), masterURL, driverHost, executors)
}

// JobWith is Job with the driver's Python py, whose pyspark must be the
// cluster's Spark line (PythonFor), and sparkjob.py's further options
// extra.
func JobWith(t *testing.T, py, masterURL, driverHost string, executors int, extra ...string) (bool, string) {
	t.Helper()
	port := FreePortPair(t)
	t.Logf("job: driver on the host: master %s, spark.driver.host=%s, driver ports %d/%d", masterURL, driverHost, port, port+1)
	argv := append([]string{py, filepath.Join(Root, "scripts", "sparkjob.py"),
		"--master", masterURL, "--driver-host", driverHost,
		"--executors", strconv.Itoa(executors), "--driver-port", strconv.Itoa(port)}, extra...)
	return runChecked(t, DriverEnv(), "job:", "result=500000500000 expected=500000500000", argv...)
}

// runChecked runs one of the scripts that print "PREFIX ... " lines and
// "PREFIX OK", logs those lines and reports whether the script succeeded
// with result among them; a failure is an error of t, with the output.
func runChecked(t *testing.T, env []string, prefix, result string, argv ...string) (bool, string) {
	t.Helper()
	out, err := TryEnv(env, argv...)
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, prefix) {
			t.Log(line)
		}
	}
	ok := err == nil && strings.Contains(out, prefix+" "+result) && strings.Contains(out, prefix+" OK")
	if !ok {
		t.Errorf("%s did not report the checked result (%v):\n%s", filepath.Base(argv[1]), err, JobErrors(out))
	}
	return ok, out
}

// JobErrors keeps a driver's own complaints (WARN/ERROR lines, its result
// lines, the Python exception) and drops the Java stack frames, 80 lines
// at most.
func JobErrors(out string) string {
	var keep []string
	for _, line := range strings.Split(out, "\n") {
		s := strings.TrimSpace(line)
		if strings.HasPrefix(s, "at ") || strings.HasPrefix(s, "java.base/") || strings.HasPrefix(s, "py4j.") || strings.HasPrefix(s, "org.apache.spark.api") || strings.HasPrefix(s, "... ") {
			continue
		}
		keep = append(keep, line)
	}
	if len(keep) > 80 {
		keep = append(keep[:40], append([]string{fmt.Sprintf("[%d lines]", len(keep)-80)}, keep[len(keep)-40:]...)...)
	}
	return strings.Join(keep, "\n")
}
