# SPDX-License-Identifier: Apache-2.0
"""Evaluates the torch.nn reference on the committed tiny checkpoints now, on this machine.

Usage: /usr/bin/python3 reference_outputs.py DATA_DIR OUT_DIR [TYPE ...]

For each TYPE (default: bert roberta) it loads DATA_DIR/tiny-<type> (config.json + model.safetensors),
takes the inputs of DATA_DIR/tiny-<type>-expected.safetensors (integer ids and masks, the same on
every machine) and writes OUT_DIR/tiny-<type>-expected.safetensors: the inputs and the outputs
  last_hidden_state, pooler_output, hidden_states.<i>            float32 evaluation
  float64.last_hidden_state, float64.pooler_output, ...          the same float32 weights evaluated in float64
CTest runs it before encoder_model_test (test encoder_reference_outputs), so that the C++ outputs
are compared with a reference computed in the same run; with OUT_DIR = DATA_DIR it refreshes the
committed fixtures, which a test run by hand falls back to.

The float64 outputs are the values the float32 outputs approximate: their own rounding error
(~1e-14 here) is far below any float32 bound, so they agree across machines to far better than
float32 resolution, and comparing a float32 output with them measures that output's error alone.
"""
import copy
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from reference_encoder import load_checkpoint, read_safetensors, write_safetensors  # noqa: E402

INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def outputs(model, ids, mask, types):
    """{name: tensor} of one evaluation (eval mode, no autograd), in the model's dtype."""
    model.eval()
    with torch.no_grad():
        last, pooled, states = model(ids, mask, types)
    out = {"last_hidden_state": last, "pooler_output": pooled}
    for i, s in enumerate(states):
        out[f"hidden_states.{i}"] = s
    return out


def reference_outputs(model, ids, mask, types):
    """The float32 outputs of `model` (float32 weights) and, under "float64.", its float64 outputs."""
    result = outputs(model, ids, mask, types)
    for name, value in outputs(copy.deepcopy(model).double(), ids, mask, types).items():
        result["float64." + name] = value
    return result


def main(data_dir, out_dir, types):
    os.makedirs(out_dir, exist_ok=True)
    for model_type in types:
        model = load_checkpoint(os.path.join(data_dir, f"tiny-{model_type}"))
        fixture = read_safetensors(os.path.join(data_dir, f"tiny-{model_type}-expected.safetensors"))
        tensors = {k: fixture[k] for k in INPUTS}
        tensors.update(reference_outputs(model, *(fixture[k] for k in INPUTS)))
        path = os.path.join(out_dir, f"tiny-{model_type}-expected.safetensors")
        write_safetensors(path, tensors)
        gap = (tensors["last_hidden_state"].double() - tensors["float64.last_hidden_state"]).abs().max().item()
        print(f"{path}: max |float32 - float64| last_hidden_state = {gap:.3g}")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3:] or ["bert", "roberta"])
