#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A Debian 13 ("trixie") root made with debootstrap, to build and run vikcse against Debian 13's
# LibTorch 2.6 (CPU) on a Debian 12 host, whose own LibTorch is 1.13. Needs root (or sudo) and
# Debian's mirror only.
# VIKCSE_DEBIAN13_FLAVOUR=cuda makes a second root (default /var/tmp/vikcse-debian13-cuda) with the
# CUDA build instead: contrib's libtorch-cuda-dev 2.6, non-free's nvidia-cuda-toolkit 12.4 and
# libnccl-dev (about 2.7 GB to download), for compiling and linking only (tests/run-debian13-cuda.sh):
# libtorch-cuda-dev conflicts with libtorch-dev, and the root has no GPU. nvidia-cudnn's installer
# fetches cuDNN from NVIDIA, which is unreachable: its licence question is answered "I Decline"
# beforehand, which leaves libcudnn.so.9 a dangling link (programs link with
# -Wl,--allow-shlib-undefined and cannot run there).
#
#   bash cmake/debian13-root.sh make          make the root (once) and install the build dependencies
#   bash cmake/debian13-root.sh run CMD...    copy this checkout to /src/vikcse in the root (build
#                                             directories left out) and run CMD there with bash -c
#   bash cmake/debian13-root.sh remove        unmount and delete the root
#
# The root stays at VIKCSE_DEBIAN13_ROOT (default /var/tmp/vikcse-debian13), outside the checkout,
# so a second run on the same machine reuses it (and its build directory /src/build); it is made
# again when missing or incomplete. apt and LibTorch need /proc, /sys and /dev in the root: they are
# mounted for the command and unmounted when it ends, failed or not (the root's /dev is a bind mount
# of the host's: never delete a root with it mounted; `remove` unmounts first).
# Shared data: VIKCSE_DATA_DIR (default: ../shared/data beside the checkout) is bind-mounted
# read-only at /src/shared/data, so tests find it where they look in a checkout.
set -euo pipefail
flavour="${VIKCSE_DEBIAN13_FLAVOUR:-cpu}"
case "$flavour" in
  cpu) root_dir="${VIKCSE_DEBIAN13_ROOT:-/var/tmp/vikcse-debian13}" ;;
  cuda) root_dir="${VIKCSE_DEBIAN13_ROOT:-/var/tmp/vikcse-debian13-cuda}" ;;
  *) echo "debian13-root.sh: VIKCSE_DEBIAN13_FLAVOUR is '$flavour', expected cpu or cuda" >&2; exit 2 ;;
esac
src="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="${VIKCSE_DATA_DIR:-$src/../shared/data}"
mirror="${VIKCSE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# binutils-gold: the faster linker the build uses where it exists (cmake/VikcseTargets.cmake).
# libjpeg62-turbo-dev and libpng-dev: vikcse::image (both flavours compile it); python3-pil and
# python3-torchvision: image_test's reference (tests/image/reference/pillow_reference.py), CPU only.
packages=(g++ binutils-gold cmake make librange-v3-dev libfmt-dev libboost-test-dev nlohmann-json3-dev
          libutf8proc-dev libcli11-dev libopenblas0-openmp libfaiss-dev libjpeg62-turbo-dev libpng-dev)
components=main
if [ "$flavour" = cpu ]; then
  packages+=(libtorch-dev python3-torch python3-numpy python3-scipy gnuplot-nox libgloo-dev python3-pil
             python3-torchvision)
else
  packages+=(libtorch-cuda-dev nvidia-cuda-toolkit libnccl-dev libgloo-cuda-dev)
  components="main contrib non-free non-free-firmware"
fi
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo

