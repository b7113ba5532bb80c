#!/usr/bin/env bash
# build-images.sh BASE_IMAGE TAG...: snufkin/spark-master and
# snufkin/spark-worker on BASE_IMAGE, tagged with each TAG.
#
# The build context is a temporary directory holding only bin/entrypoint,
# the static binary built here (CGO_ENABLED=0), so the daemon gets nothing
# else of the tree and the tree gets no build output.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: build-images.sh BASE_IMAGE TAG..." >&2; exit 64; }
base=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

cd "$root"
CGO_ENABLED=0 "${GO:-go}" build -trimpath -ldflags='-s -w' -o "$ctx/bin/entrypoint" ./entrypoint
for role in master worker; do
  tags=()
  for tag in "$@"; do tags+=(-t "snufkin/spark-$role:$tag"); done
  docker build -q --build-arg "BASE_IMAGE=$base" -f "Dockerfile.$role" "${tags[@]}" "$ctx" >/dev/null
done
echo "images: snufkin/spark-master snufkin/spark-worker:{$(IFS=,; echo "$*")} on $base"
