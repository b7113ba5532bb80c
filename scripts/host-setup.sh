#!/usr/bin/env bash
# Makes this machine able to build and run the images: Debian's Docker
# engine, docker-compose 1.x, mmdebstrap for the base image, and the tools
# the tests compare with or run (tini, dumb-init, dnsmasq, unshare),
# Maven for the S3A jars, and QEMU for images of another architecture. Installs
# only what is missing, then starts dockerd unless one already answers.
set -euo pipefail

pkgs=(docker.io docker-compose mmdebstrap dnsmasq-base tini dumb-init iproute2 util-linux procps curl libcap2-bin)
# Maven resolves hadoop-aws and the jars its POM names (make images-s3).
command -v mvn >/dev/null || pkgs+=(maven)
# Images of another architecture (ARCH, make images-arm64) run their build
# steps under QEMU's user-mode emulator, registered with the kernel's
# binfmt_misc with the fix-binary flag, so that it works in containers.
host_arch=$(dpkg --print-architecture)
foreign=""
case "${ARCH:-$host_arch}" in
  "$host_arch") ;;
  arm64) foreign=qemu-aarch64 ;;
  amd64) foreign=qemu-x86_64 ;;
  *) echo "host-setup: ARCH=$ARCH is not amd64 or arm64" >&2; exit 64 ;;
esac
[ -z "$foreign" ] || pkgs+=(qemu-user-static binfmt-support)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "host-setup: missing packages ${missing[*]}; run as root or install them" >&2
    exit 1
  fi
  echo "host-setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -n "$foreign" ] && [ ! -e "/proc/sys/fs/binfmt_misc/$foreign" ]; then
  [ -e /proc/sys/fs/binfmt_misc/register ] || mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  update-binfmts --enable "$foreign"
  [ -e "/proc/sys/fs/binfmt_misc/$foreign" ] || { echo "host-setup: the kernel did not take the $foreign binfmt handler" >&2; exit 1; }
  echo "host-setup: $foreign registered with binfmt_misc"
fi

if ! docker info >/dev/null 2>&1; then
  echo "host-setup: starting dockerd"
  setsid dockerd >/var/log/dockerd.log 2>&1 </dev/null &
  for _ in $(seq 60); do
    docker info >/dev/null 2>&1 && break
    sleep 1
  done
  docker info >/dev/null 2>&1 || { echo "host-setup: dockerd did not start:" >&2; tail -20 /var/log/dockerd.log >&2; exit 1; }
fi
echo "host-setup: docker $(docker info -f '{{.ServerVersion}}' 2>/dev/null) ready"
