"""Parquet on S3 through S3A, from a Spark Connect client, with checked answers.

Runs with pyspark-client against a Connect server whose images carry
hadoop-aws: rows 0..N-1 over P partitions, each tagged with the hostname of
the container whose executor wrote it, go to s3a://BUCKET/PREFIX as
Parquet; the read that follows (on the executors too) must give back the
count, the sum and every worker among the writers, and list only s3a://
files. The server adds executors as the query needs them, so a warm-up
query runs until every worker took part (or the wait is over).
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
    ap.add_argument("--path", required=True, help="s3a://BUCKET/PREFIX")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--partitions", type=int, default=8)
    ap.add_argument("-n", type=int, default=50_000)
    ap.add_argument("--wait", type=float, default=120)
    args = ap.parse_args()

    limit = int(args.wait) + 120

    def give_up(*_):
        print(f"s3: no checked result within {limit}s", file=sys.stderr, flush=True)
        os._exit(1)

    signal.signal(signal.SIGALRM, give_up)
    signal.alarm(limit)
    spark = SparkSession.builder.remote(args.remote).getOrCreate()
    try:
        @F.udf("string")
        def where(_):
            import socket
            time.sleep(0.2)  # long enough for the server to add executors on every worker
            return socket.gethostname()

        @F.udf("string")
        def host(_):
            import socket
            return socket.gethostname()

        deadline = time.monotonic() + args.wait
        while True:
            seen = spark.range(0, 4 * args.partitions, numPartitions=4 * args.partitions).select(where("id").alias("h")).distinct().count()
            if seen >= args.workers or time.monotonic() > deadline:
                break

        df = spark.range(0, args.n, numPartitions=args.partitions).withColumn("host", host("id"))
        start = time.monotonic()
        df.write.mode("overwrite").parquet(args.path)
        wrote = time.monotonic() - start
        back = spark.read.parquet(args.path)
        row = back.agg(F.count("*").alias("c"), F.sum("id").alias("s"), F.countDistinct("host").alias("h")).collect()[0]
        files = back.inputFiles()
        expected = args.n * (args.n - 1) // 2
        on_s3 = len(files) > 0 and all(f.startswith("s3a://") for f in files)
        print(f"s3: wrote {args.n} rows in {len(files)} files in {wrote:.1f}s; read back count={row['c']} "
              f"sum={row['s']} expected={expected} writers={row['h']} of {args.workers} workers; all files on s3a: {on_s3}")
        if row["c"] == args.n and row["s"] == expected and row["h"] >= args.workers and on_s3:
            print("s3: OK")
            return 0
        return 1
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
