#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian 12 packages vikcse needs, only those missing. Used by tests/run.sh and
# examples/run-demo.sh; safe to run again. --fuzz adds clang and its sanitizer/libFuzzer runtimes
# (tests/fuzz/run.sh, tests/sanitize/run.sh).
set -euo pipefail
packages=(build-essential cmake pkg-config libtorch-dev librange-v3-dev libfmt-dev libboost-test-dev
          nlohmann-json3-dev libutf8proc-dev libopenblas0-openmp python3-torch python3-scipy python3-numpy
          libfaiss-dev libgloo-dev libcli11-dev gnuplot-nox
          libjpeg62-turbo-dev libpng-dev python3-pil python3-torchvision)
[ "${1:-}" = "--fuzz" ] && packages+=(clang libclang-rt-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "vikcse: installing missing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
