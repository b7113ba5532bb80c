package boot

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// Event logs: a driver writes its application's events to a directory
// (spark.eventLog.*), and the history server lists and replays what it
// finds there (spark.history.fs.logDirectory). Both sides of the images
// meet in ENTRYPOINT_EVENT_LOG, a directory the images create owned by
// spark and group 0 with the setgid bit (2770), so that a driver or a
// history server run under an arbitrary uid with gid 0 can use it; what a
// driver writes in its application's own directory there takes the
// driver's primary group (entrypoint/doc.go, History server). Mount one
// volume there in the Connect server, the drivers and the history server.

// defaultHistoryPort is spark.history.ui.port's default.
const defaultHistoryPort = 18080

// eventLogMode is the event-log directory's mode when the entrypoint
// (as root) has to give it to the JVM's user: group 0 writable, setgid.
const eventLogMode = os.ModeSetgid | 0o770

// eventLogView is explain's "event_log".
type eventLogView struct {
	Dir    string `json:"dir"`
	Source string `json:"source"`
	// Writes: this node writes its application's events there (the
	// Connect server); else it reads them (the history server).
	Writes bool `json:"writes"`
}

// historyJavaDefaults are the history server's options besides its
// directory, unless SPARK_HISTORY_OPTS sets them: logs older than Spark's
// default 7 days go (spark.history.fs.cleaner.*), and an application that
// rolls its event log (the Connect server, which runs for months) keeps
// at most 10 files, older ones compacted into one (Spark's
// EventLogFileCompactor drops the events of finished jobs).
var historyJavaDefaults = []javaOption{
	{"spark.history.fs.cleaner.enabled", "true"},
	{"spark.history.fs.eventLog.rolling.maxFilesToRetain", "10"},
}

// connectEventLogOptions make the Connect server write its events to dir,
// rolled at 128 MiB (spark.eventLog.rolling.*) so that the history server
// can compact a log that never ends.
func connectEventLogOptions(dir string) []javaOption {
	return []javaOption{
		{"spark.eventLog.enabled", "true"},
		{"spark.eventLog.dir", "file:" + dir},
		{"spark.eventLog.rolling.enabled", "true"},
		{"spark.eventLog.rolling.maxFileSize", "128m"},
	}
}

// planHistory points the history server at the event-log directory,
// unless SPARK_HISTORY_OPTS names its own (any file system Spark reads:
// the entrypoint then prepares nothing).
func planHistory(p *Plan, node *sparkenv.Node, env []string, s settings.Settings) []string {
	node.WebUIPort = historyPort(env)
	if dir, ok := sparkenv.JavaOption(env, sparkenv.HistoryOpts, "spark.history.fs.logDirectory"); ok {
		p.EventLog = &eventLogView{Dir: dir, Source: sparkenv.HistoryOpts}
	} else if eventLogOn(s) {
		env = sparkenv.AddJavaOption(env, sparkenv.HistoryOpts, "spark.history.fs.logDirectory", "file:"+s.EventLog)
		p.EventLog = &eventLogView{Dir: s.EventLog, Source: "ENTRYPOINT_EVENT_LOG"}
		p.eventLogDir = s.EventLog
	} else {
		p.Warnings = append(p.Warnings, "history: ENTRYPOINT_EVENT_LOG=off and no spark.history.fs.logDirectory in "+sparkenv.HistoryOpts+": spark reads its default, file:/tmp/spark-events")
	}
	return addJavaOptions(env, sparkenv.HistoryOpts, historyJavaDefaults)
}

// connectEventLog makes the Connect server write its event log to the
// directory, unless the user turned event logging on or off themselves.
func connectEventLog(p *Plan, env []string, s settings.Settings) []string {
	if v, ok := sparkenv.JavaOption(env, sparkenv.ConnectOpts, "spark.eventLog.enabled"); ok {
		if dir, _ := sparkenv.JavaOption(env, sparkenv.ConnectOpts, "spark.eventLog.dir"); v == "true" {
			p.EventLog = &eventLogView{Dir: dir, Source: sparkenv.ConnectOpts, Writes: true}
		}
		return env
	}
	if !eventLogOn(s) {
		return env
	}
	env = addJavaOptions(env, sparkenv.ConnectOpts, connectEventLogOptions(s.EventLog))
	p.EventLog = &eventLogView{Dir: s.EventLog, Source: "ENTRYPOINT_EVENT_LOG", Writes: true}
	p.eventLogDir = s.EventLog
	return env
}

// eventLogOn: ENTRYPOINT_EVENT_LOG names a directory.
func eventLogOn(s settings.Settings) bool {
	return s.EventLog != settings.EventLogOff && s.EventLog != ""
}

// historyPort is spark.history.ui.port in SPARK_HISTORY_OPTS, or Spark's
// default.
func historyPort(env []string) int {
	if v, ok := sparkenv.JavaOption(env, sparkenv.HistoryOpts, "spark.history.ui.port"); ok {
		if n, err := strconv.Atoi(v); err == nil && n > 0 && n < 65536 {
			return n
		}
	}
	return defaultHistoryPort
}

// readyHistory: the history server's REST API answers with its list of
// applications.
func readyHistory(env []string, c *http.Client, w io.Writer) error {
	url := "http://127.0.0.1:" + strconv.Itoa(historyPort(env)) + "/api/v1/applications"
	var apps []struct {
		Attempts []struct {
			Completed bool `json:"completed"`
		} `json:"attempts"`
	}
	if err := getJSON(c, url, &apps); err != nil {
		return err
	}
	done := 0
	for _, a := range apps {
		if len(a.Attempts) > 0 && a.Attempts[0].Completed {
			done++
		}
	}
	fmt.Fprintf(w, "history server lists %d applications, %d completed\n", len(apps), done)
	return nil
}