mounts=(proc sys dev dev/pts src/shared/data)
mount_all() {
  $sudo mkdir -p "$root_dir/src/shared/data"
  mountpoint -q "$root_dir/proc" || $sudo mount -t proc proc "$root_dir/proc"
  mountpoint -q "$root_dir/sys" || $sudo mount -t sysfs sys "$root_dir/sys"
  mountpoint -q "$root_dir/dev" || $sudo mount --bind /dev "$root_dir/dev"
  mountpoint -q "$root_dir/dev/pts" || $sudo mount --bind /dev/pts "$root_dir/dev/pts"
  if [ -d "$data" ] && ! mountpoint -q "$root_dir/src/shared/data"; then
    $sudo mount --bind "$data" "$root_dir/src/shared/data"
    $sudo mount -o remount,bind,ro "$root_dir/src/shared/data"
  fi
}
unmount_all() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    mountpoint -q "$root_dir/${mounts[i]}" 2> /dev/null && $sudo umount -l "$root_dir/${mounts[i]}" || true
  done
}
in_root() {
  $sudo chroot "$root_dir" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
    DEBIAN_FRONTEND=noninteractive CI="${CI:-}" "$@"
}

make_root() {
  if [ ! -f "$root_dir/.vikcse-complete" ]; then
    command -v debootstrap > /dev/null || { $sudo apt-get update -qq && $sudo apt-get install -y -qq debootstrap; }
    unmount_all
    $sudo rm -rf "$root_dir"
    local start=$SECONDS
    $sudo debootstrap --variant=minbase trixie "$root_dir" "$mirror" > /tmp/vikcse-debootstrap.log 2>&1 ||
      { tail -20 /tmp/vikcse-debootstrap.log; echo "debian13-root.sh: debootstrap failed" >&2; exit 1; }
    echo "debian13-root.sh: debootstrap $((SECONDS - start)) s"
    echo "deb $mirror trixie $components" | $sudo tee "$root_dir/etc/apt/sources.list" > /dev/null
    echo 'APT::Install-Recommends "false";' | $sudo tee "$root_dir/etc/apt/apt.conf.d/99norecommends" > /dev/null
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$root_dir/usr/sbin/policy-rc.d" > /dev/null
    $sudo chmod +x "$root_dir/usr/sbin/policy-rc.d"
  fi
  $sudo cp /etc/resolv.conf "$root_dir/etc/resolv.conf"
  mount_all
  if [ ! -f "$root_dir/.vikcse-complete" ] || ! in_root dpkg -s "${packages[@]}" > /dev/null 2>&1; then
    local start=$SECONDS
    in_root apt-get update -qq
    if [ "$flavour" = cuda ]; then
      in_root apt-get install -y -q debconf-utils > /dev/null
      echo 'nvidia-cudnn nvidia-cudnn/question select I Decline' | in_root debconf-set-selections
    fi
    in_root apt-get install -y -q "${packages[@]}" > /tmp/vikcse-debian13-install.log 2>&1 ||
      { tail -20 /tmp/vikcse-debian13-install.log; echo "debian13-root.sh: apt-get install failed" >&2; exit 1; }
    echo "debian13-root.sh: packages installed in $((SECONDS - start)) s"
    $sudo touch "$root_dir/.vikcse-complete"
  fi
}

case "${1:-}" in
  make)
    trap unmount_all EXIT
    make_root
    in_root sh -c 'echo "debian13-root.sh: $(dpkg -l "libtorch*-dev" | awk "/^ii/ {print \$2, \$3}") in '"$root_dir"'"'
    ;;
  run)
    shift
    [ $# -gt 0 ] || { echo "usage: debian13-root.sh run CMD..." >&2; exit 2; }
    trap unmount_all EXIT
    make_root
    # A fresh copy with the files' times kept, so that the build directory /src/build stays incremental.
    $sudo rm -rf "$root_dir/src/vikcse"
    $sudo mkdir -p "$root_dir/src/vikcse"
    tar -C "$src" --exclude='./build*' --exclude=./.git -cf - . | $sudo tar -C "$root_dir/src/vikcse" -xf -
    in_root bash -c "cd /src/vikcse && $*"
    ;;
  remove)
    unmount_all
    $sudo rm -rf "$root_dir"
    ;;
  *)
    echo "usage: bash cmake/debian13-root.sh make | run CMD... | remove" >&2
    exit 2
    ;;
esac
