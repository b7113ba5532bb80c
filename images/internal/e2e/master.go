package e2e

// The master's /json/ as the tests read it.

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// MasterJSON is the part of the master's /json/ the tests read.
type MasterJSON struct {
	URL     string `json:"url"`
	Status  string `json:"status"`
	Workers []struct {
		ID, Host, State     string
		Port, Cores, Memory int
	} `json:"workers"`
	ActiveApps []struct {
		ID, Name, State string
	} `json:"activeapps"`
}

// Alive counts the ALIVE workers.
func (s MasterJSON) Alive() int {
	n := 0
	for _, w := range s.Workers {
		if w.State == "ALIVE" {
			n++
		}
	}
	return n
}

// Offers checks that every ALIVE worker offers cores and memoryMiB, what
// an artifact's limits leave it (the entrypoint's defaults), and returns
// the matrix value: ok(CORESc,MEMORYm) or fail.
func Offers(t *testing.T, s MasterJSON, cores, memoryMiB int) string {
	t.Helper()
	ok := s.Alive() > 0
	for _, w := range s.Workers {
		if w.State == "ALIVE" && (w.Cores != cores || w.Memory != memoryMiB) {
			ok = false
			t.Errorf("worker %s offers %d cores and %d MiB, want %d and %d (its container's limits)", w.ID, w.Cores, w.Memory, cores, memoryMiB)
		}
	}
	if !ok {
		return "fail"
	}
	return fmt.Sprintf("ok(%dc,%dm)", cores, memoryMiB)
}

// GetMasterState reads the master's /json/ at uiPort, a port on the
// loopback or HOST:PORT.
func GetMasterState(uiPort string) (MasterJSON, error) {
	return GetMasterStateWith(uiPort, "")
}

// GetMasterStateWith is GetMasterState with a bearer token ("": none).
func GetMasterStateWith(uiPort, token string) (MasterJSON, error) {
	addr := uiPort
	if !strings.Contains(addr, ":") {
		addr = "127.0.0.1:" + addr
	}
	var s MasterJSON
	err := GetJSONWith("http://"+addr+"/json/", token, &s)
	return s, err
}

// MasterState is GetMasterState, fatal on error.
func MasterState(t *testing.T, uiPort string) MasterJSON {
	t.Helper()
	s, err := GetMasterState(uiPort)
	if err != nil {
		t.Fatalf("master /json/: %v", err)
	}
	return s
}

// WaitAlive polls the master's /json/ at uiPort (as GetMasterState) until
// want workers are ALIVE or timeout passes, and returns the last state.
func WaitAlive(t *testing.T, uiPort string, want int, timeout time.Duration) (MasterJSON, time.Duration) {
	t.Helper()
	return WaitAliveWith(t, uiPort, "", want, timeout)
}

// WaitAliveWith is WaitAlive with a bearer token ("": none).
func WaitAliveWith(t *testing.T, uiPort, token string, want int, timeout time.Duration) (MasterJSON, time.Duration) {
	t.Helper()
	var s MasterJSON
	var err error
	_, took := Poll(timeout, time.Second, func(time.Duration) bool {
		s, err = GetMasterStateWith(uiPort, token)
		return err == nil && s.Alive() >= want
	})
	if err != nil {
		t.Logf("master /json/: %v", err)
	}
	return s, took.Round(time.Second)
}

// RequireAlive waits until the master whose UI is on uiPort lists want
// workers ALIVE, records alive=N/want in m, logs the workers and ends the
// test when they do not all come.
func RequireAlive(t *testing.T, m *Matrix, uiPort string, want int, timeout time.Duration) MasterJSON {
	t.Helper()
	state, took := WaitAlive(t, uiPort, want, timeout)
	t.Logf("%d workers ALIVE after %s", state.Alive(), took)
	m.Set("alive", fmt.Sprintf("%d/%d", state.Alive(), want))
	if !LogWorkers(t, state, want) {
		t.Fatalf("master /json/ lists %d ALIVE workers (status %s), want %d", state.Alive(), state.Status, want)
	}
	return state
}

// LogWorkers logs each worker of s and a summary line, as the classic test
// always has, and reports whether want workers are ALIVE on an ALIVE
// master.
func LogWorkers(t *testing.T, s MasterJSON, want int) bool {
	t.Helper()
	for _, w := range s.Workers {
		t.Logf("worker %s %s:%d cores=%d state=%s", w.ID, w.Host, w.Port, w.Cores, w.State)
	}
	t.Logf("master %s status=%s: %d workers ALIVE", s.URL, s.Status, s.Alive())
	return s.Alive() == want && s.Status == "ALIVE"
}
