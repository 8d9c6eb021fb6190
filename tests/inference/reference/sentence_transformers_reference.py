# SPDX-License-Identifier: Apache-2.0
"""Embeds token ids with a sentence-transformers directory, independently of vikcse, in float64.

Usage: /usr/bin/python3 sentence_transformers_reference.py ST_DIR INPUTS.safetensors OUT.safetensors

What `SentenceTransformer(ST_DIR)` does with a batch, written from the format's documentation:
modules.json lists the modules in order; the Transformer (path "" = ST_DIR) is the Hugging Face
checkpoint, run here by the torch.nn reference encoder of tests/encoder/reference; Pooling reads
1_Pooling/config.json and concatenates its modes in the library's order (cls, max, mean,
mean_sqrt_len, weightedmean, lasttoken); Dense applies activation(linear(x)) from its config.json
and model.safetensors; Normalize divides by the L2 norm. INPUTS holds `input_ids` and
`attention_mask` (int64, right-padded, as the C++ side tokenised them). OUT gets `embeddings`
(float64), `magnitude` (max |last hidden state|) and `norms` (row norms before Normalize).
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "encoder", "reference"))
from reference_encoder import load_checkpoint, read_safetensors, write_safetensors  # noqa: E402

ACTIVATIONS = {"torch.nn.modules.activation.Tanh": torch.tanh, "torch.nn.modules.linear.Identity": lambda x: x}


def pool(config, tokens, mask):
    m = mask.unsqueeze(-1).to(tokens.dtype)
    out = []
    if config.get("pooling_mode_cls_token"):
        out.append(tokens[:, 0])
    if config.get("pooling_mode_max_tokens"):
        out.append(tokens.masked_fill(m == 0, -1e9).max(dim=1).values)
    if config.get("pooling_mode_mean_tokens") or config.get("pooling_mode_mean_sqrt_len_tokens"):
        total = (tokens * m).sum(1)
        count = m.sum(1).clamp(min=1e-9)
        if config.get("pooling_mode_mean_tokens"):
            out.append(total / count)
        if config.get("pooling_mode_mean_sqrt_len_tokens"):
            out.append(total / count.sqrt())
    if config.get("pooling_mode_weightedmean_tokens"):
        w = m * torch.arange(1, tokens.shape[1] + 1, dtype=tokens.dtype).view(1, -1, 1)
        out.append((tokens * w).sum(1) / w.sum(1).clamp(min=1e-9))
    if config.get("pooling_mode_lasttoken"):
        last = mask.sum(1) - 1  # right padding
        out.append(tokens[torch.arange(tokens.shape[0]), last.clamp(min=0)])
    return torch.cat(out, dim=1)


def main():
    st_dir, inputs_path, out_path = sys.argv[1:4]
    with open(os.path.join(st_dir, "modules.json")) as f:
        modules = json.load(f)
    inputs = read_safetensors(inputs_path)
    ids, mask = inputs["input_ids"].long(), inputs["attention_mask"].long()
    x = None
    magnitude = 0.0
    norms = None
    for module in sorted(modules, key=lambda m: m["idx"]):
        kind = module["type"].rsplit(".", 1)[-1]
        path = os.path.join(st_dir, module["path"])
        if kind == "Transformer":
            encoder = load_checkpoint(path).double().eval()
            with torch.no_grad():
                tokens, _, _ = encoder(ids, mask, torch.zeros_like(ids))
            magnitude = tokens.abs().max().item()
        elif kind == "Pooling":
            with open(os.path.join(path, "config.json")) as f:
                x = pool(json.load(f), tokens, mask)
        elif kind == "Dense":
            with open(os.path.join(path, "config.json")) as f:
                config = json.load(f)
            weights = read_safetensors(os.path.join(path, "model.safetensors"))
            y = x @ weights["linear.weight"].double().t()
            if config.get("bias", True):
                y = y + weights["linear.bias"].double()
            x = ACTIVATIONS[config.get("activation_function", "torch.nn.modules.activation.Tanh")](y)
        elif kind == "Normalize":
            norms = x.norm(dim=1)
            x = x / norms.clamp(min=1e-12).unsqueeze(1)
        else:
            raise SystemExit(f"unsupported module {module['type']}")
    if norms is None:
        norms = x.norm(dim=1)
    write_safetensors(out_path, {"embeddings": x, "magnitude": torch.tensor([magnitude], dtype=torch.float64),
                                 "norms": norms})


if __name__ == "__main__":
    main()
