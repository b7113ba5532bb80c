#!/usr/bin/env bash
# make bench-cluster: how fast a cluster of the images forms and heals,
# against the bare JVMs measured in the same run, into the "Cluster"
# section of BENCHMARKS.md (the rest of the file is left as it is).
#
#   floor N    bare `spark-class ...Master` in a plain container (no
#              entrypoint): docker run -> /json/ ALIVE; then N bare
#              `spark-class ...Worker` given the master's address at once:
#              -> N ALIVE at the master. The JVM floor of a cluster that
#              starts its workers once the master is up, on this machine.
#              Measured twice: as spark-class starts the JVMs, and with
#              the image's class-data archive (scripts/bare-jvm.sh: the
#              same launcher and exec, with the archive and class path the
#              entrypoint gives the JVM). The formation target is
#              against the first, Spark's own start; the table also
#              checks the stricter one against the second, the same JVMs
#              the entrypoint starts. Both get the JVM options the
#              entrypoint gives the images' master and worker (explain's
#              daemon.java_opts: SPARK_DAEMON_JAVA_OPTS), so that a floor
#              is the same JVMs started without the entrypoint.
#   formation  `up` -> N workers ALIVE, N = 1, 3, 6: docker run --link
#              (master and workers started at once) and the Compose Spec
#              file (docker-compose up -d --scale worker=N). Targets, as
#              ratios of the same run since machines differ from day to
#              day: at most 0.4x floor N; Compose within archive floor N
#              + 1.5 s at N = 3 and 6.
#   idle       each container's memory (docker stats) 30 s after N = 3
#              formed, links and floor alike: the master and the median
#              worker. Target: at most 100 MiB a node.
#   scale      1 master + SCALE (default 12) workers, floor and links and
#              Compose: formation and the memory of all the containers
#              30 s later, so that the cost of an added worker shows.
#   recovery   master restarted on a new address -> 3 workers ALIVE again,
#              from the restart command and from the new master's start.
#
# RUNS (default 3) repetitions of each; the table shows the median and the
# range. SIZES (default "1 3 6"), SCALE (default 12, "" for none), OUT
# (default BENCHMARKS.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
sizes=${SIZES:-1 3 6}
scale=${SCALE-12}
out=${OUT:-$root/BENCHMARKS.md}
p=ssbench$$
mimg=snufkin/spark-master wimg=snufkin/spark-worker
spec=$root/images/compose/docker-compose.yml
case "$runs" in '' | *[!0-9]* | 0) echo "bench-cluster: RUNS=$runs is not a positive count" >&2; exit 64 ;; esac
case "$scale" in '' | [1-9] | [1-9][0-9]) ;; *) echo "bench-cluster: SCALE=$scale is not a count of workers from 1 to 99" >&2; exit 64 ;; esac

# The images' daemon JVM options, as the entrypoint of these images sets
# them; the floors run with them too.
daemon_opts=$(docker run --rm "$mimg" explain master |
  python3 -c 'import json, sys; print((json.load(sys.stdin).get("daemon") or {}).get("java_opts", ""))')

cleanup() {
  docker ps -aq --filter "name=^$p-" | xargs -r docker rm -f -v >/dev/null 2>&1 || true
  dc down -t 10 -v --remove-orphans >/dev/null 2>&1 || true
}
trap cleanup EXIT
dc() { MASTER_RPC_PUBLISH= MASTER_UI_PUBLISH= PUBLISH_ADDR=127.0.0.1 docker-compose -p "$p" -f "$spec" "$@"; }
# dc_master: the Compose master's container, found by the labels Compose
# sets: `docker-compose ps` would start the Python CLI every 50 ms, about
# 0.4 s of CPU each, taken from the JVMs being measured.
dc_master() { docker ps -q --filter "label=com.docker.compose.project=$p" --filter label=com.docker.compose.service=spark-master; }

# shellcheck source=bench-lib.sh
. "$root/scripts/bench-lib.sh"
port() { docker port "$1" "$2/tcp" 2>/dev/null | grep -v '^\[' | head -1 | sed 's/.*://'; }
state() { curl -fsS --max-time 1 "http://127.0.0.1:$1/json/" 2>/dev/null || true; }
alive() { state "$1" | grep -Eo '"state" *: *"ALIVE"' | wc -l; }
master_up() { state "$1" | grep -Eq '"status" *: *"ALIVE"'; }
# The master's /json/ is polled every 200 ms: every answer costs the master
# JVM CPU (an idle master polled every 50 ms used 1.37 s of CPU in 10 s,
# 0.08 s unpolled), which a tighter poll takes from the JVMs being timed.
poll=0.2
# until_alive UIPORT N: poll the master's /json/ (3 min at most).
until_alive() {
  local end=$((SECONDS + 180))
  while [ "$(alive "$1")" -lt "$2" ]; do
    [ $SECONDS -lt $end ] || { echo "bench-cluster: $2 workers not ALIVE in 3 min" >&2; return 1; }
    sleep "$poll"
  done
}
# id_port CMD...: wait until CMD prints a container id with a published
# 8080, print that port.
id_port() {
  local id pt end=$((SECONDS + 180))
  while [ $SECONDS -lt $end ]; do
    id=$("$@" 2>/dev/null | head -1)
    if [ -n "$id" ] && pt=$(port "$id" 8080) && [ -n "$pt" ]; then echo "$pt"; return 0; fi
    sleep 0.05
  done
  return 1
}

