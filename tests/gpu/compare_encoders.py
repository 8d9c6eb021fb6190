# SPDX-License-Identifier: Apache-2.0
"""Our BertModel/RobertaModel against transformers' own, on the random checkpoints and outputs that
`gpu_suite encoders` wrote (DIR/bert, DIR/roberta, DIR/ours.safetensors); then our ClipModel
against transformers' CLIPModel (DIR/clip, DIR/clip.safetensors: compare_clip.py, its rows in the
same list, model "clip", and a "clip" section with its shape).

The judge is each checkpoint run by transformers in float64 on the CPU. Ours must stay within the
bounds derived in tests/support/float_bounds.hpp, over attended positions:
  float32:  eps32 * stages * sqrt(K) * M     (dot products of length K accumulate in float32)
  bfloat16: eps_bf16 * stages * M            (each stage rounds its output to bf16)
with stages = 2L + 1 (+1 for the pooler's dense layer), K = max(hidden, intermediate) and M the
largest |hidden state| of the float64 run. transformers' own float32 and bf16 runs on the device
are measured against the same judge and reported beside ours.

--rehearse without transformers installed (Debian has no package of it): the judge and the peer
are tests/encoder/reference's torch.nn encoder instead (for CLIP: tests/vision/reference's
ReferenceClip), and the report says so. Without
--rehearse, a missing transformers is an error.
Writes a JSON report; exit status 1 when one of our outputs is outside its bound.
"""
import argparse
import json
import math
import os
import sys

import torch

from compare_clip import compare_clip
from peer_library import load_checkpoint, read_safetensors, transformers_or_reference

EPS32, EPS_BF16 = 2.0 ** -23, 2.0 ** -7

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("dir")
p.add_argument("--device", default="cuda")
p.add_argument("--rehearse", action="store_true")
p.add_argument("--out", required=True)
a = p.parse_args()

transformers, peer_name = transformers_or_reference(a.rehearse, "compare_encoders")

def load(directory, dtype, device):
    if transformers is not None:
        model = transformers.AutoModel.from_pretrained(directory, dtype=dtype) if dtype != torch.float64 else \
            transformers.AutoModel.from_pretrained(directory).double()
        return model.to(device).eval()
    return load_checkpoint(directory).to(dtype).to(device).eval()


def run(model, ids, mask, device):
    ids, mask = ids.to(device), mask.to(device)
    with torch.no_grad():
        if transformers is not None:
            out = model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids),
                        output_hidden_states=True)
            return out.last_hidden_state, out.pooler_output, out.hidden_states
        last, pooled, states = model(ids, mask, torch.zeros_like(ids))
        return last, pooled, states


ours = read_safetensors(os.path.join(a.dir, "ours.safetensors"))
mask = ours["attention_mask"]
attended = mask.bool().unsqueeze(-1)
rows, failures = [], 0
for family in ("bert", "roberta"):
    directory = os.path.join(a.dir, family)
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    ids = ours[f"input_ids.{family}"]
    last64, pooled64, states64 = run(load(directory, torch.float64, "cpu"), ids, mask, "cpu")
    m = max(s.abs().max().item() for s in states64)
    layers = config["num_hidden_layers"]
    k = max(config["hidden_size"], config["intermediate_size"])
    peer = {}
    for dtype in (torch.float32, torch.bfloat16):
        last, pooled, _ = run(load(directory, dtype, a.device), ids, mask, a.device)
        peer[dtype] = (last.float().cpu(), pooled.float().cpu())
    for name, dtype in (("float32", torch.float32), ("bfloat16", torch.bfloat16)):
        for output, want, stages in (("last_hidden_state", last64, 2 * layers + 1),
                                     ("pooler_output", pooled64, 2 * layers + 2)):
            bound = EPS32 * stages * math.sqrt(k) * m if dtype == torch.float32 else EPS_BF16 * stages * m
            got = ours[f"{family}.{name}.{output}"].double()
            theirs = peer[dtype][0 if output == "last_hidden_state" else 1].double()
            if output == "last_hidden_state":
                diff = (got - want).abs().masked_select(attended).max().item()
                peer_diff = (theirs - want).abs().masked_select(attended).max().item()
            else:
                diff = (got - want).abs().max().item()
                peer_diff = (theirs - want).abs().max().item()
            ok = diff <= bound and math.isfinite(diff)
            failures += not ok
            rows.append({"model": family, "dtype": name, "output": output, "ours_vs_float64": diff,
                         "peer_vs_float64": peer_diff, "bound": bound, "pass": ok})
            print(f"[{'pass' if ok else 'fail'}] {family} {name} {output}: ours {diff:.3g}, "
                  f"peer {peer_diff:.3g} (bound {bound:.3g})", flush=True)

clip_rows, clip_failures, clip_facts = compare_clip(a.dir, transformers, a.device, EPS32, EPS_BF16)
rows += clip_rows
failures += clip_failures

report = {"peer": peer_name, "device": a.device, "judge": "peer in float64 on the CPU", "rows": rows,
          "failures": failures, "shape": {"batch": list(mask.shape)}, "clip": clip_facts}
tmp = a.out + ".partial"
with open(tmp, "w") as f:
    json.dump(report, f, indent=2)
os.replace(tmp, a.out)
sys.exit(1 if failures else 0)
