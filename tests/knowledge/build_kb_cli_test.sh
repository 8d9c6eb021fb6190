#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vikcse_build_kb end to end on the 15 photos of ../shared/data/images with a tiny random CLIP (written
# by knowledge_stage1_test) and torchvision's random ResNet-50 (written by vision_resnet_reference):
# the knowledge-base file, --eval's table and JSON, a run killed with SIGKILL that resumes to the same
# bytes as an unbroken run, --resnet's 2048-d features, and every bad input with its message and status.
# Usage: build_kb_cli_test.sh VIKCSE_BUILD_KB KNOWLEDGE_STAGE1_TEST RESNET_REFERENCE_DIR
set -euo pipefail
build_kb="$1"
stage1_test="$2"
resnet_dir="$3"
data="${VIKCSE_DATA_DIR:-${VIKCSE_DATA_DIR_DEFAULT:-}}"
if [[ -z "$data" || ! -d "$data/images" ]]; then
  [[ "${CI:-}" == "true" ]] && { echo "FAIL: no data directory under CI"; exit 1; }
  echo "SKIPPED: no data directory"; exit 77
fi
python=/usr/bin/python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
expect() {  # expect STATUS MESSAGE -- command...: the command exits STATUS and prints MESSAGE
  local status="$1" message="$2"; shift 3
  set +e; "$@" >"$work/out" 2>&1; local got=$?; set -e
  [[ $got -eq $status ]] || { cat "$work/out"; fail "'$*' exited $got, expected $status"; }
  grep -qF -- "$message" "$work/out" || { cat "$work/out"; fail "'$*' did not say '$message'"; }
}
# shape NAME FILE: prints the shape of tensor NAME in a safetensors file, as "15x16"
shape() {
  "$python" - "$1" "$2" <<'PY'
import json, struct, sys
with open(sys.argv[2], "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
print("x".join(str(d) for d in header[sys.argv[1]]["shape"]))
PY
}

OMP_NUM_THREADS=1 "$stage1_test" --run_test=write_tiny_clip_checkpoint -- --tiny-clip-out "$work/clip" >/dev/null
head -n 15 "$data/corpora/flickr30k-captions.txt" > "$work/captions.txt"
run=("$build_kb" --threads 1 --no-progress --clip "$work/clip" --images "$data/images" --captions "$work/captions.txt")

# the knowledge base, with text features
"${run[@]}" --out "$work/kb.safetensors" --text-features --batch-size 4 2>"$work/log" || { cat "$work/log"; fail "build"; }
[[ "$(shape features "$work/kb.safetensors")" == "15x16" ]] || fail "features shape"
[[ "$(shape text_features "$work/kb.safetensors")" == "15x16" ]] || fail "text_features shape"
[[ "$(shape caption_rows "$work/kb.safetensors")" == "15" ]] || fail "caption_rows shape"
[[ ! -e "$work/kb.safetensors.partial" ]] || fail "the resume directory was left behind"
grep -q "wrote $work/kb.safetensors: features \[15, 16\], text_features \[15, 16\]" "$work/log" || fail "summary line"

# bfloat16 autocast (knowledge_stage1_test bounds its values; here the program path)
"${run[@]}" --out "$work/bf16.safetensors" --bf16 --batch-size 8 2>"$work/log" || { cat "$work/log"; fail "bf16"; }
grep -q "(bf16 autocast)" "$work/log" || fail "bf16 not announced"
[[ "$(shape features "$work/bf16.safetensors")" == "15x16" ]] || fail "bf16 features shape"

# fine-tuning CLIP first (a few steps at a large learning rate, so that the weights surely move)
"${run[@]}" --out "$work/ft-kb.safetensors" --batch-size 8 --finetune "$work/ft" --finetune-validation 3 \
  --finetune-batch-size 4 --finetune-max-steps 6 --finetune-eval-steps 2 --finetune-warmup 2 --finetune-lr 1e-3 \
  2>"$work/log" || { cat "$work/log"; fail "fine-tune"; }
grep -q "fine-tuning CLIP on 12 pairs, validating on 3" "$work/log" || { cat "$work/log"; fail "fine-tune split"; }
grep -q "fine-tuned CLIP saved in $work/ft" "$work/log" || { cat "$work/log"; fail "fine-tune summary"; }
for f in config.json model.safetensors tokenizer.json preprocessor_config.json finetune_report.json; do
  [[ -e "$work/ft/$f" ]] || fail "the fine-tuned directory lacks $f"
done
"$python" -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['validation_steps']==[2,4,6][:len(j['validation_steps'])] and j['best_step'] in (2,4,6), j" \
  "$work/ft/finetune_report.json" || fail "fine-tune report"
"$python" - "$work/kb.safetensors" "$work/ft-kb.safetensors" <<'PY' || fail "the fine-tuned knowledge base equals the original"
import json, struct, sys
def features(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        h = json.loads(f.read(n))
        b, e = h["features"]["data_offsets"]
        f.seek(8 + n + b)
        return f.read(e - b)
assert features(sys.argv[1]) != features(sys.argv[2])
PY

# the reference's variant: bias-free projectors into 8 dimensions trained on the pairs
"${run[@]}" --out "$work/proj.safetensors" --projection-dim 8 --text-features 2>"$work/log" || { cat "$work/log"; fail "projection"; }
[[ "$(shape features "$work/proj.safetensors")" == "15x8" ]] || fail "projected features shape"
[[ "$(shape text_features "$work/proj.safetensors")" == "15x8" ]] || fail "projected text features shape"
grep -q "projectors: epoch 20 loss" "$work/log" || { cat "$work/log"; fail "projector epochs"; }

# ... and with --finetune: CLIP's projections replaced by new ones into 8 dimensions, fine-tuned with all of CLIP
"${run[@]}" --out "$work/ftproj.safetensors" --batch-size 8 --projection-dim 8 --finetune "$work/ftproj" \
  --finetune-validation 3 --finetune-batch-size 4 --finetune-max-steps 2 --finetune-eval-steps 2 --finetune-warmup 1 \
  2>"$work/log" || { cat "$work/log"; fail "fine-tune with projections"; }
grep -q "CLIP's projections replaced by new bias-free ones into 8 dimensions" "$work/log" || fail "no replacement"
[[ "$(shape features "$work/ftproj.safetensors")" == "15x8" ]] || fail "fine-tuned projected features shape"
[[ "$(shape visual_projection.weight "$work/ftproj/model.safetensors")" == "8x32" ]] || fail "saved projection shape"

# the zero-shot retrieval check
"${run[@]}" --eval --eval-json "$work/eval.json" >"$work/table" 2>/dev/null
grep -q "| image → text |" "$work/table" || fail "no table"
"$python" -c "import json,sys; j=json.load(open(sys.argv[1])); assert j['pairs']==15 and set(j['image_to_text'])=={'R@1','R@5','R@10'}" \
  "$work/eval.json" || fail "eval JSON"

# killed with SIGKILL mid-run, then resumed: the same bytes as a run that was never stopped
for _ in 1 2 3 4 5 6 7 8; do ls "$data"/images/*.{jpg,png}; done > "$work/many.txt"
for _ in 1 2 3 4 5 6 7 8; do cat "$work/captions.txt"; done > "$work/many-captions.txt"
many=("$build_kb" --threads 1 --no-progress --clip "$work/clip" --images "$work/many.txt"
      --captions "$work/many-captions.txt" --batch-size 2 --decode-threads 1)
"${many[@]}" --out "$work/straight.safetensors" 2>/dev/null
"${many[@]}" --out "$work/killed.safetensors" 2>/dev/null &
pid=$!
for _ in $(seq 1 600); do
  [[ -e "$work/killed.safetensors.partial/batch-000004.safetensors" ]] && break
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
if [[ -e "$work/killed.safetensors" ]]; then
  echo "note: the run finished before it could be killed; resumption not exercised by the kill"
else
  [[ -e "$work/killed.safetensors.partial/manifest.json" ]] || fail "no resume directory after the kill"
  "${many[@]}" --out "$work/killed.safetensors" 2>"$work/log" || { cat "$work/log"; fail "resume"; }
  grep -q "resumed: .* finished batches taken from" "$work/log" || { cat "$work/log"; fail "did not resume"; }
fi
cmp "$work/straight.safetensors" "$work/killed.safetensors" || fail "the resumed file differs from the straight one"

# MCSE's ResNet-50 features (torchvision's random resnet50 from vision_resnet_reference)
"$build_kb" --threads 1 --no-progress --resnet "$resnet_dir/resnet50" --images "$data/images" --batch-size 8 \
  --out "$work/mcse.safetensors" 2>"$work/log" || { cat "$work/log"; fail "resnet"; }
[[ "$(shape features "$work/mcse.safetensors")" == "15x2048" ]] || fail "resnet features shape"

# bad inputs: the message names what is wrong; 2 for a wrong command line, 1 for wrong data
expect 2 "--clip needs --captions" -- "$build_kb" --clip "$work/clip" --images "$data/images" --out "$work/x.safetensors"
expect 2 "give a model: --clip DIR or --resnet PATH" -- "$build_kb" --images "$data/images" --out "$work/x.safetensors"
expect 2 "nothing to do" -- "${run[@]}"
expect 2 "expected a .safetensors or .npy file name" -- "${run[@]}" --out "$work/kb.txt"
expect 2 "--text-features needs a .safetensors --out" -- "${run[@]}" --out "$work/kb.npy" --text-features
expect 2 "--images: Path does not exist" -- "$build_kb" --clip "$work/clip" --images "$work/nowhere" --captions "$work/captions.txt" --out "$work/x.npy"
expect 2 "'tpu' is not a device" -- "${run[@]}" --out "$work/x.npy" --device tpu
expect 1 "this LibTorch sees no CUDA device" -- "${run[@]}" --out "$work/x.npy" --device cuda:0
head -n 3 "$work/captions.txt" > "$work/three.txt"
expect 1 "has 3 captions but" -- "$build_kb" --clip "$work/clip" --images "$data/images" --captions "$work/three.txt" --out "$work/x.npy"
: > "$work/empty.png"
printf '%s\n%s\n%s\n' "$(ls "$data"/images/*.jpg | head -1)" "$work/empty.png" "$(ls "$data"/images/*.png | head -1)" > "$work/bad.txt"
expect 1 "image 2 of 3 ($work/empty.png)" -- "$build_kb" --no-progress --clip "$work/clip" --images "$work/bad.txt" --captions "$work/three.txt" --out "$work/x.npy"
expect 0 "skipped: $work/empty.png" -- "$build_kb" --no-progress --clip "$work/clip" --images "$work/bad.txt" --captions "$work/three.txt" --out "$work/x.safetensors" --skip-bad-images
[[ "$(shape caption_rows "$work/x.safetensors")" == "2" ]] || fail "skipped row kept"
expect 2 "--finetune fine-tunes CLIP: it needs --clip" -- "$build_kb" --resnet "$resnet_dir/resnet50" --images "$data/images" --out "$work/x.npy" --finetune "$work/ft2"
expect 1 "--finetune-validation 15 leaves no training pair of 15" -- "${run[@]}" --out "$work/x.npy" --finetune "$work/ft2" --finetune-validation 15
expect 2 "--projection-dim trains on image-caption pairs: it needs --clip" -- "$build_kb" --resnet "$resnet_dir/resnet50" --images "$data/images" --out "$work/x.npy" --projection-dim 8
expect 0 "Usage" -- "$build_kb" --help
echo "vikcse_build_kb: all checks passed"
