#!/usr/bin/env bash
# make bench-cluster, second part: the Spark Connect server, into the
# "Connect" section of BENCHMARKS.md (the rest of the file is left as it is).
#
#   ready        `docker-compose up -d connect` beside a formed cluster (3
#                workers ALIVE) -> `entrypoint ready connect` answers 0: the
#                port accepts and the master lists the application RUNNING.
#   first query  from the host, a fresh client process to the checked result
#                of sum(1..10^6) over 12 partitions: through Connect with
#                pyspark-client (session, plan, executors already up), and
#                the same query through a classic driver on the host (pyspark:
#                its JVM, its application, its executors), with the Connect
#                server gone so that it has the cluster to itself.
#
# RUNS (default 5) repetitions; the table shows the median and the range.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-5}
out=${OUT:-$root/BENCHMARKS.md}
p=ssbenchc$$
spec=$root/images/compose/docker-compose.yml
case "$runs" in '' | *[!0-9]* | 0) echo "bench-connect: RUNS=$runs is not a positive count" >&2; exit 64 ;; esac

dc() { MASTER_RPC_PUBLISH= MASTER_UI_PUBLISH= CONNECT_PUBLISH= PUBLISH_ADDR=127.0.0.1 docker-compose -p "$p" -f "$spec" "$@"; }
work=$(mktemp -d)
cleanup() { dc down -t 10 -v --remove-orphans >/dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT

client=$(bash "$root/scripts/cluster.sh" client-python)
driver=$(bash "$root/scripts/cluster.sh" python)
# shellcheck source=bench-lib.sh
. "$root/scripts/bench-lib.sh"
cid() { docker ps -q --filter "label=com.docker.compose.project=$p" --filter "label=com.docker.compose.service=$1"; }
port() { docker port "$1" "$2/tcp" | grep -v '^\[' | head -1 | sed 's/.*://'; }

cat > "$work/connect.py" <<'PY'
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
got = spark.range(1, 1000001, numPartitions=12).selectExpr("sum(id)").collect()[0][0]
sys.exit(0 if got == 500000500000 else 1)
PY
cat > "$work/classic.py" <<'PY'
import sys
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master(sys.argv[1]).config("spark.driver.host", sys.argv[2])
         .config("spark.driver.bindAddress", "0.0.0.0").config("spark.ui.enabled", "false").getOrCreate())
got = spark.range(1, 1000001, numPartitions=12).selectExpr("sum(id)").collect()[0][0]
spark.stop()
sys.exit(0 if got == 500000500000 else 1)
PY

dc up -d --scale worker=3 spark-master worker >/dev/null 2>&1
master=$(cid spark-master)
ui=$(port "$master" 8080)
end=$((SECONDS + 180))
until [ "$(curl -fsS --max-time 1 "http://127.0.0.1:$ui/json/" 2>/dev/null | grep -Eo '"state" *: *"ALIVE"' | wc -l)" -ge 3 ]; do
  [ $SECONDS -lt $end ] || { echo "bench-connect: 3 workers not ALIVE" >&2; exit 1; }
  sleep 0.2
done
gw=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.Gateway}}{{end}}' "$master")

ready=() first=() classic=()
for ((r = 1; r <= runs; r++)); do
  echo "bench-connect: run $r/$runs"
  t0=$(now)
  dc up -d --no-deps connect >/dev/null 2>&1
  c=$(cid connect)
  # Each exec costs the container about 60 ms of CPU: twice a second.
  until docker exec "$c" /usr/local/bin/entrypoint ready connect >/dev/null 2>&1; do sleep 0.5; done
  ready+=("$(secs "$t0")")
  t0=$(now)
  "$client" "$work/connect.py" "sc://localhost:$(port "$c" 15002)"
  first+=("$(secs "$t0")")
  dc rm -s -f connect >/dev/null 2>&1
  t0=$(now)
  "$driver" "$work/classic.py" "spark://127.0.0.1:$(port "$master" 7077)" "$gw" 2>/dev/null
  classic+=("$(secs "$t0")")
done

section=$(
  echo "## Connect"
  echo
  echo "\`make bench-cluster\`, second part ($(date -u +%Y-%m-%d), $(nproc) cores, Docker $(docker version -f '{{.Server.Version}}'), $runs runs, median (min–max))."
  echo "The Compose Spec file's cluster with 3 workers ALIVE. Ready: \`docker-compose up -d connect\` until"
  echo "\`entrypoint ready connect\` (port accepts, application RUNNING at the master). First query: a fresh"
  echo "client process on the host to the checked sum of 1..10⁶ over 12 partitions, through Connect"
  echo "(pyspark-client, sc://localhost) and through a classic driver on the host (pyspark, the"
  echo "network's gateway as spark.driver.host), the Connect server removed first."
  echo
  echo "| measure | time |"
  echo "|---|---|"
  echo "| Connect server ready after \`up\` | $(stats "${ready[*]}") |"
  echo "| first query, Connect client (pyspark-client) | $(stats "${first[*]}") |"
  echo "| first query, classic driver on the host (pyspark) | $(stats "${classic[*]}") |"
  echo
  echo "Raw samples (s): ready=[${ready[*]}] connect=[${first[*]}] classic=[${classic[*]}]"
)
python3 "$root/scripts/bench-section.py" "$out" Connect <<<"$section"
echo "$section"
echo "bench-connect: wrote the Connect section of $out"
