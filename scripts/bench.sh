#!/usr/bin/env bash
# Benchmarks the entrypoint's pure init mode (entrypoint -- CMD) against
# Debian's tini and dumb-init with the harness in scripts/initbench, and
# writes the supervisor section of BENCHMARKS.md (other sections are kept).
# scripts/initbench/gofloor, the least a Go supervisor does, is measured with
# them as a reference row: the floor of an init written in Go.
#
# usage: scripts/bench.sh [-q] [-o FILE]
#   -q       quick: fewer trials (noisier, about a minute)
#   -o FILE  write into FILE instead of BENCHMARKS.md
#
# Needs root (PID namespaces) and Go; installs tini and dumb-init when they
# are missing.  BENCH_INITS replaces the inits compared with ours, as
# command prefixes separated by ';' (default "tini --;dumb-init --").
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/BENCHMARKS.md
quick=()
while getopts "qo:h" o; do
    case $o in q) quick=(-quick) ;; o) out=$OPTARG ;; *) sed -n '2,12s/^# \{0,1\}//p' "$0" >&2; exit 2 ;; esac
done
case "$out" in /*) ;; *) out=$PWD/$out ;; esac
[ "$(id -u)" = 0 ] || { echo "bench: root is needed for PID namespaces" >&2; exit 1; }

missing=()
for p in tini dumb-init; do command -v "$p" >/dev/null || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "bench: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$root"
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/entrypoint" ./entrypoint
go build -o "$work/initbench" ./scripts/initbench
# The Go floor: the least a Go supervisor does, built like the entrypoint and
# reported as a reference (scripts/initbench/gofloor).
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$work/gofloor" ./scripts/initbench/gofloor

IFS=';' read -r -a others <<<"${BENCH_INITS:-tini --;dumb-init --}"
# From the build directory, so the report names ./entrypoint, not a
# temporary path.
cd "$work"
./initbench "${quick[@]}" -o "$out" -ref "./gofloor --" -ref "./gofloor -all --" \
    "./entrypoint --" "${others[@]}"
