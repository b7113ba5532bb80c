#!/usr/bin/env bash
# Builds the local base image snufkin/spark-base:$SPARK_VERSION without any
# container registry: a Debian root made by mmdebstrap from the host's own apt
# sources, the Java runtime that suite ships, python3, and Spark's jars and bin/
# taken from the pyspark package. DEBIAN_SUITE picks the suite, and with it the
# Python a driver must match: bookworm (the default: Python 3.11, Java 17) or
# trixie (Python 3.13, Java 21; its base is tagged $SPARK_VERSION-trixie).
# The layout matches the official apache/spark image (/opt/spark, user spark
# uid 185, /opt/spark/work-dir), so the Dockerfiles work on either base.
# ARCH (amd64 or arm64, Debian's names; default the host's) picks the
# architecture: Debian's packages and the Python wheels of that one, the
# image marked so. Another architecture than the host's needs its binfmt
# handler (Debian's qemu-user-static), which runs the packages' scripts.
#
# A second run with the same inputs does nothing: the image carries a label with
# the hash of this script and the Spark version, and is rebuilt only when it
# changes (or with FORCE=1).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
. "$here/versions.env"
SPARK_VERSION=${SPARK_VERSION:-$SPARK_VERSION_DEFAULT}
suite=${DEBIAN_SUITE:-bookworm}
case "$suite" in
  bookworm) suite_pkgs=openjdk-17-jre-headless; image=${BASE_IMAGE:-snufkin/spark-base:$SPARK_VERSION} ;;
  # trixie's minimal root no longer has passwd (groupadd, useradd).
  trixie) suite_pkgs=openjdk-21-jre-headless,passwd; image=${BASE_IMAGE:-snufkin/spark-base:$SPARK_VERSION-trixie} ;;
  *) echo "build-base: DEBIAN_SUITE=$suite is not bookworm or trixie" >&2; exit 64 ;;
esac
host_arch=$(dpkg --print-architecture)
arch=${ARCH:-$host_arch}
case "$arch" in
  amd64) wheel_arch=x86_64 qemu=qemu-x86_64 ;;
  arm64) wheel_arch=aarch64 qemu=qemu-aarch64 ;;
  *) echo "build-base: ARCH=$arch is not amd64 or arm64" >&2; exit 64 ;;
esac
cache=${SPARK_CACHE_DIR:-/var/cache/swarming-spark}
sources=${APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}
[ -r "$sources" ] || sources=/etc/apt/sources.list

case "$SPARK_VERSION" in
  3.5.*|4.*) ;;
  *) echo "build-base: SPARK_VERSION=$SPARK_VERSION is not a 3.5.x or 4.x release" >&2; exit 64 ;;
esac
# Spark 3.5 runs on Java 8, 11 and 17 (its docs' overview); trixie ships 21.
case "$SPARK_VERSION/$suite" in
  3.5.*/trixie) echo "build-base: DEBIAN_SUITE=trixie ships Java 21, which SPARK_VERSION=$SPARK_VERSION does not support; use bookworm" >&2; exit 64 ;;
esac

# Another architecture's tags end in its name.
[ -n "${BASE_IMAGE:-}" ] || [ "$arch" = "$host_arch" ] || image=$image-$arch
if [ "$arch" != "$host_arch" ] && [ ! -e "/proc/sys/fs/binfmt_misc/$qemu" ]; then
  echo "build-base: ARCH=$arch on an $host_arch host needs the $qemu binfmt handler (/proc/sys/fs/binfmt_misc/$qemu): install qemu-user-static (make host does, with binfmt-support)" >&2
  exit 1
fi

stamp=$( { cat "$0"; echo "$SPARK_VERSION $suite $arch"; } | sha256sum | cut -c1-16)
if [ "${FORCE:-0}" != 1 ] &&
   [ "$(docker image inspect -f '{{index .Config.Labels "swarming-spark.base"}}' "$image" 2>/dev/null)" = "$stamp" ]; then
  echo "build-base: $image is up to date ($stamp)"
  exit 0
fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT

