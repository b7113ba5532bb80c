// Package supervisor runs the container's workload under a PID 1 that reaps
// every orphan, relays signals, stops the whole process tree gracefully and
// returns the workload's exact exit status.
//
// The process that calls Run never waits for the workload by its pid in a
// way go-reap could race.  It runs github.com/hashicorp/go-reap without its
// lock, because a Wait4(-1) loop next to exec.Cmd.Wait steals the main
// child's status (about 6 % of runs) and holding go-reap's lock for a JVM's
// lifetime stops all reaping.  Two ways keep the status exact:
//
//   - On Linux 6.15 and later the kernel records a process's wait status in
//     its pidfd when it is reaped, whoever reaps it (PIDFD_INFO_EXIT).  Run
//     starts the workload itself with a pidfd and reads the status from it,
//     or reaps the zombie itself when it gets there before go-reap.  No
//     extra process, nothing to start: this is the path `entrypoint -- CMD`
//     takes on current kernels.
//   - Otherwise Run re-executes its own binary as a short-lived "waiter"
//     (see Waiter and WaiterArg) that is not a subreaper: the waiter starts
//     the workload, tells the supervisor the workload's pid, waits for that
//     one child and reports its raw wait status over a pipe.  The waiter is
//     also used when the workload runs as another user and a PATH search or
//     working directory has to be judged with that user's rights.
//
// Orphans re-parent to the supervisor and go-reap takes them; nothing else
// competes for the workload's status.
//
// The binary's main must therefore call Waiter before anything else when
// os.Args[1] == WaiterArg.  While Run is active no other code in the process
// may wait for child processes: go-reap reaps them all.  The relayed signals
// stay caught after the first Run (outside Run they are dropped): the binary
// exits when Run returns, and unregistering them costs a millisecond.
package supervisor
