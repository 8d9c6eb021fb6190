# SPDX-License-Identifier: Apache-2.0
"""Exports a checkpoint directory (config.json + model.safetensors) to ONNX for the ONNX Runtime peer
of benchmarks/encoder_throughput (benchmarks/peers/onnxruntime/ort_encoder.js).

The model is the torch.nn reference of tests/encoder/reference (the same one encoder_eager.py times),
in eval mode, with nn.TransformerEncoderLayer's fused inference kernel switched off so that the traced
graph is made of plain ops (MatMul, Softmax, LayerNormalization, exact erf GELU). Inputs: input_ids,
attention_mask, token_type_ids (int64, [batch, sequence], both axes dynamic); output: last_hidden_state.

Usage: /usr/bin/python3 export_onnx.py CHECKPOINT_DIR OUT.onnx [--opset 14]
Prints one JSON line: {"onnx": path, "opset": n, "erf_nodes": k, "tanh_nodes": k, "bytes": n}.
"""
import argparse
import json
import os
import sys
import warnings

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "encoder", "reference"))
from reference_encoder import load_checkpoint  # noqa: E402


class LastHidden(torch.nn.Module):
    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.model(input_ids, attention_mask, token_type_ids)[0]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint")
    p.add_argument("out")
    p.add_argument("--opset", type=int, default=14)
    a = p.parse_args()

    model = load_checkpoint(a.checkpoint)
    model.eval()
    for layer in model.layers:
        # Without this flag nn.TransformerEncoderLayer never takes its fused inference kernel
        # (torch._transformer_encoder_layer_fwd), so tracing sees the plain eager ops.
        layer.activation_relu_or_gelu = 0
    wrapper = LastHidden(model).eval()

    ids = torch.tensor([[1000 + 7 * i for i in range(8)], [2000 + 3 * i for i in range(8)]], dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 5:] = 0
    types = torch.zeros_like(ids)
    axes = {0: "batch", 1: "sequence"}
    # Traced with grad enabled (the parameters require grad): nn.MultiheadAttention, like the encoder
    # layer, takes its fused kernel (aten::_native_multi_head_attention, which has no ONNX export)
    # only under no_grad/inference mode.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer warnings about python control flow on shapes
        torch.onnx.export(wrapper, (ids, mask, types), a.out, opset_version=a.opset, do_constant_folding=True,
                          input_names=["input_ids", "attention_mask", "token_type_ids"],
                          output_names=["last_hidden_state"],
                          dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes,
                                        "last_hidden_state": axes})

    # Check what got traced without the onnx package: count NodeProto op_type fields (field 4,
    # length-delimited: tag 0x22, then the length) in the serialized protobuf.
    with open(a.out, "rb") as f:
        blob = f.read()
    erf = blob.count(b"\x22\x03Erf")
    tanh = blob.count(b"\x22\x04Tanh")
    if erf != model.config["num_hidden_layers"] or tanh != 0:
        sys.exit(f"export_onnx: expected one exact (erf) GELU per layer and no tanh, found erf={erf} tanh={tanh}")
    print(json.dumps({"onnx": a.out, "opset": a.opset, "erf_nodes": erf, "tanh_nodes": tanh,
                      "bytes": len(blob)}), flush=True)


if __name__ == "__main__":
    main()
