#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The one-shot GPU suite (README.md "GPU suite"). On a GPU machine that has CUDA, CMake, ninja and
# a python3 with torch and transformers but no apt and no network:
#   here:  bash tests/gpu/carry-deps.sh            # fills .gpu-deps (ignored) from Debian packages
#   there: bash tests/gpu/run.sh                    # the device tool: carry [".gpu-deps"]
# It builds tests/gpu against the LibTorch inside python3's torch (torch.utils.cmake_prefix_path),
# every other dependency from .gpu-deps, then runs, writing JSON to $OUT (default build-gpu/out):
#   1. the CUDA tests (gpu_suite checks)                                        -> checks.json
#   2. our BERT, RoBERTa and CLIP against transformers' own, fp32 and bf16     -> encoders.json
#   3. SimCSE and VIKCSE bf16 training steps, tokens/s and MFU (gpu_suite steps) -> steps.json
#   4. the same steps in PyTorch eager with transformers (peer_steps.py)        -> peer.json
# and gpu_suite.json with everything plus the goals. Exit status 0 when every stage passed.
#
# --rehearse: the same steps on the CPU with tiny shapes, Debian's LibTorch and python3-torch
# (transformers missing there: the torch.nn references of tests/encoder and tests/vision stand in),
# so the script cannot rot while no GPU is lent; CTest runs it (gpu_suite_rehearsal).
# Options: --out DIR, --build DIR (default build-gpu/build), --deps DIR (default .gpu-deps),
#          --python EXE (default: python3; rehearsal: /usr/bin/python3 when present), --jobs N.
set -uo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
rehearse=0
out="${OUT:-$repo/build-gpu/out}"
build="$repo/build-gpu/build"
deps="$repo/.gpu-deps"
python=""
jobs="$(nproc)"
while (($#)); do
  case "$1" in
    --rehearse) rehearse=1 ;;
    --out) out="$2"; shift ;;
    --build) build="$2"; shift ;;
    --deps) deps="$2"; shift ;;
    --python) python="$2"; shift ;;
    --jobs) jobs="$2"; shift ;;
    -h|--help) sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "run.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
if [[ -z "$python" ]]; then
  python=python3
  ((rehearse)) && [[ -x /usr/bin/python3 ]] && python=/usr/bin/python3
fi
mkdir -p "$out" "$build"
out="$(cd "$out" && pwd)"
work="$build/work"
log="$out/log.txt"
: > "$log"
say() { echo "$@" | tee -a "$log"; }
started=$SECONDS
declare -A status=()

# Runs stage NAME with a time limit of SECONDS: the command's output goes to the log and the screen.
stage() {
  local name="$1" limit="$2"
  shift 2
  say "== $name (limit ${limit}s): $*"
  local t0=$SECONDS
  timeout --kill-after=10 "$limit" "$@" 2>&1 | tee -a "$log"
  local rc=${PIPESTATUS[0]}
  if ((rc == 0)); then status[$name]="pass ($((SECONDS - t0)) s)"; else status[$name]="FAILED (exit $rc, $((SECONDS - t0)) s)"; fi
  say "== $name: ${status[$name]}"
  return "$rc"
}

device=cuda
shape_flag=()
if ((rehearse)); then
  device=cpu
  shape_flag=(--rehearse)
  export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
  [[ -f "$deps/include/fmt/format.h" ]] || bash "$repo/tests/gpu/carry-deps.sh" "$deps" | tee -a "$log"
elif [[ ! -f "$deps/include/fmt/format.h" ]]; then
  say "run.sh: $deps is missing: run 'bash tests/gpu/carry-deps.sh' on the CPU machine and carry .gpu-deps"
  exit 2
fi
threads=0
((rehearse)) && threads=1

prefix="$("$python" -c 'import os, torch.utils as u; p = u.cmake_prefix_path; print(p if os.path.exists(os.path.join(p, "Torch", "TorchConfig.cmake")) else "")' 2>/dev/null)"
say "python: $python ($("$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available())' 2>&1))"
say "LibTorch: ${prefix:-found by find_package in the default paths}"
generator=()
command -v ninja > /dev/null && generator=(-G Ninja)
configure=(cmake -S "$repo/tests/gpu" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release
           "-DVIKCSE_GPU_DEPS=$deps")
# The rehearsal times nothing: its program is optimised at -O1 (as the project's tests), which
# compiles in about a third less time than Release's -O3 on the CI's 2 cores.
((rehearse)) && configure+=("-DCMAKE_CXX_FLAGS_RELEASE=-O1 -DNDEBUG")
[[ -n "$prefix" ]] && configure+=("-DCMAKE_PREFIX_PATH=$prefix")
if stage configure 300 "${configure[@]}" && stage build 420 cmake --build "$build" -j "$jobs"; then
  suite="$build/gpu_suite"
  rm -rf "$work"
  mkdir -p "$work"
  stage checks 120 "$suite" checks --device "$device" --threads "$threads" --out "$out/checks.json"
  stage encoders 240 bash -c "'$suite' encoders --device '$device' ${shape_flag[*]} --threads $threads --out '$work/encoders' && '$python' '$repo/tests/gpu/compare_encoders.py' '$work/encoders' --device '$device' ${shape_flag[*]} --out '$out/encoders.json'"
  stage steps 300 "$suite" steps --device "$device" "${shape_flag[@]}" --threads "$threads" --out "$work/steps" &&
    cp "$work/steps/steps.json" "$out/steps.json"
  peer_threads=()
  ((rehearse)) && peer_threads=(--threads 1)
  stage peer 300 "$python" "$repo/tests/gpu/peer_steps.py" "$work/steps" --device "$device" "${shape_flag[@]}" \
    "${peer_threads[@]}" --out "$out/peer.json"
fi
args=()
failed=0
for name in configure build checks encoders steps peer; do
  args+=("$name=${status[$name]:-not run}")
  [[ "${status[$name]:-not run}" == pass* ]] || failed=1
done
"$python" "$repo/tests/gpu/summarize.py" "$out" "${args[@]}" | tee -a "$log"
verdict=passed
((failed)) && verdict=FAILED
where=""
((rehearse)) && where=" (rehearsal on the CPU)"
say "GPU suite: $verdict in $((SECONDS - started)) s$where"
exit "$failed"
