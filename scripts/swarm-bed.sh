#!/usr/bin/env bash
# A Docker Swarm of several real engines on this one machine, for the
# multi-node tests: each node is a container with every capability running
# Debian's dockerd, with its own network namespace (address, iptables, VXLAN
# devices), its own data root (a volume, so that overlay2 does not sit on
# overlayfs) and its own /run. Every node is a manager, so that losing any
# one keeps the quorum of Swarm's Raft store (2 of 3) and the swarm keeps
# scheduling. The project's images are loaded into every node with
# `docker save | docker load`; nothing is pulled.
#
# usage:
#   scripts/swarm-bed.sh up NAME N IMAGE...  N nodes (1, or 3 or more) NAME-node1..N on network NAME-bed
#   scripts/swarm-bed.sh down NAME           remove the nodes, their volumes and the network
#
# The node image, snufkin/swarm-node, is Debian with docker.io
# (scripts/debian-image.sh: mmdebstrap, built once and kept). `up` prints one line per node: NAME-nodeK ADDRESS.
# Run nodes' commands with `docker exec NAME-nodeK docker ...`.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

die() { echo "swarm-bed: $*" >&2; exit 1; }
usage() { echo "swarm-bed: $*" >&2; echo "usage: swarm-bed.sh up NAME N IMAGE... | down NAME" >&2; exit 64; }

# What the kernel must offer, checked before anything is made: the
# engines' overlay2 storage and Swarm's overlay networks, which are VXLAN
# devices, made here in a scratch network namespace as dockerd would.
preflight() {
  grep -qw overlay /proc/filesystems || die "the kernel has no overlay filesystem (the nodes' overlay2 storage needs it)"
  command -v unshare >/dev/null || die "unshare (util-linux) is missing"
  command -v capsh >/dev/null || die "capsh (libcap2-bin) is missing"
  local err
  if ! err=$(unshare --net sh -c 'ip link add ssbedvx type vxlan id 42 dstport 4789 && ip link del ssbedvx' 2>&1); then
    die "the kernel cannot make VXLAN devices (Swarm's overlay networks need them): $err"
  fi
  if ! err=$(unshare --net sh -c 'ip link add ssbedbr type bridge && ip link add ssbedv0 type veth peer name ssbedv1 && ip link set ssbedv0 master ssbedbr' 2>&1); then
    die "the kernel cannot make bridges and veth pairs (the nodes' own networks need them): $err"
  fi
  docker info >/dev/null 2>&1 || die "no Docker engine answers on this host (run scripts/host-setup.sh)"
}

node_image() {
  image=$("$here/debian-image.sh" snufkin/swarm-node docker.io,iptables,ca-certificates,iproute2,procps,mount) ||
    die "the node image could not be made"
}

# check_name NAME: the bed's name, the prefix of every name it makes.
check_name() {
  case "$1" in '' | *[!a-z0-9-]*) usage "NAME=$1 is not lowercase letters, digits and dashes" ;; esac
}

# addr NODE: the node's address on the bed's network, $net of the caller.
addr() { docker inspect -f "{{(index .NetworkSettings.Networks \"$net\").IPAddress}}" "$1"; }

# on NODE CMD...: a command in the node.
on() { local n=$1; shift; docker exec "$n" "$@"; }

wait_engine() {
  local n=$1
  for _ in $(seq 60); do
    on "$n" docker info >/dev/null 2>&1 && return
    sleep 1
  done
  docker logs --tail 20 "$n" >&2 || true
  die "the engine of $n did not start"
}

