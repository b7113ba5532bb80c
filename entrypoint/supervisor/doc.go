// Package supervisor runs the container's workload under a PID 1 that reaps
// every orphan, relays signals, stops the whole process tree gracefully and
// returns the workload's exact exit status.
//
// The process that calls Run never waits for the workload itself.  It runs
// github.com/hashicorp/go-reap without its lock, because a Wait4(-1) loop
// next to exec.Cmd.Wait steals the main child's status (about 6 % of runs)
// and holding go-reap's lock for a JVM's lifetime stops all reaping.  Instead
// Run re-executes its own binary as a short-lived "waiter" (see Waiter and
// WaiterArg) that is not a subreaper: the waiter starts the workload, tells
// the supervisor the workload's pid, waits for that one child and reports
// its raw wait status over a pipe.  Orphans re-parent to the supervisor and
// go-reap takes them; nothing else competes for the workload's status.
//
// The binary's main must therefore call Waiter before anything else when
// os.Args[1] == WaiterArg.  While Run is active no other code in the process
// may wait for child processes: go-reap reaps them all.
package supervisor