# mem CONTAINER...: each one's memory in MiB as docker stats shows it
# (the cgroup's usage less its inactive file cache), one per line.
mem() {
  docker stats --no-stream --format '{{.MemUsage}}' "$@" | awk '{
    v = $1; u = v; sub(/[0-9.]+/, "", u); sub(/[A-Za-z]+$/, "", v)
    printf "%.1f\n", v * (u == "GiB" ? 1024 : u == "KiB" ? 1 / 1024 : u == "B" ? 1 / 1048576 : 1) }'
}
# idle KIND N MASTER WORKER...: after 30 s of rest, the master's memory,
# the median worker's, and (at the scale size) all of them together.
idle() {
  local kind=$1 n=$2 master=$3
  shift 3
  sleep 30
  R[${kind}_mem_master_$n]+="$(mem "$master") "
  R[${kind}_mem_worker_$n]+="$(mem "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}') "
  R[${kind}_mem_total_$n]+="$(mem "$master" "$@" | awk '{s+=$1} END {printf "%.0f", s}') "
}
# at_idle N: whether this size's memory is measured.
at_idle() { [ "$1" = 3 ] || [ "$1" = "$scale" ]; }

declare -A R # name -> space-separated samples

# floor KIND N: a bare master, then N bare workers at once once it is up;
# KIND floor is spark-class, floorcds the same with the class-data archive.
floor() {
  local kind=$1 n=$2 t0 t1 pt ip i
  local -a start=(-e "SPARK_DAEMON_JAVA_OPTS=$daemon_opts" --entrypoint /opt/spark/bin/spark-class)
  if [ "$kind" = floorcds ]; then
    start=(-e "SPARK_DAEMON_JAVA_OPTS=$daemon_opts" -v "$root/scripts/bare-jvm.sh:/usr/local/bin/bare-jvm.sh:ro" --entrypoint bash)
  fi
  bare() { [ "$kind" = floor ] || echo /usr/local/bin/bare-jvm.sh; }
  t0=$(now)
  docker run -d --name "$p-bare-master" -p 127.0.0.1::8080 "${start[@]}" \
    "$mimg" $(bare) org.apache.spark.deploy.master.Master >/dev/null
  pt=$(port "$p-bare-master" 8080)
  until master_up "$pt"; do sleep "$poll"; done
  R[${kind}_master]+="$(secs "$t0") "
  ip=$(docker inspect -f '{{.NetworkSettings.IPAddress}}' "$p-bare-master")
  t1=$(now)
  for ((i = 1; i <= n; i++)); do
    docker run -d --name "$p-bare-worker-$i" "${start[@]}" \
      "$wimg" $(bare) org.apache.spark.deploy.worker.Worker "spark://$ip:7077" >/dev/null
  done
  until_alive "$pt" "$n"
  R[${kind}_workers_$n]+="$(secs "$t1") "
  R[${kind}_$n]+="$(secs "$t0") "
  if [ "$kind" = floor ] && at_idle "$n"; then
    idle floor "$n" "$p-bare-master" $(docker ps -q --filter "name=^$p-bare-worker-")
  fi
  docker ps -aq --filter "name=^$p-bare-" | xargs -r docker rm -f -v >/dev/null
}

links() {
  local n=$1 t0 pt i
  t0=$(now)
  docker run -d --name "$p-master" -p 127.0.0.1::8080 "$mimg" >/dev/null
  R[links_master_$n]+="$(secs "$t0") "
  for ((i = 1; i <= n; i++)); do
    docker run -d --name "$p-worker-$i" --link "$p-master:spark-master" "$wimg" >/dev/null
  done
  pt=$(port "$p-master" 8080)
  until_alive "$pt" "$n"
  R[links_$n]+="$(secs "$t0") "
  if at_idle "$n"; then
    idle links "$n" "$p-master" $(docker ps -q --filter "name=^$p-worker-")
  fi
  if [ "$n" = 3 ]; then
    # The same container back on another address (links follow it).
    t0=$(now)
    docker stop -t 10 "$p-master" >/dev/null
    docker run -d --name "$p-filler" --entrypoint sleep "$wimg" 600 >/dev/null
    docker start "$p-master" >/dev/null
    local t1
    t1=$(now)
    docker rm -f "$p-filler" >/dev/null
    until_alive "$(port "$p-master" 8080)" "$n"
    R[links_recovery]+="$(secs "$t0") "
    R[links_recovery_start]+="$(secs "$t1") "
  fi
  docker ps -aq --filter "name=^$p-" | xargs -r docker rm -f -v >/dev/null
}

