#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# vikcse_encode and vikcse_search end to end on the tiny BERT fixture (a plain Hugging Face
# checkpoint, so --pooler is given): every output format holds the same rows (numpy reads them),
# stdin and a file argument agree, --normalize gives unit rows, a query equal to a corpus line
# finds it first with cosine 1, a saved index gives the same hits and is refused for another
# pooler or another corpus, and bad input fails with a message naming the problem.
# Usage: programs_test.sh VIKCSE_ENCODE VIKCSE_SEARCH TESTS_DIR PYTHON
set -euo pipefail
encode=$1 search=$2 tests=$3 python=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
model=$work/model
mkdir -p "$model"
cp "$tests/data/encoder/tiny-bert/config.json" "$tests/data/encoder/tiny-bert/model.safetensors" "$model/"
cp "$tests/data/methods/tiny-vocab/vocab.txt" "$model/"
printf '%s\n' "a man eats an apple ." "the dog is in the park" "" "a man eats an apple ." \
  "two woman plays guitar in the street at home" > "$work/sentences.txt"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_error() {  # expect_error "message part" command...
  local part=$1; shift
  if "$@" > "$work/out.txt" 2> "$work/err.txt"; then fail "expected an error from: $*"; fi
  grep -qF -- "$part" "$work/err.txt" || { cat "$work/err.txt" >&2; fail "'$part' not in the error of: $*"; }
}

