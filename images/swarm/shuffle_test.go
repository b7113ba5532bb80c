package swarm_test

// The shuffle job of the multi-node path through the stack's Connect
// server, and what the driver's REST API says of where its blocks went.

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// shuffleJob is scripts/shufflejob.py started from the host against a
// Connect server.
type shuffleJob struct {
	cmd *exec.Cmd
	out strings.Builder
	// done is closed once the process has exited and err holds its
	// status: a closed channel serves every reader (the test's wait and
	// its cleanup alike), where one sent value would leave one blocked.
	done chan struct{}
	err  error
}

// startShuffle starts the job with map tasks that sleep seconds each.
func startShuffle(t *testing.T, remote string, seconds int) *shuffleJob {
	t.Helper()
	j := &shuffleJob{done: make(chan struct{})}
	j.cmd = exec.Command(e2e.ClientPython(t), filepath.Join(e2e.Root, "scripts", "shufflejob.py"),
		"--remote", remote, "--seconds", strconv.Itoa(seconds))
	j.cmd.Stdout, j.cmd.Stderr = &j.out, &j.out
	if err := j.cmd.Start(); err != nil {
		t.Fatalf("shufflejob.py: %v", err)
	}
	go func() {
		j.err = j.cmd.Wait()
		close(j.done)
	}()
	t.Cleanup(func() {
		select {
		case <-j.done:
		default:
			j.cmd.Process.Kill()
			<-j.done
		}
	})
	return j
}

// wait waits for the job's end and reports whether its answer was checked
// right, logging its result line.
func (j *shuffleJob) wait(t *testing.T, timeout time.Duration) bool {
	t.Helper()
	var err error
	select {
	case <-j.done:
		err = j.err
	case <-time.After(timeout):
		j.cmd.Process.Kill()
		<-j.done
		err = fmt.Errorf("still running after %s", timeout)
	}
	out := j.out.String()
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "shuffle:") {
			t.Log(line)
		}
	}
	if err != nil || !strings.Contains(out, "checked=ok") {
		t.Errorf("shufflejob.py: %v\n%s", err, e2e.JobErrors(out))
		return false
	}
	return true
}

// stageDetail is the part of /applications/ID/stages/N?details=true read
// here.
type stageDetail struct {
	StageID         int `json:"stageId"`
	ExecutorSummary map[string]struct {
		ShuffleWrite int64 `json:"shuffleWrite"`
	} `json:"executorSummary"`
	Tasks map[string]struct {
		Index      int    `json:"index"`
		ExecutorID string `json:"executorId"`
		Host       string `json:"host"`
		Status     string `json:"status"`
		Attempt    int    `json:"attempt"`
		LaunchTime string `json:"launchTime"`
		// ErrorMessage is a failed attempt's reason and stack trace.
		ErrorMessage string `json:"errorMessage"`
		TaskMetrics  struct {
			ShuffleReadMetrics struct {
				RemoteBlocksFetched int64 `json:"remoteBlocksFetched"`
			} `json:"shuffleReadMetrics"`
		} `json:"taskMetrics"`
	} `json:"tasks"`
}

// executorInfo is the part of an application's /executors (or
// /allexecutors) entry read here.
type executorInfo struct {
	ID          string `json:"id"`
	HostPort    string `json:"hostPort"`
	ActiveTasks int    `json:"activeTasks"`
}

// connectAppIn is the Connect server's application among the master's
// active ones: its id and state, "" when it is not there.
func connectAppIn(s e2e.MasterJSON) (id, state string) {
	for _, a := range s.ActiveApps {
		if a.Name == "Spark Connect server" {
			return a.ID, a.State
		}
	}
	return "", ""
}

// connectApp is the application id of the Connect server, as the master
// lists it.
func connectApp(t *testing.T, ui string) string {
	t.Helper()
	id, _ := connectAppIn(e2e.MasterState(t, ui))
	if id == "" {
		t.Fatalf("master at %s lists no Spark Connect server", ui)
	}
	return id
}

// stages reads the details of every stage of app whose id is not in seen.
func (b *bed) stages(connect task, app string, seen []int) ([]stageDetail, error) {
	var all []stageDetail
	if err := b.rest(connect, "/applications/"+app+"/stages?details=true", &all); err != nil {
		return nil, err
	}
	return slices.DeleteFunc(all, func(s stageDetail) bool { return slices.Contains(seen, s.StageID) }), nil
}

// stagesSoFar is the Connect server's application, as the master at ui
// lists it, and the ids of the stages it has run so far.
func (b *bed) stagesSoFar(ui string, connect task) (string, []int) {
	b.t.Helper()
	app := connectApp(b.t, ui)
	before, err := b.stages(connect, app, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return app, stageIDs(before)
}

func stageIDs(s []stageDetail) []int {
	var ids []int
	for _, st := range s {
		ids = append(ids, st.StageID)
	}
	return ids
}

// crossNode reads what the stages say of the shuffle: the remote blocks
// the reducers fetched, and whether a reducer fetched while map output
// lay on another node than its own (executors are placed on nodes by the
// overlay addresses of the workers' tasks).
func (b *bed) crossNode(connect task, app string, stages []stageDetail, workers []task) (remote int64, cross bool, err error) {
	var execs []executorInfo
	if err := b.rest(connect, "/applications/"+app+"/allexecutors", &execs); err != nil {
		return 0, false, err
	}
	nodeOfExec := map[string]string{}
	for _, e := range execs {
		nodeOfExec[e.ID] = nodeOf(workers, hostOf(e.HostPort))
	}
	writers := map[string]bool{}
	for _, s := range stages {
		for id, sum := range s.ExecutorSummary {
			if sum.ShuffleWrite > 0 && nodeOfExec[id] != "" {
				writers[nodeOfExec[id]] = true
			}
		}
	}
	for _, s := range stages {
		for _, tk := range s.Tasks {
			n := tk.TaskMetrics.ShuffleReadMetrics.RemoteBlocksFetched
			if n == 0 {
				continue
			}
			remote += n
			for w := range writers {
				if w != nodeOfExec[tk.ExecutorID] {
					cross = true
				}
			}
		}
	}
	return remote, cross, nil
}

// busyHosts are the hosts of app's executors that run tasks now.
func (b *bed) busyHosts(connect task, app string) map[string]bool {
	var execs []executorInfo
	if b.rest(connect, "/applications/"+app+"/executors", &execs) != nil {
		return nil
	}
	hosts := map[string]bool{}
	for _, e := range execs {
		if e.ActiveTasks > 0 {
			hosts[hostOf(e.HostPort)] = true
		}
	}
	return hosts
}