compose() {
  local n=$1 t0 pt up
  t0=$(now)
  # Master and workers only: the Connect server has its own part.
  dc up -d --scale "worker=$n" spark-master worker >/dev/null 2>&1 &
  up=$!
  pt=$(id_port dc_master)
  R[compose_master_$n]+="$(secs "$t0") "
  until_alive "$pt" "$n"
  R[compose_$n]+="$(secs "$t0") "
  wait "$up"
  if [ "$n" = "$scale" ]; then
    idle compose "$n" "$(dc_master)" $(docker ps -q --filter "label=com.docker.compose.project=$p" --filter label=com.docker.compose.service=worker)
  fi
  if [ "$n" = 3 ]; then
    # A redeployed master: a new container on a new address.
    t0=$(now)
    dc rm -s -f spark-master >/dev/null 2>&1
    docker run -d --name "$p-filler" --network "${p}_spark" --entrypoint sleep "$wimg" 600 >/dev/null
    dc up -d --no-deps spark-master >/dev/null 2>&1
    local t1
    t1=$(now)
    docker rm -f "$p-filler" >/dev/null
    until_alive "$(id_port dc_master)" "$n"
    R[compose_recovery]+="$(secs "$t0") "
    R[compose_recovery_start]+="$(secs "$t1") "
  fi
  dc down -t 10 -v --remove-orphans >/dev/null 2>&1
}


for ((r = 1; r <= runs; r++)); do
  echo "bench-cluster: run $r/$runs"
  for n in $sizes; do
    floor floor "$n"
    floor floorcds "$n"
    links "$n"
    compose "$n"
  done
  if [ -n "$scale" ]; then
    floor floor "$scale"
    links "$scale"
    compose "$scale"
  fi
done

