package kubernetes_test

// What the emulated kubelet does once a container runs: its probes and
// the pod's restartPolicy, and the restarts it made.

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/snufkin/swarming-spark/images/internal/e2e"
)

// kubelet does for one pod's container what the kubelet does once it has
// started it: it runs the exec startup and liveness probes as its prober
// does (the startup probe until it succeeds, then the liveness probe, each
// every periodSeconds with its timeout, none while the container is not
// running), and it applies the pod's restartPolicy, Always for a
// Deployment's pod. Whichever comes first restarts the container in its
// pod (same address, same volumes), and the startup probe runs again:
//
//   - failureThreshold probe failures in a row: the kubelet kills the
//     container (SIGTERM, SIGKILL after the pod's grace period) and
//     starts it again in the same sync;
//   - the container exited by itself: the kubelet starts it again after
//     its crash-loop back-off, counted from the exit: 10 s, doubled at
//     each exit up to 5 min, and 10 s again once the container has run
//     10 min since the last back-off. What the container wrote until then
//     is kept, as kubectl logs --previous shows it.
type kubelet struct {
	stop, done chan struct{}
	once       sync.Once
	mu         sync.Mutex
	restarts   []restart
}

// restart is one restart of the container by the kubelet.
type restart struct {
	at   time.Time // when the container exited, or the probe gave up on it
	why  string    // "exited", or the probe that failed: "liveness", "startup"
	code int       // exited: the container's exit status
	ran  time.Duration
	log  string // exited: the container's output since its last start
}

// The kubelet's crash-loop back-off (pkg/kubelet: the initial and
// maximum container back-off; the back-off resets after twice the
// maximum).
const (
	backOffInitial = 10 * time.Second
	backOffMax     = 5 * time.Minute
)

func startKubelet(t *testing.T, name string, d deployment) *kubelet {
	t.Helper()
	if p := d.Template.Spec.RestartPolicy; p != "" && p != "Always" {
		t.Fatalf("%s: restartPolicy %s: a Deployment's pod template allows only Always", name, p)
	}
	c := d.Template.Spec.Containers[0]
	for _, p := range []*probe{c.StartupProbe, c.LivenessProbe} {
		if p != nil && p.Exec == nil {
			t.Fatalf("%s: only exec probes are emulated", name)
		}
	}
	k := &kubelet{stop: make(chan struct{}), done: make(chan struct{})}
	run := func(pr *probe) error {
		ctx, cancel := context.WithTimeout(context.Background(), pr.timeout())
		defer cancel()
		return exec.CommandContext(ctx, "docker", append([]string{"exec", name}, pr.Exec.Command...)...).Run()
	}
	go func() {
		defer close(k.done)
		started, fails := c.StartupProbe == nil, 0
		var backOff time.Duration
		var backOffAt time.Time
		// next is when the next probe is due: the first one after its
		// initialDelaySeconds from the container's start.
		firstProbe := func() time.Time {
			pr := c.LivenessProbe
			if !started {
				pr = c.StartupProbe
			}
			if pr != nil && pr.InitialDelaySeconds > 0 {
				return time.Now().Add(time.Duration(pr.InitialDelaySeconds) * time.Second)
			}
			if pr != nil {
				return time.Now().Add(pr.period())
			}
			return time.Time{}
		}
		next := firstProbe()
		for {
			// The kubelet learns of an exit from the runtime's events
			// within a second or so (PLEG's relist).
			select {
			case <-k.stop:
				return
			case <-time.After(time.Second):
			}
			st, err := containerState(name)
			if err != nil {
				continue
			}
			if !st.running {
				// restartPolicy Always: started again after the back-off.
				if backOff == 0 || st.finished.Sub(backOffAt) > 2*backOffMax {
					backOff = backOffInitial
				} else {
					backOff = min(2*backOff, backOffMax)
				}
				backOffAt = st.finished
				ran := st.finished.Sub(st.started)
				prev, _ := e2e.Try("docker", "logs", "--since", st.started.Format(time.RFC3339Nano), name)
				t.Logf("%s: the container exited %d after running %s: the kubelet restarts it in its pod after a back-off of %s", name, st.code, ran.Round(time.Second), backOff)
				select {
				case <-k.stop:
					return
				case <-time.After(time.Until(st.finished.Add(backOff))):
				}
				if out, err := e2e.Try("docker", "start", name); err != nil {
					t.Logf("%s: docker start: %v: %s", name, err, strings.TrimSpace(out))
				}
				k.add(restart{at: st.finished, why: "exited", code: st.code, ran: ran, log: prev})
				started, fails = c.StartupProbe == nil, 0
				next = firstProbe()
				continue
			}
			pr := c.LivenessProbe
			if !started {
				pr = c.StartupProbe
			}
			if pr == nil || time.Now().Before(next) {
				continue
			}
			next = time.Now().Add(pr.period())
			err = run(pr)
			if err == nil {
				started, fails = true, 0
				continue
			}
			if fails++; fails < pr.failures() {
				continue
			}
			kind := "liveness"
			if !started {
				kind = "startup"
			}
			at := time.Now()
			t.Logf("%s: %s probe failed %d times (%v): the kubelet restarts the container", name, kind, fails, err)
			if out, err := e2e.Try("docker", "restart", "-t", strconv.Itoa(grace(d)), name); err != nil {
				t.Logf("%s: docker restart: %v: %s", name, err, strings.TrimSpace(out))
			}
			k.add(restart{at: at, why: kind, ran: at.Sub(st.started)})
			started, fails = c.StartupProbe == nil, 0
			next = firstProbe()
		}
	}()
	t.Cleanup(k.halt)
	return k
}

