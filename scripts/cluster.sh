#!/usr/bin/env bash
# The classic compose cluster (images/compose/docker-compose.v1.yml) from the
# host: what `make up`, `make down` and the end-to-end test share.
#
#   cluster.sh up           compose up, scale to $WORKERS, wait until ALIVE, run the job
#   cluster.sh wait-alive   wait until the master lists $WORKERS workers ALIVE
#   cluster.sh job          run scripts/sparkjob.py from the host against the cluster
#   cluster.sh venv         make the driver's venv, pyspark of the images' Spark version
#   cluster.sh python       the same, then print the path of its python
#   cluster.sh down         remove the cluster
#
# COMPOSE_PROJECT names the compose project (default swarmingspark). The
# venv is $SPARK_CACHE_DIR/venv-$SPARK_VERSION (default /var/cache/swarming-spark,
# beside the base images' downloads): one per Spark line, as a driver must
# match the cluster's Spark, and none in the tree.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
. "$root/scripts/versions.env"
SPARK_VERSION=${SPARK_VERSION:-$SPARK_VERSION_DEFAULT}
project=${COMPOSE_PROJECT:-swarmingspark}
workers=${WORKERS:-3}
file=$root/images/compose/docker-compose.v1.yml
venv=${SPARK_CACHE_DIR:-/var/cache/swarming-spark}/venv-$SPARK_VERSION

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

ensure_venv() {
  if [ -x "$venv/bin/python" ] &&
     [ "$("$venv/bin/python" -c 'import pyspark; print(pyspark.__version__)' 2>/dev/null)" = "$SPARK_VERSION" ]; then
    return 0
  fi
  echo "cluster: making $venv with pyspark $SPARK_VERSION" >&2
  mkdir -p "$(dirname "$venv")"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "pyspark==$SPARK_VERSION"
}

job() {
  ensure_venv
  local id gw port
  id=$(master_id)
  # The executors in the containers dial the driver back: on a Docker bridge
  # the host is the network's gateway, and the driver listens on every
  # address with fixed ports (spark.md §2.7). The master is reached through
  # its published port.
  gw=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.Gateway}} {{end}}' "$id" | awk '{print $1}')
  port=$(published 7077)
  [ -n "$gw" ] && [ -n "$port" ] || { echo "cluster: cannot work out gateway ($gw) or master port ($port)" >&2; exit 1; }
  echo "cluster: driver on the host: master spark://127.0.0.1:$port, spark.driver.host=$gw"
  PYSPARK_PYTHON=python3 "$venv/bin/python" "$root/scripts/sparkjob.py" \
    --master "spark://127.0.0.1:$port" --driver-host "$gw" --executors "$workers"
}

case "${1:-}" in
  up)
    start=$SECONDS
    dc up -d
    dc scale worker="$workers"
    wait_alive
    job
    echo "cluster: up in $((SECONDS - start))s; master UI http://127.0.0.1:$(published 8080)/ (make down removes it)"
    ;;
  wait-alive) wait_alive ;;
  job) job ;;
  venv) ensure_venv ;;
  python) ensure_venv >&2 && echo "$venv/bin/python" ;;
  down) dc down --remove-orphans -t 10 ;;
  *) echo "usage: cluster.sh up|wait-alive|job|venv|python|down" >&2; exit 64 ;;
esac
