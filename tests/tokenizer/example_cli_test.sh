#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Pipes tests/data/tokenizer/example_input.txt through the vikcse_tokenize example for both
# reference tokenizers and compares each output line with Hugging Face's ids (fixtures).
# Usage: example_cli_test.sh PATH/TO/vikcse_tokenize FIXTURE_DIR
# Exit 77 (skipped) when ../shared/data is missing, except under CI=true where that fails.
set -euo pipefail
exe="$1"
fixtures="$2"
data="${VIKCSE_DATA_DIR:-${VIKCSE_DATA_DIR_DEFAULT:-../shared/data}}"
if [[ ! -d "$data/tokenizers" ]]; then
  if [[ "${CI:-}" == "true" ]]; then
    echo "FAILED: data directory $data is missing (CI=true requires it; set VIKCSE_DATA_DIR)" >&2
    exit 1
  fi
  echo "SKIPPED: data directory $data is missing (set VIKCSE_DATA_DIR to run this test)" >&2
  exit 77
fi
"$exe" --help | grep -q -- "--tokenizer DIR"
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
