package e2e

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// faultTimeout bounds the wait for a cluster to heal after a fault. It is
// generous on purpose: how fast it heals is measured and printed, and
// judged by `make bench-cluster`, never by a test.
const faultTimeout = 3 * time.Minute

// IPs returns the container's addresses on all its networks; for a
// container started with --network container:<other> (a pod's or an ECS
// awsvpc task's containers), those of the other container.
func IPs(t *testing.T, container string) []string {
	t.Helper()
	out := Run(t, "docker", "inspect", "-f", "{{.HostConfig.NetworkMode}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", container)
	f := strings.Fields(out)
	if len(f) == 1 {
		if other, ok := strings.CutPrefix(f[0], "container:"); ok {
			return IPs(t, other)
		}
	}
	if len(f) == 0 {
		return nil
	}
	return f[1:]
}

// IP returns the container's address on its first network.
func IP(t *testing.T, container string) string {
	t.Helper()
	ips := IPs(t, container)
	if len(ips) == 0 {
		t.Fatalf("container %s has no address", Short(container))
	}
	return ips[0]
}

// HoldAddress starts a sleeping container name on network while a master
// is down: Docker's next free address goes to it, so the master comes back
// on another address, as a rescheduled master does. The returned function
// removes it; t's cleanup does too, in case the test ends first. The
// caller picks a name its own teardown check covers.
func HoldAddress(t *testing.T, name, network, image string) func() {
	t.Helper()
	Run(t, "docker", "run", "-d", "--name", name, "--network", network, "--entrypoint", "sleep", image, "600")
	release := func() { _, _ = Try("docker", "rm", "-f", name) }
	t.Cleanup(release)
	return release
}

// Restarted is what a path's master restart reports: the master's
// address before and after, and how to reach the new one.
type Restarted struct {
	OldIP, NewIP string
	// UI is the loopback port of the new master's web UI (it may have
	// moved with the container).
	UI string
}

// CheckMasterRestart runs restart, which must return once the old master
// is gone and the new one has started, then polls the new master until
// want workers are ALIVE at it again and runs job, the path's second job.
// It records restart=ok(new-ip,7.2s) in m: the time from the new master's
// start to the last worker re-registered, which includes the master's JVM
// start. The time is reported, not asserted (no timed tests).
func CheckMasterRestart(t *testing.T, m *Matrix, want int, restart func() Restarted, job func() bool) bool {
	t.Helper()
	return CheckMasterRestartFrom(t, m, "", want, restart, job)
}

// CheckMasterRestartFrom is CheckMasterRestart that first reads the ALIVE
// workers at the old master's UI port oldUI and wants those very workers
// back: a worker the platform replaced meanwhile (killed by a failing
// healthcheck, say) has not re-registered. An empty oldUI skips that.
func CheckMasterRestartFrom(t *testing.T, m *Matrix, oldUI string, want int, restart func() Restarted, job func() bool) bool {
	t.Helper()
	m.Set("restart", "fail")
	var before []string
	if oldUI != "" {
		for _, w := range MasterState(t, oldUI).Workers {
			if w.State == "ALIVE" {
				before = append(before, w.ID)
			}
		}
	}
	r := restart()
	heal := WatchAlive(t, r.UI, want, faultTimeout)
	t.Logf("master restarted: %s -> %s; master ALIVE after %.1fs, %d workers ALIVE again after %.1fs",
		r.OldIP, r.NewIP, heal.MasterUp.Seconds(), heal.State.Alive(), heal.Took.Seconds())
	if !LogWorkers(t, heal.State, want) {
		t.Errorf("after the master came back on %s only %d workers re-registered", r.NewIP, heal.State.Alive())
		return false
	}
	back := map[string]bool{}
	for _, w := range heal.State.Workers {
		back[w.ID] = w.State == "ALIVE"
	}
	var lost []string
	for _, id := range before {
		if !back[id] {
			lost = append(lost, id)
		}
	}
	if len(lost) > 0 {
		t.Errorf("after the master came back, workers %s did not re-register: others replaced them", strings.Join(lost, " "))
		return false
	}
	moved := "new-ip"
	if r.NewIP == r.OldIP {
		moved = "same-ip"
	}
	if !job() {
		return false
	}
	m.Set("restart", fmt.Sprintf("ok(%s,%.1fs)", moved, heal.Took.Seconds()))
	return true
}

