#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sanitizers on the test suite (a CI row): builds the fast tests that do not include LibTorch (the
# tokenizers against Hugging Face's ids, SentEval readers and metrics, retrieval metrics, templates,
# progress, crash safety; the image layer's decoders, EXIF readers, resampling and pipelines against
# Pillow, whose reference run ctest adds as image_test's fixture) with
# -fsanitize=address,undefined in build-sanitize/ and runs them. The tests that include LibTorch are
# left out: LibTorch itself is not instrumented, and its headers cost minutes per file to build
# again; their parsers' torch-free cores run under the sanitizers here and in tests/fuzz/run.sh.
# tokenizer_unit_test and tokenizer_corpus_test are left out for CI time (9 files to compile; the
# same tokenizer code runs here in tokenizer_reference_test and under the fuzzer); name them in
# VIKCSE_SANITIZE_TESTS to add them.
# No finding is suppressed: a report fails the run.
# Usage: bash tests/sanitize/run.sh   (VIKCSE_DATA_DIR: the shared data, default ../shared/data)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
out="${VIKCSE_SANITIZE_BUILD:-$root/build-sanitize}"
bash "$root/cmake/install-deps.sh"
tests=(tokenizer_reference_test eval_correlation_test eval_senteval_data_test eval_progress_test eval_retrieval_test
       methods_templates_test methods_crash_safety_test image_test ${VIKCSE_SANITIZE_TESTS:-})
flags="-O1 -g1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
mkdir -p "$out"
cmake -S "$root" -B "$out" -DCMAKE_BUILD_TYPE=None -DVIKCSE_BUILD_EXAMPLES=OFF \
      -DVIKCSE_BUILD_BENCHMARKS=OFF -DVIKCSE_PRECOMPILED_HEADERS=OFF -DCMAKE_CXX_FLAGS="$flags" \
      -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" > "$out/configure.log" 2>&1 ||
  { cat "$out/configure.log"; exit 1; }
start=$(date +%s)
cmake --build "$out" -j "$(nproc)" --target "${tests[@]}"
echo "sanitize: built ${#tests[@]} tests in $(($(date +%s) - start)) s"
regex="^($(IFS='|'; echo "${tests[*]}"))\$"
# (ctest also runs the fixtures the selected tests require: image_pillow_reference, Pillow's outputs
# for image_test, written by Debian's python3 before it; libjpeg and libpng are not instrumented, so
# the sanitizers watch the image layer's own code and its calls into them.)
cd "$out"
# detect_leaks: LeakSanitizer is on by default; halt_on_error: the first report fails the test.
ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:abort_on_error=1" UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1" \
  OMP_NUM_THREADS=1 ctest -R "$regex" --output-on-failure --no-tests=error -j "$(nproc)"
