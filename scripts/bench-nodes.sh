#!/usr/bin/env bash
# make bench-cluster, across nodes: the Swarm stack (images/swarm/stack.yml,
# its Connect server at 0 replicas) on a swarm of three Docker engines
# against the same on a swarm of one, both made by scripts/swarm-bed.sh in
# the same run, into the "Across nodes" section of BENCHMARKS.md.
#
#   formation  docker stack deploy -> 3 workers ALIVE at the master.
#   recovery   three nodes: the master's node drained (docker node update
#              --availability drain): Swarm starts the master on another
#              node with a new, empty state volume, and the workers of the
#              drained node elsewhere -> 3 workers ALIVE at the new master.
#              One node: the master's task replaced (docker service update
#              --force), its state volume kept -> 3 ALIVE again.
#   bed        the engines started, the images loaded and the swarm
#              formed: reported apart, counted nowhere.
#
# RUNS (default 3) repetitions; OUT (default BENCHMARKS.md).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-3}
out=${OUT:-$root/BENCHMARKS.md}
case "$runs" in '' | *[!0-9]* | 0) echo "bench-nodes: RUNS=$runs is not a positive count" >&2; exit 64 ;; esac
. "$root/scripts/versions.env"
tag=$SPARK_VERSION_DEFAULT
bed() { bash "$root/scripts/swarm-bed.sh" "$@"; }
p=ssbnodes$$
tmp=$(mktemp -d)
trap 'bed down "$p-a" >/dev/null 2>&1 || true; bed down "$p-b" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT

# shellcheck source=bench-lib.sh
. "$root/scripts/bench-lib.sh"
# alive ADDR: ALIVE workers in the master's /json/ at ADDR (polled every
# 200 ms, as bench-cluster does, not to take the JVMs' CPU).
alive() { curl -fsS --max-time 1 "http://$1/json/" 2>/dev/null | grep -Eo '"state" *: *"ALIVE"' | wc -l; }
declare -A R

# run NAME NODES: one bed, the stack deployed on it, formation and recovery.
run() {
  local name=$1 n=$2 t0 node1 maddr end
  t0=$(now)
  bed up "$name" "$n" "snufkin/spark-master:$tag" "snufkin/spark-worker:$tag" >"$tmp/$name.nodes"
  R[bed_$n]+="$(secs "$t0") "
  node1=$name-node1
  docker exec -i "$node1" sh -c 'mkdir -p /root/stack && cat > /root/stack/stack.yml' <"$root/images/swarm/stack.yml"
  printf 'version: "3.8"\nservices:\n  connect:\n    deploy: {replicas: 0}\n' |
    docker exec -i "$node1" sh -c 'cat > /root/stack/no-connect.yml'
  # master_task [node]: the running master task's id (or its node).
  master_task() {
    docker exec "$node1" docker service ps --filter desired-state=running --format '{{.ID}} {{.Node}} {{.CurrentState}}' spark_spark-master |
      awk -v f="$([ "${1:-}" = node ] && echo 2 || echo 1)" '$3 == "Running" {print $f; exit}'
  }
  # master_addr: the master's web UI, port 8080 of its node's address.
  master_addr() {
    local node
    node=$(master_task node)
    [ -n "$node" ] && echo "$(awk -v n="$name-$node" '$1 == n {print $2}' "$tmp/$name.nodes"):8080"
  }
  until_alive() {
    end=$((SECONDS + 300))
    until maddr=$(master_addr) && [ "$(alive "$maddr")" -ge 3 ]; do
      [ $SECONDS -lt $end ] || { echo "bench-nodes: 3 workers not ALIVE in 5 min on $n node(s)" >&2; exit 1; }
      sleep 0.2
    done
  }
  t0=$(now)
  docker exec "$node1" docker stack deploy -c /root/stack/stack.yml -c /root/stack/no-connect.yml spark >/dev/null
  until_alive
  R[formation_$n]+="$(secs "$t0") "
  local task
  task=$(master_task)
  t0=$(now)
  if [ "$n" = 1 ]; then
    docker exec "$node1" docker service update --force --detach spark_spark-master >/dev/null
  else
    docker exec "$node1" docker node update --availability drain "$(master_task node)" >/dev/null
  fi
  # The old master answers until it stops: wait for the new task.
  until [ -n "$(master_task)" ] && [ "$(master_task)" != "$task" ]; do sleep 0.2; done
  until_alive
  R[recovery_$n]+="$(secs "$t0") "
  bed down "$name"
}

for ((r = 1; r <= runs; r++)); do
  echo "bench-nodes: run $r/$runs"
  run "$p-a" 1
  run "$p-b" 3
done

ratio() { awk -v a="$(med "$1")" -v b="$(med "$2")" 'BEGIN { printf "%.2fx", a / b }'; }
section=$(
  echo "## Across nodes"
  echo
  echo "\`make bench-cluster\` ($(date -u +%Y-%m-%d), $(nproc) cores, Docker $(docker version -f '{{.Server.Version}}') in the nodes' containers, $runs runs each, median (min–max))."
  echo "The Swarm stack, \`images/swarm/stack.yml\` with its Connect server at 0 replicas, on a swarm of"
  echo "three Docker engines and on a swarm of one, each engine a container of this host (scripts/swarm-bed.sh),"
  echo "the same run. Formation: \`docker stack deploy\` to 3 workers ALIVE. Recovery, three nodes: the"
  echo "master's node drained; Swarm starts the master on another node with an empty state volume, and the"
  echo "drained node's workers elsewhere, to 3 workers ALIVE at the new master. Recovery, one node: the"
  echo "master's task replaced (\`docker service update --force\`), its state volume kept. The nodes share"
  echo "this host's cores: three engines cost more than one here, unlike on three machines."
  echo
  echo "| measure | 1 node | 3 nodes | 3 nodes / 1 node |"
  echo "|---|---|---|---|"
  echo "| formation, 1 master + 3 workers | $(stats "${R[formation_1]}") | $(stats "${R[formation_3]}") | $(ratio "${R[formation_3]}" "${R[formation_1]}") |"
  echo "| recovery (1 node: task replaced; 3 nodes: master's node drained) | $(stats "${R[recovery_1]}") | $(stats "${R[recovery_3]}") | $(ratio "${R[recovery_3]}" "${R[recovery_1]}") |"
  echo "| the bed itself (engines, images loaded, swarm), not counted | $(stats "${R[bed_1]}") | $(stats "${R[bed_3]}") | |"
  echo
  echo "Raw samples (s): $(for k in $(printf '%s\n' "${!R[@]}" | sort); do printf '%s=[%s] ' "$k" "${R[$k]% }"; done)"
)
python3 "$root/scripts/bench-section.py" "$out" "Across nodes" <<<"$section"
echo "$section"
echo "bench-nodes: wrote the Across nodes section of $out"
