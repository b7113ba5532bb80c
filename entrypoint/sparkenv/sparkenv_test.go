package sparkenv

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// linkEnv is what `docker run --link spark-master:spark-master` gives a
// worker when the master exposes 7077 and 8080 (Docker's legacy links
// documentation, "Environment variables").
var linkEnv = []string{
	"PATH=/usr/bin",
	"SPARK_MASTER_PORT=tcp://172.17.0.2:7077",
	"SPARK_MASTER_PORT_7077_TCP=tcp://172.17.0.2:7077",
	"SPARK_MASTER_PORT_7077_TCP_ADDR=172.17.0.2",
	"SPARK_MASTER_PORT_7077_TCP_PORT=7077",
	"SPARK_MASTER_PORT_7077_TCP_PROTO=tcp",
	"SPARK_MASTER_PORT_8080_TCP=tcp://172.17.0.2:8080",
	"SPARK_MASTER_NAME=/worker-1/spark-master",
	"SPARK_MASTER_ENV_SECRET=hunter2",
	"SPARK_MASTER_HOST=spark-master",
	"SPARK_WORKER_OPTS=-Dx=1",
}

func TestScrub(t *testing.T) {
	tests := []struct {
		name        string
		env         []string
		want        []string
		wantRemoved []string
	}{
		{"docker link", linkEnv,
			[]string{"PATH=/usr/bin", "SPARK_MASTER_HOST=spark-master", "SPARK_WORKER_OPTS=-Dx=1"},
			[]string{"SPARK_MASTER_ENV_SECRET", "SPARK_MASTER_NAME", "SPARK_MASTER_PORT", "SPARK_MASTER_PORT_7077_TCP",
				"SPARK_MASTER_PORT_7077_TCP_ADDR", "SPARK_MASTER_PORT_7077_TCP_PORT", "SPARK_MASTER_PORT_7077_TCP_PROTO", "SPARK_MASTER_PORT_8080_TCP"}},
		{"kubernetes services spark-worker and spark-master-webui, ipv6",
			[]string{"SPARK_WORKER_PORT=tcp://[fd00::7]:7078", "SPARK_WORKER_SERVICE_HOST=fd00::7", "SPARK_MASTER_WEBUI_PORT=tcp://10.0.0.9:80", "SPARK_MASTER_WEBUI_PORT_80_TCP_PORT=80"},
			[]string{"SPARK_WORKER_SERVICE_HOST=fd00::7"},
			[]string{"SPARK_MASTER_WEBUI_PORT", "SPARK_MASTER_WEBUI_PORT_80_TCP_PORT", "SPARK_WORKER_PORT"}},
		{"numbers kept", []string{"SPARK_MASTER_PORT=7077", "SPARK_WORKER_PORT=0", "SPARK_WORKER_CORES=2", "SPARK_WORKER_PORT_X=1"},
			[]string{"SPARK_MASTER_PORT=7077", "SPARK_WORKER_PORT=0", "SPARK_WORKER_CORES=2", "SPARK_WORKER_PORT_X=1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, removed, err := Scrub(tt.env)
			if err != nil {
				t.Fatalf("Scrub() error = %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Scrub() env = %q, want %q", got, tt.want)
			}
			var names []string
			for _, r := range removed {
				names = append(names, r.Name)
				if strings.Contains(r.Value, "hunter2") {
					t.Errorf("removal %s shows the linked container's value %q", r.Name, r.Value)
				}
				// Numeric is what doctor keys on: Spark's integer settings
				// only, never the rest of the family.
				if _, isInt := intVars[r.Name]; r.Numeric != isInt {
					t.Errorf("removal %s: Numeric = %v, want %v", r.Name, r.Numeric, isInt)
				}
			}
			if !reflect.DeepEqual(names, tt.wantRemoved) {
				t.Errorf("Scrub() removed %q, want %q", names, tt.wantRemoved)
			}
		})
	}
}

func TestScrubInvalid(t *testing.T) {
	for _, kv := range []string{"SPARK_MASTER_PORT=abc", "SPARK_MASTER_PORT=0", "SPARK_WORKER_WEBUI_PORT=70000", "SPARK_WORKER_CORES=-1", "SPARK_WORKER_PORT= 7078", "SPARK_WORKER_INSTANCES=2", "SPARK_WORKER_MEMORY=1.5g", "SPARK_WORKER_MEMORY=4096"} {
		_, _, err := Scrub([]string{kv})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Scrub(%q) error = %v, want ErrInvalid", kv, err)
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		if !strings.Contains(err.Error(), k+"=\""+v+"\"") {
			t.Errorf("Scrub(%q) error %q does not name the variable and value", kv, err)
		}
	}
}