"$encode" --model "$model" --pooler avg --no-progress < "$work/sentences.txt" > "$work/stdin.npy"
"$encode" --model "$model" --pooler avg --no-progress "$work/sentences.txt" --output "$work/file.npy"
cmp "$work/stdin.npy" "$work/file.npy" || fail "stdin and file argument differ"
"$encode" --model "$model" --pooler avg --no-progress "$work/sentences.txt" -o "$work/emb.safetensors"
"$encode" --model "$model" --pooler avg --no-progress "$work/sentences.txt" --format jsonl > "$work/emb.jsonl"
"$encode" --model "$model" --pooler avg --normalize --no-progress "$work/sentences.txt" -o "$work/unit.npy" 2> "$work/log.txt"
grep -q "5 sentences -> \[5, 32\] float32" "$work/log.txt" || fail "no summary line: $(cat "$work/log.txt")"
"$encode" --model "$model" --pooler avg --int8 --no-progress "$work/sentences.txt" -o "$work/int8.npy" 2> "$work/log8.txt"
grep -q ", int8$" "$work/log8.txt" || fail "the model line does not say int8: $(cat "$work/log8.txt")"
"$encode" --model "$model" --pooler avg --fp32 --no-progress "$work/sentences.txt" -o "$work/fp32.npy" 2> "$work/log32.txt"
grep -q ", fp32$" "$work/log32.txt" || fail "the model line does not say fp32: $(cat "$work/log32.txt")"
"$python" - "$work" <<'PY'
import json, struct, sys
import numpy as np
w = sys.argv[1]
a = np.load(f"{w}/file.npy")
assert a.shape == (5, 32) and a.dtype == np.float32, a.shape
assert np.isfinite(a).all()
assert (a[0] == a[3]).all(), "duplicate sentences differ"
assert not (a[0] == a[1]).all()
raw = open(f"{w}/emb.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
header = json.loads(raw[8:8 + n])
e = header["embeddings"]
assert e["dtype"] == "F32" and e["shape"] == [5, 32], e
b = np.frombuffer(raw[8 + n + e["data_offsets"][0]:8 + n + e["data_offsets"][1]], dtype="<f4").reshape(5, 32)
assert (a == b).all(), "safetensors rows differ from npy"
assert "weights=" in header["__metadata__"]["model"]
lines = [json.loads(l) for l in open(f"{w}/emb.jsonl")]
assert [l["index"] for l in lines] == list(range(5))
assert lines[2]["text"] == "" and lines[0]["text"] == "a man eats an apple ."
c = np.array([l["embedding"] for l in lines], dtype=np.float32)
assert (a == c).all(), "jsonl rows differ from npy"
u = np.load(f"{w}/unit.npy")
assert np.abs(np.linalg.norm(u, axis=1) - 1).max() < 1e-6
assert np.abs(u - a / np.linalg.norm(a, axis=1, keepdims=True)).max() < 1e-6
q = np.load(f"{w}/int8.npy")
assert q.shape == (5, 32) and q.dtype == np.float32 and np.isfinite(q).all()
f = np.load(f"{w}/fp32.npy")
assert (q[0] == q[3]).all() and not (q == f).all(), "int8 rows: duplicates differ, or nothing was quantized"
PY

expect_error "name a pooler" "$encode" --model "$model" --no-progress "$work/sentences.txt" -o "$work/x.npy"
: > "$work/empty.txt"
expect_error "no text (the input is empty)" "$encode" --model "$model" --pooler avg "$work/empty.txt" -o "$work/x.npy"
expect_error "excludes" "$encode" --model "$model" --pooler avg --bf16 --int8 "$work/sentences.txt"
expect_error "--batch-size" "$encode" --model "$model" --pooler avg --batch-size 0 "$work/sentences.txt"
expect_error "--model" "$encode" --model "$work/nowhere" --pooler avg "$work/sentences.txt"
expect_error "cannot open" "$encode" --model "$model" --pooler avg "$work/missing.txt" -o "$work/x.npy"
[ ! -e "$work/x.npy" ] || fail "a failed run left an output file"

# Search.
printf '%s\n' "a man eats an apple ." "the dog is in the park" "this sentence means ball" \
  "two woman plays guitar in the street at home" "a cat sleeps on the car" > "$work/corpus.txt"
# --fp32: a query equal to a corpus line scores exactly 1 (int8, the automatic precision here,
# quantizes each batch with its own scale, so the lone query and its corpus batch differ slightly).
"$search" --model "$model" --pooler avg --fp32 --corpus "$work/corpus.txt" --query "this sentence means ball" --top-k 3 \
  --no-progress --save-index "$work/corpus.index" --json "$work/hits.json" > "$work/search.txt"
grep -q "|    1 |  1.0000 |    3 | this sentence means ball" "$work/search.txt" || { cat "$work/search.txt"; fail "the query's own line is not first"; }
[ "$(grep -c '^| *[0-9]' "$work/search.txt")" = 3 ] || fail "expected 3 hits"
"$search" --model "$model" --pooler avg --fp32 --corpus "$work/corpus.txt" --index "$work/corpus.index" \
  --query "this sentence means ball" --top-k 3 --no-progress > "$work/search2.txt"
diff <(grep '^|' "$work/search.txt") <(grep '^|' "$work/search2.txt") || fail "the index gives other hits"
if "$search" --help | grep -q -- "--faiss"; then  # built against vikcse::faiss: the same hits
  "$search" --model "$model" --pooler avg --fp32 --corpus "$work/corpus.txt" --index "$work/corpus.index" \
    --query "this sentence means ball" --top-k 3 --no-progress --faiss > "$work/search3.txt"
  diff <(grep '^|' "$work/search.txt") <(grep '^|' "$work/search3.txt") || fail "--faiss gives other hits"
fi
"$python" - "$work/hits.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
hits = d["results"][0]["hits"]
assert [h["rank"] for h in hits] == [1, 2, 3]
assert hits[0]["line"] == 3 and abs(hits[0]["score"] - 1) < 1e-6
assert hits[0]["score"] >= hits[1]["score"] >= hits[2]["score"]
PY
expect_error "made with another model or pooler" "$search" --model "$model" --pooler max --corpus "$work/corpus.txt" \
  --index "$work/corpus.index" --query "a dog" --no-progress
echo "a new line" >> "$work/corpus.txt"
expect_error "made from another corpus" "$search" --model "$model" --pooler avg --corpus "$work/corpus.txt" \
  --index "$work/corpus.index" --query "a dog" --no-progress
printf '%s\n' "one" "" "three" > "$work/holes.txt"
expect_error "holes.txt:2: empty line" "$search" --model "$model" --pooler avg --corpus "$work/holes.txt" --query "x" --no-progress
expect_error "--query TEXT, --queries FILE or --save-index" "$search" --model "$model" --pooler avg --corpus "$work/corpus.txt"
echo "programs_test: all checks passed"
