#!/usr/bin/env bash
# The classic compose cluster (images/compose/docker-compose.v1.yml) from the
# host: what `make up`, `make down` and the end-to-end test share.
#
#   cluster.sh up           compose up, scale to $WORKERS, wait until ALIVE, run the job, then
#                           start the Spark Connect server and run a query through it
#   cluster.sh wait-alive   wait until the master lists $WORKERS workers ALIVE
#   cluster.sh job          run scripts/sparkjob.py from the host against the cluster
#   cluster.sh connect      start the Connect server beside the cluster (port $CONNECT_PORT, 15002)
#   cluster.sh connect-job  run scripts/connectjob.py from the host through the Connect server
#   cluster.sh venv         make the driver's venv, pyspark of the images' Spark version
#   cluster.sh python       the same, then print the path of its python
#   cluster.sh client-python  make the Connect client's venv (pyspark-client, else pyspark[connect]), print its python
#   cluster.sh client-check PY  exit 1 with one sentence when PY's Python or pyspark does not
#                           match the images' (their labels); 0 when it does
#   cluster.sh down         remove the cluster
#
# COMPOSE_PROJECT names the compose project (default swarmingspark). The
# venvs are $SPARK_CACHE_DIR/venv-$SPARK_VERSION and client-venv-$SPARK_VERSION
# (default /var/cache/swarming-spark, beside the base images' downloads):
# one per Spark line, as a driver must match the cluster's Spark, and none
# in the tree. PYTHON names the interpreter they are made with (python3).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/versions.env"
SPARK_VERSION=${SPARK_VERSION:-$SPARK_VERSION_DEFAULT}
project=${COMPOSE_PROJECT:-swarmingspark}
workers=${WORKERS:-3}
file=$root/images/compose/docker-compose.v1.yml
venv=${SPARK_CACHE_DIR:-/var/cache/swarming-spark}/venv-$SPARK_VERSION
client_venv=${SPARK_CACHE_DIR:-/var/cache/swarming-spark}/client-venv-$SPARK_VERSION
python=${PYTHON:-python3}
connect_port=${CONNECT_PORT:-15002}
connect_name=${project}_connect
# The images `make images` tagged besides latest: the version, and the
# Debian suite unless it is bookworm (DEBIAN_SUITE, as for the build).
tag=$SPARK_VERSION
case "${DEBIAN_SUITE:-bookworm}" in bookworm) ;; *) tag=$SPARK_VERSION-$DEBIAN_SUITE ;; esac
image=snufkin/spark-worker:$tag

dc() { docker-compose -p "$project" -f "$file" "$@"; }

master_id() {
  local id
  id=$(dc ps -q master)
  [ -n "$id" ] || { echo "cluster: no master container in project $project" >&2; exit 1; }
  echo "$id"
}

# published HOST port of the master's container port $1
published() { docker port "$(master_id)" "$1/tcp" | sed -n 's/^0\.0\.0\.0:\([0-9]*\)$/\1/p' | head -1; }

alive() {
  curl -fsS --max-time 2 "http://127.0.0.1:$(published 8080)/json/" 2>/dev/null |
    python3 -c 'import json,sys; print(sum(w["state"] == "ALIVE" for w in json.load(sys.stdin)["workers"]))' 2>/dev/null ||
    echo 0
}

wait_alive() {
  local n=0 start=$SECONDS
  while [ $((SECONDS - start)) -lt "${ALIVE_TIMEOUT:-180}" ]; do
    n=$(alive)
    if [ "$n" -ge "$workers" ]; then
      echo "cluster: $n workers ALIVE after $((SECONDS - start))s"
      return 0
    fi
    sleep 1
  done
  echo "cluster: only $n of $workers workers ALIVE after ${ALIVE_TIMEOUT:-180}s" >&2
  dc logs --tail 30 >&2 || true
  return 1
}

