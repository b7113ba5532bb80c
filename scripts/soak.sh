#!/usr/bin/env bash
# make soak: many short applications in a row against one cluster of the
# images (a master and a worker, docker run --link, the images' defaults),
# each a spark-submit in the master's container with a checked result.
# Prints, after the first application and after the last: the master's and
# the worker's JVM resident memory and open descriptors, and the size of the
# worker's directory, then whether every result was right.
#
# usage: scripts/soak.sh [N]   (N applications, default 50)
set -euo pipefail

n=${1:-50}
case "$n" in '' | *[!0-9]* | 0) echo "soak: N=$n is not a positive count" >&2; exit 64 ;; esac
p=sssoak$$
cleanup() { docker rm -f -v "$p-master" "$p-worker" >/dev/null 2>&1 || true; }
trap cleanup EXIT

docker run -d --name "$p-master" snufkin/spark-master >/dev/null
docker run -d --name "$p-worker" --link "$p-master:spark-master" snufkin/spark-worker >/dev/null
docker exec -i "$p-master" sh -c 'cat > /tmp/soakjob.py' <<'EOF'
from pyspark.sql import SparkSession
s = SparkSession.builder.getOrCreate()
print("soak: sum=%d" % s.sparkContext.parallelize(range(1, 100001), 4).sum())
s.stop()
EOF

# jvm CONTAINER CLASS: "RSS_KB FDS" of the JVM running CLASS in CONTAINER.
jvm() {
  docker exec "$1" sh -c 'for p in /proc/[0-9]*; do
    case "$(tr "\0" " " < "$p/cmdline" 2>/dev/null)" in
    */bin/java\ *'"$2"'*) echo "$(awk "/^VmRSS/ {print \$2}" "$p/status") $(ls "$p/fd" | wc -l)"; exit ;;
    esac
  done'
}
figures() {
  local m w d
  m=$(jvm "$p-master" deploy.master.Master) w=$(jvm "$p-worker" deploy.worker.Worker)
  d=$(docker exec "$p-worker" du -sk /opt/spark/work-dir | cut -f1)
  echo "master_rss_kb=${m% *} master_fds=${m#* } worker_rss_kb=${w% *} worker_fds=${w#* } worker_dir_kb=$d"
}

ok=0 start=$SECONDS first=
for ((i = 1; i <= n; i++)); do
  if docker exec "$p-master" spark-submit --master spark://spark-master:7077 /tmp/soakjob.py 2>/dev/null |
    grep -q '^soak: sum=5000050000$'; then
    ok=$((ok + 1))
  else
    echo "soak: application $i: no checked result" >&2
  fi
  [ "$i" = 1 ] && first=$(figures)
done
last=$(figures)
echo "soak: after application 1: $first"
echo "soak: after application $n: $last"
echo "soak: $ok of $n results right in $((SECONDS - start)) s"
[ "$ok" = "$n" ]