up() {
  [ $# -ge 3 ] || usage "up needs NAME N IMAGE..."
  local name=$1 n=$2
  shift 2
  # Two managers are worse than one: losing either loses the quorum.
  case "$n" in '' | *[!0-9]* | 0 | 2) usage "N=$n: 1 node, or 3 or more (every node is a manager)" ;; esac
  check_name "$name"
  local img
  for img in "$@"; do docker image inspect "$img" >/dev/null 2>&1 || usage "IMAGE=$img is not on this host"; done
  preflight
  node_image
  # Every capability this host's root holds rather than --privileged,
  # which asks for all of them and fails where the bounding set lacks one
  # (CAP_SYS_RESOURCE on some VMs); the capabilities newer than those
  # Docker 20.10 knows are not needed by an engine.
  local caps=()
  mapfile -t caps < <(capsh --decode="$(awk '/^CapBnd/ {print $2}' /proc/self/status)" | cut -d= -f2 | tr , '\n' |
    grep -vxE 'cap_(perfmon|bpf|checkpoint_restore)' | sed 's/^cap_//' | tr a-z A-Z | sed 's/^/--cap-add=/')
  local net=$name-bed
  docker network create "$net" >/dev/null
  local k node
  for k in $(seq "$n"); do
    node=$name-node$k
    # --init: dockerd is not meant to be PID 1 (it reaps only its own
    # children). /run on tmpfs: a node started again after a kill must not
    # find the old engine's pid files. /sys and the cgroup hierarchies
    # are mounted read-only in a container that is not --privileged; the
    # engine makes its containers' cgroups there.
    docker run -d "${caps[@]}" --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
      --security-opt systempaths=unconfined --init --name "$node" --hostname "node$k" --network "$net" \
      --tmpfs /run --tmpfs /tmp -v "$node:/var/lib/docker" "$image" sh -c '
        mount -o remount,rw /sys
        for d in /sys/fs/cgroup /sys/fs/cgroup/*; do
          mount -o remount,rw "$d" 2>/dev/null || mount -o remount,rw,bind "$d" 2>/dev/null || true
        done
        # cgroup v2: a cgroup with processes cannot enable controllers for
        # its children, so move this one into a child first (as moby'"'"'s
        # hack/dind does).
        if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
          mkdir -p /sys/fs/cgroup/init
          xargs -rn1 </sys/fs/cgroup/cgroup.procs >/sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true
          sed -e "s/ / +/g" -e "s/^/+/" </sys/fs/cgroup/cgroup.controllers >/sys/fs/cgroup/cgroup.subtree_control
        fi
        exec dockerd --host unix:///var/run/docker.sock --storage-driver overlay2 --log-level warn' >/dev/null
  done
  for k in $(seq "$n"); do wait_engine "$name-node$k"; done

  # One save, loaded into every node at once.
  echo "swarm-bed: loading $* into $n nodes" >&2
  local fifos=() pids=()
  fifodir=$(mktemp -d)
  trap 'rm -rf "$fifodir"' EXIT
  for k in $(seq "$n"); do
    mkfifo "$fifodir/$k"
    fifos+=("$fifodir/$k")
    docker exec -i "$name-node$k" docker load -q <"$fifodir/$k" >/dev/null &
    pids+=($!)
  done
  docker save "$@" | tee "${fifos[@]}" >/dev/null
  for k in "${pids[@]}"; do wait "$k" || die "docker load failed in a node"; done
  for k in $(seq "$n"); do
    for img in "$@"; do
      on "$name-node$k" docker image inspect "$img" >/dev/null 2>&1 || die "$img did not load into $name-node$k"
    done
  done

  local addr1
  addr1=$(addr "$name-node1")
  on "$name-node1" docker swarm init --advertise-addr "$addr1" --default-addr-pool 10.231.0.0/16 >/dev/null
  local token
  token=$(on "$name-node1" docker swarm join-token -q manager)
  for k in $(seq 2 "$n"); do
    node=$name-node$k
    on "$node" docker swarm join --token "$token" \
      --advertise-addr "$(addr "$node")" "$addr1:2377" >/dev/null
  done
  local ready
  for _ in $(seq 60); do
    ready=$(on "$name-node1" docker node ls --format '{{.Status}} {{.Availability}}' | grep -c '^Ready Active$' || true)
    [ "$ready" = "$n" ] && break
    sleep 1
  done
  [ "$ready" = "$n" ] || { on "$name-node1" docker node ls >&2; die "$ready of $n nodes Ready"; }
  for k in $(seq "$n"); do
    echo "$name-node$k $(addr "$name-node$k")"
  done
}

down() {
  [ $# -eq 1 ] || usage "down needs NAME"
  local name=$1
  check_name "$name"
  local nodes
  nodes=$(docker ps -aq --filter "name=^$name-node[0-9]+\$")
  [ -z "$nodes" ] || docker rm -f -v $nodes >/dev/null
  local vols
  vols=$(docker volume ls -q | grep -E "^$name-node[0-9]+\$" || true)
  [ -z "$vols" ] || docker volume rm $vols >/dev/null
  docker network rm "$name-bed" >/dev/null 2>&1 || true
}

[ $# -ge 1 ] || usage "no command"
cmd=$1
shift
case "$cmd" in
  up) up "$@" ;;
  down) down "$@" ;;
  *) usage "unknown command $cmd" ;;
esac
