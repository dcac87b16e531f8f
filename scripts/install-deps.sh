#!/bin/sh
# Install every Debian package that isola's build, tests and benchmarks need.
# Idempotent: packages already present are not fetched again. Run as root.
set -eu

# libcurl4 and libarchive13 are opened with dlopen() when a command needs them
# (src/util/dl.h), not linked: listed on their own, not only as the -dev
# packages' dependencies.
# golang-github-containers-common (podman depends on it too): its seccomp.json
# is what scripts/gen-seccomp-default.py turns into the built-in default
# profile; isola does not read it at run time.
# dnsmasq-base: the DNS server of each user network (docs/networks.md, "DNS");
# the binary only, no system service.
# libcairo2 is opened with dlopen() by `isola compare --output` (charts), like
# libcurl; fonts-dejavu-core is the charts' font; python3-jsonschema and
# python3-pil check the report and the PNG in tests/integration/test_compare.py.
# docker.io: bench/engine.sh runs a private dockerd (its own data/exec root and
# socket, --bridge none --iptables=false) as a peer; nothing else needs it.
PKGS="
  build-essential meson ninja-build pkg-config clang clang-format
  libjansson-dev libseccomp-dev libcap-dev libarchive-dev
  libzstd-dev liblzma-dev zlib1g-dev libssl-dev libcurl4-openssl-dev libsqlite3-dev
  libnl-3-dev libnl-route-3-dev libnftables-dev
  libcurl4 libarchive13 libnl-3-200 libnl-route-3-200 libnftables1
  libcairo2-dev libcairo2 fonts-dejavu-core python3-jsonschema python3-pil
  busybox-static python3 python3-pytest
  iproute2 util-linux procps iptables nftables cpio e2fsprogs kmod strace
  crun runc podman containerd skopeo umoci docker-registry openssl docker.io
  golang-github-containers-common
  qemu-system-x86 hyperfine time
  nfs-kernel-server
  dnsmasq-base
"

missing=""
for p in $PKGS; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing="$missing $p"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: missing packages:$missing; run as root to install them" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing:$missing" >&2
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
