package supervisor

import (
	"os/exec"
	"testing"
)

// TestKillPidsCountsOnce: a process SIGKILLed but not yet reaped is still
// there to kill again; the second round must neither signal nor count it.
func TestKillPidsCountsOnce(t *testing.T) {
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	s := &sup{}
	if n := s.killPids([]int{pid}); n != 1 {
		t.Errorf("first round killed %d, want 1", n)
	}
	// Not reaped yet: a zombie, which kill(2) still accepts.
	if n := s.killPids([]int{pid}); n != 0 {
		t.Errorf("second round killed %d, want 0 (already killed)", n)
	}
	cmd.Wait()
}
