# SPDX-License-Identifier: Apache-2.0
"""Writes a tiny random RoBERTa checkpoint with its own byte-level BPE tokenizer, for the
vikcse_reproduce smoke test (tests/methods/reproduce_smoke.cmake).

Usage: /usr/bin/python3 make_tiny_roberta.py CORPUS OUT_DIR
OUT_DIR gets vocab.json + merges.txt (RoBERTa's special tokens, the 256 byte symbols of GPT-2's
byte-level alphabet and up to 60 merges learnt greedily from CORPUS's words), config.json and
model.safetensors (random weights in Hugging Face key names, from tests/encoder/reference).
"""
import collections
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "encoder", "reference"))
from reference_encoder import ReferenceEncoder, write_safetensors  # noqa: E402


def byte_symbols():
    """GPT-2's reversible byte -> printable character map (the byte-level BPE alphabet)."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + \
        list(range(ord("®"), ord("ÿ") + 1))
    table, extra = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def main(corpus_path, out):
    os.makedirs(out, exist_ok=True)
    symbols = byte_symbols()
    vocab = {t: i for i, t in enumerate(["<s>", "<pad>", "</s>", "<unk>"])}
    for b in range(256):
        vocab.setdefault(symbols[b], len(vocab))
    words = collections.Counter()
    with open(corpus_path, encoding="utf-8") as f:
        for line in f:
            for i, w in enumerate(line.split()):
                text = ("" if i == 0 else " ") + w
                words[tuple(symbols[b] for b in text.encode("utf-8"))] += 1
    merges = []
    for _ in range(60):
        pairs = collections.Counter()
        for w, n in words.items():
            for a, b in zip(w, w[1:]):
                pairs[(a, b)] += n
        if not pairs:
            break
        (a, b), _ = max(pairs.items(), key=lambda kv: (kv[1], kv[0]))
        merges.append(f"{a} {b}")
        vocab.setdefault(a + b, len(vocab))
        merged = collections.Counter()
        for w, n in words.items():
            out_w, i = [], 0
            while i < len(w):
                if i + 1 < len(w) and w[i] == a and w[i + 1] == b:
                    out_w.append(a + b)
                    i += 2
                else:
                    out_w.append(w[i])
                    i += 1
            merged[tuple(out_w)] += n
        words = merged
    vocab["<mask>"] = len(vocab)
    with open(os.path.join(out, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(vocab, f, ensure_ascii=False)
    with open(os.path.join(out, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n" + "\n".join(merges) + "\n")
    config = dict(model_type="roberta", vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                  num_attention_heads=4, intermediate_size=37, hidden_act="gelu", max_position_embeddings=130,
                  type_vocab_size=1, layer_norm_eps=1e-5, hidden_dropout_prob=0.1,
                  attention_probs_dropout_prob=0.1, pad_token_id=1, bos_token_id=0, eos_token_id=2,
                  initializer_range=0.02)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    torch.manual_seed(7)
    write_safetensors(os.path.join(out, "model.safetensors"), ReferenceEncoder(config).hf_state_dict())
    print(f"tiny RoBERTa: {len(vocab)} tokens, {len(merges)} merges -> {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
