//go:build linux

package supervisor

// The stop sequence for what is left once the workload has exited or a stop
// was asked for.

import (
	"syscall"
)

// rest lists the live processes the stop sequence still has to end, and
// whether any process at all (zombies included) is left.  The waiter is
// excluded while it still has to report the workload's status.
func (s *sup) rest() (live []int, any bool) {
	if !s.procOK {
		if !s.pid1 {
			return nil, false
		}
		// kill(-1) reaches every other process in the namespace; it cannot
		// tell zombies from the living, so wait for go-reap to clear them.
		if syscall.Kill(-1, 0) == syscall.ESRCH {
			return nil, false
		}
		if s.childDone {
			return []int{-1}, true
		}
		return nil, true
	}
	l, all := others(s.pid1)
	for _, p := range l {
		if p == s.waiterPid && !s.childDone {
			continue
		}
		live = append(live, p)
	}
	return live, all > 0
}

// stopRest runs the stop sequence on what outlived the workload: SIGTERM
// once, then SIGKILL when the deadline passes.  Neither tini nor dumb-init
// does this; they leave the rest to the kernel's SIGKILL (tini #180).
func (s *sup) stopRest(live []int) {
	var targets []int
	for _, p := range live {
		if p != s.waiterPid {
			targets = append(targets, p)
		}
	}
	if len(targets) == 0 {
		return // only the waiter, on its way out
	}
	if s.phase == killing {
		s.killPids(targets)
		return
	}
	if s.termSent {
		return
	}
	s.termSent = true
	s.advance(stopping)
	s.setDeadline()
	s.log.Info().Int("count", len(targets)).Msg("sending SIGTERM to remaining processes")
	for _, p := range targets {
		_ = syscall.Kill(p, syscall.SIGTERM)
	}
}

// killAll SIGKILLs the workload and everything else.
func (s *sup) killAll() {
	s.advance(killing)
	n := 0
	if !s.childDone && s.target != 0 {
		if syscall.Kill(s.target, syscall.SIGKILL) == nil {
			n++
		}
	}
	live, _ := s.rest()
	var targets []int
	for _, p := range live {
		if p != s.childPid && p != s.waiterPid {
			targets = append(targets, p)
		}
	}
	n += s.killPids(targets)
	s.log.Warn().Int("count", n).Msg("killed remaining processes")
}

// killRest catches processes forked after killAll while we still wait for
// the workload's status.
func (s *sup) killRest() {
	live, _ := s.rest()
	var targets []int
	for _, p := range live {
		if p != s.childPid && p != s.waiterPid {
			targets = append(targets, p)
		}
	}
	if n := s.killPids(targets); n > 0 {
		s.log.Warn().Int("count", n).Msg("killed late processes")
	}
}

// killPids SIGKILLs the pids not killed before and counts them.
func (s *sup) killPids(pids []int) int {
	if s.killed == nil {
		s.killed = map[int]bool{}
	}
	n := 0
	for _, p := range pids {
		if s.killed[p] {
			continue
		}
		if syscall.Kill(p, syscall.SIGKILL) == nil {
			s.killed[p] = true
			n++
		}
	}
	return n
}
