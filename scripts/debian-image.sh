#!/usr/bin/env bash
# A Debian bookworm image with some packages, made by mmdebstrap from the
# host's apt sources (as the base image is) and imported into the local
# engine: no registry. The root is kept in the cache and the image tagged
# REPO:HASH of what went in, so a second call costs nothing. Prints the
# image's name.
#
# usage: scripts/debian-image.sh REPO PKG[,PKG...]
#   e.g. scripts/debian-image.sh snufkin/prometheus prometheus,ca-certificates
set -euo pipefail

cache=${SPARK_CACHE_DIR:-/var/cache/swarming-spark}
sources=${APT_SOURCES:-/etc/apt/sources.list.d/debian.sources}
[ -r "$sources" ] || sources=/etc/apt/sources.list

usage() { echo "debian-image: $*" >&2; echo "usage: debian-image.sh REPO PKG[,PKG...]" >&2; exit 64; }
[ $# -eq 2 ] || usage "want 2 arguments, got $#"
repo=$1 include=$2
case "$repo" in '' | *[!a-z0-9/._-]*) usage "REPO=$repo is not an image repository name" ;; esac
case "$include" in '' | *[!a-z0-9.+,-]*) usage "PKG=$include is not a comma-separated list of package names" ;; esac

slim='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/usr/share/doc/* "$1"/usr/share/man/*'
stamp=$(printf '%s\n' "$include" "$slim" | sha256sum | cut -c1-12)
image=$repo:$stamp
name=${repo##*/}
if ! docker image inspect "$image" >/dev/null 2>&1; then
  rootfs="$cache/rootfs-$name-bookworm-$stamp.tar"
  if [ ! -s "$rootfs" ]; then
    echo "debian-image: making a Debian root with $include (mmdebstrap)" >&2
    mkdir -p "$cache"
    work=$(mktemp -d "$cache/$name.XXXXXX")
    trap 'rm -rf "$work"' EXIT
    # The host's sources name its suite; the images run bookworm as the base does.
    sed -E 's/\b(trixie)(-updates|-security)?\b/bookworm\2/g' "$sources" >"$work/$(basename "$sources")"
    mmdebstrap --variant=apt --quiet --include="$include" --customize-hook="$slim" \
      bookworm "$work/rootfs.tar" "$work/$(basename "$sources")" || { echo "debian-image: mmdebstrap failed" >&2; exit 1; }
    mv "$work/rootfs.tar" "$rootfs"
    find "$cache" -maxdepth 1 -name "rootfs-$name-bookworm-*.tar" ! -path "$rootfs" -delete
  fi
  docker import "$rootfs" "$image" >/dev/null
  docker images "$repo" --format '{{.Repository}}:{{.Tag}}' | grep -vxF "$image" | xargs -r docker rmi >/dev/null 2>&1 || true
fi
echo "$image"
