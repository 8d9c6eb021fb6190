#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// The peer of benchmarks/tokenizer_throughput.cpp: Hugging Face's tokenizers (npm `tokenizers`,
// Rust with Node bindings) on the same sentences, the same two tokenizers (hf_tokenizers.js).
//
//   node bench_peer.js SENTENCE_FILE REPEATS
//
// Prints one JSON object: per tokenizer, the token count of one pass and the best wall time of
// `REPEATS` passes of encodeBatch over all sentences (special tokens added, no padding). Run it
// with TOKENIZERS_PARALLELISM=false for one thread, or RAYON_NUM_THREADS=N for N threads.
'use strict';
const fs = require('fs');
const { loadBert, loadRoberta } = require('./hf_tokenizers');
const { rawLines } = require('./sources');

async function main() {
  const [file, repeatsArg] = process.argv.slice(2);
  const repeats = Number(repeatsArg || 3);
  const sentences = rawLines(fs.readFileSync(file)).map((b) => b.toString('utf8'));
  const result = {};
  for (const [name, tok] of [['bert', loadBert()], ['roberta', loadRoberta()]]) {
    let tokens = 0;
    for (const e of await tok.encodeBatch(sentences)) tokens += e.getLength();  // warm-up and count
    let best = Infinity;
    for (let r = 0; r < repeats; ++r) {
      const t0 = process.hrtime.bigint();
      await tok.encodeBatch(sentences);
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      best = Math.min(best, s);
    }
    result[name] = { tokens, seconds: best };
  }
  console.log(JSON.stringify(result));
}

main().catch((e) => { console.error(e); process.exit(1); });
