#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
// Writes tests/data/tokenizer/unicode_classes.tsv: how Hugging Face's tokenizers (npm
// `tokenizers`) treat every code point, for tests/tokenizer/unicode_sweep_test.cpp. Each line is a
// run of consecutive code points (surrogates excluded) with the same classes:
//   first last clean punct bytelevel strip lower
//   clean      BertNormalizer(clean_text only): D dropped, W becomes ' ', = kept
//   punct      BertPreTokenizer on "a"+c+"b": P split off as punctuation, S whitespace, - neither
//   bytelevel  GPT-2 pattern class: L \p{L}, N \p{N}, S \s, O other
//   strip      BertNormalizer(strip_accents only) result, hex code points ('E' empty), = unchanged
//   lower      BertNormalizer(lowercase only) result, hex code points, = unchanged
'use strict';
const fs = require('fs');
const path = require('path');
const t = require('tokenizers');

const normalizer = (o) => t.bertNormalizer(Object.assign({ cleanText: false, handleChineseChars: false,
  stripAccents: false, lowercase: false }, o));
const clean = normalizer({ cleanText: true });
const strip = normalizer({ stripAccents: true });
const lower = normalizer({ lowercase: true });
const bert = t.bertPreTokenizer();
const bl = t.byteLevelPreTokenizer(false, true);
const hex = (s) => (s === '' ? 'E' : Array.from(s).map((c) => c.codePointAt(0).toString(16)).join(','));

const lines = [];
let run = null;
for (let cp = 0; cp <= 0x10ffff; ++cp) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const c = String.fromCodePoint(cp);
  const cl = clean.normalizeString(c);
  const k1 = cl === '' ? 'D' : cl === ' ' ? 'W' : '=';
  const n = bert.preTokenizeString('a' + c + 'b').length;
  const k2 = n === 3 ? 'P' : n === 2 ? 'S' : '-';
  let k3 = 'S';
  if (bl.preTokenizeString('a' + c).length === 1) k3 = 'L';
  else if (bl.preTokenizeString('1' + c).length === 1) k3 = 'N';
  else if (bl.preTokenizeString('!' + c).length === 1) k3 = 'O';
  const st = strip.normalizeString(c);
  const lo = lower.normalizeString(c);
  const k4 = st === c ? '=' : hex(st);
  const k5 = lo === c ? '=' : hex(lo);
  const key = `${k1}\t${k2}\t${k3}\t${k4}\t${k5}`;
  if (run && run.key === key && run.last === cp - 1 && k4 === '=' && k5 === '=') {
    run.last = cp;
  } else {
    if (run) lines.push(`${run.first.toString(16)}\t${run.last.toString(16)}\t${run.key}`);
    run = { first: cp, last: cp, key };
  }
  if (cp === 0xd7ff) { lines.push(`${run.first.toString(16)}\t${run.last.toString(16)}\t${run.key}`); run = null; }
}
lines.push(`${run.first.toString(16)}\t${run.last.toString(16)}\t${run.key}`);
const out = path.resolve(__dirname, '../../data/tokenizer/unicode_classes.tsv');
fs.writeFileSync(out, '# first\tlast\tclean\tpunct\tbytelevel\tstrip\tlower (see generate_unicode_classes.js)\n' +
  lines.join('\n') + '\n');
console.log(`${lines.length} runs written to ${out}`);
