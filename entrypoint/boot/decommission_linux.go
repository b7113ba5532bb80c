package boot

import "syscall"

// decommissionSignal starts a Spark worker's graceful decommission: the
// worker registers a handler for PWR when spark.decommission.enabled is set.
const decommissionSignal = syscall.SIGPWR
