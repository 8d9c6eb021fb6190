#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference of vision_clip_finetune_test: CLIP's symmetric contrastive loss as transformers writes it
(models/clip/modeling_clip.py, `contrastive_loss` and `clip_loss`), evaluated in float64 with torch,
and the Trainer's evaluation loss over several batches (each batch's loss repeated once per row, then
the mean over all rows):

    contrastive_loss(logits) = cross_entropy(logits, arange(len(logits)))
    clip_loss(similarity)    = (contrastive_loss(similarity) + contrastive_loss(similarity.t())) / 2
    eval_loss(batches)       = mean(cat([clip_loss(L_b).repeat(len(L_b)) for each batch b]))

where `similarity` is `logits_per_text`.

Usage: /usr/bin/python3 clip_loss_reference.py INPUT.json OUTPUT.json
INPUT:  {"losses": {name: logits_per_text [[...]]}, "eval_losses": {name: [logits_per_text of each batch]}}
OUTPUT: {"losses": {name: value}, "eval_losses": {name: value}}
"""
import json
import sys

import torch
from torch import nn


def contrastive_loss(logits):
    return nn.functional.cross_entropy(logits, torch.arange(len(logits), device=logits.device))


def clip_loss(similarity):
    caption_loss = contrastive_loss(similarity)
    image_loss = contrastive_loss(similarity.t())
    return (caption_loss + image_loss) / 2.0


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    out = {"losses": {}, "eval_losses": {}}
    for name, logits in spec.get("losses", {}).items():
        out["losses"][name] = clip_loss(torch.tensor(logits, dtype=torch.float64)).item()
    for name, batches in spec.get("eval_losses", {}).items():
        losses = []
        for logits in batches:
            logits = torch.tensor(logits, dtype=torch.float64)
            losses.append(clip_loss(logits).reshape(1).repeat(len(logits)))
        out["eval_losses"][name] = torch.cat(losses).mean().item()
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
