"""A job whose tasks are running on a worker when that worker is stopped.

Runs one stage of TASKS tasks that each sleep SECONDS from a classic
driver on the host (the options of sparkjob.py); with more tasks than the
executors have cores, they run in waves. Once every core runs a task and
at least one runs on the worker at --victim (an address of the worker's
container), it prints "drain: running ..." and the caller stops that
worker. When the job is over it reads the driver's own REST API and prints
every task attempt. A drained worker lets its running tasks finish and
gets no new ones, so each task has exactly one attempt and it succeeded,
some of them on the victim after its stop began; a worker killed at the
end of its grace period takes the later waves' attempts with it.
"""
import argparse
import calendar
import json
import sys
import threading
import time
import urllib.request

from sparkjob import driver_options, start, verdict


def rest(ui, path):
    with urllib.request.urlopen(ui + "/api/v1" + path, timeout=10) as r:
        return json.load(r)


def main():
    ap = argparse.ArgumentParser()
    driver_options(ap)
    ap.add_argument("--victim", required=True, help="the stopped worker's address, as its executor's host")
    ap.add_argument("--tasks", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=12)
    args = ap.parse_args()
    sc, _ = start(ap, args, "swarming-spark-drain", "drain:")
    if sc is None:
        return 1
    try:
        port = sc.uiWebUrl.rsplit(":", 1)[1]
        ui = f"http://127.0.0.1:{port}"
        app = sc.applicationId
        seconds = args.seconds
        result = {}

        def run():
            def task(i):
                time.sleep(seconds)
                return i * i
            try:
                result["sum"] = sum(sc.parallelize(range(args.tasks), args.tasks).map(task).collect())
            except Exception as e:  # the caller reports it
                result["error"] = str(e).splitlines()[0]

        job = threading.Thread(target=run)
        job.start()
        deadline = time.monotonic() + args.wait
        while job.is_alive():
            execs = [e for e in rest(ui, f"/applications/{app}/executors") if e["id"] != "driver"]
            active = sum(e["activeTasks"] for e in execs)
            cores = sum(e["totalCores"] for e in execs)
            on_victim = sum(e["activeTasks"] for e in execs if e["hostPort"].rsplit(":", 1)[0] == args.victim)
            if active == min(cores, args.tasks) and on_victim > 0:
                print(f"drain: running tasks={active} on_victim={on_victim} at={time.time():.3f}", flush=True)
                break
            if time.monotonic() > deadline:
                print(f"drain: tasks never all ran at once ({active} running, {on_victim} on {args.victim})", file=sys.stderr)
                return 1
            time.sleep(0.2)
        job.join()

        # Every stage attempt, failed ones too (a lost executor can make
        # Spark run a stage again), and every task attempt of each.
        stages = rest(ui, f"/applications/{app}/stages")
        attempts = []
        for stage in stages:
            attempts += rest(ui, f"/applications/{app}/stages/{stage['stageId']}/{stage['attemptId']}/taskList?length=1000")
        execs = {e["id"]: e["hostPort"].rsplit(":", 1)[0] for e in rest(ui, f"/applications/{app}/allexecutors")}
        good = [a for a in attempts if a["status"] == "SUCCESS"]
        victim = [a for a in good if execs.get(a["executorId"]) == args.victim]
        # launchTime is ISO 8601 in GMT ("2026-12-07T05:01:02.345GMT");
        # the driver runs on the host, so its own clock is the caller's.
        last = 0.0
        for a in victim:
            launched = calendar.timegm(time.strptime(a["launchTime"][:19], "%Y-%m-%dT%H:%M:%S"))
            last = max(last, launched + float(a["launchTime"][20:23]) / 1000 + a["duration"] / 1000)
        want = sum(i * i for i in range(args.tasks))
        print(f"drain: result={result.get('sum')} expected={want} tasks={args.tasks} attempts={len(attempts)} "
              f"succeeded={len(good)} on_victim={len(victim)} victim_last_end={last:.3f} "
              f"stage_attempts={len(stages)} error={result.get('error', '')!r}")
        return verdict("drain:", result.get("sum") == want and len(stages) == 1
                       and len(attempts) == args.tasks and len(good) == args.tasks)
    finally:
        sc.stop()


if __name__ == "__main__":
    sys.exit(main())
