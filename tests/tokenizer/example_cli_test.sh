#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pipes tests/data/tokenizer/example_input.txt through the vikcse_tokenize example for both
# reference tokenizers and compares each output line with Hugging Face's ids (fixtures).
# Usage: example_cli_test.sh PATH/TO/vikcse_tokenize FIXTURE_DIR
# Exit 77 (skipped) when ../shared/data is missing, except under CI=true where that fails.
set -euo pipefail
exe="$1"
fixtures="$2"
data="${VIKCSE_DATA_DIR:-${VIKCSE_DATA_DIR_DEFAULT:-}}"
if [[ -z "$data" || ! -d "$data/tokenizers" ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    echo "FAILED: data directory $data is missing (CI=true requires it; set VIKCSE_DATA_DIR)" >&2
    exit 1
  fi
  echo "SKIPPED: data directory $data is missing (set VIKCSE_DATA_DIR to run this test)" >&2
  exit 77
fi
"$exe" --help | grep -q -- "--tokenizer"
if "$exe" --bogus 2>/dev/null; then
  echo "FAILED: an unknown option should fail" >&2
  exit 1
fi
# A line of ids that is not all integers: an error naming the line and the token.
bad=$(printf '101 102\n101 x 102\n' | "$exe" --tokenizer "$data/tokenizers/bert-base-uncased" --decode 2>&1 || true)
if [[ "$bad" != *"line 2: expected space-separated token ids, found 'x'"* ]]; then
  echo "FAILED: --decode on a bad line printed: $bad" >&2
  exit 1
fi
if "$exe" < /dev/null 2>/dev/null; then
  echo "FAILED: running without --tokenizer should fail" >&2
  exit 1
fi
status=0
for name in bert roberta; do
  dir="$data/tokenizers/bert-base-uncased"
  [[ "$name" == roberta ]] && dir="$data/tokenizers/roberta-base"
  if diff <("$exe" --tokenizer "$dir" < "$fixtures/example_input.txt") "$fixtures/example_input.$name.ids"; then
    echo "$name: $(wc -l < "$fixtures/example_input.$name.ids") lines identical to Hugging Face"
  else
    echo "FAILED: $name output differs from $fixtures/example_input.$name.ids" >&2
    status=1
  fi
done
exit $status
