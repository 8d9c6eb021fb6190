#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs what is missing, builds everything and runs the whole test suite.
# Usage: bash tests/run.sh            (build dir: build/, data: ../shared/data or $VIKCSE_DATA_DIR)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/cmake/install-deps.sh"
jobs="$(nproc)"
# -O3 stated, since examples/run-demo.sh leaves -O1 in the shared build/ directory's cache.
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O3 -DNDEBUG" \
      -DVIKCSE_BUILD_TESTS=ON -DVIKCSE_BUILD_EXAMPLES=ON -DVIKCSE_BUILD_BENCHMARKS=ON -DVIKCSE_PRECOMPILED_HEADERS=ON
cmake --build "$root/build" -j "$jobs"
cd "$root/build"
source "$root/cmake/openblas-env.sh"  # OpenBLAS's fast kernels on CPUs it does not recognise
# One intra-op thread per test: ctest runs $jobs tests at once, and LibTorch's OpenMP threads would
# otherwise oversubscribe the cores (the suite then takes several times longer).
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" ctest --output-on-failure --no-tests=error -j "$jobs"
