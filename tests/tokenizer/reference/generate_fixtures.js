#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Writes the Hugging Face reference fixtures of the vikcse tokenizer tests into
// tests/data/tokenizer/. Reference ids come from the npm package `tokenizers` (Hugging Face's Rust
// library with Node bindings), loaded as hf_tokenizers.js describes.
//
//   cd tests/tokenizer/reference && npm ci && node generate_fixtures.js   [VIKCSE_DATA_DIR=...]
//
// Outputs (all small enough to commit):
//   sources.tsv           every data file used and how its sentences are extracted (sources.js)
//   corpus_digests.tsv    per tokenizer and file: sentence count, token count, and one FNV-1a-64
//                         digest per block of 512 sentences of the reference id lines
//                         ("id id id\n" per sentence, special tokens included, no padding).
//                         Committing every id of ~300k sentences would take tens of MB; a digest
//                         per block lets the C++ test assert zero mismatches over every sentence
//                         and, on a mismatch, name the block (and print its sentences) to debug.
//   torture.txt           the hand-made torture set (torture.js), raw bytes, one case per line
//   torture.<tok>.ids     the reference ids of each torture line, one line each
//   reference_cases.json  pairs (ids + token types), decode (with and without special tokens) and
//                         truncated encodings of the torture set
//   example_input.txt / example_input.<tok>.ids   a few sentences for the CLI example's test
'use strict';
const fs = require('fs');
const path = require('path');
const { dataDir, loadBert, loadRoberta, loadClip } = require('./hf_tokenizers');
const { listSources, sentences } = require('./sources');
const { cases } = require('./torture');

const OUT = path.resolve(__dirname, '../../data/tokenizer');
const BLOCK = 512;

// FNV-1a 64-bit over ASCII text, with two 32-bit halves (exact in doubles).
function fnv1a64(text, state = [0x84222325, 0xcbf29ce4]) {
  let lo = state[0];
  let hi = state[1];
  for (let i = 0; i < text.length; ++i) {
    lo = (lo ^ text.charCodeAt(i)) >>> 0;
    const loMul = lo * 0x1b3;
    const newLo = loMul % 4294967296;
    const carry = Math.floor(loMul / 4294967296);
    hi = (hi * 0x1b3 + carry + ((lo << 8) >>> 0)) % 4294967296;
    lo = newLo;
  }
  return [lo, hi];
}
const hex64 = ([lo, hi]) => hi.toString(16).padStart(8, '0') + lo.toString(16).padStart(8, '0');

async function encodeAll(tok, texts, chunk = 2048) {
  const out = [];
  for (let i = 0; i < texts.length; i += chunk) {
    const encs = await tok.encodeBatch(texts.slice(i, i + chunk));
    for (const e of encs) out.push(e.getIds());
  }
  return out;
}