func TestArgv(t *testing.T) {
	tests := []struct {
		name string
		node Node
		want string
	}{
		{"master defaults", Node{Role: Master, Host: "spark-master"},
			"bash /opt/spark/bin/spark-class org.apache.spark.deploy.master.Master --host spark-master --port 7077 --webui-port 8080"},
		{"worker", Node{Role: Worker, SparkHome: "/s", MasterURL: "spark://spark-master:7077"},
			"bash /s/bin/spark-class org.apache.spark.deploy.worker.Worker --webui-port 8081 spark://spark-master:7077"},
		{"worker host and port", Node{Role: Worker, Host: "10.0.0.5", Port: 7078, WebUIPort: 9091, MasterURL: "spark://a:1,b:2"},
			"bash /opt/spark/bin/spark-class org.apache.spark.deploy.worker.Worker --webui-port 9091 --host 10.0.0.5 --port 7078 spark://a:1,b:2"},
		{"master with a properties file", Node{Role: Master, PropertiesFile: "/tmp/p/spark.conf"},
			"bash /opt/spark/bin/spark-class org.apache.spark.deploy.master.Master --properties-file /tmp/p/spark.conf --port 7077 --webui-port 8080"},
		{"worker with a properties file", Node{Role: Worker, PropertiesFile: "/tmp/p/spark.conf", MasterURL: "spark://m:7077"},
			"bash /opt/spark/bin/spark-class org.apache.spark.deploy.worker.Worker --webui-port 8081 --properties-file /tmp/p/spark.conf spark://m:7077"},
		{"history with a properties file", Node{Role: History, PropertiesFile: "/tmp/p/spark.conf"},
			"bash /opt/spark/bin/spark-class org.apache.spark.deploy.history.HistoryServer --properties-file /tmp/p/spark.conf"},
	}
	for _, tt := range tests {
		got, err := tt.node.Argv()
		if err != nil || strings.Join(got, " ") != tt.want {
			t.Errorf("%s: Argv() = %q, %v; want %q", tt.name, strings.Join(got, " "), err, tt.want)
		}
	}
	if _, err := (Node{Role: Worker}).Argv(); err == nil {
		t.Error("worker without master url: Argv() succeeded")
	}
	if _, err := (Node{Role: "driver"}).Argv(); err == nil {
		t.Error("unknown role: Argv() succeeded")
	}
}

func TestJavaOptions(t *testing.T) {
	env := []string{"SPARK_WORKER_OPTS=-Dspark.decommission.enabled=true"}
	env = AddJavaOption(env, "SPARK_WORKER_OPTS", "spark.worker.preferConfiguredMasterAddress", "true")
	env = AddJavaOption(env, "SPARK_WORKER_OPTS", "spark.decommission.enabled", "false")
	if got := Get(env, "SPARK_WORKER_OPTS"); got != "-Dspark.decommission.enabled=true -Dspark.worker.preferConfiguredMasterAddress=true" {
		t.Errorf("SPARK_WORKER_OPTS = %q", got)
	}
	if v, ok := JavaOption(env, "SPARK_WORKER_OPTS", "spark.decommission.enabled"); !ok || v != "true" {
		t.Errorf("JavaOption = %q, %v", v, ok)
	}
	if _, ok := JavaOption(env, "SPARK_MASTER_OPTS", "spark.decommission.enabled"); ok {
		t.Error("JavaOption found a key in an unset variable")
	}
	if n := IntOr([]string{"P=12"}, "P", 1); n != 12 {
		t.Errorf("IntOr = %d", n)
	}
	if n := IntOr(nil, "P", 7); n != 7 {
		t.Errorf("IntOr default = %d", n)
	}
}

func TestMemoryMiB(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64 // 0: an error
	}{
		{"2g", 2048}, {"1536m", 1536}, {"1536M", 1536}, {"3GB", 3072}, {"1t", 1 << 20}, {"1048576", 1},
		{"2097152b", 2}, {"4096k", 4}, {" 2g ", 2048},
		{"1.5g", 0}, {"4096", 0}, {"2q", 0}, {"g", 0}, {"", 0}, {"-1g", 0}, {"99999999999999p", 0},
	} {
		got, err := MemoryMiB(tt.in)
		if tt.want == 0 {
			if err == nil {
				t.Errorf("MemoryMiB(%q) = %d, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("MemoryMiB(%q) = %d, %v, want %d", tt.in, got, err, tt.want)
		}
	}
}