# plus15 SAMPLES: the Compose target against the archive floor, its
# median + 1.5 s.
plus15() { awk -v f="$(med "$1")" 'BEGIN { printf "%.1f", f + 1.5 }'; }
verdict() { awk -v x="$(med "$1")" -v lim="$2" 'BEGIN { print (x <= lim ? "yes" : "no") }'; }
# ratio SAMPLES FLOOR_SAMPLES: the medians' quotient, "0.42x".
ratio() { awk -v x="$(med "$1")" -v f="$(med "$2")" 'BEGIN { printf "%.2fx", x / f }'; }
within_ratio() { awk -v x="$(med "$1")" -v f="$(med "$2")" -v r="$3" 'BEGIN { print (x <= r * f ? "yes" : "no") }'; }
# mib SAMPLES: "median MiB (min–max)".
mib() { summary "$1" 0 MiB; }
section=$(
  echo "## Cluster"
  echo
  echo "\`make bench-cluster\` ($(date -u +%Y-%m-%d), $(nproc) cores, Docker $(docker version -f '{{.Server.Version}}'), $runs runs each, median (min–max))."
  echo "Floor N: the bare JVMs in plain containers, no entrypoint: \`spark-class ...Master\`, then once it"
  echo "answers, N \`spark-class ...Worker spark://<ip>:7077\` at once; docker run to N ALIVE in the master's"
  echo "/json/. Archive floor N: the same with the image's class-data archive, the JVMs the entrypoint"
  echo "starts (scripts/bare-jvm.sh: Spark's launcher, then exec java with -XX:SharedArchiveFile and the"
  echo "archive's class path). Both floors' JVMs get the images' own options (SPARK_DAEMON_JAVA_OPTS=\`$daemon_opts\`),"
  echo "so that a floor is the same JVMs started without the entrypoint (an honest floor)."
  echo "Formation: \`up\` to N workers ALIVE (docker run --link: master and"
  echo "workers started at once; Compose Spec: \`docker-compose up -d --scale worker=N\`; both: each"
  echo "worker's JVM starts once the master accepts connections). Recovery: the master restarted on a new address to 3"
  echo "workers ALIVE again (it finds them in its state directory, ENTRYPOINT_MASTER_STATE: the same"
  echo "container for links, the master-state volume for Compose Spec)."
  echo "Targets, as ratios of the same run (machines differ from day to day): formation at most 0.4x"
  echo "floor N (Spark's own start of the same JVMs); Compose Spec within archive floor N + 1.5 s at"
  echo "N=3 and N=6 (what the entrypoint and Compose add to the JVMs the entrypoint starts); recovery ≤ 15 s."
  echo
  echo "| measure | time | / floor N | ≤ 0.4x | archive floor + 1.5 s | within |"
  echo "|---|---|---|---|---|---|"
  echo "| floor: bare master up (spark-class) | $(stats "${R[floor_master]}") | | | | |"
  echo "| archive floor: bare master up | $(stats "${R[floorcds_master]}") | | | | |"
  for n in $sizes; do
    cds_target=$(plus15 "${R[floorcds_$n]}")
    echo "| floor N=$n: bare master, then $n bare worker$([ "$n" = 1 ] || echo s) ALIVE (spark-class) | $(stats "${R[floor_$n]}") | | | | |"
    echo "| archive floor N=$n: the same with the class-data archive | $(stats "${R[floorcds_$n]}") | $(ratio "${R[floorcds_$n]}" "${R[floor_$n]}") | | | |"
    for k in links compose; do
      if [ $k = links ]; then what="docker run --link, N=$n"; else what="Compose Spec up --scale worker=$n"; fi
      echo "| formation, $what | $(stats "${R[${k}_$n]}") | $(ratio "${R[${k}_$n]}" "${R[floor_$n]}") | $(within_ratio "${R[${k}_$n]}" "${R[floor_$n]}" 0.4) | $cds_target s | $(verdict "${R[${k}_$n]}" "$cds_target") |"
      echo "| … of which until the master's container runs | $(stats "${R[${k}_master_$n]}") | | | | |"
    done
  done
  if [ -n "${R[links_recovery]:-}" ]; then
    echo "| recovery, links (stop, start on a new address) | $(stats "${R[links_recovery]}") | | | 15 s | $(verdict "${R[links_recovery]}" 15) |"
    echo "| … of which after the master's start | $(stats "${R[links_recovery_start]}") | | | | |"
    echo "| recovery, Compose Spec (new master container) | $(stats "${R[compose_recovery]}") | | | 15 s | $(verdict "${R[compose_recovery]}" 15) |"
    echo "| … of which after the master's start | $(stats "${R[compose_recovery_start]}") | | | | |"
  fi
  if [ -n "${R[links_mem_master_3]:-}" ]; then
    echo
    echo "Idle memory: each container's memory as \`docker stats\` shows it (the cgroup's usage less its"
    echo "inactive file cache), 30 s after 3 workers were ALIVE. Target: at most 100 MiB a node."
    echo
    echo "| node | docker run --link (entrypoint) | floor (spark-class, the same options) | ≤ 100 MiB |"
    echo "|---|---|---|---|"
    for node in master worker; do
      echo "| $node$([ $node = master ] || echo ' (median of 3)') | $(mib "${R[links_mem_${node}_3]}") | $(mib "${R[floor_mem_${node}_3]}") | $(verdict "${R[links_mem_${node}_3]}" 100) |"
    done
  fi
  if [ -n "$scale" ] && [ -n "${R[links_$scale]:-}" ]; then
    last=${sizes##* }
    echo
    echo "Scale: 1 master + $scale workers on these $(nproc) cores. Memory: all $((scale + 1)) containers 30 s after"
    echo "formation. Per added worker: the formation's growth from N=$last to N=$scale, divided by $((scale - last)),"
    echo "and the memory of the median worker."
    echo
    echo "| 1 master + $scale workers | formation | / floor N | per added worker | memory, all containers | one worker |"
    echo "|---|---|---|---|---|---|"
    for k in floor links compose; do
      case $k in floor) what="floor (spark-class)" ;; links) what="docker run --link" ;; compose) what="Compose Spec" ;; esac
      per=$(awk -v a="$(med "${R[${k}_$scale]}")" -v b="$(med "${R[${k}_$last]:-0}")" -v n=$((scale - last)) 'BEGIN { printf "%.1f s", (a - b) / n }')
      echo "| $what | $(stats "${R[${k}_$scale]}") | $([ $k = floor ] || ratio "${R[${k}_$scale]}" "${R[floor_$scale]}") | $per | $(mib "${R[${k}_mem_total_$scale]}") | $(mib "${R[${k}_mem_worker_$scale]}") |"
    done
  fi
  echo
  echo "Raw samples (s, MiB): $(for k in $(printf '%s\n' "${!R[@]}" | sort); do printf '%s=[%s] ' "$k" "${R[$k]% }"; done)"
)
python3 "$root/scripts/bench-section.py" "$out" Cluster <<<"$section"
echo "$section"
echo "bench-cluster: wrote the Cluster section of $out"
