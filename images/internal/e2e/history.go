package e2e

// The history server's REST API as the tests read it.

import (
	"fmt"
	"testing"
	"time"
)

// HistoryApp is the part of an /api/v1/applications entry read here.
type HistoryApp struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Attempts []struct {
		Completed bool `json:"completed"`
	} `json:"attempts"`
}

// HistoryApps reads the history server's applications at hostPort.
func HistoryApps(hostPort string) ([]HistoryApp, error) {
	var apps []HistoryApp
	err := GetJSON("http://"+hostPort+"/api/v1/applications", &apps)
	return apps, err
}

// WaitHistoryLists waits until the history server at hostPort lists app,
// completed or still running as said, and says how long that took; the
// server looks for new event logs every 10 s (spark.history.fs.update.interval).
func WaitHistoryLists(t *testing.T, hostPort, app string, completed bool, timeout time.Duration) (bool, time.Duration) {
	t.Helper()
	var apps []HistoryApp
	var err error
	ok, took := Poll(timeout, 2*time.Second, func(time.Duration) bool {
		apps, err = HistoryApps(hostPort)
		for _, a := range apps {
			if a.ID == app && len(a.Attempts) > 0 && a.Attempts[0].Completed == completed {
				return true
			}
		}
		return false
	})
	if !ok {
		t.Errorf("the history server at %s does not list %s (completed %v) after %s: %+v (last error %v)", hostPort, app, completed, timeout, apps, err)
	}
	return ok, took
}

// HistoryListsConnect checks that the history server at historyHostPort
// lists the Connect server's running application, the one the master at
// masterUI knows, and says how many applications it lists (those of the
// servers that ran before it, from the same event-log volume, too):
// "ok(apps=N)" or "fail".
func HistoryListsConnect(t *testing.T, masterUI, historyHostPort string) string {
	t.Helper()
	app := ""
	for _, a := range MasterState(t, masterUI).ActiveApps {
		if a.Name == "Spark Connect server" {
			app = a.ID
		}
	}
	if app == "" {
		t.Error("history: the master lists no Connect server application")
		return "fail"
	}
	if ok, _ := WaitHistoryLists(t, historyHostPort, app, false, 2*time.Minute); !ok {
		return "fail"
	}
	apps, _ := HistoryApps(historyHostPort)
	return fmt.Sprintf("ok(apps=%d)", len(apps))
}
