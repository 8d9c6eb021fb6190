#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fills DIR (default: .gpu-deps in the checkout, which git ignores) with what tests/gpu needs
# besides LibTorch, taken from this machine's Debian packages, so it can travel to a machine
# without apt (the GPU machine: CUDA, CMake, ninja and python3 with torch, nothing else):
#   include/  the headers of fmt (used header-only: FMT_HEADER_ONLY), nlohmann-json, range-v3,
#             CLI11 and utf8proc;
#   lib/      libutf8proc.a (position-independent code, so it links into a PIE program).
# Boost is not carried: the GPU programs report through their own JSON, not Boost.Test.
# The folder is made under DIR.partial and renamed when whole. Prints its size; stops above 48 MiB
# (a call to the GPU machine carries 64 MiB at most, the working tree included).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
dest="${1:-$repo/.gpu-deps}"
packages=(libfmt-dev nlohmann-json3-dev librange-v3-dev libcli11-dev libutf8proc-dev)
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    echo "carry-deps: Debian package $p is not installed (run: bash cmake/install-deps.sh)" >&2
    exit 1
  fi
done
partial="$dest.partial"
rm -rf "$partial"
mkdir -p "$partial/include" "$partial/lib"
for p in "${packages[@]}"; do
  while IFS= read -r f; do
    [[ -f "$f" ]] || continue
    case "$f" in
      /usr/include/*) rel="${f#/usr/include/}"; mkdir -p "$partial/include/$(dirname "$rel")"; cp "$f" "$partial/include/$rel" ;;
      */libutf8proc.a) cp "$f" "$partial/lib/" ;;
    esac
  done < <(dpkg -L "$p")
done
for need in fmt/format.h fmt/format-inl.h nlohmann/json.hpp range/v3/all.hpp CLI/CLI.hpp utf8proc.h; do
  [[ -f "$partial/include/$need" ]] || { echo "carry-deps: $need missing from the packages" >&2; exit 1; }
done
[[ -f "$partial/lib/libutf8proc.a" ]] || { echo "carry-deps: libutf8proc.a missing from libutf8proc-dev" >&2; exit 1; }
{
  echo "# what tests/gpu/carry-deps.sh copied, from these Debian packages"
  for p in "${packages[@]}"; do dpkg-query -W -f='${Package} ${Version}\n' "$p"; done
} > "$partial/PACKAGES"
kib=$(du -sk "$partial" | cut -f1)
if (( kib > 48 * 1024 )); then
  echo "carry-deps: $partial holds $kib KiB, above the 48 MiB kept for it" >&2
  exit 1
fi
rm -rf "$dest"
mv "$partial" "$dest"
echo "carry-deps: $dest ($kib KiB, $(find "$dest" -type f | wc -l) files)"
