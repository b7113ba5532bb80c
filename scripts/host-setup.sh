#!/usr/bin/env bash
# Makes this machine able to build and run the images: Debian's Docker
# engine, docker-compose 1.x, mmdebstrap for the base image, and the tools
# the tests compare with or run (tini, dumb-init, dnsmasq, unshare), and
# Maven for the S3A jars. Installs
# only what is missing, then starts dockerd unless one already answers.
set -euo pipefail

pkgs=(docker.io docker-compose mmdebstrap dnsmasq-base tini dumb-init iproute2 util-linux procps curl libcap2-bin)
# Maven resolves hadoop-aws and the jars its POM names (make images-s3).
command -v mvn >/dev/null || pkgs+=(maven)
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
