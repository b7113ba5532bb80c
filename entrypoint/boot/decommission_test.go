package boot

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/entrypoint/uitoken"
)

func TestExecutors(t *testing.T) {
	cases := []struct {
		body string
		code int
		want int
		err  bool
	}{
		{`{"executors":[]}`, 200, 0, false},
		{`{"executors":[{"id":1},{"id":2}]}`, 200, 2, false},
		{`{"id":"w"}`, 200, -1, false}, // no array: not idle
		{`{"executors":[]}`, 500, -1, false},
		{`not json`, 200, 0, true},
	}
	for _, c := range cases {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(c.code)
			fmt.Fprint(w, c.body)
		}))
		n, err := executors(context.Background(), srv.Client(), srv.URL+"/json/")
		srv.Close()
		if (err != nil) != c.err || (!c.err && n != c.want) {
			t.Errorf("executors(%d %s) = %d, %v; want %d, error %v", c.code, c.body, n, err, c.want, c.err)
		}
	}
}

func TestWaitIdleGivesUp(t *testing.T) {
	// A closed port: every poll fails, so only the deadline ends the wait.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if got, drained := waitIdle(ctx, url+"/json/", nil, 10*time.Millisecond); got != "timed out" || drained {
		t.Errorf("waitIdle against a dead worker UI = %q, %v; want timed out, false", got, drained)
	}
}

// TestWaitIdleSignsWithKey: a worker UI behind JWSFilter answers 403 to
// a poll without a token, so only a drain that has the key sees it idle.
func TestWaitIdleSignsWithKey(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ey") {
			http.Error(w, "JWT Validate Fail", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, `{"executors":[]}`)
	}))
	defer srv.Close()
	for _, c := range []struct {
		key  []byte
		want string
	}{
		{uitoken.Derive("s"), "no executors left"},
		{nil, "timed out"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		if got, _ := waitIdle(ctx, srv.URL+"/json/", c.key, 10*time.Millisecond); got != c.want {
			t.Errorf("waitIdle with key %v = %q, want %q", c.key != nil, got, c.want)
		}
		cancel()
	}
}

// TestPlanDrain: a stop drains unless SPARK_WORKER_OPTS turns
// decommission off or names a signal the entrypoint cannot send, and
// explain says which.
func TestPlanDrain(t *testing.T) {
	cases := []struct {
		opts           string
		on             bool
		source, signal string
		why            string // a part of Why
	}{
		{"", true, "entrypoint default", "PWR", ""},
		{"-Dspark.decommission.enabled=true", true, "SPARK_WORKER_OPTS", "PWR", ""},
		{"-Dspark.decommission.enabled=true -Dspark.worker.decommission.signal=USR2", true, "SPARK_WORKER_OPTS", "USR2", ""},
		{"-Dspark.decommission.enabled=false", false, "SPARK_WORKER_OPTS", "", "spark.decommission.enabled=false"},
		{"-Dspark.worker.decommission.signal=NOPE", false, "entrypoint default", "", "spark.worker.decommission.signal=NOPE"},
	}
	for _, c := range cases {
		env := []string{"SPARK_WORKER_OPTS=" + c.opts}
		d := planDrain(env, 8081)
		if f := checkDrain(env, 8081, 0); (f.Severity == sevOK) != c.on || (f.Severity == sevWarn) == c.on || (!c.on && !strings.Contains(f.Detail, c.why)) {
			t.Errorf("doctor's decommission check with %q = %+v; want ok %v", c.opts, f, c.on)
		}
		if d.OnStop != c.on || d.Source != c.source || d.Signal != c.signal || !strings.Contains(d.Why, c.why) || (c.why == "") != (d.Why == "") {
			t.Errorf("planDrain(%q) = %+v; want on %v, source %q, signal %q, why containing %q", c.opts, d, c.on, c.source, c.signal, c.why)
		}
		if c.on && (d.WorkerUI != "http://127.0.0.1:8081" || d.Drivers == "" || d.sig == 0) {
			t.Errorf("planDrain(%q) = %+v: want the worker UI, the drivers' part and a signal", c.opts, d)
		}
	}
}
