#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job: install the dependencies, build ONLY vikcse_demo in build/ and run it on the DEMO
# DATA it makes itself (synthetic corpus, scored sentence pairs and visual feature bank; a
# WordPiece vocabulary trained on that corpus; a small random encoder). It prints the STS table of
# the untrained encoder and of the VIKCSE-trained one. Extra arguments go to vikcse_demo (e.g.
# --steps 100, or the real-data flags --model DIR --corpus FILE --kb FILE --senteval DIR).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
start=$(date +%s)
bash "$root/cmake/install-deps.sh"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DVIKCSE_BUILD_TESTS=OFF -DVIKCSE_BUILD_BENCHMARKS=OFF \
  -DVIKCSE_BUILD_EXAMPLES=ON
cmake --build "$root/build" --target vikcse_demo -j"$(nproc)"
built=$(date +%s)
# The demo encoder is tiny: one intra-op thread is as fast as two, and much faster when the cores
# are shared (LibTorch's threads spin). Set OMP_NUM_THREADS to override.
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" "$root/build/examples/vikcse_demo" --out "$root/build/vikcse-demo-out" "$@"
end=$(date +%s)
cat <<EOF

run-demo.sh: build $((built - start)) s, demo run $((end - built)) s.
The numbers above come from DEMO DATA (synthetic; see the header of the output).
The same job on real data (a Hugging Face BERT/RoBERTa checkpoint, wiki1m_for_simcse.txt, a CLIP
image-feature knowledge base, SentEval's data directory):

  $root/build/examples/vikcse_demo --model DIR --corpus FILE --kb FILE --senteval DIR

The paper-table programs (SimCSE, PromptBERT, MCSE, VIKCSE with the reference hyper-parameters,
our row beside the paper's): build target vikcse_reproduce, see vikcse_reproduce --help.
EOF
