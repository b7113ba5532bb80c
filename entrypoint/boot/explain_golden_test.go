package boot

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/discovery/discoverytest"
	"github.com/snufkin/swarming-spark/entrypoint/limits"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

var update = flag.Bool("update", false, "rewrite explain.json in the discovery case directories with the current output")

// caseRoot holds the testdata/<platform>/<case>/ directories that the
// discovery goldens and these share (their files: discoverytest.Case).
var caseRoot = filepath.Join("..", "..", "discovery", "testdata")

// TestExplainGolden builds `entrypoint explain` for every case directory
// through the code path the command uses (explainOn, with the machine read
// from the case instead of this container) and compares it with the case's
// explain.json. The case's env, hosts and resolv.conf stand for the
// container's; its DNS zone and ECS metadata are served on loopback; its
// args may add "role: master" and "addrs: <the container's addresses>".
// The container is root, called after its HOSTNAME variable (spark-node
// when unset), with passwd entries for uid 0 and 185 (spark in the
// images); the JVM runs as 185; Spark's launcher is not asked, so the
// command is the spark-class form.
//
// Every discovery case (a directory with discovery's want.golden) must
// have its explain.json, and no other directory may stand there. A
// worker's explain must also say what discovery's golden says (the
// master's URL, source and detail, or the same error), so that -update
// cannot write a golden in which explain and discovery disagree.
func TestExplainGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join(caseRoot, "*", "*", "want.golden"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		t.Fatalf("no discovery cases under %s", caseRoot)
	}
	eachCase(t, caseRoot, len(cases), func(t *testing.T, dir string) {
		discovered, err := os.ReadFile(filepath.Join(dir, "want.golden"))
		if err != nil {
			t.Fatalf("not a discovery case: %v", err)
		}
		got := explainCase(t, dir)
		agreesWithDiscovery(t, got, string(discovered))
		golden := filepath.Join(dir, "explain.json")
		if *update {
			if err := os.WriteFile(golden, got, 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatalf("read golden (run go test -update to create it): %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("explain for %s:\ngot:\n%s\nwant:\n%s", dir, got, want)
		}
	})
}

// agreesWithDiscovery checks a worker's explain output against the
// discovery golden of the same case (discovery's renderResult form:
// "source:", "url:" and "detail:" lines, or one "KIND: error" line). A
// master's explain does not look for a master.
func agreesWithDiscovery(t *testing.T, explained []byte, discovered string) {
	t.Helper()
	var e struct {
		Role   string      `json:"role"`
		Master *masterView `json:"master"`
		Error  string      `json:"error"`
	}
	if err := json.Unmarshal(explained, &e); err != nil {
		t.Fatalf("explain output is not JSON: %v\n%s", err, explained)
	}
	if e.Role != string(sparkenv.Worker) {
		return
	}
	var got string
	if e.Master != nil {
		got = fmt.Sprintf("source: %s\nurl: %s\n", e.Master.Source, e.Master.URL)
		for _, d := range e.Master.Detail {
			got += "detail: " + d + "\n"
		}
	} else {
		got = e.Error + "\n"
		// The kind (invalid, not found) is discovery's rendering only.
		_, discovered, _ = strings.Cut(discovered, ": ")
	}
	if got != discovered {
		t.Errorf("explain's master disagrees with discovery's golden:\nexplain:\n%s\ndiscovery:\n%s", got, discovered)
	}
}

// testLimits is a container without cgroup limits on a 2-cpu, 8 GiB host.
var testLimits = limits.Limits{Cgroup: "v1", CPUs: 2, HostMemory: 8 << 30}

// explainCase runs explain on the container dir describes.
func explainCase(t *testing.T, dir string) []byte {
	t.Helper()
	c := discoverytest.Load(t, dir)
	m := machine{
		in: discovery.Inputs{Env: c.Env, Hosts: c.Hosts, Resolv: c.Resolv, Service: c.Env["SPARK_MASTER_SERVICE"],
			Port: c.Port, HTTP: c.HTTP, DNSServer: c.DNSServer},
		hostname:  "spark-node",
		euid:      0,
		limits:    testLimits,
		hasPasswd: func(uid int) bool { return uid == 0 || uid == 185 },
	}
	if c.Service != "" {
		m.in.Service = c.Service
	}
	if h := c.Env["HOSTNAME"]; h != "" {
		m.hostname = h
	}
	for _, a := range c.Addrs {
		ip, err := netip.ParseAddr(a)
		if err != nil {
			t.Fatalf("args addrs %q: %v", a, err)
		}
		m.addrs = append(m.addrs, ip)
	}
	s := settings.Settings{User: "185", Discovery: "auto", MasterWait: 5 * time.Minute, Grace: 8 * time.Second, FixEtc: true, MasterState: "/var/lib/spark/master"}
	if v := c.Env["ENTRYPOINT_DISCOVERY"]; v != "" {
		s.Discovery = v
	}
	if len(c.Sources) > 0 {
		s.Discovery = strings.Join(c.Sources, ",")
	}
	s.FixEtc = c.Env["ENTRYPOINT_FIX_ETC"] != "false"
	if v := c.Env["ENTRYPOINT_EXECUTOR_PORTS"]; v != "" {
		if err := s.ExecutorPorts.Decode(v); err != nil {
			t.Fatalf("env ENTRYPOINT_EXECUTOR_PORTS=%q: %v", v, err)
		}
	}
	role := sparkenv.Worker
	if c.Role != "" {
		role = sparkenv.Role(c.Role)
	}
	if !slices.Contains([]sparkenv.Role{sparkenv.Master, sparkenv.Worker}, role) {
		t.Fatalf("args role %q", c.Role)
	}
	var out bytes.Buffer
	// A failed discovery is part of the answer, as it is for the command.
	_ = explainOn(role, s, m, &out)
	return []byte(c.Scrub.Replace(out.String()))
}

// TestPlanECSBridgeWaitsForMetadataFile: at start (not in explain) a
// container metadata file that is not READY yet is read again, as the
// agent completes it shortly after the container starts.
func TestPlanECSBridgeWaitsForMetadataFile(t *testing.T) {
	c := discoverytest.Load(t, filepath.Join(caseRoot, "ecs", "bridge-worker-metadata-file"))
	ready, err := os.ReadFile(filepath.Join(c.Dir, "ecs", "metadata.json"))
	if err != nil {
		t.Fatal(err)
	}
	reads := 0
	m := machine{
		in: discovery.Inputs{Env: c.Env, Hosts: c.Hosts, Resolv: c.Resolv, HTTP: c.HTTP, DNSServer: c.DNSServer,
			ReadFile: func(string) ([]byte, error) {
				if reads++; reads == 1 {
					return []byte(`{"ContainerName":"spark-worker","MetadataFileStatus":"NOT_READY"}`), nil
				}
				return ready, nil
			}},
		addrs:     []netip.Addr{netip.MustParseAddr("172.17.0.6")},
		hostname:  "8d1fe41a9b2c",
		limits:    testLimits,
		hasPasswd: func(int) bool { return true },
	}
	s := settings.Settings{User: "185", Discovery: "auto", Grace: 8 * time.Second, FixEtc: true, MasterState: "/var/lib/spark/master"}
	for _, wait := range []bool{false, true} {
		reads = 0
		p, err := planOn(context.Background(), sparkenv.Worker, s, m, zerolog.Nop(), wait)
		if err != nil {
			t.Fatalf("planOn(wait %v): %v", wait, err)
		}
		want := ""
		if wait {
			want = "ip-10-20-1-17.eu-west-1.compute.internal"
		}
		if p.Advertise.Host != want || (wait && reads != 2) {
			t.Errorf("planOn(wait %v) advertises %q after %d reads, want %q (warnings %q)", wait, p.Advertise.Host, reads, want, p.Warnings)
		}
	}
}

// eachCase runs f as a parallel subtest, named PLATFORM/CASE, for every
// case directory root/PLATFORM/CASE/, and fails when there are fewer than
// least: a moved testdata tree must not pass by running nothing.
func eachCase(t *testing.T, root string, least int, f func(t *testing.T, dir string)) {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join(root, "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	ran := 0
	for _, dir := range dirs {
		// testdata/fuzz/FuzzX/ is a fuzz corpus that go test -fuzz may
		// write there, not a case.
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() || filepath.Base(filepath.Dir(dir)) == "fuzz" {
			continue
		}
		ran++
		name := filepath.ToSlash(strings.TrimPrefix(dir, root+string(filepath.Separator)))
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f(t, dir)
		})
	}
	if ran < least {
		t.Fatalf("only %d case directories under %s", ran, root)
	}
}
