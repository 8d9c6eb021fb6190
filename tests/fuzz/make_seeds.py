#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes each fuzz target's seed corpus from the shared data: small excerpts, in the input layout the
target reads (see the comment at the top of each tests/fuzz/fuzz_*.cpp). Usage: make_seeds.py DATA OUT"""
import io
import json
import pathlib
import sys

import numpy as np

data, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])


def seed(target, name, content):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape"))


def head(path, lines):
    with open(path, "rb") as f:
        return b"".join(f.readline() for _ in range(lines))


tok = data / "tokenizers"
# config.json: BERT, RoBERTa and CLIP (not a BERT: the error path).
for name, path in [("bert", tok / "bert-base-uncased/config.json"), ("roberta", tok / "roberta-base/config.json"),
                   ("clip", data / "clip/openai-clip-vit-base-patch32/config.json")]:
    if path.exists():
        seed("fuzz_config_json", name, path.read_bytes())
# Tokenizer files: the first 300 vocabulary entries and 200 merges; a tokenizer.json cut to 300 tokens.
bert_vocab = head(tok / "bert-base-uncased/vocab.txt", 300)
seed("fuzz_tokenizer_files", "vocab_txt", b"\x01" + bert_vocab)
tj = json.loads((tok / "bert-base-uncased/tokenizer.json").read_text())
tj["model"]["vocab"] = {k: v for k, v in tj["model"]["vocab"].items() if v < 300}
tj["added_tokens"] = [t for t in tj.get("added_tokens", []) if t["id"] < 300]
seed("fuzz_tokenizer_files", "tokenizer_json", b"\x00" + json.dumps(tj).encode())
rv = json.loads((tok / "roberta-base/vocab.json").read_text())
small = {k: v for k, v in rv.items() if v < 300}
seed("fuzz_tokenizer_files", "bpe", b"\x02" + json.dumps(small).encode() + b"\x00" + head(tok / "roberta-base/merges.txt", 200))
# Text to encode: SentEval, wiki1m and Flickr lines.
texts = [data / "senteval/downstream/STS/STS12-en-test/STS.input.MSRpar.txt", data / "corpora/wiki1m-subset.txt",
         data / "corpora/flickr30k-captions.txt", data / "senteval/downstream/TREC/TREC_10.label"]
for n, path in enumerate(texts):
    for k, line in enumerate(head(path, 20).splitlines()[::4]):
        seed("fuzz_encode", f"text-{n}-{k}", line)
# SentEval readers: the first 15 lines of each file, behind the selector byte the target reads.
sts = data / "senteval/downstream"
readers = [
    (0, [sts / "STS/STS12-en-test/STS.input.MSRpar.txt", sts / "STS/STS12-en-test/STS.gs.MSRpar.txt"]),
    (1, [sts / "STS/STSBenchmark/sts-dev.csv"]), (2, [sts / "SICK/SICK_trial.txt"]), (3, [sts / "MR/rt-polarity.pos"]),
    (4, [sts / "SST/binary/sentiment-dev"]), (5, [sts / "TREC/TREC_10.label"]), (6, [sts / "MRPC/msr_paraphrase_test.txt"]),
]
for selector, files in readers:
    if all(f.exists() for f in files):
        seed("fuzz_senteval", f"reader-{selector}", bytes([selector]) + b"\x00".join(head(f, 15) for f in files))
# .npy: float32/float64/float16 arrays, 2-D and 1-D.
for name, array in [("f4", np.ones((3, 4), np.float32)), ("f8", np.arange(6, dtype=np.float64)),
                    ("f2", np.zeros((2, 2), np.float16))]:
    buffer = io.BytesIO()
    np.save(buffer, array)
    seed("fuzz_npy_header", name, buffer.getvalue())
# safetensors: the real (truncated) all-MiniLM-L6-v2 file's header with a little of its data.
real = data / "fixtures/all-MiniLM-L6-v2.truncated.safetensors"
with open(real, "rb") as f:
    prefix = f.read(8)
    length = int.from_bytes(prefix, "little")
    seed("fuzz_safetensors_header", "minilm", prefix + f.read(length + 64))
print(f"fuzz seeds written to {out}")
