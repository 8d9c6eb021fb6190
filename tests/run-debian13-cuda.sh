#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The CUDA row of the build matrix: every target (tests, programs, benchmarks) and the GPU suite's
# program compiled and linked against Debian 13's CUDA build of LibTorch 2.6 (libtorch-cuda-dev,
# nvidia-cuda-toolkit 12.4, libnccl-dev), in a Debian 13 root of its own (cmake/debian13-root.sh with
# VIKCSE_DEBIAN13_FLAVOUR=cuda: about 2.7 GB to download, 12 GB installed). Nothing runs: the root has
# no GPU, and the cuDNN library that libtorch_cuda.so needs cannot be downloaded (NVIDIA's server is
# unreachable), so the programs link with -Wl,--allow-shlib-undefined. The header self-check stays
# with the Debian 12 row. Nothing is optimised (no build type, -O0): this row asks whether the code
# compiles and links against CUDA LibTorch, which does not depend on the -O level, and -O0 halves the
# compile time on the CI's 2 cores. The root's build directories stay between runs.
# Usage: bash tests/run-debian13-cuda.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jobs="$(nproc)"
VIKCSE_DEBIAN13_FLAVOUR=cuda bash "$root/cmake/debian13-root.sh" run "
  set -e
  echo \"tests/run-debian13-cuda.sh: \$(dpkg-query -W -f '\${Package} \${Version}' libtorch-cuda-dev), \$(nvcc --version | tail -1)\"
  link=-Wl,--allow-shlib-undefined
  cmake -Wno-dev -S . -B /src/build -DCMAKE_BUILD_TYPE= -DVIKCSE_BUILD_TESTS=ON -DVIKCSE_BUILD_EXAMPLES=ON \
        -DVIKCSE_BUILD_BENCHMARKS=ON -DVIKCSE_HEADER_CHECK=OFF -DVIKCSE_PRECOMPILED_HEADERS=ON \
        -DCMAKE_EXE_LINKER_FLAGS=\$link > /dev/null
  cmake --build /src/build -j $jobs
  bash tests/gpu/carry-deps.sh /src/gpu-deps
  cmake -Wno-dev -S tests/gpu -B /src/build-gpu -DCMAKE_BUILD_TYPE= -DVIKCSE_GPU_DEPS=/src/gpu-deps \
        -DCMAKE_EXE_LINKER_FLAGS=\$link > /dev/null
  cmake --build /src/build-gpu -j $jobs
  grep -q 'VIKCSE_GPU_SUITE_CUDA=1' /src/build-gpu/CMakeFiles/gpu_suite.dir/flags.make ||
    { echo 'the GPU suite was built without its CUDA checks (VIKCSE_GPU_SUITE_CUDA)' >&2; exit 1; }
  echo 'tests/run-debian13-cuda.sh: every target compiled and linked against CUDA LibTorch (not run: no GPU here)'"
