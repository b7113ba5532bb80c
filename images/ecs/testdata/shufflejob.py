"""A shuffle between executors on different instances, from a driver
outside the cluster, with a checked answer.

Groups N numbers by x % K over P map partitions, so that every executor
writes map output and every reduce task reads blocks of the others, and
checks each key's count and sum. A second job then returns a result of
1.5 MiB from every partition: over spark.task.maxDirectResultSize (1 MiB),
Spark keeps a task's result in its executor's block manager and the driver
fetches it there. With --per-worker 2 (spark.executor.cores=1, spark.cores.max), each worker
runs two executors, whose block managers must bind two ports.

Then it asks the driver's REST API (/api/v1/applications/<id>/executors,
/stages and each stage's taskList) where the block managers are, how many
blocks the reduce stage read from other executors, and how many of the
blocks each reduce task needed came from map tasks that ran on another
host (each map task writes a block for every reduce partition here), and
prints

    shuffle: block_manager HOST:PORT executor ID     (one per executor)
    shuffle: result=ok keys=K records=N ...
    shuffle: remote_blocks_fetched=B remote_bytes_read=R local_blocks_fetched=L cross_host_blocks=C ...
    shuffle: large_results=E of 1572864 bytes ...
    shuffle: OK

The driver options are scripts/sparkjob.py's.
"""
import argparse
import json
import os
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "scripts"))
from sparkjob import driver_options, start, verdict  # noqa: E402


def rest(sc, path):
    with urllib.request.urlopen(f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}/{path}", timeout=10) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser()
    driver_options(ap)
    ap.add_argument("--partitions", type=int, default=12)
    ap.add_argument("--keys", type=int, default=60)
    ap.add_argument("-n", type=int, default=120_000)
    ap.add_argument("--per-worker", type=int, default=1, help="executors per worker (--executors counts them all)")
    args = ap.parse_args()
    # Fail in seconds, not minutes, when a block manager cannot be reached:
    # one retry per fetch, two attempts per stage and task.
    confs = ["spark.shuffle.io.maxRetries=1",
             "spark.shuffle.io.retryWait=1s", "spark.stage.maxConsecutiveAttempts=2",
             "spark.task.maxFailures=2"]
    if args.per_worker > 1:
        # The master spreads an application's cores over the workers one
        # at a time (spark.deploy.spreadOutApps), one executor per core.
        confs += ["spark.executor.cores=1", f"spark.cores.max={args.executors}"]
    args.conf = confs + args.conf
    sc, got = start(ap, args, "swarming-spark-shuffle", "shuffle:")
    if sc is None:
        return 1
    try:
        for e in rest(sc, "executors"):
            if e["id"] != "driver":
                print(f"shuffle: block_manager {e['hostPort']} executor {e['id']}")
        n, k = args.n, args.keys

        def keyed(it):
            time.sleep(0.3)  # so that every executor gets map tasks
            return [(x % k, x) for x in it]

        got_res = dict(sc.parallelize(range(n), args.partitions).mapPartitions(keyed)
                       .groupByKey(numPartitions=args.partitions // 2)
                       .mapValues(lambda vs: (len(vs), sum(vs))).collect())
        want = {}
        for x in range(n):
            c, s = want.get(x % k, (0, 0))
            want[x % k] = (c + 1, s + x)
        result_ok = got_res == want
        print(f"shuffle: result={'ok' if result_ok else 'WRONG'} keys={len(got_res)} "
              f"records={sum(c for c, _ in got_res.values())} expected_keys={k} expected_records={n}")

        # The status store takes the stages' metrics from listener events,
        # which may trail the job's end by a moment.
        deadline = time.monotonic() + 20
        while True:
            stages = [s for s in rest(sc, "stages") if s["status"] == "COMPLETE"]
            writes = [s for s in stages if s.get("shuffleWriteRecords", 0) > 0]
            reads = [s for s in stages if s.get("shuffleReadRecords", 0) > 0]
            if (reads and writes) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        if not (reads and writes):
            print("shuffle: the REST API lists no complete stage that wrote or read a shuffle", file=sys.stderr)
            return verdict("shuffle:", False)
        remote_blocks = sum(s.get("shuffleRemoteBlocksFetched", 0) for s in reads)
        remote_bytes = sum(s.get("shuffleRemoteBytesRead", 0) for s in reads)
        local_blocks = sum(s.get("shuffleLocalBlocksFetched", 0) for s in reads)

        def tasks(stage):
            ts = rest(sc, f"stages/{stage['stageId']}/{stage['attemptId']}/taskList?length=10000")
            return [t for t in ts if t["status"] == "SUCCESS"]

        maps = [t for s in writes for t in tasks(s)]
        map_execs = sorted({(t["executorId"], t["host"]) for t in maps})
        # A reduce task read a block from every map task (every map
        # partition holds every key): those of other hosts crossed instances.
        cross = sum(sum(1 for m in maps if m["host"] != r["host"]) for s in reads for r in tasks(s))
        print(f"shuffle: remote_blocks_fetched={remote_blocks} remote_bytes_read={remote_bytes} "
              f"local_blocks_fetched={local_blocks} cross_host_blocks={cross} "
              f"map_tasks={len(maps)} on {len(map_execs)} executors of {len({h for _, h in map_execs})} hosts")

        # After the shuffle, so that it fails on its own fetches when the
        # executors cannot reach each other.
        size = 3 << 19

        def large(it):
            time.sleep(0.3)  # so that every executor gets a task
            return [(socket.gethostname(), sum(1 for _ in it), b"x" * size)]

        big = sc.parallelize(range(got), got).mapPartitions(large).collect()
        large_ok = len(big) == got and all(len(b) == size for _, _, b in big)
        print(f"shuffle: large_results={len(big)} of {size} bytes from {len({h for h, _, _ in big})} worker containers, "
              f"fetched by the driver from the executors' block managers")
        return verdict("shuffle:", result_ok and remote_blocks > 0 and remote_bytes > 0 and 0 < cross <= remote_blocks and large_ok)
    finally:
        sc.stop()


if __name__ == "__main__":
    socket.setdefaulttimeout(30)
    sys.exit(main())
