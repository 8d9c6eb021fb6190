#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: install the dependencies, build ONLY vikcse_demo in build/ and run it: every method
# of the library trained on the small world it makes itself (README.md, "The demo"), over 3 seeds;
# it prints the comparison table, the criteria with whether this run met them, and the paths of a
# picture and a JSON file. Extra arguments go to vikcse_demo (e.g. --seeds 1 --steps 100, or
# --methods simcse,mcse; vikcse_demo --help lists all).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start=$(date +%s)
bash "$root/cmake/install-deps.sh"
# -O1: the demo's time goes into LibTorch's kernels, not into this program's code; -O1 compiles it
# in about two thirds of the time of -O3 and prints the same table (tests/run.sh sets -O3 again).
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
  -DVIKCSE_BUILD_TESTS=OFF -DVIKCSE_BUILD_BENCHMARKS=OFF -DVIKCSE_BUILD_EXAMPLES=ON -DVIKCSE_PRECOMPILED_HEADERS=OFF
cmake --build "$root/build" --target vikcse_demo -j"$(nproc)"
built=$(date +%s)
source "$root/cmake/openblas-env.sh"  # OpenBLAS's fast kernels on CPUs it does not recognise
# Intra-op threads: the hardware's (vikcse::configure_threads), or OMP_NUM_THREADS when set; the
# demo's width-64 encoder trains faster on two threads than on one.
"$root/build/examples/vikcse_demo" --out "$root/build/vikcse-demo-out" "$@"
end=$(date +%s)
cat <<EOF

run-demo.sh: build $((built - start)) s, demo run $((end - built)) s.
The numbers above come from the DEMO WORLD the program made (README.md, "The demo").
The paper-table programs on real data (SimCSE, PromptBERT, MCSE, VIKCSE with the reference
hyper-parameters, our row beside the paper's): build target vikcse_reproduce, see vikcse_reproduce --help.
EOF
