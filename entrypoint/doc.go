// Command entrypoint is PID 1 of the snufkin/spark-master and
// snufkin/spark-worker images: it finds the Spark standalone master, fixes
// what the platform left wrong in /etc, scrubs the environment, starts the
// master, worker or Spark Connect server JVM directly (spark-class, no
// daemonizing script) as the spark user, forwards signals, reaps every
// orphan and exits with the JVM's status.
//
// # Usage
//
//	entrypoint master            run a Spark standalone master
//	entrypoint worker            find the master and run a Spark worker
//	entrypoint connect           find the master and run a Spark Connect server: a driver inside the
//	                             cluster's network that clients reach on one gRPC port (see below)
//	entrypoint history           run Spark's history server on the event-log directory, UI and REST API
//	                             on port 18080; it needs no master (see History server)
//	entrypoint explain [ROLE]    print what would be done as JSON (default role: worker); change nothing
//	entrypoint CMD [ARG...]      run CMD (spark-submit, pyspark, spark-sql, bash...) under the supervisor
//	                             as ENTRYPOINT_USER (spark) with the environment the JVMs get, as the
//	                             official image runs a command; its log lines only when something is
//	                             wrong (unless ENTRYPOINT_LOG_LEVEL is set)
//	entrypoint -- CMD [ARG...]   supervise CMD as a plain init, as the container's user (root unless
//	                             docker run --user): no discovery, no /etc changes
//	entrypoint version           print the entrypoint's, Spark's, Java's and Python's versions and the architecture
//	entrypoint ui-token [TTL]    print a token for the web UIs, valid for TTL (default 1h); see UI tokens
//	entrypoint ready [ROLE]      exit 0 when this master is ALIVE, this worker is listed ALIVE by its
//	                             master, or this Connect server's port accepts and its master lists its
//	                             application RUNNING, or this history server's REST API lists its
//	                             applications; 1 with the reason otherwise (HEALTHCHECK, probes).
//	                             Without ROLE: the role PID 1 runs, so one image's check fits every role
//	entrypoint ambassador        forward TCP connections to the master (the 2015 ambassador pattern,
//	                             for ECS tasks and hosts without cross-host links)
//	entrypoint doctor [--json] [ROLE]
//	                             check this container (default role: worker) and print one line per
//	                             check, with the fix for each problem; 1 when a check fails
//	entrypoint doctor [--json] driver HOST:PORT[,PORT...]
//	                             dial a driver's spark.driver.host and ports from this container, as
//	                             an executor here would; one line per port; 1 when one fails
//	entrypoint driver-conf [--json]
//	                             print the --conf lines a classic (non-Connect) driver outside the
//	                             cluster needs, for this platform; run it in any container of the cluster
//	entrypoint class-archive ROLE
//	                             write the class-data archive of ROLE's JVM into ENTRYPOINT_CLASS_ARCHIVE:
//	                             runs a master and a worker on loopback until the worker is ALIVE (the
//	                             Dockerfiles run it; so should an image that adds jars to $SPARK_HOME/jars)
//	entrypoint help|-h|--help    print the short form of this list on stdout and exit 0 (no subcommand at
//	                             all: the same on stderr, exit 64)
//
// # Entrypoint settings
//
// Read with envconfig, prefix ENTRYPOINT_. A variable set to the empty string
// counts as unset. An ENTRYPOINT_* variable that is not listed here is an
// error, as is a malformed value: the entrypoint then prints one line naming
// the variable and the value and exits 64, having changed nothing.
//
//	ENTRYPOINT_LOG_LEVEL      trace, debug, info, warn, error or disabled (default info)
//	ENTRYPOINT_LOG_FORMAT     text (default; auto and console mean the same): Spark's own log layout,
//	                          "yy/MM/dd HH:mm:ss LEVEL entrypoint: message key=value...", so that the
//	                          entrypoint's lines and the JVM's read as one log, without colours; or json,
//	                          one object per line for a log shipper (Spark's lines stay text unless its
//	                          structured logging is turned on in SPARK_*_OPTS)
//	ENTRYPOINT_GRACE          time the rest of the processes get after the main child exits or
//	                          after the first stop signal, before SIGKILL (default 8s, under Docker's 10s)
//	ENTRYPOINT_SIGNAL_GROUP   true: forward signals to the child's whole process group (tini -g), which on a
//	                          terminal (docker run -it) is also the terminal's foreground group (default false)
//	ENTRYPOINT_SIGNAL_REWRITE FROM:TO[,FROM:TO...], e.g. TERM:PWR, applied to forwarded signals (dumb-init -r);
//	                          TO 0 drops FROM; a rewrite of a signal dropped by default (TTIN, a fault's) is honoured
//	ENTRYPOINT_STOP_SIGNALS   SIG[,SIG...], e.g. INT,QUIT: signals that, besides SIGTERM, stop the workload
//	                          (default none: SIGINT, a terminal's Ctrl-C, is only forwarded); see Signals
//	ENTRYPOINT_USER           who runs the JVM when started as root: a name or uid[:gid] (default spark)
//	ENTRYPOINT_DISCOVERY      auto, or a comma-separated list of sources to try in that order (default auto)
//	ENTRYPOINT_MASTER_WAIT    how long a worker keeps looking for its master before exiting 69 (default 5m; 0 = one try),
//	                          then as long again for the master to accept connections before its JVM starts anyway
//	ENTRYPOINT_MASTER_STATE   master: the directory where it keeps its workers and applications across a restart
//	                          (Spark's FILESYSTEM recovery mode; default /var/lib/spark/master; off: none); see below
//	ENTRYPOINT_EVENT_LOG      the event-log directory (default /var/lib/spark/events; off: none): the Connect
//	                          server writes its events there, the history server reads it; see History server
//	ENTRYPOINT_METRICS        prometheus (default): Spark's PrometheusServlet sink on the master, the workers and
//	                          the Connect server, on their web UI ports (see Metrics); off: Spark's defaults
//	ENTRYPOINT_UI_PROXY       off (default), on, or a URL or path: Spark's reverse proxy (spark.ui.reverseProxy on the
//	                          master, the workers and the Connect server; a URL or path also sets
//	                          spark.ui.reverseProxyUrl, where a front proxy serves the master's UI): the master's UI
//	                          relays every worker's and application's UI under /proxy/ID/; see One UI entry
//	ENTRYPOINT_UI_AUTH        auto (default): with a key (SPARK_UI_KEY, or one derived from SPARK_AUTH_SECRET)
//	                          every web UI the images start answers only requests with a token; off: they stay
//	                          open; see UI tokens
//	ENTRYPOINT_UI_KILL        true: keep the kill links of the master's and the Connect server's UIs
//	                          (spark.ui.killEnabled; default false: off)
//	ENTRYPOINT_CLASS_ARCHIVE  the directory of the master's and worker's class-data archives, master.jsa and
//	                          worker.jsa (default /usr/local/lib/spark-cds; off: start the JVMs without); see below
//	ENTRYPOINT_FIX_ETC        false: never write /etc/hosts or /etc/resolv.conf (default true)
//	ENTRYPOINT_EXECUTOR_PORTS worker: PORT or FIRST-LAST, e.g. 7100-7103: the ports the block managers of the
//	                          worker's executors bind, each the first free one, at most LAST-FIRST+1 executors
//	                          at once (default: Spark's random port); see ECS bridge mode
//	ENTRYPOINT_AMBASSADOR_LISTEN  ambassador: address to accept connections on (default :7077)
//	ENTRYPOINT_AMBASSADOR_TARGET  ambassador: host:port to forward to; unset: the master found by
//	                          ENTRYPOINT_DISCOVERY, looked up again for every new connection
//
// # Spark settings the entrypoint reads
//
//	SPARK_MASTER_URL          spark://host:port[,host2:port2]: the master, found by no other means (source static)
//	SPARK_MASTER_SRV          a DNS name with the master's SRV records, e.g. spark-master.spark.local (AWS Cloud Map,
//	                          ECS service discovery; the ECS task definitions set it): source cloudmap, tried next
//	                          after SPARK_MASTER_URL, through resolv.conf's search list and first nameserver. The URL
//	                          is spark://NAME:PORT when there is one target and NAME has an address of its own (it
//	                          outlives the task), else every target by name; a malformed name exits 64
//	SPARK_MASTER_SERVICE      the master's service name for the platform sources (default spark-master)
//	SPARK_MASTER_HOST         master: the name to bind and advertise (default: the container's hostname);
//	                          mapped to the container's address in /etc/hosts when it does not resolve, or,
//	                          when /etc/hosts cannot be written, replaced by that address
//	SPARK_MASTER_PORT         master: RPC port (default 7077)
//	SPARK_MASTER_WEBUI_PORT   master: web UI port (default 8080)
//	SPARK_WORKER_HOST         worker: the host to bind and advertise (--host; default: Spark's choice, the container's IP,
//	                          or, in an ECS bridge-mode task, the instance's DNS name: see below)
//	SPARK_PUBLIC_DNS          the host of the web UI URL a node advertises (default: its --host; ECS bridge: the instance IP)
//	SPARK_WORKER_PORT         worker: RPC port (default random)
//	SPARK_WORKER_WEBUI_PORT   worker: web UI port (default 8081)
//	SPARK_WORKER_CORES        worker: the cores it offers (default: the CPUs the container may run on, fewer under a
//	                          CPU quota, rounded up: docker --cpus, a Kubernetes cpu limit), 1 or more
//	SPARK_WORKER_MEMORY       worker: the memory it offers executors, a size such as 2g or 1536m (default: the
//	                          container's memory limit, or the host's memory without one, less 1 GiB and at least
//	                          1 GiB, Spark's own rule); explain shows both figures and where they come from, and
//	                          warns when a limit is below what one default executor needs (1.5 GiB with its
//	                          worker) or SPARK_WORKER_MEMORY exceeds the limit; a malformed size exits 64
//	SPARK_WORKER_DIR          worker: where applications run (default $SPARK_HOME/work-dir, writable by spark in both images);
//	                          the entrypoint's defaults keep it bounded: stopped applications' directories go after a
//	                          day without writes (spark.worker.cleanup.enabled=true, interval 1800, appDataTtl 86400)
//	                          and executor logs roll at 32 MiB with 4 kept (spark.executor.logs.rolling.strategy=size,
//	                          maxSize 33554432, maxRetainedFiles 4); SPARK_WORKER_OPTS overrides each
//	SPARK_WORKER_OPTS         worker JVM options; the entrypoint adds -Dspark.decommission.enabled=true, which turns
//	                          the first SIGTERM into a graceful decommission (see Stopping a worker), unless it
//	                          sets its own (false: a stop ends the executors at once)
//	SPARK_HOME                where Spark is (default /opt/spark)
//	SPARK_CONF_DIR            Spark's conf directory (default $SPARK_HOME/conf), as bin/load-spark-env.sh has it: its
//	                          spark-env.sh is sourced before the launcher runs, and a recovery mode chosen in its
//	                          spark-defaults.conf or spark-env.sh leaves the master's state to Spark (see below)
//	SPARK_DAEMON_JAVA_OPTS    master and worker JVM options (not the executors'); the entrypoint sets
//	                          "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms32m -Xmn8m -XX:+UnlockDiagnosticVMOptions
//	                          -XX:ArchiveRelocationMode=0" when it is unset: C1 only, the serial collector, a small
//	                          first heap and young generation, class-data archives mapped at their own address
//	                          (shared file pages, not private copies); about half the start CPU and two thirds of the
//	                          idle memory of Spark's defaults; set it (empty for Spark's own defaults) to choose;
//	                          SPARK_DAEMON_MEMORY (the heap's ceiling) is Spark's 1g
//	SPARK_LAUNCHER_OPTS       JVM options of Spark's launcher, which the entrypoint runs as bin/spark-class does
//	SPARK_SCALA_VERSION       the Scala version of Spark's jars (default: read from the name of
//	                          $SPARK_HOME/jars/spark-core_*.jar); the launcher and the worker's executors need it
//	SPARK_AUTH_SECRET         shared secret: turns on spark.authenticate for the node; the JVM gets it in
//	                          _SPARK_AUTH_SECRET (never on its command line); a master's REST server is
//	                          turned off (it has no authentication). Drivers need the same secret.
//	SPARK_AUTH_SECRET_FILE    the same, read from a file (a Kubernetes or ECS secret); not both
//	SPARK_UI_KEY              the web UIs' key, base64url of at least 32 bytes (JWSFilter's secretKey; default:
//	                          derived from SPARK_AUTH_SECRET); never on a command line; see UI tokens
//	SPARK_UI_KEY_FILE         the same, read from a file (a Kubernetes or ECS secret); not both
//	SPARK_RPC_ENCRYPTION      true: AES-based RPC encryption (spark.network.crypto.enabled); needs the secret
//	SPARK_HISTORY_OPTS        history: the server JVM's -D options (spark.history.*); see History server
//	SPARK_SUBMIT_OPTS         connect: the server JVM's -D options, Spark's settings among them:
//	                          -Dspark.connect.grpc.binding.port (default 15002), -Dspark.driver.host, ...
//	SPARK_CONNECT_AUTHENTICATE_TOKEN
//	                          connect: the token clients must send (Spark's own name; the server reads it
//	                          from its environment, pyspark's client too); required with SPARK_AUTH_SECRET
//	SPARK_CONNECT_AUTHENTICATE_TOKEN_FILE
//	                          the same, read from a file (a Kubernetes or ECS secret); not both
//	SPARK_DRIVER_HOST         driver-conf: the spark.driver.host to print (default: the platform's, see below);
//	                          a host name or an address
//	SPARK_DRIVER_PORT         driver-conf: the driver's fixed RPC port to print (default 40400), 1-65535
//	SPARK_DRIVER_BLOCK_MANAGER_PORT
//	                          driver-conf: its block manager port (default SPARK_DRIVER_PORT+1), another one
//
// The SPARK_DRIVER_* settings are read by driver-conf only (docker exec -e
// ... entrypoint driver-conf); Spark reads none of them. A link value in
// SPARK_DRIVER_PORT (a Kubernetes Service or Docker link named
// spark-driver) is ignored, with a note.
//
// Spark reads SPARK_MASTER_PORT, SPARK_MASTER_WEBUI_PORT, SPARK_WORKER_PORT,
// SPARK_WORKER_WEBUI_PORT, SPARK_WORKER_CORES and SPARK_WORKER_INSTANCES as
// integers. Docker links and Kubernetes Services named spark-master or
// spark-worker fill them with tcp://ADDR:PORT; the entrypoint removes such
// values, with the rest of their link family, from the JVM's environment and
// logs each removal. Any other non-integer value is an error (exit 64).
// Workers always get -Dspark.worker.preferConfiguredMasterAddress=true, so
// that they re-resolve the master's configured name when it comes back on a
// new address.
//
// # Master restarts
//
// A standalone master that restarts knows none of its workers; each finds
// it again at its next registration retry, a random 5-15 s after the
// disconnect (hardcoded in Spark). So the master keeps its workers and
// applications in ENTRYPOINT_MASTER_STATE with Spark's own FILESYSTEM
// recovery mode (-Dspark.deploy.recoveryMode=FILESYSTEM,
// recoveryDirectory, recoveryTimeout=15s in SPARK_MASTER_OPTS): when it
// starts and finds them, it tells each where it now is, and they are back
// as soon as it is up. The directory lives in the container (a restarted
// container keeps it); mount a volume there for a replacement container to
// inherit it (the Compose Specification file and the Swarm stack do). A
// stale state (workers gone meanwhile) makes the master wait up to 15 s
// for them before it schedules again (Spark 3.5: spark.worker.timeout,
// 60 s). The entrypoint leaves the master alone when SPARK_MASTER_OPTS,
// SPARK_DAEMON_JAVA_OPTS, spark-defaults.conf or spark-env.sh choose a
// recovery mode (ZooKeeper), and starts it without state, with a warning,
// when the directory cannot be made writable for the JVM's user (a
// read-only root file system).
//
// A worker starts its JVM once the master accepts TCP connections: a JVM
// that asks too early waits for that same 5-15 s retry.
//
// # Spark Connect server
//
// entrypoint connect finds the master exactly as a worker does (every
// discovery source, the wait, the scrub, the /etc fixes, the wait for the
// master's port), then runs org.apache.spark.sql.connect.service.SparkConnectServer
// through spark-submit in client mode, as sbin/start-connect-server.sh
// would, under the supervisor as the spark user. The server is a driver:
// executors dial it back at spark.driver.host, which the entrypoint sets
// to this container's address on the route to the master (the network the
// workers share with it; never a host gateway), unless SPARK_SUBMIT_OPTS
// sets it or SPARK_LOCAL_HOSTNAME or SPARK_LOCAL_IP is set. Clients need
// only the gRPC port and a thin client (pyspark-client, sc://HOST:15002;
// where it has no release of the images' Spark, pyspark[connect]). From
// Spark 4.3 a Python UDF from a client that has pyarrow runs as an
// Arrow-optimised UDF by default (spark.sql.execution.pythonUDF.arrow.enabled),
// so the executors' Python worker imports pyarrow: the images' python3
// carries pyspark's sql extra (pandas, pyarrow, numpy) for that.
//
// Unless SPARK_SUBMIT_OPTS or spark-defaults.conf say otherwise, the
// server shares the cluster: executors of one core
// (spark.executor.cores=1), added as queries need them and given back
// after 60 s idle (spark.dynamicAllocation.* with shuffle tracking), with
// one kept so that the master lists the application RUNNING and a first
// query finds an executor up. Without this a standalone application holds
// every core of the cluster for its whole life and any other driver waits
// with "Initial job has not accepted any resources".
//
// With SPARK_AUTH_SECRET (or _FILE) the server talks to the cluster with
// the secret, which a standalone driver must have in its conf: the
// entrypoint writes it to a properties file readable by the JVM's user
// only, in a private directory under $TMPDIR that it removes when the JVM
// exits, and passes --properties-file with --load-spark-defaults; it is never on a
// command line. Clients then need SPARK_CONNECT_AUTHENTICATE_TOKEN; without
// one the server refuses to start (exit 64). Without a secret it starts,
// and says once in its log that anyone who can reach the port can run
// code. pyspark's client sends a token only over TLS, except to
// sc://localhost, which it reaches with gRPC's local credentials; so from
// another machine use an SSH tunnel or a TLS-terminating proxy in front of
// the port.
//
// A master restart: a master that keeps its state (ENTRYPOINT_MASTER_STATE
// in the same container, or a volume that follows it) tells the server's
// application where it now is, as it tells its workers, and the server
// keeps its sessions. A master that comes back without it (a new pod or
// task with no volume) knows nothing of the application, and Spark's
// driver never registers again; so the entrypoint checks every 10 s, and
// once an ALIVE master has not listed the application for a minute it
// stops the server with a log line saying why (exit 143), for the
// platform's restart policy to start a new one (the artifacts set one;
// clients then open new sessions).
//
// The Connect server is part of Spark from 4.0 on; on the 3.5 images
// connect exits 64 naming SPARK_HOME.
//
// The server writes its event log to ENTRYPOINT_EVENT_LOG
// (spark.eventLog.enabled, dir file:DIR, rolled at 128 MiB:
// spark.eventLog.rolling.*) for a history server to list, unless
// SPARK_SUBMIT_OPTS sets spark.eventLog.enabled itself. A directory the
// JVM's user cannot write (a read-only root without a volume there) turns
// it off with a warning, since a driver that cannot write its event log
// does not start.
//
// # History server
//
// entrypoint history runs org.apache.spark.deploy.history.HistoryServer
// (spark-class, as sbin/start-history-server.sh would, in the
// foreground) as the spark user under the supervisor, with its options in
// SPARK_HISTORY_OPTS (Spark's launcher gives the server that variable,
// SPARK_DAEMON_JAVA_OPTS and SPARK_DAEMON_MEMORY). It needs no master.
// Unless SPARK_HISTORY_OPTS names spark.history.fs.logDirectory (any file
// system Spark reads, s3a:// among them), it reads ENTRYPOINT_EVENT_LOG
// (file:/var/lib/spark/events). The images create that directory owned by
// spark and group 0 with the setgid bit (2770), and the entrypoint, as
// root, makes a root-owned mount there the same, so anything made in it
// directly has group 0. Spark writes an application's events in a
// directory of its own (eventlog_v2_APP, 0770, rolled files 0660), whose
// chmod drops the setgid bit: the files there take their writer's primary
// group. A history server of the same uid (spark, the default) reads them
// all; one under another uid of group 0 (docker run --user 12345:0,
// OpenShift) reads only what writers of group 0 wrote, so run those
// drivers as 185:0 (ENTRYPOINT_USER=185:0, docker run --user 185:0), which
// the spark user's own files stay readable for too. Mount one volume there in the history server and in every
// driver that should appear: the Connect server does its part by itself,
// and any other driver sets spark.eventLog.enabled=true and
// spark.eventLog.dir=file:/var/lib/spark/events. A driver on a host writes
// its event log on that host (client mode): give it a directory the
// history server's volume also is (a bind mount of the same host path).
//
// Unless SPARK_HISTORY_OPTS sets them, logs older than 7 days go
// (spark.history.fs.cleaner.enabled=true, Spark's default maxAge), and a
// rolled event log keeps at most 10 files, older ones compacted
// (spark.history.fs.eventLog.rolling.maxFilesToRetain=10). The UI and
// its REST API are on spark.history.ui.port (default 18080); entrypoint
// ready history asks /api/v1/applications. Its /tmp must allow exec (a
// tmpfs there: --tmpfs /tmp:exec): Spark 4 compresses event logs with
// zstd, whose native library is extracted to java.io.tmpdir and mapped,
// and with a noexec /tmp the server lists nothing.
//
// # Classic drivers outside the cluster
//
// A classic driver (spark-submit, pyspark, a notebook; not Spark Connect)
// is dialled back by every executor, at spark.driver.host and two ports
// of its own. entrypoint driver-conf, run in any container of the cluster
// (docker exec, kubectl exec), tells the platform apart as discovery does
// and prints, for the place a driver can run, the --conf lines it needs
// (spark.master first), then "# " lines saying what else must hold and
// where a classic driver cannot work at all. It writes nothing, needs no
// root and exits 0 (64 for a malformed setting). With --json it prints
// {"platform", "driver", "master", "confs": [{"key", "value"}, ...], "notes"}:
// master is the master as this container found it ("" when none),
// driver where the confs are for (docker-host, overlay-container, pod,
// instance, vpc). The driver always gets spark.driver.bindAddress=0.0.0.0
// and fixed ports, spark.driver.port and spark.driver.blockManager.port
// (SPARK_DRIVER_PORT, default 40400, and the next one); a cluster with a
// shared secret adds spark.authenticate=true (the secret is never printed).
//
//	docker      links, Compose, a user network: a driver on the Docker host, spark.master =
//	            spark://127.0.0.1:PORT (the master's port, which must be published; another host
//	            port goes there instead), spark.driver.host = this container's default gateway
//	            (/proc/net/route), the host's own address on the network; the host's firewall must
//	            let the two ports in from the containers' subnet
//	swarm       tasks. names: a host cannot be dialled back through the routing mesh, so the confs
//	            are for a driver container named spark-driver on the stack's attachable overlay
//	kubernetes  KUBERNETES_SERVICE_HOST: a driver pod, spark.driver.host=$(POD_IP) from the downward
//	            API (status.podIP); nothing outside the cluster can be dialled back
//	ecs-*       ECS_CONTAINER_METADATA_URI_V4: bridge and host mode, spark.driver.host = an instance's
//	            address (this one's, from the container metadata file), never a container address;
//	            a bridge-mode worker's master as its ambassador finds it, and a note with the
//	            executors' ports the driver must reach (ENTRYPOINT_EXECUTOR_PORTS); awsvpc, the
//	            driver's own VPC address (DRIVER_HOST to replace)
//
// Wherever the executors cannot reach the driver's machine, a classic
// driver cannot work; the output says so and points at Spark Connect
// (entrypoint connect; pyspark-client with sc://HOST:15002).
//
// # Class-data archive
//
// Most of a master's or worker's start is its JVM loading, parsing and
// verifying Spark's classes: about 7 s of CPU for a worker, which a
// cluster forming on a few cores pays once per node. Each image carries an
// archive of those classes as its JVM left them (JDK 13+ dynamic class data
// sharing, written at build by entrypoint class-archive) and the entrypoint
// starts the JVM with -XX:SharedArchiveFile, which about halves that CPU.
// The JVM maps an archive only when its class path starts with the one the
// archive was written with, entry for entry, with no file in any directory
// of that part; Spark's class path starts with the conf directory and
// expands jars/* in directory order, which differs between hosts. So, with
// an archive, the class path is Spark's jars in sorted order, then the conf
// directory and the launcher's other entries in their order (no Spark jar
// holds a log4j2.properties, *-site.xml or other file users put in conf).
// The archive is not used, and the command is Spark's own, when the java
// options already set class data sharing (-Xshare, -XX:SharedArchiveFile),
// when something other than the conf directory comes before the jars
// (SPARK_DAEMON_CLASSPATH, meant to shadow Spark's classes), or when the
// jars are no longer those the archive was written for; explain says which
// under class_archive, and the start log says it once. A JVM that finds the
// archive unusable (another java) says so on its first line and starts
// without it.
//
// # ECS bridge mode
//
// A worker in a bridge-mode ECS task (ECS_CONTAINER_METADATA_URI_V4 says
// so) has a docker-bridge address no other instance can reach; the master
// and drivers must use the instance's address and the host ports mapped to
// the worker's container ports. Spark has no separate bind address for a
// worker: --host is both what it binds and what it advertises, and it
// advertises the port it bound. Unless SPARK_WORKER_HOST or
// SPARK_LOCAL_HOSTNAME is set, the entrypoint therefore reads the instance
// IP from the container metadata file (ECS_CONTAINER_METADATA_FILE, agent
// setting ECS_ENABLE_CONTAINER_METADATA=true) and the port mappings from it
// and the task metadata endpoint, then:
//
//   - asks the VPC resolver for the instance's DNS name (PTR, confirmed by
//     its A record; ip-a-b-c-d.<region>.compute.internal on EC2) and gives
//     it as --host, with a line in /etc/hosts mapping it to the container's
//     own address: the JVM and its executors bind locally, everyone else
//     reaches the instance;
//   - sets SPARK_PUBLIC_DNS to the instance IP for the web UI URL;
//   - warns when SPARK_WORKER_PORT is unset or the RPC or web UI port is not
//     mapped to the same host port number. Only fixed host ports equal to
//     the container ports work (hostPort 0, dynamic, cannot: Spark would
//     advertise the container port);
//   - warns when ENTRYPOINT_EXECUTOR_PORTS is unset or one of its ports is
//     not mapped to the same host port number (a containerPortRange is not:
//     the agent picks its host ports).
//
// The worker's executors advertise the worker's --host too (the worker
// passes it as their --hostname) and bind what it resolves to in the
// container, but their block managers, which other executors fetch shuffle
// blocks from and drivers fetch task results from, bind a random port that
// no mapping reaches, so a shuffle between instances fails. With
// ENTRYPOINT_EXECUTOR_PORTS=FIRST-LAST (images/ecs/worker-bridge.json:
// 7100-7103, each mapped to the same host port) the entrypoint gives the
// executors -Dspark.blockManager.port=FIRST -Dspark.port.maxRetries=LAST-FIRST
// in JDK_JAVA_OPTIONS of the worker's environment, which the executors
// inherit (the worker passes them none of its own options): each binds the
// first free port of the range, and one more executor than the range holds
// fails to start instead of binding a port nothing reaches. A driver that
// sets spark.blockManager.port or spark.port.maxRetries overrides them, and
// a JDK_JAVA_OPTIONS of the user's that sets them keeps its values. explain
// shows the range and the options under executors. The setting works on
// every platform (fixed ports for a firewall); ECS bridge mode needs it.
//
// Without a name (no PTR record, or /etc/hosts not writable) the worker
// keeps its container address and explain says why; awsvpc needs none of
// this.
//
// A master in a bridge-mode task keeps its RPC host (workers reach it
// through their task's ambassador and the instance's host port) but gets
// SPARK_PUBLIC_DNS = the instance IP from the same metadata file, unless
// SPARK_PUBLIC_DNS is set: Spark advertises its web UI URL with that host,
// else with the container hostname, which no other instance resolves, and
// the workers' health check (entrypoint ready worker) asks that URL. The
// web UI port must be mapped to the same host port (8080 in
// images/ecs/master-bridge.json); explain shows public_dns under advertise
// and warns otherwise.
//
// # Metrics
//
// With ENTRYPOINT_METRICS=prometheus (the default) the master, the workers
// and the Connect server serve Spark's metrics in Prometheus's text format
// on their web UI ports (Spark's PrometheusServlet sink:
// -Dspark.metrics.conf.*.sink.prometheusServlet.class and its paths in their options,
// unless those name it already): the master at /metrics/master/prometheus
// (metrics_master_aliveWorkers_Value and the rest of its source) and its
// applications at /metrics/applications/prometheus, a worker at
// /metrics/prometheus, the Connect server at /metrics/prometheus and its
// executors at /metrics/executors/prometheus (spark.ui.prometheus.enabled)
// on its UI port, 4040. No extra port is opened: whoever reaches a UI
// reads its metrics. explain lists the paths under "metrics";
// images/compose/prometheus.yml is a scrape configuration for the Compose
// Specification file (Docker's DNS names every worker).
//
// # One UI entry
//
// With ENTRYPOINT_UI_PROXY=on (or a URL) on the master, the workers and the
// Connect server, the master's UI relays the workers' and applications'
// UIs under /proxy/ID/ and every link in them points there, so the master's
// published port is the whole UI. It is off by default because Spark then
// means the workers' and applications' UIs to be opened through the master
// only, which relays every page, while a plain docker run user reaches each
// directly; the Compose Specification file turns it on and publishes the
// master's UI alone. A driver started by hand in the images follows the
// setting (conf/spark-env.sh); any other driver sets
// spark.ui.reverseProxy=true itself. The health checks are unchanged: a
// worker whose master advertises a front proxy's URL asks the master's own
// UI, at the master URL's host and port 8080, instead.
//
// # UI tokens
//
// SPARK_AUTH_SECRET closes Spark's RPC, not its web UIs. With a key
// (SPARK_UI_KEY, or else one derived from the shared secret, so that every
// node and every health check agree on it without another secret) the
// master, the workers, the Connect server's driver and the history server
// run Spark's org.apache.spark.ui.JWSFilter (spark.ui.filters, Spark 4): a
// request without "Authorization: Bearer TOKEN", or with a token not
// signed with the key or expired, gets 403. The key reaches each JVM in a
// properties file of its own user (--properties-file, which for the
// daemons also carries spark-defaults.conf), never a command line or a
// log; Spark's UIs and event logs redact it. Tokens must carry an expiry
// (requireExpiration). entrypoint ui-token [TTL] prints one, e.g.
//
//	curl -H "Authorization: Bearer $(docker exec spark-master entrypoint ui-token)" http://HOST:8080/json/
//
// A browser sends it through a header-setting extension or an
// authenticating proxy in front of the master's UI; the master's reverse
// proxy (One UI entry) passes the header on to the workers and drivers,
// which check the same key. A Prometheus server sends a long-lived one
// (entrypoint ui-token 8760h into its authorization credentials_file).
// ready, doctor and a worker's drain sign their own requests. A driver
// started by hand is the user's: its UI (port 4040) takes the filter
// from the user's conf, spark.ui.filters and
// spark.org.apache.spark.ui.JWSFilter.param.secretKey in a properties file.
// Spark 3.5 has no JWSFilter: its UIs stay open, and the start says so;
// publish none of their ports, or put an authenticating proxy in front.
// Apart from the key, the master's and the Connect server's kill links
// (spark.ui.killEnabled) are off unless ENTRYPOINT_UI_KILL=true. explain
// shows all of it under "ui_auth", without the key.
//
// # Doctor
//
// entrypoint doctor runs in a running container (docker exec, kubectl exec)
// or in place of a start (docker run --rm IMAGE doctor). It needs no root and
// writes nothing. Each line is ok, warn (the entrypoint works around it),
// FAIL (followed by a "fix:" line) or skip:
//
//	env      SPARK_*_PORT=tcp://... link values in Spark's integer settings: warn, since the JVM
//	         never sees them but spark-submit run in the container does; a non-integer value: FAIL
//	user     FAIL when the JVM's uid has no passwd entry and neither nss_wrapper nor a writable
//	         /etc/passwd can give it one
//	etc      warn when /etc/hosts or /etc/resolv.conf is not writable (access(2): permissions and
//	         read-only mounts alike)
//	master   FAIL when discovery finds no master (worker)
//	names    FAIL when the master's name resolves here (/etc/hosts first, as getaddrinfo does) to
//	         other addresses than at the first DNS server of resolv.conf. Inside a container that
//	         server is the only honest "outside": it answers every container on the network alike,
//	         while /etc/hosts is this container's own, so a difference is a stale or pinned line
//	connect  FAIL when the master's RPC port refuses a TCP connection (a master: skip, it may not
//	         listen yet)
//	event-log  connect: warn when its user cannot write ENTRYPOINT_EVENT_LOG (it starts without an
//	         event log); history: FAIL when its user cannot read it (history checks nothing else
//	         after etc: it needs no master)
//	decommission  worker: warn when a stop cannot drain the worker (SPARK_WORKER_OPTS turns it off or
//	         names a signal that is none), with what the drivers must set
//	ui-auth  who can use the node's web UI: ok with the filter or without a key; warn when a key is
//	         set but the UI stays open (Spark 3.5, ENTRYPOINT_UI_AUTH=off, the user's own filter);
//	         FAIL for a malformed SPARK_UI_KEY
//	clock    FAIL when the HTTP Date header of the master's web UI (SPARK_MASTER_WEBUI_PORT,
//	         default 8080) is more than 5s from this container's clock
//
// entrypoint doctor driver HOST:PORT[,PORT...], run in a worker while the
// driver runs, checks what its executors will do first: resolve
// spark.driver.host (names) and open a TCP connection to each port
// (driver), all at once, with a 3s timeout each ([ADDR]:PORT for IPv6).
// A refusal means nothing listens there (the driver is down, its port is
// not fixed, or it binds one address instead of 0.0.0.0); silence, a
// firewall that drops; no route, an address the cluster cannot reach.
// Each FAIL names the likely cause in its fix line; a loopback HOST is a
// warning, since an executor dials its own container there.
//
// # Signals
//
// PID 1 forwards the signals it gets to the JVM (or the command), to its
// process group with ENTRYPOINT_SIGNAL_GROUP, rewritten by
// ENTRYPOINT_SIGNAL_REWRITE, except:
//
//   - SIGTERM, and each signal in ENTRYPOINT_STOP_SIGNALS, also starts the
//     stop: once the JVM is gone every other process gets SIGTERM, and
//     whatever is left ENTRYPOINT_GRACE after the signal gets SIGKILL; a
//     second stop signal sends SIGKILL at once.
//   - SIGINT is forwarded and nothing more, as tini and dumb-init do: a
//     shell or REPL (docker run -it IMAGE -- bash, spark-shell) handles
//     Ctrl-C and carries on. A platform that stops containers with SIGINT
//     needs ENTRYPOINT_STOP_SIGNALS=INT.
//   - SIGTTIN and SIGTTOU are dropped, so that PID 1 is never stopped
//     (unless ENTRYPOINT_SIGNAL_REWRITE names them, as for the faults below).
//   - SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV and SIGSYS, which can only
//     come from kill, are dropped with one log line: the kernel drops them
//     for any PID 1 without a handler, and a JVM takes a SIGSEGV for a
//     fault of its own and crashes. ENTRYPOINT_SIGNAL_REWRITE can name
//     them, and the rewritten signal is forwarded.
//   - SIGKILL and SIGSTOP cannot be caught, SIGCHLD is the reaper's, and
//     SIGPIPE, SIGURG, SIGPROF (Go's runtime keeps it) and signals 32-34
//     are not caught.
//
// # Stopping a worker
//
// A worker's first SIGTERM is a decommission (Spark's
// spark.decommission.enabled, on by default in the images): PID 1 sends the
// worker spark.worker.decommission.signal (PWR), so that the master gives
// it no new executor and tells each application's driver; it then polls
// the worker's web UI (/json/) until the worker runs no executor, and only
// then, or one second before ENTRYPOINT_GRACE runs out, sends SIGTERM (at
// once, without the decommission, when the worker JVM has no handler for
// the signal yet, early in its start: the signal would kill it). An
// executor leaves only when its driver's conf has
// spark.decommission.enabled=true: it finishes its running tasks, starts
// no new one and exits. The Connect server and the drivers started in the
// images (spark-submit, pyspark, spark-shell: conf/spark-env.sh) set it; a
// driver elsewhere must (entrypoint driver-conf prints it). Executors of
// other drivers run until the grace period ends and are then killed, and
// their tasks are re-run elsewhere. Shuffle files and cached blocks stay
// on the worker unless the driver also sets
// spark.storage.decommission.enabled=true (Spark then migrates them to
// other executors). ENTRYPOINT_GRACE, and the platform's stop timeout
// above it, must cover the longest task that should finish. A worker that
// drained completely and then ended on the SIGTERM exits 0, not 143, so
// that an orchestrator can tell a clean stop from a crash or a drain cut
// short. explain shows the plan under "decommission"; doctor says when a
// stop cannot drain and why.
//
// PID 1 leaves the directory it was started in (the image's WORKDIR or
// docker run -w, which the JVM or command starts in) for /, so as not to
// pin it: before it starts a command that runs as its own user (--), once
// the JVM has started otherwise (the JVM's user enters the directory as
// itself, and may not be allowed in).
//
// # Exit status
//
//	N        the workload exited with N
//	0        a worker stopped after a complete drain (see Stopping a worker)
//	1        ready: the node is not ready; doctor: a check failed
//	128+N    the workload died of signal N, or a stop signal N came before it started
//	64       bad settings or command line
//	69       no master found within ENTRYPOINT_MASTER_WAIT
//	70       internal failure
//	126      the command exists but cannot be executed
//	127      the command was not found
//
// Every signal is caught from the start of master, worker, connect and --
// on: one that arrives before the workload starts either ends the start
// (SIGTERM, SIGINT: 128+N, "stopped before the jvm started") or is handed
// to the workload once it runs. Only in the millisecond of Go's own start,
// before any of the entrypoint's code runs, does a SIGTERM end an init
// with 2 (the runtime's default action, which the kernel does not carry
// out for a namespace's init).
package main
