#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The test suite against Debian 13's LibTorch 2.6 (CPU): a CI row beside tests/run.sh (Debian 12,
# LibTorch 1.13). Makes the Debian 13 root when it is missing (cmake/debian13-root.sh: debootstrap
# and the packages, about 5 minutes), copies this checkout into it, builds the tests and programs
# there (benchmarks and the header self-check are left to the Debian 12 row) and runs ctest with one
# intra-op thread per test. The programs are optimised at -O1 here, as the tests are everywhere: this
# row asks whether LibTorch 2.6 and GCC 14 build and pass the suite, and -O1 saves CI time. The
# root's build directory, /src/build, stays between runs.
# Usage: bash tests/run-debian13.sh   (data: ../shared/data or $VIKCSE_DATA_DIR, mounted read-only)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="$(nproc)"
bash "$root/cmake/debian13-root.sh" run "
  set -e
  echo \"tests/run-debian13.sh: LibTorch \$(dpkg-query -W -f '\${Version}' libtorch-dev)\"
  cmake -S . -B /src/build -DCMAKE_BUILD_TYPE=Release -DVIKCSE_BUILD_TESTS=ON -DVIKCSE_BUILD_EXAMPLES=ON \
        -DVIKCSE_BUILD_BENCHMARKS=OFF -DVIKCSE_HEADER_CHECK=OFF -DVIKCSE_PRECOMPILED_HEADERS=ON \
        '-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG' > /dev/null
  cmake --build /src/build -j $jobs
  source cmake/openblas-env.sh
  cd /src/build
  OMP_NUM_THREADS=1 ctest --output-on-failure --no-tests=error -j $jobs"