func (k *kubelet) add(r restart) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.restarts = append(k.restarts, r)
}

// history returns the restarts so far, oldest first.
func (k *kubelet) history() []restart {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.restarts)
}

// halt stops the kubelet's work on the container and waits for a probe or
// restart under way.
func (k *kubelet) halt() {
	k.once.Do(func() { close(k.stop) })
	<-k.done
}

// containerStatus is what the runtime reports of a container.
type containerStatus struct {
	running           bool
	code              int
	started, finished time.Time
}

func containerState(name string) (containerStatus, error) {
	out, err := e2e.Try("docker", "inspect", "-f", "{{.State.Running}} {{.State.ExitCode}} {{.State.StartedAt}} {{.State.FinishedAt}}", name)
	if err != nil {
		return containerStatus{}, fmt.Errorf("docker inspect %s: %v: %s", name, err, strings.TrimSpace(out))
	}
	f := strings.Fields(out)
	if len(f) != 4 {
		return containerStatus{}, fmt.Errorf("docker inspect %s: %q", name, out)
	}
	var st containerStatus
	st.running = f[0] == "true"
	if st.code, err = strconv.Atoi(f[1]); err != nil {
		return containerStatus{}, err
	}
	if st.started, err = time.Parse(time.RFC3339Nano, f[2]); err != nil {
		return containerStatus{}, err
	}
	if st.finished, err = time.Parse(time.RFC3339Nano, f[3]); err != nil {
		return containerStatus{}, err
	}
	return st, nil
}

// checkRestarts logs the kubelet's restarts of container since the
// master's replacement at since, and wants every exit of the container by
// itself to be the entrypoint's doing, explained in the container's own
// log: exit 143 and its JSON line "stopping the workload" with a reason
// that names the application (entrypoint/doc.go, "Spark Connect server").
func checkRestarts(t *testing.T, container string, restarts []restart, since time.Time) bool {
	t.Helper()
	ok := true
	for _, r := range restarts {
		switch r.why {
		case "exited":
			t.Logf("connect: %s exited %d by itself %s after the new master pod's start, having run %s; the kubelet started it again",
				e2e.Short(container), r.code, r.at.Sub(since).Round(time.Second), r.ran.Round(time.Second))
			if r.code != 143 {
				t.Errorf("connect: %s exited %d by itself, want 143 (the entrypoint's stop)", e2e.Short(container), r.code)
				ok = false
			}
			line, named := e2e.StopLine(r.log)
			switch {
			case line == "":
				t.Errorf("connect: %s exited by itself without a \"stopping the workload\" line in its log:\n%s", e2e.Short(container), tail(r.log, 20))
				ok = false
			case !named:
				t.Errorf("connect: %s stopped the workload for a reason that does not name the application: %s", e2e.Short(container), line)
				ok = false
			default:
				t.Logf("connect: its log says: %s", line)
			}
		default:
			t.Logf("connect: the %s probe had %s restarted %s after the new master pod's start, having run %s",
				r.why, e2e.Short(container), r.at.Sub(since).Round(time.Second), r.ran.Round(time.Second))
		}
	}
	if len(restarts) == 0 {
		t.Logf("connect: %s kept its application through the master's replacement", e2e.Short(container))
	}
	return ok
}
