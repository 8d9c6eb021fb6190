// SPDX-License-Identifier: Apache-2.0
// The sentence files of ../shared/data that the tokenizer tests cover, and how sentences are
// taken from each. generate_fixtures.js writes this list to tests/data/tokenizer/sources.tsv,
// which the C++ data test reads, so both sides extract the very same sentences.
//
// Rules (every file is read as raw bytes and split on '\n', one trailing '\r' dropped per line,
// no line after the last '\n'; each extracted field is one sentence, empty ones included):
//   line            the whole line
//   after_space     the text after the first ' ' (TREC "LABEL:sub text", SST fine "label text")
//   fields:I,J      tab-separated columns I and J (0-based), each a sentence; lines with fewer
//                   columns contribute the columns they have
// A header column (1) skips the first line.
'use strict';
const fs = require('fs');
const path = require('path');

function listSources(dataDir) {
  const sources = [];
  const add = (rel, header, rule) => sources.push({ path: rel, header, rule });
  const sts = 'senteval/downstream/STS';
  for (const year of ['STS12-en-test', 'STS13-en-test', 'STS14-en-test', 'STS15-en-test', 'STS16-en-test']) {
    const dir = path.join(dataDir, sts, year);
    for (const f of fs.readdirSync(dir).sort()) {
      if (/^STS\.input\..*\.txt$/.test(f)) add(`${sts}/${year}/${f}`, 0, 'fields:0,1');
    }
  }
  for (const split of ['train', 'dev', 'test']) add(`${sts}/STSBenchmark/sts-${split}.csv`, 0, 'fields:5,6');
  for (const f of ['SICK_train.txt', 'SICK_trial.txt', 'SICK_test_annotated.txt']) {
    add(`senteval/downstream/SICK/${f}`, 1, 'fields:1,2');
  }
  for (const f of ['MR/rt-polarity.pos', 'MR/rt-polarity.neg', 'CR/custrev.pos', 'CR/custrev.neg',
    'SUBJ/subj.objective', 'SUBJ/subj.subjective', 'MPQA/mpqa.pos', 'MPQA/mpqa.neg']) {
    add(`senteval/downstream/${f}`, 0, 'line');
  }
  for (const f of ['TREC/train_5500.label', 'TREC/TREC_10.label']) add(`senteval/downstream/${f}`, 0, 'after_space');
  for (const split of ['train', 'dev', 'test']) {
    add(`senteval/downstream/SST/binary/sentiment-${split}`, 0, 'fields:0');
    add(`senteval/downstream/SST/fine/sentiment-${split}`, 0, 'after_space');
  }
  for (const f of ['msr_paraphrase_train.txt', 'msr_paraphrase_test.txt']) {
    add(`senteval/downstream/MRPC/${f}`, 1, 'fields:3,4');
  }
  add('corpora/wiki1m-subset.txt', 0, 'line');
  add('corpora/flickr30k-captions.txt', 0, 'line');
  return sources;
}

// Raw lines of a file, as Buffers.
function rawLines(buf) {
  const lines = [];
  let start = 0;
  while (start < buf.length) {
    let end = buf.indexOf(0x0a, start);
    if (end < 0) end = buf.length;
    let line = buf.subarray(start, end);
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    lines.push(line);
    start = end + 1;
  }
  return lines;
}

function splitTabs(line) {
  const out = [];
  let start = 0;
  for (;;) {
    const end = line.indexOf(0x09, start);
    if (end < 0) { out.push(line.subarray(start)); return out; }
    out.push(line.subarray(start, end));
    start = end + 1;
  }
}

// Sentences of one source, as strings decoded from UTF-8 the WHATWG way (each maximal ill-formed
// subsequence becomes one U+FFFD), which is what Buffer.toString('utf8') does.
function sentences(dataDir, source) {
  const lines = rawLines(fs.readFileSync(path.join(dataDir, source.path)));
  const out = [];
  for (let i = source.header ? 1 : 0; i < lines.length; ++i) {
    const line = lines[i];
    if (source.rule === 'line') {
      out.push(line);
    } else if (source.rule === 'after_space') {
      const sp = line.indexOf(0x20);
      out.push(sp < 0 ? line.subarray(line.length) : line.subarray(sp + 1));
    } else {
      const cols = source.rule.slice('fields:'.length).split(',').map(Number);
      const fields = splitTabs(line);
      for (const c of cols) if (c < fields.length) out.push(fields[c]);
    }
  }
  return out.map((b) => b.toString('utf8'));
}

module.exports = { listSources, sentences, rawLines };
