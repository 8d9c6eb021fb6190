# SPDX-License-Identifier: Apache-2.0
"""Peer for benchmarks/train_step: one unsupervised SimCSE training step in Debian's python3-torch
eager mode, on the very same weights (the torch.nn reference of tests/encoder/reference).

Step: B sentences duplicated into 2B rows (two dropout views in one forward), [CLS] -> MLP head
tanh(Wx+b) -> cosine logits / 0.05 of view 0 against view 1 -> cross-entropy -> backward ->
gradient clipping at 1.0 -> AdamW (lr 3e-5). Dropout 0.1 as BERT's (attention probabilities,
after attention output and after the feed-forward output; the extra nn.TransformerEncoderLayer
dropout inside the feed-forward block is set to 0 to match BERT).
--bf16: the forward pass under torch.autocast("cpu", bfloat16), the loss in float32.
Prints one JSON line: {"seconds_per_step": s, "peak_rss_mib": m}.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "encoder", "reference"))
from reference_encoder import load_checkpoint, use_bert_dropout  # noqa: E402

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("checkpoint")
p.add_argument("--batch", type=int, default=64)
p.add_argument("--seq", type=int, default=32)
p.add_argument("--iters", type=int, default=3)
p.add_argument("--threads", type=int, default=os.cpu_count())
p.add_argument("--bf16", action="store_true")
a = p.parse_args()
torch.set_num_threads(a.threads)
model = use_bert_dropout(load_checkpoint(a.checkpoint))
config = model.config
h = config["hidden_size"]
mlp = torch.nn.Linear(h, h)
params = list(model.parameters()) + list(mlp.parameters())
optimizer = torch.optim.AdamW(params, lr=3e-5, weight_decay=0.0)
model.train()
torch.manual_seed(0)
ids = torch.randint(1000, config["vocab_size"], (a.batch, a.seq))
ids = torch.cat([ids, ids])
mask = torch.ones_like(ids)
types = torch.zeros_like(ids)
labels = torch.arange(a.batch)


def step():
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.bf16):
        last, _, _ = model(ids, mask, types)
        z = torch.tanh(mlp(last[:, 0]))
    z = z.float()
    z1, z2 = z[:a.batch], z[a.batch:]
    logits = F.cosine_similarity(z1.unsqueeze(1), z2.unsqueeze(0), dim=-1) / 0.05
    loss = F.cross_entropy(logits, labels)
    optimizer.zero_grad()
    loss.backward()
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    optimizer.step()
    return loss.item()


step()
start = time.perf_counter()
for _ in range(a.iters):
    step()
elapsed = (time.perf_counter() - start) / a.iters
print(json.dumps({"seconds_per_step": elapsed,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0}), flush=True)
