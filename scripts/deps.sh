#!/usr/bin/env bash
# Install every Debian package vfstack's build, tests, demo and benchmarks need.
# Idempotent and non-interactive; enables bookworm-backports for QEMU 10.
set -euo pipefail

BACKPORTS_LIST=/etc/apt/sources.list.d/vfstack-backports.list
PKGS=(
  # build and unit tests
  build-essential pkg-config clang lld libcmocka-dev libpci-dev pciutils python3
  libnl-3-dev libnl-route-3-dev libjansson-dev binutils
  # vfctl export tests validate the libvirt XML (virt-xml-validate)
  libvirt-clients
  # testbed images
  busybox-static cpio xz-utils zstd kmod iproute2 ethtool iperf3
  # bare-metal images under Bochs
  bochs bochsbios vgabios bochs-term grub-pc-bin grub-common xorriso mtools
  # benchmarks
  gnuplot-nox dpdk-dev
  # make test-sriov renders the man page (man -l docs/vfctl.1)
  man-db
)
BACKPORT_PKGS=(qemu-system-x86 qemu-utils)

say() { printf '[deps] %s\n' "$*"; }
die() { printf '[deps] error: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root to install packages (try: sudo make deps)"
export DEBIAN_FRONTEND=noninteractive

need_update=0
if ! grep -rqs '^deb .*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/ \
   && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list.d/*.sources; then
  say "enabling bookworm-backports ($BACKPORTS_LIST)"
  echo 'deb http://deb.debian.org/debian bookworm-backports main' > "$BACKPORTS_LIST"
  need_update=1
fi

missing=()
for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
qemu_ok=0
if command -v qemu-system-x86_64 >/dev/null; then
  v=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9]*\).*/\1/p')
  [ "${v:-0}" -ge 10 ] && qemu_ok=1
fi
dpkg-query -W -f='${Status}' qemu-utils 2>/dev/null | grep -q 'ok installed' || qemu_ok=0

if [ ${#missing[@]} -eq 0 ] && [ $qemu_ok = 1 ] && [ $need_update = 0 ]; then
  say "all packages present"
  exit 0
fi

say "apt-get update"
apt-get update -qq || die "apt-get update failed: check the network path to Debian's archive"
if [ ${#missing[@]} -gt 0 ]; then
  say "installing: ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || die "apt-get install failed for: ${missing[*]} (see apt's message above; check disk space with df -h)"
fi
if [ $qemu_ok = 0 ]; then
  say "installing QEMU 10 from bookworm-backports"
  apt-get install -y -qq --no-install-recommends -t bookworm-backports "${BACKPORT_PKGS[@]}" >/dev/null \
    || die "could not install ${BACKPORT_PKGS[*]} from bookworm-backports"
fi
say "done"