# make_venv DIR PACKAGE [FALLBACK [REQUIREMENT...]]: a venv with
# PACKAGE==$SPARK_VERSION (or FALLBACK==$SPARK_VERSION when that release of
# PACKAGE is not served), and the REQUIREMENTs, kept while it has that
# version on the Python minor of $PYTHON.
make_venv() {
  local dir=$1 pkg=$2 fallback=${3:-} want
  shift $(($# < 3 ? $# : 3))
  want=$("$python" -c 'import sys; print("%d.%d" % sys.version_info[:2])') ||
    { echo "cluster: PYTHON=$python does not run" >&2; return 1; }
  if [ -x "$dir/bin/python" ] &&
     [ "$("$dir/bin/python" -c 'import sys, pyspark; print("%d.%d" % sys.version_info[:2], pyspark.__version__)' 2>/dev/null)" = "$want $SPARK_VERSION" ]; then
    return 0
  fi
  echo "cluster: making $dir with $pkg $SPARK_VERSION" >&2
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  "$python" -m venv "$dir"
  local first
  if ! first=$("$dir/bin/pip" install --quiet --disable-pip-version-check "$pkg==$SPARK_VERSION" "$@" 2>&1); then
    [ -n "$fallback" ] || { echo "$first" >&2; return 1; }
    echo "cluster: no $pkg $SPARK_VERSION ($(echo "$first" | tail -n1)); making $dir with $fallback $SPARK_VERSION instead" >&2
    "$dir/bin/pip" install --quiet --disable-pip-version-check "$fallback==$SPARK_VERSION" "$@"
  fi
}
ensure_venv() { make_venv "$venv" pyspark; }
# The thin client is released after pyspark, and not for every release:
# pyspark with its connect extra is the same client, plus the jars it then
# does not use (it needs no JVM either for sc:// sessions).
# pandas 3 is held back as in the images: PySpark warns that it does not
# fully support it yet.
ensure_client_venv() { make_venv "$client_venv" pyspark-client "pyspark[connect]" "pandas<3"; }

# check_client PY: PY must run the images' Python minor version (Python
# UDFs run the client's pickled code in the executors' python3, and
# PySpark's worker refuses another minor with PYTHON_VERSION_MISMATCH, after
# the task has failed four times) and pyspark of the images' Spark.
check_client() {
  local py=$1 want_spark want_py got got_py got_spark
  want_spark=$(docker image inspect -f '{{index .Config.Labels "org.apache.spark.version"}}' "$image" 2>/dev/null) ||
    { echo "cluster: no image $image: make images" >&2; return 1; }
  want_py=$(docker image inspect -f '{{index .Config.Labels "swarming-spark.python.version"}}' "$image")
  got=$("$py" -c '
import sys
from importlib import metadata
v = "none"
for d in ("pyspark-client", "pyspark", "pyspark-connect"):
    try:
        v = metadata.version(d)
        break
    except metadata.PackageNotFoundError:
        pass
print("%d.%d" % sys.version_info[:2], v)') || { echo "cluster: cannot run $py" >&2; return 1; }
  read -r got_py got_spark <<<"$got"
  if [ "$got_py" != "${want_py%.*}" ] || [ "$got_spark" != "$want_spark" ]; then
    echo "cluster: this client runs Python $got_py with pyspark $got_spark, but the cluster's executors run Python ${want_py%.*} and Spark $want_spark; use Python ${want_py%.*} with pyspark-client==$want_spark, or pyspark[connect]==$want_spark where no such pyspark-client is released (PYTHON=python${want_py%.*} scripts/cluster.sh client-python makes that venv)" >&2
    return 1
  fi
}

job() {
  ensure_venv
  local id gw port
  id=$(master_id)
  # The executors in the containers dial the driver back: on a Docker bridge
  # the host is the network's gateway, and the driver listens on every
  # address with fixed ports (spark.driver.host, spark.driver.bindAddress and
  # the two ports in Spark's configuration docs). The master is reached through
  # its published port.
  gw=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.Gateway}} {{end}}' "$id" | awk '{print $1}')
  port=$(published 7077)
  [ -n "$gw" ] && [ -n "$port" ] || { echo "cluster: cannot work out gateway ($gw) or master port ($port)" >&2; exit 1; }
  echo "cluster: driver on the host: master spark://127.0.0.1:$port, spark.driver.host=$gw"
  PYSPARK_PYTHON=python3 "$venv/bin/python" "$root/scripts/sparkjob.py" \
    --master "spark://127.0.0.1:$port" --driver-host "$gw" --executors "$workers"
}

# connect: the Connect server run as the classic file's workers are,
# linked to the master on the default bridge, its gRPC port published on
# loopback (PUBLISH_ADDR=0.0.0.0 for other hosts: then set a token).
connect() {
  local start=$SECONDS
  docker rm -f "$connect_name" >/dev/null 2>&1 || true
  docker run -d --name "$connect_name" --restart unless-stopped --link "$(master_id):spark-master" \
    -p "${PUBLISH_ADDR:-127.0.0.1}:$connect_port:15002" "$image" connect >/dev/null
  while ! docker exec "$connect_name" /usr/local/bin/entrypoint ready connect >/dev/null 2>&1; do
    if [ $((SECONDS - start)) -ge "${ALIVE_TIMEOUT:-180}" ]; then
      echo "cluster: the Connect server is not ready after ${ALIVE_TIMEOUT:-180}s" >&2
      docker logs --tail 30 "$connect_name" >&2 || true
      return 1
    fi
    sleep 1
  done
  echo "cluster: Connect server ready after $((SECONDS - start))s"
}

connect_job() {
  ensure_client_venv
  check_client "$client_venv/bin/python"
  "$client_venv/bin/python" "$root/scripts/connectjob.py" --remote "sc://localhost:$connect_port" --workers "$workers"
}

case "${1:-}" in
  up)
    start=$SECONDS
    dc up -d
    dc scale worker="$workers"
    wait_alive
    job
    case "$SPARK_VERSION" in
      3.*)
        echo "cluster: up in $((SECONDS - start))s; master UI http://127.0.0.1:$(published 8080)/ (make down removes it)"
        echo "cluster: Spark $SPARK_VERSION has no Connect server (Spark 4 has); drivers use the recipe of the job above"
        exit 0
        ;;
    esac
    connect
    connect_job
    py=$(docker image inspect -f '{{index .Config.Labels "swarming-spark.python.version"}}' "$image" | cut -d. -f1,2)
    cat <<EOF
