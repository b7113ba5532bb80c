"""A real query through Spark Connect from a thin client, with a checked answer.

Runs with pyspark-client (no JVM here): a DataFrame aggregation, the sum of
1..N over P partitions, and a Python UDF, which the executors run from the
client's pickled code, returning the hostname of the container each row
ran in. It checks the sum and that rows ran on every worker; the server
adds executors as the query needs them, so the UDF query is repeated
(executors up by then) until every worker took part or the wait is over.
"""
import argparse
import os
import signal
import sys
import time

from pyspark.sql import SparkSession
from pyspark.sql import functions as F


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--remote", required=True, help="sc://HOST:PORT (a token: SPARK_CONNECT_AUTHENTICATE_TOKEN)")
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--partitions", type=int, default=12)
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--wait", type=float, default=180)
    args = ap.parse_args()

    # The client retries an unreachable server for long: end with one line
    # instead of the caller's timeout.
    limit = int(args.wait) + 60

    def give_up(*_):
        print(f"connect: no checked result from {args.remote} within {limit}s", file=sys.stderr, flush=True)
        os._exit(1)

    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(limit)
    start = time.monotonic()
    spark = SparkSession.builder.remote(args.remote).getOrCreate()
    try:
        total = spark.range(1, args.n + 1, numPartitions=args.partitions).agg(F.sum("id").alias("s")).collect()[0]["s"]
        expected = args.n * (args.n + 1) // 2
        first = time.monotonic() - start
        print(f"connect: result={total} expected={expected} first_query={first:.1f}s")

        @F.udf("string")
        def where(_):
            import socket
            time.sleep(0.5)  # long enough for the server to add executors on every worker
            return socket.gethostname()

        deadline = time.monotonic() + args.wait
        hosts = set()
        while True:
            rows = spark.range(0, 4 * args.partitions, numPartitions=4 * args.partitions).select(where("id").alias("h")).groupBy("h").count().collect()
            hosts |= {r["h"] for r in rows}
            if len(hosts) >= args.workers or time.monotonic() > deadline:
                break
        print(f"connect: udf ran on {len(hosts)} of {args.workers} workers: {' '.join(sorted(hosts))}")
        print(f"connect: python {sys.version_info.major}.{sys.version_info.minor} client, server spark {spark.version}")
        if total == expected and len(hosts) >= args.workers:
            print("connect: OK")
            return 0
        return 1
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
