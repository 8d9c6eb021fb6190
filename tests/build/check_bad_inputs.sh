#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs every row of README.md's "Bad input" table against the built programs: each must exit with
# the row's code, print the row's message excerpt, and leave no output file ($W/out.*) behind.
# Usage: check_bad_inputs.sh README.md PROGRAM_DIR TESTS_DIR DATA_DIR PYTHON
set -uo pipefail
readme=$1 programs=$2 tests=$3 data=${VIKCSE_DATA_DIR:-$4} python=$5
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
MODEL=$W/model
BIG=$data/tokenizers/bert-base-uncased
mkdir -p "$MODEL" "$W/gpt2" "$W/empty-dir" "$W/beir/qrels" "$W/senteval/downstream/STS/STSBenchmark"
cp "$tests/data/encoder/tiny-bert/config.json" "$tests/data/encoder/tiny-bert/model.safetensors" "$MODEL/"
cp "$tests/data/methods/tiny-vocab/vocab.txt" "$MODEL/"
cp "$MODEL"/* "$W/gpt2/"
sed -i 's/"model_type": *"bert"/"model_type": "gpt2"/' "$W/gpt2/config.json"
printf '%s\n' "a man eats an apple ." "the dog is in the park" > "$W/s.txt"
printf '%s\n' "a man eats an apple ." "the dog is in the park" "a cat" > "$W/s2.txt"
printf '%s\n' "one" "" "three" > "$W/holes.txt"
: > "$W/empty.txt"
printf 'a man\ta dog\t1\nthe park\tthe street\t3\na cat\ta cat\t5\n' > "$W/pairs.tsv"
printf 'sentence1\tsentence2\tscore\na man\ta dog\t1\nthe park\tthe street\tx\n' > "$W/bad-score.tsv"
printf 'just one column\n' > "$W/one-column.tsv"
printf '{"_id": "q1", "text": "a dog"}\n' > "$W/beir/queries.jsonl"
printf '{"_id": "d1", "title": "", "text": "the dog is in the park"}\n' > "$W/beir/corpus.jsonl"
printf 'query-id\tcorpus-id\tscore\nq1\td9\t1\n' > "$W/beir/qrels/test.tsv"
printf '1 x 3\n' > "$W/bad-ids.txt"
for split in dev test; do
  printf 'main\tfile\t2012\t%s\t%s\t%s\t%s\n' 1 1.000 "a man" "a dog" 2 4.000 "a cat" "a cat" 3 2.500 "the park" "a park" \
    > "$W/senteval/downstream/STS/STSBenchmark/sts-$split.csv"
done
"$python" -c "import numpy as np; a = np.ones((4, 8), np.float32); a[2, 3] = np.nan; np.save('$W/nan.npy', a); np.save('$W/flat.npy', np.ones(8, np.float32))" ||
  { echo "FAIL: numpy could not write the feature files"; exit 1; }
"$programs/vikcse_search" --model "$MODEL" --pooler avg --corpus "$W/s.txt" --save-index "$W/avg.index" --no-progress \
  > /dev/null 2>&1 || { echo "FAIL: could not build the index fixture"; exit 1; }
have_big=true
if [ ! -d "$BIG" ]; then
  have_big=false
  if [ "${CI:-}" = "true" ]; then echo "FAIL: $BIG is missing (CI never passes by skipping)"; exit 1; fi
fi

rows=0 failed=0 skipped=0
while IFS= read -r line; do
  program=$(sed -E 's/^\| `([^`]+)` \|.*/\1/' <<< "$line")
  args=$(sed -E 's/^\| `[^`]+` \| `([^`]*)` \|.*/\1/' <<< "$line")
  code=$(sed -E 's/^\| `[^`]+` \| `[^`]*` \| ([0-9]+) \|.*/\1/' <<< "$line")
  message=$(sed -E 's/.*\| `([^`]*)` \|$/\1/' <<< "$line")
  rows=$((rows + 1))
  if [[ "$args" == *'$BIG'* ]] && ! $have_big; then skipped=$((skipped + 1)); continue; fi
  rm -f "$W"/out.*
  if [[ "$args" == *"<"* ]]; then
    output=$(eval "\"$programs/$program\" $args" 2>&1); rc=$?
  else
    output=$(eval "\"$programs/$program\" $args" 2>&1 < /dev/null); rc=$?
  fi
  problem=""
  [ "$rc" = "$code" ] || problem="exit $rc, the table says $code"
  [[ "$output" == *"$message"* ]] || problem="${problem:+$problem; }the message lacks '$message'"
  compgen -G "$W/out.*" > /dev/null && problem="${problem:+$problem; }an output file was left: $(ls "$W"/out.*)"
  if [ -n "$problem" ]; then
    failed=$((failed + 1))
    echo "FAIL: $program $args: $problem"
    echo "$output" | tail -5 | sed 's/^/    /'
  else
    echo "ok: $program $args -> $code"
  fi
done < <(awk '/^### Bad input/ {on = 1; next} /^#/ {on = 0} on && /^\| `vikcse_/' "$readme")
echo "$rows rows, $failed failed, $skipped skipped"
[ "$rows" -gt 20 ] || { echo "FAIL: expected more than 20 rows in README.md's Bad input table"; exit 1; }
[ "$failed" = 0 ]
