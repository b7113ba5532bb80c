#!/usr/bin/env bash
# moto-image.sh BASE: an S3-compatible server for the S3A test, built from
# the base image (its python3) and moto's server from PyPI, installed here
# for the base's Python and architecture into the cache and copied in: the
# build itself needs no network. The image is tagged snufkin/moto:HASH of
# what went in, so a second call costs nothing. Prints the image's name.
#
# The server answers S3's API on port 5000 (moto.server) and keeps
# everything in memory.
set -euo pipefail

usage() { echo "moto-image: $*" >&2; echo "usage: moto-image.sh BASE" >&2; exit 64; }
[ $# -eq 1 ] || usage "want 1 argument, got $#"
base=$1
moto=5.2.6
cache=${SPARK_CACHE_DIR:-/var/cache/swarming-spark}
py=$(docker run --rm --user 0 --entrypoint python3 "$base" -c 'import sys; print("%d.%d" % sys.version_info[:2])') ||
  { echo "moto-image: $base has no python3" >&2; exit 1; }
case "$(dpkg --print-architecture)" in
  amd64) arch=x86_64 ;; arm64) arch=aarch64 ;;
  *) echo "moto-image: no wheels for $(dpkg --print-architecture)" >&2; exit 1 ;;
esac
stamp=$( { cat "$0"; docker image inspect -f '{{.Id}}' "$base"; } | sha256sum | cut -c1-12)
image=snufkin/moto:$stamp
if docker image inspect "$image" >/dev/null 2>&1; then
  echo "$image"
  exit 0
fi
libs="$cache/moto-$moto-$py-$arch"
if [ ! -d "$libs" ]; then
  echo "moto-image: installing moto[server] $moto for Python $py ($arch)" >&2
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --root-user-action=ignore --no-compile \
    --only-binary=:all: --python-version "$py" --implementation cp \
    --platform "manylinux_2_28_$arch" --platform "manylinux_2_17_$arch" --platform "manylinux2014_$arch" \
    --target "$work/libs" "moto[server]==$moto" >&2
  mkdir -p "$cache"
  mv "$work/libs" "$libs"
fi
ctx=$(mktemp -d)
trap 'rm -rf "$ctx" ${work:+"$work"}' EXIT
cp -a "$libs" "$ctx/moto"
docker build -q --build-arg "BASE=$base" -t "$image" -f - "$ctx" >/dev/null <<'DOCKERFILE'
ARG BASE
FROM ${BASE}
COPY moto /opt/moto
ENV PYTHONPATH=/opt/moto
USER 185
EXPOSE 5000
ENTRYPOINT ["python3", "-m", "moto.server", "--host", "0.0.0.0", "--port", "5000"]
DOCKERFILE
docker images snufkin/moto --format '{{.Repository}}:{{.Tag}}' | grep -vxF "$image" | xargs -r docker rmi >/dev/null 2>&1 || true
echo "$image"
