// SPDX-License-Identifier: Apache-2.0
// Loads the Hugging Face reference tokenizers from the npm package `tokenizers` (Hugging
// Face's Rust library with Node bindings). Shared by generate_fixtures.js and the benchmark peer.
//
// - BERT: ../shared/data/tokenizers/bert-base-uncased/tokenizer.json, as published.
// - RoBERTa: built from roberta-base's vocab.json + merges.txt exactly as roberta-base's own
//   tokenizer.json is configured: no normalizer; ByteLevel pre-tokenizer (add_prefix_space=false,
//   trim_offsets=true, use_regex=true); BPE model (no dropout, no unk token, no continuing-subword
//   prefix or end-of-word suffix); RobertaProcessing post-processor (cls <s>=0, sep </s>=2,
//   trim_offsets=true, add_prefix_space=false); ByteLevel decoder; added special tokens <s>,
//   <pad>, </s>, <unk>, and <mask> with lstrip=true (so " <mask>" swallows the space before it).
//   The Node bindings expose no ByteLevel decoder constructor, so the tokenizer is assembled as a
//   tokenizer.json string and loaded with Tokenizer.fromString.
// - CLIP: ../shared/data/clip/openai-clip-vit-base-patch32/tokenizer.json as transformers 4.57 saves it
//   (<|endoftext|> matched in the raw text), and legacy-format/tokenizer.json, the Hub's original
//   (string merges; <|endoftext|> matched in the normalized text), as published.
'use strict';
const fs = require('fs');
const path = require('path');
const { Tokenizer } = require('tokenizers');

function dataDir() {
  return process.env.VIKCSE_DATA_DIR || path.resolve(__dirname, '../../../../shared/data');
}

function loadBert(dir = path.join(dataDir(), 'tokenizers/bert-base-uncased')) {
  return Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
}

function robertaSpec(dir = path.join(dataDir(), 'tokenizers/roberta-base')) {
  const vocab = JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8'));
  const merges = fs.readFileSync(path.join(dir, 'merges.txt'), 'utf8').split('\n')
    .filter((l) => l.length > 0 && !l.startsWith('#version'));
  const special = (content, lstrip) => ({
    id: vocab[content], content, single_word: false, lstrip, rstrip: false, normalized: false, special: true,
  });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [special('<s>', false), special('<pad>', false), special('</s>', false), special('<unk>', false),
      special('<mask>', true)],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: { type: 'RobertaProcessing', sep: ['</s>', vocab['</s>']], cls: ['<s>', vocab['<s>']],
      trim_offsets: true, add_prefix_space: false },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
      fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
}

function loadRoberta(dir) {
  return Tokenizer.fromString(JSON.stringify(robertaSpec(dir)));
}

function loadClip(legacy = false) {
  const dir = path.join(dataDir(), 'clip/openai-clip-vit-base-patch32', legacy ? 'legacy-format' : '');
  return Tokenizer.fromFile(path.join(dir, 'tokenizer.json'));
}

module.exports = { dataDir, loadBert, loadRoberta, robertaSpec, loadClip };