cluster: up in $((SECONDS - start))s; master UI http://127.0.0.1:$(published 8080)/ (make down removes it)
cluster: Spark Connect at sc://localhost:$connect_port; from Python $py with $("$client_venv/bin/python" -c 'from importlib import metadata as m
try: m.version("pyspark-client"); print("pyspark-client")
except m.PackageNotFoundError: print("\"pyspark[connect]\"")')==$SPARK_VERSION:
  from pyspark.sql import SparkSession
  spark = SparkSession.builder.remote("sc://localhost:$connect_port").getOrCreate()
  spark.range(10).selectExpr("sum(id)").show()
EOF
    ;;
  wait-alive) wait_alive ;;
  job) job ;;
  connect) connect ;;
  connect-job) connect_job ;;
  venv) ensure_venv ;;
  python) ensure_venv >&2 && echo "$venv/bin/python" ;;
  client-python) ensure_client_venv >&2 && check_client "$client_venv/bin/python" && echo "$client_venv/bin/python" ;;
  client-check) check_client "${2:?usage: cluster.sh client-check PYTHON}" ;;
  down)
    docker rm -f -v "$connect_name" >/dev/null 2>&1 || true
    dc down --remove-orphans -t 10
    ;;
  *) echo "usage: cluster.sh up|wait-alive|job|connect|connect-job|venv|python|client-python|client-check PY|down" >&2; exit 64 ;;
esac
