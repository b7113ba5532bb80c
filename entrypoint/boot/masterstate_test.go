package boot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/discovery"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

func TestMasterStateDir(t *testing.T) {
	conf := t.TempDir()
	if err := os.WriteFile(filepath.Join(conf, "spark-defaults.conf"), []byte("spark.deploy.recoveryMode ZOOKEEPER\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	envConf := t.TempDir()
	if err := os.WriteFile(filepath.Join(envConf, "spark-env.sh"), []byte(`SPARK_DAEMON_JAVA_OPTS="-Dspark.deploy.recoveryMode=ZOOKEEPER"`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, setting string
		env           []string
		want          string
	}{
		{"default", "/var/lib/spark/master", []string{"SPARK_HOME=/nonexistent"}, "/var/lib/spark/master"},
		{"off", "off", nil, ""},
		{"own mode in SPARK_MASTER_OPTS", "/s", []string{"SPARK_MASTER_OPTS=-Dspark.deploy.recoveryMode=ZOOKEEPER"}, ""},
		{"own mode in SPARK_DAEMON_JAVA_OPTS", "/s", []string{"SPARK_DAEMON_JAVA_OPTS=-Dspark.deploy.recoveryMode=ZOOKEEPER"}, ""},
		{"own mode in spark-defaults.conf", "/s", []string{"SPARK_CONF_DIR=" + conf}, ""},
		{"own mode in spark-env.sh", "/s", []string{"SPARK_HOME=/x", "SPARK_CONF_DIR=" + envConf}, ""},
		{"other master options", "/s", []string{"SPARK_MASTER_OPTS=-Dspark.deploy.retainedApplications=10"}, "/s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := masterStateDir(tt.setting, tt.env); got != tt.want {
				t.Errorf("masterStateDir(%q, %q) = %q, want %q", tt.setting, tt.env, got, tt.want)
			}
		})
	}
}

func TestPlanMasterState(t *testing.T) {
	tests := []struct {
		name, opts string
		wantDir    string
		wantOpts   []string
	}{
		{"default", "", "/var/lib/spark/master", []string{"-Dspark.deploy.recoveryMode=FILESYSTEM",
			"-Dspark.deploy.recoveryDirectory=/var/lib/spark/master", "-Dspark.deploy.recoveryTimeout=15s"}},
		{"own directory", "-Dspark.deploy.recoveryDirectory=/data/master", "/data/master", []string{
			"-Dspark.deploy.recoveryDirectory=/data/master", "-Dspark.deploy.recoveryMode=FILESYSTEM"}},
		{"own mode", "-Dspark.deploy.recoveryMode=ZOOKEEPER", "", []string{"-Dspark.deploy.recoveryMode=ZOOKEEPER"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSettings()
			s.MasterState = "/var/lib/spark/master"
			in := discovery.Inputs{Env: map[string]string{"SPARK_MASTER_HOST": "spark-master", "SPARK_HOME": t.TempDir(), "SPARK_MASTER_OPTS": tt.opts}}
			p, err := plan(context.Background(), sparkenv.Master, s, in, zerolog.Nop(), false)
			if err != nil {
				t.Fatalf("plan() error = %v", err)
			}
			if p.MasterState != tt.wantDir {
				t.Errorf("plan() master state = %q, want %q", p.MasterState, tt.wantDir)
			}
			opts := strings.Fields(sparkenv.Get(p.Env, "SPARK_MASTER_OPTS"))
			for _, o := range tt.wantOpts {
				if !slices.Contains(opts, o) {
					t.Errorf("SPARK_MASTER_OPTS = %q, want %s in it", opts, o)
				}
			}
			if tt.wantDir == "" && strings.Contains(sparkenv.Get(p.Env, "SPARK_MASTER_OPTS"), "spark.deploy.recoveryDirectory") {
				t.Errorf("SPARK_MASTER_OPTS = %q, want no recovery directory of the entrypoint's", opts)
			}
		})
	}
}

func TestPrepareMasterState(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to hand directories to another uid")
	}
	base := t.TempDir()
	rootOwned := filepath.Join(base, "volume")
	if err := os.Mkdir(rootOwned, 0o755); err != nil {
		t.Fatal(err)
	}
	openDir := filepath.Join(base, "emptydir")
	if err := os.Mkdir(openDir, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(openDir, 0o777); err != nil { // past the umask
		t.Fatal(err)
	}
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, dir string
		wantErr   bool
		wantUID   uint32
	}{
		{"created", filepath.Join(base, "a", "b"), false, 185},
		{"root's volume is handed over", rootOwned, false, 185},
		{"world-writable is left alone", openDir, false, 0},
		{"a file", file, true, 0},
		{"under a file", filepath.Join(file, "x"), true, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := prepareStateDir(tt.dir, 185, 185, 0o770)
			if (err != nil) != tt.wantErr {
				t.Fatalf("prepareStateDir(%s) error = %v, want error %v", tt.dir, err, tt.wantErr)
			}
			if err != nil {
				return
			}
			fi, err := os.Stat(tt.dir)
			if err != nil {
				t.Fatal(err)
			}
			if uid := fi.Sys().(*syscall.Stat_t).Uid; uid != tt.wantUID || !writableBy(fi, 185, 185) {
				t.Errorf("%s: owner %d mode %v, want owner %d and writable by 185", tt.dir, uid, fi.Mode(), tt.wantUID)
			}
		})
	}
}

func TestWritableBy(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give directories away")
	}
	tests := []struct {
		name     string
		uid, gid int
		mode     os.FileMode
		asUID    int
		asGID    int
		want     bool
	}{
		{"owner rwx", 185, 185, 0o700, 185, 185, true},
		{"owner r-x", 185, 185, 0o500, 185, 185, false},
		{"group 0 for an arbitrary uid", 185, 0, 0o770, 12345, 0, true},
		{"group without write", 185, 0, 0o750, 12345, 0, false},
		{"other", 0, 0, 0o777, 12345, 12345, true},
		{"root's 755", 0, 0, 0o755, 185, 185, false},
		{"root itself", 185, 185, 0o000, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "d")
			if err := errors.Join(os.Mkdir(dir, 0o700), os.Chown(dir, tt.uid, tt.gid), os.Chmod(dir, tt.mode)); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := writableBy(fi, tt.asUID, tt.asGID); got != tt.want {
				t.Errorf("writableBy(%v %d:%d, %d:%d) = %v, want %v", tt.mode, tt.uid, tt.gid, tt.asUID, tt.asGID, got, tt.want)
			}
		})
	}
}

func TestWithoutOptions(t *testing.T) {
	opts := masterStateOptions("/s")
	argv := []string{"java", "-cp", "x", "-Dspark.deploy.recoveryMode=FILESYSTEM", "-Dspark.deploy.recoveryDirectory=/s",
		"-Dspark.deploy.recoveryDirectory=/other", "-Dspark.deploy.recoveryTimeout=15s", "org.apache.spark.deploy.master.Master"}
	want := []string{"java", "-cp", "x", "-Dspark.deploy.recoveryDirectory=/other", "org.apache.spark.deploy.master.Master"}
	if got := withoutOptions(argv, opts); !slices.Equal(got, want) {
		t.Errorf("withoutOptions() = %q, want %q", got, want)
	}
	if argv[3] != "-Dspark.deploy.recoveryMode=FILESYSTEM" {
		t.Error("withoutOptions changed its argument")
	}
}
