package boot

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
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
	if got := waitIdle(ctx, url+"/json/", 10*time.Millisecond); got != "timed out" {
		t.Errorf("waitIdle against a dead worker UI = %q, want timed out", got)
	}
}