async function main() {
  const data = dataDir();
  fs.mkdirSync(OUT, { recursive: true });
  const tokenizers = { bert: loadBert(), roberta: loadRoberta(), clip: loadClip(), clip_legacy: loadClip(true) };
  // Every sentence of every source for each tokenizer but the legacy CLIP file, which differs from
  // the current one only in how <|endoftext|> is matched (the torture set covers that).
  const corpusTokenizers = Object.fromEntries(Object.entries(tokenizers).filter(([n]) => n !== 'clip_legacy'));
  const sources = listSources(data);
  fs.writeFileSync(path.join(OUT, 'sources.tsv'),
    '# path (relative to the data directory)\theader lines\trule (see tests/tokenizer/reference/sources.js)\n' +
    sources.map((s) => `${s.path}\t${s.header}\t${s.rule}`).join('\n') + '\n');

  const digestLines = ['# tokenizer\tpath\tsentences\ttokens\tFNV-1a-64 per block of 512 sentences (id lines "a b c\\n")'];
  const totals = {};
  for (const s of sources) {
    const texts = sentences(data, s);
    for (const [name, tok] of Object.entries(corpusTokenizers)) {
      const ids = await encodeAll(tok, texts);
      const blocks = [];
      let tokens = 0;
      for (let b = 0; b < ids.length; b += BLOCK) {
        let st;
        for (const row of ids.slice(b, b + BLOCK)) {
          st = fnv1a64(row.join(' ') + '\n', st);
          tokens += row.length;
        }
        blocks.push(hex64(st));
      }
      digestLines.push(`${name}\t${s.path}\t${ids.length}\t${tokens}\t${blocks.join(',')}`);
      totals[name] = totals[name] || { sentences: 0, tokens: 0 };
      totals[name].sentences += ids.length;
      totals[name].tokens += tokens;
    }
  }
  fs.writeFileSync(path.join(OUT, 'corpus_digests.tsv'), digestLines.join('\n') + '\n');

  const torture = cases();
  fs.writeFileSync(path.join(OUT, 'torture.txt'), Buffer.concat(torture.flatMap((l) => [l, Buffer.from('\n')])));
  const tortureText = torture.map((b) => b.toString('utf8'));
  const reference = { max_length: 16, cases: {} };
  for (const [name, tok] of Object.entries(tokenizers)) {
    const ids = await encodeAll(tok, tortureText);
    fs.writeFileSync(path.join(OUT, `torture.${name}.ids`), ids.map((r) => r.join(' ')).join('\n') + '\n');
    const rec = { decode: [], decode_with_special: [], pairs: [], truncated: [], truncated_pairs: [] };
    for (const row of ids) {
      rec.decode.push(await tok.decode(row, true));
      rec.decode_with_special.push(await tok.decode(row, false));
    }
    for (let i = 0; i + 1 < tortureText.length; ++i) {
      const e = await tok.encode(tortureText[i], tortureText[i + 1]);
      rec.pairs.push({ a: i, b: i + 1, ids: e.getIds(), type_ids: e.getTypeIds() });
    }
    tok.setTruncation(reference.max_length);
    for (let i = 0; i < tortureText.length; ++i) {
      rec.truncated.push((await tok.encode(tortureText[i])).getIds());
      if (i + 1 < tortureText.length) {
        const e = await tok.encode(tortureText[i], tortureText[i + 1]);
        rec.truncated_pairs.push({ a: i, b: i + 1, ids: e.getIds(), type_ids: e.getTypeIds() });
      }
    }
    // Pairs of repeated words around the cap: Hugging Face stops encoding each side at
    // max_length ids (on a word boundary) before it balances the two lengths.
    rec.truncated_grid = [];
    for (const [wa, wb] of [['x', 'y'], ['unaffable', 'y'], ['x', 'unaffable'], ['unaffable', 'supercalifragilistic']]) {
      for (let n1 = 1; n1 <= 20; n1 += 1) {
        for (let n2 = 1; n2 <= 20; n2 += 3) {
          const a = Array(n1).fill(wa).join(' ');
          const b = Array(n2).fill(wb).join(' ');
          const e = await tok.encode(a, b);
          rec.truncated_grid.push({ a, b, ids: e.getIds(), type_ids: e.getTypeIds() });
        }
      }
    }
    tok.disableTruncation();
    reference.cases[name] = rec;
  }
  fs.writeFileSync(path.join(OUT, 'reference_cases.json'), JSON.stringify(reference) + '\n');

  const example = ['Hello, world!', 'A man is playing a guitar.', 'Café déjà vu — naïve façade.',
    'This sentence : "<mask>" means [MASK] .', '我爱北京天安门', ''];
  fs.writeFileSync(path.join(OUT, 'example_input.txt'), example.join('\n') + '\n');
  for (const [name, tok] of Object.entries(tokenizers)) {
    const ids = await encodeAll(tok, example);
    fs.writeFileSync(path.join(OUT, `example_input.${name}.ids`), ids.map((r) => r.join(' ')).join('\n') + '\n');
  }
  for (const [name, t] of Object.entries(totals)) {
    console.log(`${name}: ${t.sentences} sentences, ${t.tokens} tokens over ${sources.length} files`);
  }
}

main().catch((e) => { console.error(e); process.exit(1); });
