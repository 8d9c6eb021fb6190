#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Fuzzing (a CI row): builds every libFuzzer target (tests/fuzz/fuzz_*.cpp) with Debian's clang,
# AddressSanitizer and UndefinedBehaviorSanitizer; replays the committed regression inputs
# (tests/fuzz/regressions/<target>/, each once a crash, now fixed); then fuzzes each target for
# VIKCSE_FUZZ_SECONDS seconds (default 30), two at a time, from its committed seeds
# (tests/fuzz/seeds/<target>/) plus excerpts of the shared data written at run time.
# A target must return or throw the project's typed error: a crash, a sanitizer report, a foreign
# exception, an allocation over 256 MiB (-malloc_limit_mb) or 10 s on one input fails the run, and
# the input is kept in build-fuzz/artifacts/ to be committed as a regression once fixed.
# Prints each target's executions per second and its new coverage units.
# Usage: bash tests/fuzz/run.sh   (VIKCSE_DATA_DIR: the shared data, default ../shared/data)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tests/fuzz"
data="${VIKCSE_DATA_DIR:-$root/../shared/data}"
out="${VIKCSE_FUZZ_BUILD:-$root/build-fuzz}"
seconds="${VIKCSE_FUZZ_SECONDS:-30}"
bash "$root/cmake/install-deps.sh" --fuzz
if [ ! -d "$data/tokenizers" ]; then
  echo "tests/fuzz/run.sh: the shared data is missing at $data (set VIKCSE_DATA_DIR)" >&2
  exit 1
fi
mkdir -p "$out/bin" "$out/artifacts"
export VIKCSE_DATA_DIR="$data"
targets=()
for source in "$here"/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done

# --- build: clang++, both sanitizers, fuzzer main; two compilers at a time ---
# (every target links libjpeg and libpng for fuzz_image, the image layer's decoders; the others
# do not use them)
start=$(date +%s)
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} sh -c \
  'clang++ -std=c++20 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
     -I"$1/include" -I"$2" "$2/{}.cpp" -lfmt -lutf8proc -ljpeg -lpng -o "$3/bin/{}" || { echo "build of {} failed" >&2; exit 255; }' \
  _ "$root" "$here" "$out"
echo "fuzz: built ${#targets[@]} targets in $(($(date +%s) - start)) s"

# --- seeds from the shared data (not committed: they stay in ../shared) ---
"${PYTHON:-/usr/bin/python3}" "$here/make_seeds.py" "$data" "$out/corpus"

# --- regressions: every committed input must now pass ---
for t in "${targets[@]}"; do
  if compgen -G "$here/regressions/$t/*" > /dev/null; then
    "$out/bin/$t" -runs=0 -malloc_limit_mb=256 -rss_limit_mb=2048 "$here"/regressions/"$t"/* > "$out/$t.regressions.log" 2>&1 ||
      { echo "FAIL: $t: a regression input fails again:"; tail -30 "$out/$t.regressions.log"; exit 1; }
    echo "fuzz: $t: $(ls "$here/regressions/$t" | wc -l) regression inputs pass"
  fi
done

# --- fuzz each target for $seconds ---
run_one() {
  local t=$1 out=$2 here=$3 seconds=$4
  mkdir -p "$out/corpus/$t"
  local seeds=()
  [ -d "$here/seeds/$t" ] && seeds+=("$here/seeds/$t")
  "$out/bin/$t" -max_total_time="$seconds" -timeout=10 -malloc_limit_mb=256 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" "$out/corpus/$t" "${seeds[@]}" > "$out/$t.log" 2>&1
}
export -f run_one
status=0
printf '%s\n' "${targets[@]}" | xargs -P 2 -I{} bash -c 'run_one "$@"' _ {} "$out" "$here" "$seconds" || status=$?
printf '\n| target | executions | exec/s | new units | peak RSS MiB | result |\n|---|---|---|---|---|---|\n'
for t in "${targets[@]}"; do
  stat() { sed -n "s/^stat::$1: *//p" "$out/$t.log" | tail -1; }
  result=ok
  grep -qE "ERROR: (libFuzzer|AddressSanitizer|UndefinedBehaviorSanitizer)|runtime error:|foreign exception|SUMMARY: " \
    "$out/$t.log" && result=FAILED
  echo "| $t | $(stat number_of_executed_units) | $(stat average_exec_per_sec) | $(stat new_units_added) |" \
       "$(stat peak_rss_mb) | $result |"
  if [ "$result" != ok ]; then
    status=1
    echo "--- $t: the end of its log ($out/$t.log); the input is in $out/artifacts/ ---"
    tail -40 "$out/$t.log"
  fi
done
echo "fuzz: ${seconds} s per target; $([ "$status" = 0 ] && echo "no crash" || echo "CRASHES FOUND")"
exit "$status"
