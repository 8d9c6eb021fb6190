// SPDX-License-Identifier: Apache-2.0
// ONNX Runtime (CPU, onnxruntime-node) peer for benchmarks/encoder_throughput: times a BERT-shaped
// encoder exported by benchmarks/peers/export_onnx.py from the very same weights vikcse runs.
//
// Timing mode prints one JSON line per sequence length, like encoder_eager.py:
//   {"seq": T, "seconds_per_batch": s, "peak_rss_mib": m}
// Check mode (--check-out) runs one fixed input and writes {"shape": [B,T,H], "last_hidden_state": [...]}
// to a file (too long for one line of a pipe reader), then prints {"check": FILE, "shape": [B,T,H]}.
// Batches mode (--batches FILE.json, as encoder_eager.py's): one warm-up pass, --iters timed passes,
// the masked mean of last_hidden_state per row to --out (raw float32), then
//   {"sentences": n, "seconds_per_pass": s, "peak_rss_mib": m}
//
// Usage:
//   node ort_encoder.js MODEL.onnx --batch 64 --seq 32 128 --iters 5 --warmup 1 --threads N [--vocab V]
//   node ort_encoder.js MODEL.onnx --threads N --check-shape 2,8 --check-ids 1,2,... --check-mask 1,1,...
//        --check-out OUT.json
'use strict';

const fs = require('fs');
const ort = require('onnxruntime-node');

const usage = 'usage: node ort_encoder.js MODEL.onnx [--batch 64] [--seq 32 128] [--iters 5] [--warmup 1] ' +
  '[--threads N] [--vocab 30522] [--check-shape B,T --check-ids I,... --check-mask M,... --check-out FILE] ' +
  '[--batches FILE.json --out FILE.f32]';

