package boot

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/discovery/discoverytest"
	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// driverConfRoot holds driver-conf's testdata/driverconf/<platform>/<case>/
// directories: the files of discoverytest.Case, plus route (the
// container's /proc/net/route) and the goldens want.txt and want.json
// (go test -update rewrites them).
var driverConfRoot = filepath.Join("testdata", "driverconf")

// TestDriverConfGolden runs driver-conf's code path (driverConfOn) on the
// container each case describes, with its DNS zone and ECS metadata
// served on loopback, and compares both output forms with the goldens.
// The executors run Spark 4.1.2 on Python 3.11.2; args "role:" is what
// PID 1 runs.
func TestDriverConfGolden(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the route files are a little-endian kernel's /proc/net/route")
	}
	eachCase(t, driverConfRoot, 10, func(t *testing.T, dir string) {
		c := discoverytest.Load(t, dir)
		m := driverMachine{
			in: discovery.Inputs{Env: c.Env, Hosts: c.Hosts, Resolv: c.Resolv, Service: c.Env["SPARK_MASTER_SERVICE"],
				Port: c.Port, HTTP: c.HTTP, DNSServer: c.DNSServer},
			route:    discoverytest.ReadOptional(t, filepath.Join(dir, "route")),
			role:     sparkenv.Role(c.Role),
			hostname: c.Env["HOSTNAME"],
			runtime:  runtimeView{Spark: "4.1.2", Python: "3.11.2"},
		}
		if c.Service != "" {
			m.in.Service = c.Service
		}
		s := settings.Settings{Discovery: "auto"}
		if len(c.Sources) > 0 {
			s.Discovery = strings.Join(c.Sources, ",")
		}
		if v := c.Env["ENTRYPOINT_EXECUTOR_PORTS"]; v != "" {
			if err := s.ExecutorPorts.Decode(v); err != nil {
				t.Fatalf("env ENTRYPOINT_EXECUTOR_PORTS=%q: %v", v, err)
			}
		}
		conf, err := driverConfOn(context.Background(), s, m)
		if err != nil {
			t.Fatalf("driverConfOn: %v", err)
		}
		for _, form := range []struct {
			file   string
			asJSON bool
		}{{"want.txt", false}, {"want.json", true}} {
			var out bytes.Buffer
			if err := conf.write(&out, form.asJSON); err != nil {
				t.Fatal(err)
			}
			got := []byte(c.Scrub.Replace(out.String()))
			if secret := c.Env["SPARK_AUTH_SECRET"]; secret != "" && bytes.Contains(got, []byte(secret)) {
				t.Errorf("%s shows the secret:\n%s", form.file, got)
			}
			golden := filepath.Join(dir, form.file)
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden (run go test -update to create it): %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("driver-conf for %s (%s):\ngot:\n%s\nwant:\n%s", dir, form.file, got, want)
			}
			if form.asJSON {
				checkDriverConfJSON(t, out.Bytes(), conf)
			}
		}
	})
}

// checkDriverConfJSON: the JSON form holds exactly the confs and notes of
// the text form, confs in their order, and nothing else.
func checkDriverConfJSON(t *testing.T, b []byte, conf driverConfig) {
	t.Helper()
	var back driverConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&back); err != nil {
		t.Fatalf("json: %v\n%s", err, b)
	}
	back.header = conf.header
	if !reflect.DeepEqual(back, conf) {
		t.Errorf("json gives %+v, want %+v", back, conf)
	}
	if len(conf.Confs) == 0 || conf.Confs[0].Key != "spark.master" {
		t.Errorf("confs %v: want spark.master first", conf.Confs)
	}
}

