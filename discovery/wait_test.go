package discovery

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

var fastBackoff = backoff{initial: time.Millisecond, max: 4 * time.Millisecond}

// flakyECS serves an awsvpc task with a RUNNING spark-master container,
// after failing the first `fail` requests with HTTP 503.
func flakyECS(t *testing.T, fail int64) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= fail {
			http.Error(w, "agent starting", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"Family":"spark","Revision":"1","Containers":[{"Name":"spark-master","Type":"NORMAL","KnownStatus":"RUNNING",
			"Networks":[{"NetworkMode":"awsvpc","IPv4Addresses":["10.20.3.44"]}]}]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

func TestWaitRetriesUntilFound(t *testing.T) {
	t.Parallel()
	srv, n := flakyECS(t, 3)
	in := Inputs{Env: map[string]string{envECSMetadataURI: srv.URL + "/v4/x"}, HTTP: srv.Client()}
	var attempts []int
	m, err := wait(context.Background(), in, []string{SourceECS}, 10*time.Second, func(a int, err error) {
		attempts = append(attempts, a)
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("attempt %d error = %v, want ErrNotFound", a, err)
		}
	}, fastBackoff)
	if err != nil {
		t.Fatalf("wait() error: %v", err)
	}
	if m.URL != "spark://10.20.3.44:7077" || n.Load() != 4 || len(attempts) != 3 {
		t.Errorf("wait() = %q after %d requests, logged %v; want spark://10.20.3.44:7077 after 4, logged [1 2 3]", m.URL, n.Load(), attempts)
	}
}

func TestWaitGivesUp(t *testing.T) {
	t.Parallel()
	srv, _ := flakyECS(t, 1<<40)
	in := Inputs{Env: map[string]string{envECSMetadataURI: srv.URL + "/v4/x"}, HTTP: srv.Client()}
	start := time.Now()
	_, err := wait(context.Background(), in, []string{SourceECS}, 50*time.Millisecond, nil, fastBackoff)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("wait() error = %v, want ErrNotFound", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("wait(maxWait 50ms) took %v", d)
	}
}

// TestWaitLastsMaxWait: a wait that finds nothing gives up no earlier than
// maxWait, however the backoff's sleeps fall (they used to end it as soon
// as the next sleep would pass the deadline: 5 s lasted 2.7 s), and makes
// its last attempt at the deadline.
func TestWaitLastsMaxWait(t *testing.T) {
	t.Parallel()
	srv, n := flakyECS(t, 1<<40)
	in := Inputs{Env: map[string]string{envECSMetadataURI: srv.URL + "/v4/x"}, HTTP: srv.Client()}
	const maxWait = 700 * time.Millisecond
	// Sleeps of 200-400 ms, then 400-800 ms: the second would pass the
	// deadline.
	slow := backoff{initial: 400 * time.Millisecond, max: 800 * time.Millisecond}
	start := time.Now()
	_, err := wait(context.Background(), in, []string{SourceECS}, maxWait, nil, slow)
	took := time.Since(start)
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("wait() error = %v, want ErrNotFound", err)
	}
	if took < maxWait {
		t.Errorf("wait(maxWait %v) gave up after %v, before its deadline (%d requests)", maxWait, took, n.Load())
	}
}

func TestWaitOnce(t *testing.T) {
	t.Parallel()
	calls := 0
	_, err := Wait(context.Background(), Inputs{}, []string{SourceStatic}, 0, func(int, error) { calls++ })
	if !errors.Is(err, ErrNotFound) || calls != 1 {
		t.Errorf("Wait(maxWait 0) error = %v after %d attempts, want ErrNotFound after 1", err, calls)
	}
}

func TestWaitInvalidStopsAtOnce(t *testing.T) {
	t.Parallel()
	calls := 0
	in := Inputs{Env: map[string]string{"SPARK_MASTER_URL": "foo"}}
	_, err := Wait(context.Background(), in, nil, time.Minute, func(int, error) { calls++ })
	if !errors.Is(err, ErrInvalid) || calls != 0 {
		t.Errorf("Wait(SPARK_MASTER_URL=foo) error = %v after %d logged attempts, want ErrInvalid at once", err, calls)
	}
}

func TestWaitCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := Wait(ctx, Inputs{}, []string{SourceStatic}, time.Hour, func(a int, _ error) {
			if a == 2 {
				cancel()
			}
		})
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Wait(canceled) error = %v, want context.Canceled", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Wait did not return after cancel")
	}
}

func TestBackoffDelay(t *testing.T) {
	t.Parallel()
	b := defaultBackoff
	for attempt, want := range map[int]time.Duration{1: 250 * time.Millisecond, 2: 500 * time.Millisecond, 3: time.Second, 5: 4 * time.Second, 6: 5 * time.Second, 60: 5 * time.Second} {
		for range 100 {
			if d := b.delay(attempt); d < want/2 || d >= want {
				t.Fatalf("delay(%d) = %v, want in [%v, %v)", attempt, d, want/2, want)
			}
		}
	}
}
