# SPDX-License-Identifier: Apache-2.0
"""Writes the encoder fixtures in tests/data/encoder from the independent torch.nn reference.

Usage: /usr/bin/python3 tests/encoder/reference/make_encoder_fixtures.py
For each of a tiny BERT and a tiny RoBERTa it writes:
  tiny-<type>/config.json, tiny-<type>/model.safetensors   (Hugging Face layout, no key prefix)
  tiny-<type>-bin/config.json, tiny-<type>-bin/pytorch_model.bin  (torch.save of a state dict with
      the `<type>.` prefix, legacy LayerNorm gamma/beta names and an MLM-head key, as old checkpoints have)
  tiny-<type>-expected.safetensors  (inputs and the reference outputs in float32 and float64,
      as reference_outputs.py writes them)
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from reference_encoder import ReferenceEncoder, write_safetensors  # noqa: E402
from reference_outputs import reference_outputs  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "data", "encoder")

CONFIGS = {
    "bert": dict(model_type="bert", vocab_size=99, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                 intermediate_size=37, hidden_act="gelu", max_position_embeddings=40, type_vocab_size=2,
                 layer_norm_eps=1e-12, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
                 pad_token_id=0, initializer_range=0.02),
    "roberta": dict(model_type="roberta", vocab_size=101, hidden_size=32, num_hidden_layers=2,
                    num_attention_heads=4, intermediate_size=37, hidden_act="gelu", max_position_embeddings=42,
                    type_vocab_size=1, layer_norm_eps=1e-5, hidden_dropout_prob=0.1,
                    attention_probs_dropout_prob=0.1, pad_token_id=1, initializer_range=0.02),
}


def make(model_type, seed):
    torch.manual_seed(seed)
    config = CONFIGS[model_type]
    model = ReferenceEncoder(config)
    with torch.no_grad():  # large random weights so that any mistake shows
        for name, p in model.named_parameters():
            if "norm" in name and name.endswith("weight"):
                p.copy_(1.0 + 0.3 * torch.randn_like(p))
            else:
                p.copy_(0.4 * torch.randn_like(p))
    model.eval()
    pad = config["pad_token_id"]
    lengths = [9, 6, 4]
    ids = torch.randint(3, config["vocab_size"], (3, 9))
    mask = torch.zeros(3, 9, dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    ids = ids * mask + pad * (1 - mask)
    types = torch.randint(0, config["type_vocab_size"], (3, 9)) * mask

    d = os.path.join(OUT, f"tiny-{model_type}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    sd = model.hf_state_dict()
    write_safetensors(os.path.join(d, "model.safetensors"), sd)

    d_bin = os.path.join(OUT, f"tiny-{model_type}-bin")
    os.makedirs(d_bin, exist_ok=True)
    with open(os.path.join(d_bin, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    legacy = {}
    for k, v in sd.items():
        k = k.replace("LayerNorm.weight", "LayerNorm.gamma").replace("LayerNorm.bias", "LayerNorm.beta")
        legacy[f"{model_type}.{k}"] = v
    legacy["cls.predictions.bias" if model_type == "bert" else "lm_head.bias"] = torch.zeros(config["vocab_size"])
    torch.save(legacy, os.path.join(d_bin, "pytorch_model.bin"))

    expected = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    expected.update(reference_outputs(model, ids, mask, types))
    write_safetensors(os.path.join(OUT, f"tiny-{model_type}-expected.safetensors"), expected)
    print(f"wrote tiny-{model_type}: {sum(v.numel() for v in sd.values())} parameters")


if __name__ == "__main__":
    make("bert", 1234)
    make("roberta", 4321)
