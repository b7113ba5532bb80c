package boot

import (
	"errors"
	"strings"
	"testing"

	"github.com/snufkin/swarming-spark/entrypoint/limits"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

func TestWorkerResources(t *testing.T) {
	const gib = int64(1) << 30
	host := limits.Limits{Cgroup: "v1", CPUs: 2, HostMemory: 23 * gib}
	limited := limits.Limits{Cgroup: "v2", CPUs: 2, CPUQuota: 1.5, HostMemory: 23 * gib, MemoryLimit: 3 * gib}
	small := limits.Limits{Cgroup: "v1", CPUs: 2, CPUQuota: 1, HostMemory: 23 * gib, MemoryLimit: 1500 << 20}
	for _, tt := range []struct {
		name          string
		env           []string
		l             limits.Limits
		lerr          error
		cores, memory string // the variables the JVM gets; "" unset
		coresFrom     string
		memoryFrom    string
		warning       string
	}{
		{name: "whole host", l: host, cores: "2", memory: "22528m",
			coresFrom: "the 2 cpus", memoryFrom: "host's memory (23552 MiB)"},
		{name: "docker --cpus=1.5 --memory=3g", l: limited, cores: "2", memory: "2048m",
			coresFrom: "cpu quota (1.5 cpus)", memoryFrom: "memory limit (3072 MiB)"},
		{name: "a limit too small for one executor", l: small, cores: "1", memory: "1024m",
			coresFrom: "cpu quota (1 cpus)", memoryFrom: "memory limit (1500 MiB)", warning: "below what one executor"},
		{name: "the user's figures win", env: []string{"SPARK_WORKER_CORES=4", "SPARK_WORKER_MEMORY=2g"}, l: limited,
			cores: "4", memory: "2g", coresFrom: "SPARK_WORKER_CORES", memoryFrom: "SPARK_WORKER_MEMORY"},
		{name: "more than the limit", env: []string{"SPARK_WORKER_MEMORY=8g"}, l: limited, cores: "2", memory: "8g",
			coresFrom: "cpu quota", memoryFrom: "SPARK_WORKER_MEMORY", warning: "more than the container's memory limit (3072 MiB)"},
		{name: "limits unreadable", lerr: limits.ErrUnreadable, coresFrom: "", memoryFrom: "", warning: "offers what spark's JVM finds"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env, v, warnings := workerResources(tt.env, tt.l, tt.lerr)
			if got := sparkenv.Get(env, "SPARK_WORKER_CORES"); got != tt.cores {
				t.Errorf("SPARK_WORKER_CORES = %q, want %q", got, tt.cores)
			}
			if got := sparkenv.Get(env, "SPARK_WORKER_MEMORY"); got != tt.memory {
				t.Errorf("SPARK_WORKER_MEMORY = %q, want %q", got, tt.memory)
			}
			if !strings.Contains(v.CoresSource, tt.coresFrom) || !strings.Contains(v.MemorySource, tt.memoryFrom) {
				t.Errorf("sources %q, %q, want %q, %q", v.CoresSource, v.MemorySource, tt.coresFrom, tt.memoryFrom)
			}
			joined := strings.Join(warnings, "\n")
			if (tt.warning == "") != (joined == "") || !strings.Contains(joined, tt.warning) {
				t.Errorf("warnings %q, want one with %q", warnings, tt.warning)
			}
			if tt.lerr != nil && !errors.Is(tt.lerr, limits.ErrUnreadable) {
				t.Fatal("bad case")
			}
		})
	}
}