# The root's own inputs, so that editing the rest of this script does not
# rebuild it.
include=$suite_pkgs,bash,procps,python3,ca-certificates,iproute2,libnss-wrapper
add_user='chroot "$1" sh -c "groupadd --system --gid 185 spark && useradd --system --uid 185 --gid 185 --home-dir /opt/spark/work-dir --shell /bin/bash spark"'
slim='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/usr/share/doc/* "$1"/usr/share/man/*'
rootfs="$cache/rootfs-$suite-$arch-$(printf '%s\n' "$include" "$add_user" "$slim" | sha256sum | cut -c1-12).tar"
if [ ! -s "$rootfs" ]; then
  echo "build-base: making the Debian root (mmdebstrap)"
  # The host's sources name its own suite; the same mirrors serve the other.
  sed -E "s/\b(bookworm|trixie)(-updates|-security)?\b/$suite\2/g" "$sources" > "$work/sources"
  case "$sources" in *.sources) mv "$work/sources" "$work/debian.sources"; sources="$work/debian.sources" ;;
    *) mv "$work/sources" "$work/sources.list"; sources="$work/sources.list" ;; esac
  mmdebstrap --variant=apt --quiet --architectures="$arch" --include="$include" \
    --customize-hook="$add_user" --customize-hook="$slim" \
    "$suite" "$work/rootfs.tar" "$sources"
  mv "$work/rootfs.tar" "$rootfs"
  find "$cache" -maxdepth 1 -name "rootfs-$suite-$arch-*.tar" ! -path "$rootfs" -delete
fi

dist="$cache/pyspark-$SPARK_VERSION"
if [ ! -d "$dist/pyspark/jars" ]; then
  echo "build-base: installing pyspark $SPARK_VERSION to take Spark from it"
  rm -rf "$dist"
  python3 -m pip install --quiet --no-deps --no-compile --target "$work/pyspark" "pyspark==$SPARK_VERSION"
  mv "$work/pyspark" "$dist"
fi

# What the executors' Python workers import beyond the standard library:
# pyspark's own "sql" extra (pandas, pyarrow, numpy). Arrow-optimised Python
# UDFs are Spark 4.3's default (spark.sql.execution.pythonUDF.arrow.enabled),
# and pandas UDFs always need both; without them a plain udf sent by a
# Connect client fails in the worker with "No module named 'pyarrow'".
# Wheels for the root's Python and architecture, into the directory Debian's
# python3 reads for local packages. pandas 3 is left out: PySpark warns that
# it does not fully support it yet.
# The root's file list, read once: its Python's and its JDK's directories
# name their versions (and the JDK's its architecture).
listing=$(tar -tf "$rootfs")
py=$(sed -n -E 's#^\.?/?usr/lib/python(3\.[0-9]+)/$#\1#p' <<<"$listing" | head -n1)
[ -n "$py" ] || { echo "build-base: no usr/lib/python3.X in $rootfs" >&2; exit 1; }
mapfile -t sql_reqs < <(sed -n -E 's/^Requires-Dist: ([^;]+); extra == "sql"$/\1/p' "$dist"/pyspark-*.dist-info/METADATA)
[ "${#sql_reqs[@]}" -gt 0 ] || { echo "build-base: pyspark $SPARK_VERSION names no sql extra" >&2; exit 1; }
pylibs="$cache/pylibs-$SPARK_VERSION-$py-$wheel_arch-$(printf '%s\n' "${sql_reqs[@]}" | sha256sum | cut -c1-12)"
if [ ! -d "$pylibs" ]; then
  echo "build-base: installing ${sql_reqs[*]} for Python $py ($wheel_arch)"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --root-user-action=ignore --no-compile --only-binary=:all: \
    --python-version "$py" --implementation cp \
    --platform "manylinux_2_28_$wheel_arch" --platform "manylinux_2_17_$wheel_arch" --platform "manylinux2014_$wheel_arch" \
    --target "$work/pylibs" "${sql_reqs[@]}" "pandas<3"
  mv "$work/pylibs" "$pylibs"
fi

# Lay Spark out as the official image does: /opt/spark/{bin,sbin,jars,python}.
ctx="$work/ctx"
mkdir -p "$ctx/opt/spark/python/lib" "$ctx/opt/spark/work-dir"
cp -a "$dist/pyspark/jars" "$dist/pyspark/bin" "$dist/pyspark/sbin" "$ctx/opt/spark/"
cp -a "$dist/pyspark/python/lib/"py4j-*.zip "$ctx/opt/spark/python/lib/"
# Executors start Python workers with $SPARK_HOME/python/lib/pyspark.zip on
# PYTHONPATH; the pip package has the module but not the zip.
# The Python package without the 460 MB of jars (its data files, such as
# errors/error-conditions.json, are read from the zip at run time).
(cd "$dist" && python3 - "$ctx/opt/spark/python/lib/pyspark.zip" <<'PY'
import os, sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    for root, dirs, files in os.walk("pyspark"):
        dirs[:] = sorted(d for d in dirs if d not in ("jars", "bin", "sbin", "__pycache__"))
        for f in sorted(files):
            if not f.endswith(".pyc"):
                z.write(os.path.join(root, f))
PY
)
# The package unzipped too, as the official image has it: bin/pyspark runs
# $SPARK_HOME/python/pyspark/shell.py at start (PYTHONSTARTUP), which makes
# sc and spark; without it the shell starts with neither.
tar -C "$dist" --exclude=pyspark/jars --exclude=pyspark/bin --exclude=pyspark/sbin \
  --exclude=__pycache__ --exclude='*.pyc' -cf - pyspark | tar -C "$ctx/opt/spark/python" -xf -