func TestReadDriverSettings(t *testing.T) {
	tests := []struct {
		name        string
		env         map[string]string
		host        string
		port, block int
		ignored     int
		err         string // in the error, which is then settings.ErrInvalid
	}{
		{name: "defaults", port: 40400, block: 40401},
		{name: "port, block manager follows", env: map[string]string{"SPARK_DRIVER_PORT": "50100"}, port: 50100, block: 50101},
		{name: "both ports", env: map[string]string{"SPARK_DRIVER_PORT": "50100", "SPARK_DRIVER_BLOCK_MANAGER_PORT": "50000"}, port: 50100, block: 50000},
		{name: "host address", env: map[string]string{"SPARK_DRIVER_HOST": "192.168.1.20"}, host: "192.168.1.20", port: 40400, block: 40401},
		{name: "host name", env: map[string]string{"SPARK_DRIVER_HOST": "spark-driver.analytics.svc"}, host: "spark-driver.analytics.svc", port: 40400, block: 40401},
		{name: "ipv6 host", env: map[string]string{"SPARK_DRIVER_HOST": "fd00::20"}, host: "fd00::20", port: 40400, block: 40401},
		{name: "empty is unset", env: map[string]string{"SPARK_DRIVER_HOST": "", "SPARK_DRIVER_PORT": ""}, port: 40400, block: 40401},
		{name: "link value ignored", env: map[string]string{"SPARK_DRIVER_PORT": "tcp://10.96.3.4:7078"}, port: 40400, block: 40401, ignored: 1},
		{name: "not a number", env: map[string]string{"SPARK_DRIVER_PORT": "4o400"}, err: `SPARK_DRIVER_PORT="4o400"`},
		{name: "random port", env: map[string]string{"SPARK_DRIVER_PORT": "0"}, err: `SPARK_DRIVER_PORT="0"`},
		{name: "port too big", env: map[string]string{"SPARK_DRIVER_BLOCK_MANAGER_PORT": "65536"}, err: `SPARK_DRIVER_BLOCK_MANAGER_PORT="65536"`},
		{name: "no port left for the block manager", env: map[string]string{"SPARK_DRIVER_PORT": "65535"}, err: `SPARK_DRIVER_PORT="65535"`},
		{name: "same ports", env: map[string]string{"SPARK_DRIVER_PORT": "40400", "SPARK_DRIVER_BLOCK_MANAGER_PORT": "40400"}, err: `SPARK_DRIVER_BLOCK_MANAGER_PORT="40400"`},
		{name: "host with scheme", env: map[string]string{"SPARK_DRIVER_HOST": "http://laptop"}, err: `SPARK_DRIVER_HOST="http://laptop"`},
		{name: "host with port", env: map[string]string{"SPARK_DRIVER_HOST": "laptop:40400"}, err: `SPARK_DRIVER_HOST="laptop:40400"`},
		{name: "host with space", env: map[string]string{"SPARK_DRIVER_HOST": "my laptop"}, err: `SPARK_DRIVER_HOST="my laptop"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds, err := readDriverSettings(tt.env)
			if tt.err != "" {
				if !errors.Is(err, settings.ErrInvalid) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("readDriverSettings: %v, want settings.ErrInvalid naming %s", err, tt.err)
				}
				if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] {
					t.Errorf("error %q does not start lowercase", msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("readDriverSettings: %v", err)
			}
			if ds.host != tt.host || ds.port != tt.port || ds.blockPort != tt.block || len(ds.ignored) != tt.ignored {
				t.Errorf("got host %q ports %d/%d ignored %q, want %q %d/%d and %d ignored", ds.host, ds.port, ds.blockPort, ds.ignored, tt.host, tt.port, tt.block, tt.ignored)
			}
		})
	}
}

func TestDefaultGateway(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the tables are a little-endian kernel's /proc/net/route")
	}
	const head = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
	tests := []struct {
		name, table string
		gw, subnet  string // "" = none
	}{
		{name: "default bridge", table: head +
			"eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
			"eth0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n",
			gw: "172.17.0.1", subnet: "172.17.0.0/16"},
		{name: "lowest metric wins, subnet of its interface", table: head +
			"eth0\t00000000\t0101000A\t0003\t0\t0\t200\t00000000\t0\t0\t0\n" +
			"eth1\t00000000\t010012AC\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
			"eth0\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n" +
			"eth1\t000012AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n",
			gw: "172.18.0.1", subnet: "172.18.0.0/16"},
		{name: "route that is down", table: head +
			"eth0\t00000000\t010011AC\t0002\t0\t0\t0\t00000000\t0\t0\t0\n"},
		{name: "no default route", table: head +
			"eth0\t000013AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"},
		{name: "default without gateway flag", table: head +
			"eth0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n"},
		{name: "gateway without subnet route", table: head +
			"eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
			gw: "172.17.0.1"},
		{name: "garbage lines skipped", table: head + "eth0 zz\n\neth0\t00000000\tXYZ\t0003\t0\t0\t0\t00000000\n" +
			"eth0\t00000000\t010011AC\t0003\t0\t0\t0\t00000000\t0\t0\t0\n",
			gw: "172.17.0.1"},
		{name: "empty", table: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, subnet, ok := defaultGateway([]byte(tt.table))
			if ok != (tt.gw != "") {
				t.Fatalf("defaultGateway: %v %v %v, want gateway %q", gw, subnet, ok, tt.gw)
			}
			if !ok {
				return
			}
			if gw != netip.MustParseAddr(tt.gw) {
				t.Errorf("gateway %v, want %s", gw, tt.gw)
			}
			if (tt.subnet == "" && subnet.IsValid()) || (tt.subnet != "" && subnet != netip.MustParsePrefix(tt.subnet)) {
				t.Errorf("subnet %v, want %q", subnet, tt.subnet)
			}
		})
	}
}

func TestDriverConfCommandUsage(t *testing.T) {
	for _, args := range [][]string{{"--yaml"}, {"master"}, {"--json", "x"}} {
		if err := driverConfCommand(args, settings.Settings{}, &bytes.Buffer{}); !errors.Is(err, ErrUsage) {
			t.Errorf("driver-conf %q: %v, want a usage error", args, err)
		}
	}
}
