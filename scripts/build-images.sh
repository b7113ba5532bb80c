#!/usr/bin/env bash
# build-images.sh BASE_IMAGE TAG...: snufkin/spark-master and
# snufkin/spark-worker on BASE_IMAGE, tagged with each TAG, for the
# architecture ARCH (amd64 or arm64; default the host's), which must be the
# base's: the entrypoint is built for it (GOARCH) and the images' steps run
# under its binfmt handler when it is not the host's.
#
# The build context is a temporary directory holding only bin/entrypoint,
# the static binary built here (CGO_ENABLED=0), and conf/spark-env.sh
# (images/conf), so the daemon gets nothing else of the tree and the tree
# gets no build output.
set -euo pipefail

[ $# -ge 2 ] || { echo "usage: build-images.sh BASE_IMAGE TAG..." >&2; exit 64; }
base=$1
shift
root=$(cd "$(dirname "$0")/.." && pwd)
ctx=$(mktemp -d)
trap 'rm -rf "$ctx"' EXIT

host_arch=$(dpkg --print-architecture 2>/dev/null || "${GO:-go}" env GOARCH)
arch=${ARCH:-$host_arch}
case "$arch" in
  amd64 | arm64) ;;
  *) echo "build-images: ARCH=$arch is not amd64 or arm64" >&2; exit 64 ;;
esac
base_arch=$(docker image inspect -f '{{.Architecture}}' "$base")
[ "$base_arch" = "$arch" ] || { echo "build-images: $base is $base_arch, not ARCH=$arch" >&2; exit 1; }

cd "$root"
# `entrypoint version` names the commit it was built from.
version=$(git describe --always --dirty 2>/dev/null || echo devel)
CGO_ENABLED=0 GOARCH=$arch "${GO:-go}" build -trimpath \
  -ldflags="-s -w -X github.com/snufkin/swarming-spark/entrypoint/boot.Version=$version" \
  -o "$ctx/bin/entrypoint" ./entrypoint
mkdir -p "$ctx/conf"
cp images/conf/spark-env.sh "$ctx/conf/"
# What a driver or Connect client must match (the same Spark; for Python
# UDFs the same Python minor), read from the base itself and carried as
# labels: `docker image inspect` shows them, explain prints them too, and
# scripts/cluster.sh checks a client against them.
runtime=$(docker run --rm --platform "linux/$arch" --user 0 --entrypoint sh "$base" -c '
  spark=$(ls "${SPARK_HOME:-/opt/spark}"/jars/spark-core_*.jar | sed -n "s/.*spark-core_[0-9.]*-\(.*\)\.jar$/\1/p" | head -1)
  py=$(python3 -c "import platform; print(platform.python_version())" 2>/dev/null || echo none)
  java=$(java -XshowSettings:properties -version 2>&1 | sed -n "s/^ *java.version = //p")
  echo "$spark $py $java"')
read -r spark_version python_version java_version <<<"$runtime"
[ -n "$java_version" ] || { echo "build-images: cannot read Spark, Python and Java versions from $base ($runtime)" >&2; exit 1; }
labels=(--label "org.apache.spark.version=$spark_version" --label "swarming-spark.python.version=$python_version"
  --label "swarming-spark.java.version=$java_version")
for role in master worker; do
  tags=()
  for tag in "$@"; do tags+=(-t "snufkin/spark-$role:$tag"); done
  docker build -q --platform "linux/$arch" --build-arg "BASE_IMAGE=$base" "${labels[@]}" -f "Dockerfile.$role" "${tags[@]}" "$ctx" >/dev/null
done
echo "images: snufkin/spark-master snufkin/spark-worker:{$(IFS=,; echo "$*")} on $base ($arch: Spark $spark_version, Python $python_version, Java $java_version)"
