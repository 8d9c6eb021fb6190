#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: install the dependencies, build vikcse_demo in build/ and run it on the demo data
# it makes itself. Extra arguments go to vikcse_demo (e.g. --steps 100, or the real-data flags
# --model DIR --corpus FILE --kb FILE --senteval DIR).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$root/cmake/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DVIKCSE_BUILD_TESTS=OFF -DVIKCSE_BUILD_BENCHMARKS=OFF
cmake --build "$root/build" --target vikcse_demo -j"$(nproc)"
exec "$root/build/examples/vikcse_demo" "$@"