function parseArgs(argv) {
  const opts = {batch: 64, seq: [32, 128], iters: 5, warmup: 1, threads: 1, vocab: 30522, seed: 0};
  const rest = [];
  for (let i = 0; i < argv.length; ++i) {
    const a = argv[i];
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} expects a value`);
      return argv[++i];
    };
    const int = (text) => {
      const v = Number(text);
      if (!Number.isInteger(v)) throw new Error(`${a} expects an integer, got '${text}'`);
      return v;
    };
    const ints = (text) => text.split(',').map(int);
    if (a === '--help' || a === '-h') {
      console.log(usage);
      process.exit(0);
    } else if (a === '--batch') opts.batch = int(next());
    else if (a === '--seq') {
      opts.seq = [];
      while (i + 1 < argv.length && !argv[i + 1].startsWith('--')) opts.seq.push(...ints(argv[++i]));
    } else if (a === '--iters') opts.iters = int(next());
    else if (a === '--warmup') opts.warmup = int(next());
    else if (a === '--threads') opts.threads = int(next());
    else if (a === '--vocab') opts.vocab = int(next());
    else if (a === '--seed') opts.seed = int(next());
    else if (a === '--check-shape') opts.checkShape = ints(next());
    else if (a === '--check-ids') opts.checkIds = ints(next());
    else if (a === '--check-mask') opts.checkMask = ints(next());
    else if (a === '--check-out') opts.checkOut = next();
    else if (a === '--batches') opts.batches = next();
    else if (a === '--out') opts.out = next();
    else if (a.startsWith('--')) throw new Error(`unknown option '${a}'`);
    else rest.push(a);
  }
  if (rest.length !== 1) throw new Error(usage);
  opts.model = rest[0];
  return opts;
}

/// A small deterministic generator (64-bit LCG, high bits) for the random ids; seeded, so runs repeat.
function makeRandom(seed) {
  let state = BigInt.asUintN(64, BigInt(seed) * 6364136223846793005n + 1442695040888963407n);
  return (bound) => {
    state = BigInt.asUintN(64, state * 6364136223846793005n + 1442695040888963407n);
    return Number(state >> 33n) % bound;
  };
}

function feeds(session, batch, seq, ids, mask) {
  const shape = [batch, seq];
  const all = {
    input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), shape),
    attention_mask: new ort.Tensor('int64', BigInt64Array.from(mask, BigInt), shape),
    token_type_ids: new ort.Tensor('int64', new BigInt64Array(batch * seq), shape),
  };
  const out = {};
  for (const name of session.inputNames) {
    if (!(name in all)) throw new Error(`model input '${name}' is not one of ${Object.keys(all).join(', ')}`);
    out[name] = all[name];
  }
  return out;
}

function peakRssMib() {
  return process.resourceUsage().maxRSS / 1024.0;  // KiB -> MiB
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const session = await ort.InferenceSession.create(opts.model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: opts.threads,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  const output = session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : session.outputNames[0];
  console.log(JSON.stringify({ort_version: ort.env.versions.node ?? ort.env.versions.common}));

  if (opts.checkOut !== undefined) {
    const [batch, seq] = opts.checkShape ?? [];
    if (!batch || !seq || opts.checkIds?.length !== batch * seq ||
        (opts.checkMask !== undefined && opts.checkMask.length !== batch * seq)) {
      throw new Error('--check-out needs --check-shape B,T and B*T --check-ids (and --check-mask if given)');
    }
    const mask = opts.checkMask ?? new Array(batch * seq).fill(1);
    const result = (await session.run(feeds(session, batch, seq, opts.checkIds, mask)))[output];
    const shape = Array.from(result.dims, Number);
    fs.writeFileSync(opts.checkOut, JSON.stringify({shape, last_hidden_state: Array.from(result.data)}) + '\n');
    console.log(JSON.stringify({check: opts.checkOut, shape}));
    return;
  }

  if (opts.batches !== undefined) {
    const batches = JSON.parse(fs.readFileSync(opts.batches, 'utf8')).batches.map(
        (b) => ({shape: b.shape, mask: b.mask, input: feeds(session, b.shape[0], b.shape[1], b.ids, b.mask)}));
    const onePass = async () => {
      const pooled = [];
      for (const b of batches) {
        const hidden = (await session.run(b.input))[output];
        const [rows, seq] = b.shape;
        const width = Number(hidden.dims[2]);
        for (let r = 0; r < rows; ++r) {
          const sum = new Float64Array(width);
          let count = 0;
          for (let t = 0; t < seq; ++t) {
            if (!b.mask[r * seq + t]) continue;
            ++count;
            const base = (r * seq + t) * width;
            for (let k = 0; k < width; ++k) sum[k] += hidden.data[base + k];
          }
          pooled.push(Float32Array.from(sum, (v) => v / count));
        }
      }
      return pooled;
    };
    await onePass();
    const start = process.hrtime.bigint();
    let pooled = [];
    for (let i = 0; i < opts.iters; ++i) pooled = await onePass();
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9 / opts.iters;
    if (opts.out !== undefined) {
      const width = pooled.length ? pooled[0].length : 0;
      const all = new Float32Array(pooled.length * width);
      pooled.forEach((row, i) => all.set(row, i * width));
      fs.writeFileSync(opts.out, Buffer.from(all.buffer));
    }
    console.log(JSON.stringify({sentences: pooled.length, seconds_per_pass: elapsed, peak_rss_mib: peakRssMib()}));
    return;
  }

  const random = makeRandom(opts.seed);
  for (const seq of opts.seq) {
    const n = opts.batch * seq;
    const ids = Array.from({length: n}, () => 1000 + random(opts.vocab - 1000));
    const input = feeds(session, opts.batch, seq, ids, new Array(n).fill(1));
    for (let i = 0; i < opts.warmup; ++i) await session.run(input);
    const start = process.hrtime.bigint();
    for (let i = 0; i < opts.iters; ++i) await session.run(input);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9 / opts.iters;
    console.log(JSON.stringify({seq, seconds_per_batch: elapsed, peak_rss_mib: peakRssMib()}));
  }
}

main().catch((error) => {
  console.error(`ort_encoder: ${error.message ?? error}`);
  process.exit(1);
});
