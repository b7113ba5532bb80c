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
// start from a 32 MiB heap instead of 1/64 of the host's memory, with an
// 8 MiB young generation: an idle daemon allocates little, and every page
// of a larger eden is touched, and kept, before the first collection.
//
// -XX:ArchiveRelocationMode=0 maps the class-data archives (the JDK's own
// and the image's) at the address they were written for. The default
// of the images' Java (17 and 21) is 1, "always map at alternative
// address" (the flag's text in the JDK's cds_globals.hpp): a random address, for
// which the JVM rewrites every pointer in the archive at start, so the
// pages it maps turn into private copies, about 45 MiB per JVM here. At
// the archive's own address they stay file pages that every JVM started
// from the same image shares. What is given up is the randomness of
// where the archive sits in the daemon's memory. If that address is
// taken, the JVM maps the archive elsewhere as before.
//
// Measured against Spark's defaults on one 2-core host (BENCHMARKS.md):
// start CPU per node about half, formation of a master and a worker
// 8.1-8.7 s down to 4.3-4.9 s, idle memory per container 149-153 MiB down
// to 94-97 MiB. The heap's ceiling stays Spark's (SPARK_DAEMON_MEMORY, 1g).
const daemonJavaOpts = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms32m -Xmn8m -XX:+UnlockDiagnosticVMOptions -XX:ArchiveRelocationMode=0"

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
