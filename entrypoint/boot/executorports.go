package boot

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/snufkin/swarming-spark/entrypoint/settings"
	"github.com/snufkin/swarming-spark/entrypoint/sparkenv"
)

// executorsView is explain's account of what a worker gives the executors
// it launches (ENTRYPOINT_EXECUTOR_PORTS).
type executorsView struct {
	// BlockManagerPorts is the range the executors' block managers bind,
	// first free port first.
	BlockManagerPorts string `json:"block_manager_ports"`
	// JavaOptions are the -D options the executors get, through Via.
	JavaOptions map[string]string `json:"java_options"`
	Via         string            `json:"via"`
	Detail      []string          `json:"detail,omitempty"`
}

// jdkJavaOptions is the variable every JDK 9+ java launcher prepends to its
// own arguments (the java tool's documentation, "Using the JDK_JAVA_OPTIONS
// Launcher Environment Variable").
const jdkJavaOptions = "JDK_JAVA_OPTIONS"

// executorPorts gives the worker's executors fixed block manager ports.
//
// An executor's block manager is the one server it runs: other executors
// fetch their shuffle blocks from it, and its driver fetches large task
// results and cached blocks (executors run their RpcEnv in client mode and
// listen on nothing else). Spark binds it on spark.blockManager.port, 0
// (random) by default, retrying the next port up to spark.port.maxRetries
// times when one is taken (Utils.startServiceOnPort), and advertises what
// it bound. So with spark.blockManager.port=FIRST and
// spark.port.maxRetries=LAST-FIRST, each executor on a worker takes the
// first free port of the range, and one more than the range holds fails
// to start rather than binding a port no mapping or firewall rule covers.
//
// The worker passes its executors none of its own options: ExecutorRunner
// starts `java [conf/java-opts] -cp ... -Xmx.. [the driver's -D options]
// CoarseGrainedExecutorBackend` (WorkerCommandBuilder) with the worker's
// environment. JDK_JAVA_OPTIONS in that environment reaches each executor's
// java launcher, which puts it before those arguments, so a driver that
// sets spark.blockManager.port or spark.port.maxRetries itself still wins
// (Java keeps the last -D); and the executor prefers its own JVM's value of
// these startup settings to its driver's (CoarseGrainedExecutorBackend:
// setIfMissing for SparkConf.isExecutorStartupConf). The worker JVM reads
// the variable too; it has no block manager, and its own fixed ports then
// retry as often, which a container never needs. A JDK_JAVA_OPTIONS of the
// user's that already sets a key keeps it.
func executorPorts(env []string, r settings.PortRange, host string) ([]string, *executorsView) {
	v := &executorsView{BlockManagerPorts: r.String(), JavaOptions: map[string]string{}, Via: jdkJavaOptions}
	for _, o := range []javaOption{
		{"spark.blockManager.port", strconv.Itoa(r.First)},
		{"spark.port.maxRetries", strconv.Itoa(r.Last - r.First)},
	} {
		if own, ok := sparkenv.JavaOption(env, jdkJavaOptions, o.key); ok {
			v.JavaOptions[o.key] = own
			v.Detail = append(v.Detail, fmt.Sprintf("%s already sets %s=%s: kept", jdkJavaOptions, o.key, own))
			continue
		}
		env = sparkenv.AddJavaOption(env, jdkJavaOptions, o.key, o.value)
		v.JavaOptions[o.key] = o.value
	}
	advertised := "the worker's host"
	if host != "" {
		advertised = host + ", the worker's --host, binding what it resolves to in this container"
	}
	v.Detail = append(v.Detail,
		fmt.Sprintf("each executor's block manager binds the first free port of %s and advertises %s; at most %d executors at once on this worker, another one fails to start",
			r, advertised, r.Ports()),
		"other executors (shuffle reads) and the drivers (task results, cached blocks) dial these ports: open them to the cluster's hosts and the drivers'",
		"a driver that sets spark.blockManager.port or spark.port.maxRetries overrides these for its executors")
	return env, v
}

// ecsExecutorPortsWarnings checks, in an ECS bridge-mode task, that every
// executor port is mapped to the same host port number: an executor
// advertises the instance's name and the port it bound, so a dynamic host
// port (hostPort 0, or a containerPortRange, whose host ports the agent
// picks in the ephemeral range) never reaches it.
func ecsExecutorPortsWarnings(r settings.PortRange, hostPort func(int) (int, bool)) []string {
	if !r.Set() {
		return []string{"ecs bridge: ENTRYPOINT_EXECUTOR_PORTS is not set: the executors' block managers bind random ports that no port mapping reaches, " +
			"so shuffles between executors on different instances fail; set it, e.g. 7100-7103, and map each port to the same hostPort"}
	}
	var bad []string
	for port := r.First; port <= r.Last; port++ {
		if hp, mapped := hostPort(port); !mapped || hp != port {
			bad = append(bad, strconv.Itoa(port))
		}
	}
	if len(bad) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("ecs bridge: executor port(s) %s of ENTRYPOINT_EXECUTOR_PORTS=%s are not mapped to the same host port: "+
		"map each one to hostPort = containerPort (one portMappings entry per port; a containerPortRange gets host ports the agent picks)", strings.Join(bad, ","), r)}
}
