package boot

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/rs/zerolog"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

func TestPlanEventLog(t *testing.T) {
	const dir = "/var/lib/spark/events"
	tests := []struct {
		name      string
		role      sparkenv.Role
		env       map[string]string
		eventLog  string
		optsVar   string
		wantOpts  []string // in optsVar, in order
		notOpts   []string
		wantView  *eventLogView
		prepare   string
		warning   string
		wantArgv  string
		wantWebUI int
	}{
		{name: "history on the default directory", role: sparkenv.History, eventLog: dir, optsVar: sparkenv.HistoryOpts,
			wantOpts: []string{"-Dspark.history.fs.logDirectory=file:" + dir, "-Dspark.history.fs.cleaner.enabled=true",
				"-Dspark.history.fs.eventLog.rolling.maxFilesToRetain=10"},
			wantView: &eventLogView{Dir: dir, Source: "ENTRYPOINT_EVENT_LOG"}, prepare: dir,
			wantArgv: "bash /opt/spark/bin/spark-class " + sparkenv.HistoryClass, wantWebUI: 18080},
		{name: "history on the user's directory and port", role: sparkenv.History, eventLog: dir, optsVar: sparkenv.HistoryOpts,
			env:      map[string]string{sparkenv.HistoryOpts: "-Dspark.history.fs.logDirectory=s3a://logs/spark -Dspark.history.ui.port=18081 -Dspark.history.fs.cleaner.enabled=false"},
			wantOpts: []string{"-Dspark.history.fs.logDirectory=s3a://logs/spark", "-Dspark.history.fs.cleaner.enabled=false"},
			notOpts:  []string{"file:" + dir, "cleaner.enabled=true"},
			wantView: &eventLogView{Dir: "s3a://logs/spark", Source: sparkenv.HistoryOpts}, wantWebUI: 18081},
		{name: "history with the directory off", role: sparkenv.History, eventLog: settings.EventLogOff, optsVar: sparkenv.HistoryOpts,
			notOpts: []string{"logDirectory"}, warning: "file:/tmp/spark-events", wantWebUI: 18080},
		{name: "connect writes its event log", role: sparkenv.Connect, eventLog: dir, optsVar: sparkenv.ConnectOpts,
			env: map[string]string{"SPARK_MASTER_URL": "spark://spark-master:7077"},
			wantOpts: []string{"-Dspark.eventLog.enabled=true", "-Dspark.eventLog.dir=file:" + dir,
				"-Dspark.eventLog.rolling.enabled=true", "-Dspark.eventLog.rolling.maxFileSize=128m"},
			wantView: &eventLogView{Dir: dir, Source: "ENTRYPOINT_EVENT_LOG", Writes: true}, prepare: dir},
		{name: "connect with event logging turned off by the user", role: sparkenv.Connect, eventLog: dir, optsVar: sparkenv.ConnectOpts,
			env:     map[string]string{"SPARK_MASTER_URL": "spark://spark-master:7077", sparkenv.ConnectOpts: "-Dspark.eventLog.enabled=false"},
			notOpts: []string{"eventLog.dir", "rolling"}},
		{name: "connect with the directory off", role: sparkenv.Connect, eventLog: settings.EventLogOff, optsVar: sparkenv.ConnectOpts,
			env: map[string]string{"SPARK_MASTER_URL": "spark://spark-master:7077"}, notOpts: []string{"eventLog"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSettings()
			s.EventLog = tt.eventLog
			p, err := planOn(context.Background(), tt.role, s, connectMachine(tt.env), zerolog.Nop(), false)
			if err != nil {
				t.Fatal(err)
			}
			opts := sparkenv.Get(p.Env, tt.optsVar)
			at := 0
			for _, o := range tt.wantOpts {
				i := strings.Index(opts[at:], o)
				if i < 0 {
					t.Errorf("%s = %q, want %q (in this order)", tt.optsVar, opts, o)
					continue
				}
				at += i
			}
			for _, o := range tt.notOpts {
				if strings.Contains(opts, o) {
					t.Errorf("%s = %q, want no %q", tt.optsVar, opts, o)
				}
			}
			if (p.EventLog == nil) != (tt.wantView == nil) || p.EventLog != nil && *p.EventLog != *tt.wantView {
				t.Errorf("event_log = %+v, want %+v", p.EventLog, tt.wantView)
			}
			if p.eventLogDir != tt.prepare {
				t.Errorf("prepares %q, want %q", p.eventLogDir, tt.prepare)
			}
			if w := strings.Join(p.Warnings, "\n"); tt.warning != "" && !strings.Contains(w, tt.warning) {
				t.Errorf("warnings %q, want one with %q", p.Warnings, tt.warning)
			}
			if tt.wantArgv != "" && strings.Join(p.Argv, " ") != tt.wantArgv {
				t.Errorf("argv %q, want %q", p.Argv, tt.wantArgv)
			}
			if tt.wantWebUI != 0 && p.Advertise.WebUIPort != tt.wantWebUI {
				t.Errorf("web UI port %d, want %d", p.Advertise.WebUIPort, tt.wantWebUI)
			}
		})
	}
}

// TestPrepareEventLog: as root the entrypoint gives a root-owned event-log
// directory to the JVM's uid and group 0 with the setgid bit, so that what
// any uid of group 0 writes there stays readable by the others.
func TestPrepareEventLog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to hand directories to another uid")
	}
	tmp := t.TempDir()
	// The driver below must reach the directory.
	for _, d := range []string{tmp, filepath.Dir(tmp)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(tmp, "events")
	if err := prepareStateDir(dir, 185, 0, eventLogMode); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if st.Uid != 185 || st.Gid != 0 || fi.Mode()&os.ModeSetgid == 0 || fi.Mode().Perm() != 0o770 {
		t.Errorf("%s: %d:%d %v, want 185:0 with setgid and 0770", dir, st.Uid, st.Gid, fi.Mode())
	}
	// A file a driver of uid 185 and group 185 makes there takes group 0.
	f := filepath.Join(dir, "app-1")
	touch := exec.Command("touch", f)
	touch.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 185, Gid: 185}}
	if out, err := touch.CombinedOutput(); err != nil {
		t.Fatalf("touch as 185:185: %v %s", err, out)
	}
	if fi, err := os.Stat(f); err != nil || fi.Sys().(*syscall.Stat_t).Gid != 0 {
		t.Errorf("a file made by 185:185 has group %d, want 0 (the directory's): %v", fi.Sys().(*syscall.Stat_t).Gid, err)
	}
}

func TestCheckEventLog(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name     string
		eventLog string
		uid      int
		severity string
		detail   string
	}{
		{"off", settings.EventLogOff, 0, sevOK, "off"},
		{"missing, as root", filepath.Join(dir, "events"), 0, sevOK, "creates it"},
		{"missing, another uid", filepath.Join(dir, "events"), 12345, sevWarn, "no such file"},
		{"a file", file, 0, sevWarn, "not a directory"},
		{"there, as root", dir, 0, sevOK, "makes it the JVM's"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := testSettings()
			s.EventLog = tt.eventLog
			f := checkEventLog(sparkenv.History, s, tt.uid)
			if f.Severity != tt.severity || !strings.Contains(f.Detail, tt.detail) {
				t.Errorf("checkEventLog = %+v, want %s with %q", f, tt.severity, tt.detail)
			}
		})
	}
}
