package boot

import (
	"strings"

	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// daemonJavaOpts is SPARK_DAEMON_JAVA_OPTS, the JVM options Spark's
// launcher gives the master and the worker (and no executor), when the
// user sets none. Both are control-plane processes: they start, register
// and then mostly wait, while executors, which the worker starts with the
// application's own options, do the work. So they compile with C1 only
// (-XX:TieredStopAtLevel=1: no C2 compiler threads burning the start for
// code that never gets hot), collect with the serial collector (one
// thread, no concurrent machinery for a heap of a few tens of MiB), and
// start from a 32 MiB heap instead of 1/64 of the host's memory, which the
// serial collector's young generation would otherwise fill before its first
// collection. Measured against Spark's defaults on one 2-core host
// (BENCHMARKS.md): start CPU per node about half, formation of a master
// and a worker 8.1-8.7 s down to 5.3 s, idle memory per container
// 149-153 MiB down to 130-132 MiB. The heap's ceiling stays Spark's
// (SPARK_DAEMON_MEMORY, 1g).
const daemonJavaOpts = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms32m"

// daemonView is explain's "daemon": the master's or worker's own JVM
// options and where they come from.
type daemonView struct {
	JavaOpts string `json:"java_opts"`
	Source   string `json:"source"`
}

// daemonOptions sets SPARK_DAEMON_JAVA_OPTS to daemonJavaOpts unless the
// user set it, even to nothing (which gives Spark's defaults back).
func daemonOptions(env []string) ([]string, *daemonView) {
	if v, ok := sparkenv.Lookup(env, "SPARK_DAEMON_JAVA_OPTS"); ok {
		return env, &daemonView{JavaOpts: strings.Join(sparkenv.Redact(strings.Fields(v)), " "), Source: "SPARK_DAEMON_JAVA_OPTS"}
	}
	return sparkenv.Set(env, "SPARK_DAEMON_JAVA_OPTS", daemonJavaOpts), &daemonView{JavaOpts: daemonJavaOpts, Source: "entrypoint default"}
}