// Healing is what WatchAlive saw.
type Healing struct {
	State MasterJSON
	// MasterUp is when the master's /json/ first said ALIVE, Took when
	// want workers were ALIVE, both since the watch began.
	MasterUp, Took time.Duration
}

// WatchAlive polls the master's /json/ on uiPort every 100 ms until want
// workers are ALIVE or timeout passes.
func WatchAlive(t *testing.T, uiPort string, want int, timeout time.Duration) Healing {
	t.Helper()
	return watch(t, uiPort, timeout, func(s MasterJSON) bool { return s.Alive() >= want })
}

func watch(t *testing.T, uiPort string, timeout time.Duration, done func(MasterJSON) bool) Healing {
	t.Helper()
	var h Healing
	var err error
	_, h.Took = Poll(timeout, 100*time.Millisecond, func(elapsed time.Duration) bool {
		var s MasterJSON
		if s, err = GetMasterState(uiPort); err != nil {
			return false
		}
		h.State = s
		if h.MasterUp == 0 && s.Status == "ALIVE" {
			h.MasterUp = elapsed
		}
		return s.Status == "ALIVE" && done(s)
	})
	if err != nil {
		t.Logf("master /json/: %v", err)
	}
	return h
}

// CheckWorkerKill kills the worker container victim with SIGKILL (no
// grace, no decommission: a node lost), then calls replace, which starts
// a new worker the way the platform would, or waits for the platform to
// start one itself, and returns its container. It wants the master to drop
// the killed worker (DEAD or gone from /json/) and take the new one
// (ALIVE, want in all), and records kill=ok in m.
func CheckWorkerKill(t *testing.T, m *Matrix, uiPort string, want int, victim string, replace func() string) (string, bool) {
	t.Helper()
	return CheckWorkerKillAt(t, m, uiPort, want, victim, IPs(t, victim), replace)
}

// CheckWorkerKillAt is CheckWorkerKill for a worker that registered under
// one of hosts rather than its container's addresses (an ECS bridge-mode
// worker advertises its instance's name).
func CheckWorkerKillAt(t *testing.T, m *Matrix, uiPort string, want int, victim string, hosts []string, replace func() string) (string, bool) {
	t.Helper()
	m.Set("kill", "fail")
	before := MasterState(t, uiPort)
	var dead string
	var old []string
	for _, w := range before.Workers {
		if w.State != "ALIVE" {
			continue
		}
		old = append(old, w.ID)
		if slices.Contains(hosts, w.Host) {
			dead = w.ID
		}
	}
	if dead == "" {
		t.Errorf("no ALIVE worker at the master has the address of %s (%s)", Short(victim), strings.Join(hosts, " "))
		return "", false
	}
	start := time.Now()
	Run(t, "docker", "kill", "-s", "KILL", victim)
	gone := watch(t, uiPort, faultTimeout, func(s MasterJSON) bool {
		for _, w := range s.Workers {
			if w.ID == dead {
				return w.State != "ALIVE"
			}
		}
		return true
	})
	t.Logf("killed %s (worker %s): the master dropped it after %.2fs", Short(victim), dead, gone.Took.Seconds())
	replacement := replace()
	healed := watch(t, uiPort, faultTimeout, func(s MasterJSON) bool {
		fresh := 0
		for _, w := range s.Workers {
			if w.ID == dead && w.State == "ALIVE" {
				return false
			}
			if w.State == "ALIVE" && !slices.Contains(old, w.ID) {
				fresh++
			}
		}
		return s.Alive() == want && fresh > 0
	})
	t.Logf("replacement %s: %d workers ALIVE %.1fs after the kill", Short(replacement), healed.State.Alive(), time.Since(start).Seconds())
	ok := LogWorkers(t, healed.State, want)
	for _, w := range healed.State.Workers {
		if w.ID == dead && w.State == "ALIVE" {
			ok = false
		}
	}
	if !ok {
		t.Errorf("after killing %s: the master lists %d workers ALIVE, want %d with a new one and %s not ALIVE", Short(victim), healed.State.Alive(), want, dead)
		return replacement, false
	}
	m.Set("kill", "ok")
	return replacement, true
}
