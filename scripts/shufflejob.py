"""A query whose shuffle crosses workers, through Spark Connect, with a checked answer.

Runs with pyspark-client (no JVM here). The map side is a range over
PARTITIONS partitions; a Python UDF tags each row with the host (container)
it ran on, after sleeping SECONDS once per partition, so that a caller can
act while the map tasks run (stop a node, scale workers down). The rows
are then grouped by KEYS keys, a shuffle in which every reducer reads
blocks written on every worker, and the counts and sums are checked
against their closed forms. Prints the application's id first (the caller
reads the driver's REST API with it), then one result line.
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
    ap.add_argument("--remote", required=True, help="sc://HOST:PORT")
    ap.add_argument("--partitions", type=int, default=12)
    ap.add_argument("--keys", type=int, default=7)
    ap.add_argument("-n", type=int, default=300_000)
    ap.add_argument("--seconds", type=float, default=0, help="each map task sleeps this long")
    ap.add_argument("--wait", type=float, default=600, help="give up after this long")
    args = ap.parse_args()

    def give_up(*_):
        print(f"shuffle: no checked result from {args.remote} within {args.wait:.0f}s", file=sys.stderr, flush=True)
        os._exit(1)

    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(int(args.wait))
    start = time.monotonic()
    spark = SparkSession.builder.remote(args.remote).getOrCreate()
    try:
        print(f"shuffle: app={spark.conf.get('spark.app.id')}", flush=True)
        seconds = args.seconds

        @F.udf("string")
        def host(first):
            import socket
            if first and seconds > 0:
                time.sleep(seconds)
            return socket.gethostname()

        n, keys, parts = args.n, args.keys, args.partitions
        per = n // parts
        rows = (spark.range(0, n, numPartitions=parts)
                .withColumn("h", host((F.col("id") % per) == 0))
                .groupBy((F.col("id") % keys).alias("k"))
                .agg(F.count("*").alias("c"), F.sum("id").alias("s"), F.collect_set("h").alias("hs"))
                .collect())
        got = {r["k"]: (r["c"], r["s"]) for r in rows}
        want = {}
        for k in range(keys):
            ids = range(k, n, keys)
            want[k] = (len(ids), sum(ids))
        hosts = set()
        for r in rows:
            hosts.update(r["hs"])
        took = time.monotonic() - start
        ok = got == want
        print(f"shuffle: keys={len(got)} rows={sum(c for c, _ in got.values())} checked={'ok' if ok else 'WRONG'} "
              f"map_hosts={len(hosts)} took={took:.1f}s", flush=True)
        return 0 if ok else 1
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
