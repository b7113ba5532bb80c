package boot

import (
	"fmt"
	"math"
	"strconv"

	"github.com/snufkin/swarming-spark/entrypoint/limits"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// minExecutorMiB is what one executor with Spark's defaults needs from the
// container: a 1g heap (spark.executor.memory) and the overhead Spark
// assumes beside it elsewhere (spark.executor.memoryOverhead's floor,
// 384 MiB), plus the worker's own JVM, about 150 MiB idle.
const minExecutorMiB = 1024 + 384 + 150

// resourcesView is explain's "resources": what a worker offers its
// master, and where each figure comes from.
type resourcesView struct {
	Cores        int    `json:"cores"`
	CoresSource  string `json:"cores_source"`
	Memory       string `json:"memory"`
	MemorySource string `json:"memory_source"`
}

// workerResources sets SPARK_WORKER_CORES and SPARK_WORKER_MEMORY, unless
// the user did, from what the container may use. Spark's worker would find
// the same figures itself (WorkerArguments: the JVM's available processors,
// which honour a CPU quota, and its total memory, which honours a memory
// limit, less 1 GiB and at least 1 GiB); setting them here shows them
// before the JVM starts and keeps them when the JVM's container support
// reads less than this package does. Without a limit a worker offers the
// whole host, whatever else runs there: the artifacts therefore give
// every worker a limit.
func workerResources(env []string, l limits.Limits, lerr error) ([]string, *resourcesView, []string) {
	var v resourcesView
	var warnings []string
	if lerr != nil {
		warnings = append(warnings, lerr.Error()+": the worker offers what spark's JVM finds")
	}
	if c, ok := sparkenv.Lookup(env, "SPARK_WORKER_CORES"); ok && c != "" {
		v.Cores, _ = strconv.Atoi(c)
		v.CoresSource = "SPARK_WORKER_CORES"
	} else if lerr == nil {
		v.Cores = l.Cores()
		v.CoresSource = fmt.Sprintf("the %d cpus the container may run on", l.CPUs)
		if l.CPUQuota > 0 && math.Ceil(l.CPUQuota) <= float64(l.CPUs) {
			v.CoresSource = fmt.Sprintf("the container's cpu quota (%s cpus), rounded up", strconv.FormatFloat(l.CPUQuota, 'f', -1, 64))
		}
		env = sparkenv.Set(env, "SPARK_WORKER_CORES", strconv.Itoa(v.Cores))
	}
	limitMiB := l.MemoryLimit >> 20
	if m, ok := sparkenv.Lookup(env, "SPARK_WORKER_MEMORY"); ok && m != "" {
		v.Memory, v.MemorySource = m, "SPARK_WORKER_MEMORY"
		// Scrub has checked the value.
		if mib, _ := sparkenv.MemoryMiB(m); lerr == nil && limitMiB > 0 && mib > limitMiB {
			warnings = append(warnings, fmt.Sprintf("SPARK_WORKER_MEMORY=%s is more than the container's memory limit (%d MiB): the kernel kills executors that use it", m, limitMiB))
		}
	} else if lerr == nil {
		total, what := l.Memory()>>20, "host's memory"
		if limitMiB > 0 {
			what = "container's memory limit"
		}
		mib := max(total-1024, 1024)
		v.Memory = strconv.FormatInt(mib, 10) + "m"
		v.MemorySource = fmt.Sprintf("the %s (%d MiB) less 1 GiB, at least 1 GiB, as spark does", what, total)
		env = sparkenv.Set(env, "SPARK_WORKER_MEMORY", v.Memory)
		if limitMiB > 0 && limitMiB < minExecutorMiB {
			warnings = append(warnings, fmt.Sprintf("the container's memory limit (%d MiB) is below what one executor with spark's defaults needs with its worker (%d MiB): the kernel may kill executors; give the worker at least 2 GiB", limitMiB, minExecutorMiB))
		}
	}
	return env, &v, warnings
}
