"""A real job from a driver outside the cluster, with a checked answer.

Sums 1..N over P partitions after waiting until the expected number of
executors has registered, and checks that the sum is right and that every
executor (one per worker) ran tasks: each task reports the hostname of the
container it ran in.
"""
import argparse
import os
import socket
import sys
import time

from pyspark import SparkConf, SparkContext


def driver_options(ap):
    """The options of a classic driver on the host, shared with drainjob.py."""
    ap.add_argument("--master", required=True)
    ap.add_argument("--driver-host", required=True, help="address the executors and the master dial back")
    ap.add_argument("--executors", type=int, default=3)
    ap.add_argument("--driver-port", type=int, default=40400)
    ap.add_argument("--wait", type=float, default=120)
    ap.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                    help="a Spark setting, applied after all the others (repeatable), "
                         "e.g. the lines of `entrypoint driver-conf`")


def start(ap, args, app_name, prefix):
    """Starts the driver and waits until args.executors executors have
    registered; returns the SparkContext and their number, or None and the
    number when the wait ran out (the context is then stopped, and a
    "PREFIX only ..." line says so)."""
    confs = []
    for kv in args.conf:
        key, sep, value = kv.partition("=")
        if not sep or not key:
            ap.error(f"--conf {kv!r}: want KEY=VALUE")
        confs.append((key, value))

    conf = (SparkConf().setMaster(args.master).setAppName(app_name)
            .set("spark.driver.host", args.driver_host)
            .set("spark.driver.bindAddress", "0.0.0.0")
            .set("spark.driver.port", str(args.driver_port))
            .set("spark.driver.blockManager.port", str(args.driver_port + 1))
            .set("spark.executor.memory", "512m")
            .set("spark.ui.showConsoleProgress", "false"))
    # A cluster started with SPARK_AUTH_SECRET takes only drivers that know
    # it; the driver must have it in its conf (SecurityManager.initializeAuth
    # requires spark.authenticate.secret outside YARN and Kubernetes).
    secret = os.environ.get("SPARK_AUTH_SECRET")
    if secret:
        conf.set("spark.authenticate", "true").set("spark.authenticate.secret", secret)
        if os.environ.get("SPARK_RPC_ENCRYPTION") == "true":
            conf.set("spark.network.crypto.enabled", "true")
    # Last, so that they win: what a caller (or driver-conf) says the
    # driver needs is exactly what it runs with.
    for key, value in confs:
        conf.set(key, value)
    sc = SparkContext(conf=conf)
    sc.setLogLevel("WARN")
    deadline = time.monotonic() + args.wait
    while True:
        # The driver's own block manager is in this map too.
        got = sc._jsc.sc().getExecutorMemoryStatus().size() - 1
        if got >= args.executors:
            return sc, got
        if time.monotonic() > deadline:
            sc.stop()
            print(f"{prefix} only {got} of {args.executors} executors registered within {args.wait}s", file=sys.stderr)
            return None, got
        time.sleep(0.5)


def verdict(prefix, ok):
    """Prints "PREFIX OK", or "PREFIX FAILED" on stderr, and returns the
    script's exit status."""
    if not ok:
        print(f"{prefix} FAILED", file=sys.stderr)
        return 1
    print(f"{prefix} OK")
    return 0


def main():
    ap = argparse.ArgumentParser()
    driver_options(ap)
    ap.add_argument("--partitions", type=int, default=12)
    ap.add_argument("-n", type=int, default=1_000_000)
    args = ap.parse_args()
    sc, got = start(ap, args, "swarming-spark-check", "job:")
    if sc is None:
        return 1
    try:
        def part(it):
            s = sum(it)
            time.sleep(0.3)  # so that no executor takes every task before the others start
            return [(socket.gethostname(), s)]

        res = sc.parallelize(range(1, args.n + 1), args.partitions).mapPartitions(part).collect()
        total = sum(s for _, s in res)
        hosts = sorted({h for h, _ in res})
        want = args.n * (args.n + 1) // 2
        print(f"job: result={total} expected={want} partitions={len(res)} executors={got} "
              f"hosts_with_tasks={len(hosts)} ({' '.join(hosts)})")
        return verdict("job:", total == want and len(hosts) >= args.executors)
    finally:
        sc.stop()


if __name__ == "__main__":
    sys.exit(main())