# pip does not keep exec bits of package data; the entrypoint runs scripts
# through bash anyway, but users may not.
chmod 0755 "$ctx"/opt/spark/bin/* "$ctx"/opt/spark/sbin/*
bctx="$work/bctx"
mkdir -p "$bctx"
mkdir -p "$ctx/usr/local/lib/python$py"
cp -a "$pylibs" "$ctx/usr/local/lib/python$py/dist-packages"
tar -C "$ctx" --owner=0 --group=0 -cf "$bctx/spark.tar" opt usr
rm -rf "$ctx"

echo "build-base: importing and assembling $image"
raw="snufkin/spark-rootfs:$(basename "$rootfs" .tar | cut -d- -f2-)"
# docker import marks an image with the daemon's own architecture (its
# --platform needs an experimental daemon), but docker load takes the
# image's config as it is: the root goes in as a one-layer image in the
# format docker save writes, its config naming the architecture.
if [ "$(docker image inspect -f '{{.Architecture}}' "$raw" 2>/dev/null)" != "$arch" ]; then
  img="$work/rootimg"
  mkdir -p "$img"
  ln "$rootfs" "$img/layer.tar" 2>/dev/null || cp "$rootfs" "$img/layer.tar"
  python3 - "$img" "$arch" "$raw" <<'PY'
import hashlib, json, sys
d, arch, tag = sys.argv[1:]
h = hashlib.sha256()
with open(d + "/layer.tar", "rb") as f:
    for b in iter(lambda: f.read(1 << 20), b""):
        h.update(b)
config = {"architecture": arch, "os": "linux", "config": {},
          "rootfs": {"type": "layers", "diff_ids": ["sha256:" + h.hexdigest()]}}
if arch == "arm64":
    config["variant"] = "v8"
config = json.dumps(config).encode()
name = hashlib.sha256(config).hexdigest() + ".json"
open(d + "/" + name, "wb").write(config)
json.dump([{"Config": name, "RepoTags": [tag], "Layers": ["layer.tar"]}], open(d + "/manifest.json", "w"))
PY
  tar -C "$img" -cf - . | docker load -q >/dev/null
  rm -rf "$img"
fi
# Earlier roots of this suite are 400 MB each; those no image is built on
# any more go.
docker images snufkin/spark-rootfs --format '{{.Repository}}:{{.Tag}}' | grep -F ":$suite-$arch-" | grep -vxF "$raw" |
  xargs -r docker rmi >/dev/null 2>&1 || true
# JAVA_HOME from the root's list rather than an assumed version and
# architecture.
java_home=$(sed -n -E 's#^\.?/?(usr/lib/jvm/java-[0-9]+-openjdk-[a-z0-9]+)/bin/java$#/\1#p' <<<"$listing" | head -n1)
[ -n "$java_home" ] || { echo "build-base: no usr/lib/jvm/java-*-openjdk-*/bin/java in $rootfs" >&2; exit 1; }
cat > "$bctx/Dockerfile" <<DOCKERFILE
FROM $raw
ADD spark.tar /
RUN chown -R 185:185 /opt/spark/work-dir && chmod 0775 /opt/spark/work-dir
ENV JAVA_HOME=$java_home \\
    SPARK_HOME=/opt/spark \\
    PATH=/opt/spark/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \\
    PYTHONPATH=/opt/spark/python/lib/pyspark.zip
WORKDIR /opt/spark/work-dir
USER spark
LABEL swarming-spark.base=$stamp org.apache.spark.version=$SPARK_VERSION swarming-spark.debian.suite=$suite
DOCKERFILE
docker build --quiet --platform "linux/$arch" -t "$image" "$bctx" >/dev/null
echo "build-base: built $image"
