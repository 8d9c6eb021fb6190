# SPDX-License-Identifier: Apache-2.0
"""Loads a checkpoint directory written by vikcse (AutoModel::save_pretrained) into the independent
torch.nn reference and checks that it is the checkpoint it was saved from.

Usage: /usr/bin/python3 check_saved_checkpoint.py SAVED_DIR SOURCE_DIR INPUTS.safetensors

SOURCE_DIR is the checkpoint vikcse loaded before saving (tests/data/encoder/tiny-roberta) and
INPUTS.safetensors holds the token ids to run (tests/data/encoder/tiny-roberta-expected.safetensors;
only its integer inputs are read). Everything is compared in this process, on this machine:
  1. the config values the reference builds its model from are equal;
  2. every parameter the reference loads is bit for bit equal (saving must not change a weight);
  3. the reference's outputs for both directories are equal within a float64 rounding bound.
Nothing is compared with numbers another machine wrote (a float32 fixture written on one CPU
differs from a float32 run on another by ~6e-6, which is rounding, not a fault of the checkpoint).

Why float64 for 3: the weights are float32 values, exactly representable in float64, and the
float64 evaluation of the same function is accurate to eps64 * stages * sqrt(K) * M ~ 4e-14 (the
float32 derivation of tests/support/float_bounds.hpp with eps64 = 2^-52). At that resolution a
checkpoint differing in a single weight by one float32 ulp, or a config whose layer_norm_eps was
lost, moves the outputs by orders of magnitude more than the bound; the script checks that on
copies of the source model, so a bound that stopped being able to fail would fail the test.
"""
import copy
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from reference_encoder import load_checkpoint, read_safetensors  # noqa: E402

# The config keys ReferenceEncoder reads (its architecture).
ARCHITECTURE = ("model_type", "vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
                "intermediate_size", "hidden_act", "max_position_embeddings", "type_vocab_size",
                "layer_norm_eps", "pad_token_id")
EPS64 = 2.0 ** -52


def float64_outputs(model, inputs):
    model = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        last, pooled, states = model(*inputs)
    return {"last_hidden_state": last, "pooler_output": pooled,
            **{f"hidden_states.{i}": s for i, s in enumerate(states)}}


def bound(config, name, magnitude):
    """eps64 * stages * sqrt(K) * M: stages = 1 for the embedding LayerNorm, 2 per layer, 1 for the pooler."""
    layers = config["num_hidden_layers"]
    if name == "pooler_output":
        stages = 2 * layers + 2
    elif name == "last_hidden_state":
        stages = 2 * layers + 1
    else:
        stages = 2 * int(name.split(".")[1]) + 1
    k = max(config["hidden_size"], config["intermediate_size"])
    return EPS64 * stages * math.sqrt(k) * magnitude


def worst_ratio(config, got, want):
    """max over outputs of |got - want| / bound (> 1: the comparison fails), and that output."""
    magnitude = max(v.abs().max().item() for k, v in want.items() if k != "pooler_output")
    ratios = {k: (got[k] - want[k]).abs().max().item() / bound(config, k, magnitude) for k in want}
    name = max(ratios, key=ratios.get)
    return ratios[name], name


def main(saved_dir, source_dir, inputs_path):
    failures = []
    with open(os.path.join(saved_dir, "config.json")) as f:
        saved_config = json.load(f)
    with open(os.path.join(source_dir, "config.json")) as f:
        source_config = json.load(f)
    for key in ARCHITECTURE:
        if saved_config.get(key) != source_config.get(key):
            failures.append(f"config {key}: saved {saved_config.get(key)!r}, source {source_config.get(key)!r}")

    saved, source = load_checkpoint(saved_dir), load_checkpoint(source_dir)
    source_params = dict(source.named_parameters())
    changed = [n for n, p in saved.named_parameters() if not torch.equal(p, source_params[n])]
    print(f"{len(source_params) - len(changed)} of {len(source_params)} parameters bit for bit equal")
    failures += [f"parameter {n} differs from the source checkpoint" for n in changed]

    fixture = read_safetensors(inputs_path)
    inputs = (fixture["input_ids"], fixture["attention_mask"], fixture["token_type_ids"])
    want = float64_outputs(source, inputs)
    ratio, name = worst_ratio(source_config, float64_outputs(saved, inputs), want)
    print(f"float64 outputs, saved vs source: worst {name} at {ratio:.3g} x its bound")
    if ratio > 1.0:
        failures.append(f"{name}: the saved checkpoint's outputs differ from the source's beyond the bound")

    # The bound must stay far below the smallest real fault: one weight off by one float32 ulp, and
    # a lost layer_norm_eps (a reader falling back to BERT's 1e-12).
    one_ulp = copy.deepcopy(source)
    with torch.no_grad():
        w = one_ulp.layers[0].linear1.weight
        w[0, 0] = torch.nextafter(w[0, 0], torch.tensor(math.inf, dtype=w.dtype))
    lost_eps = copy.deepcopy(source)
    for module in lost_eps.modules():
        if isinstance(module, torch.nn.LayerNorm):
            module.eps = 1e-12
    faults = [("one weight off by one float32 ulp", one_ulp)]
    if source_config["layer_norm_eps"] > 1e-9:
        faults.append((f"layer_norm_eps 1e-12 instead of {source_config['layer_norm_eps']}", lost_eps))
    for what, model in faults:
        r, where = worst_ratio(source_config, float64_outputs(model, inputs), want)
        print(f"fault '{what}': {where} at {r:.3g} x its bound")
        if r < 100.0:
            failures.append(f"fault '{what}' moves the outputs only {r:.3g} x the bound: the check cannot see it")

    for f in failures:
        print("FAILED:", f)
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
