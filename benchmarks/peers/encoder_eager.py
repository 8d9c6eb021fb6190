# SPDX-License-Identifier: Apache-2.0
"""Peer for benchmarks/encoder_throughput: the same BERT-shaped encoder in Debian's python3-torch
eager mode (the torch.nn reference of tests/encoder/reference, loading the very same weights).

Prints one JSON line per sequence length: {"seq": T, "seconds_per_batch": s, "peak_rss_mib": m}.
Usage: /usr/bin/python3 encoder_eager.py CHECKPOINT_DIR --batch 64 --seq 32 128 --iters 5 --threads 2

Batches mode (benchmarks/sentence_encoder_throughput): --batches FILE.json holds the token batches
vikcse encodes ({"batches": [{"shape": [B, T], "ids": [...], "mask": [...]}, ...]}, row-major). One
pass over them warms up, --iters passes are timed; the masked mean of last_hidden_state of every row
(in file order) goes to --out as raw little-endian float32, and one JSON line is printed:
{"sentences": n, "seconds_per_pass": s, "peak_rss_mib": m}.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "encoder", "reference"))
from reference_encoder import load_checkpoint  # noqa: E402

p = argparse.ArgumentParser(description=__doc__)
p.add_argument("checkpoint")
p.add_argument("--batch", type=int, default=64)
p.add_argument("--seq", type=int, nargs="+", default=[32, 128])
p.add_argument("--iters", type=int, default=5)
p.add_argument("--warmup", type=int, default=1)
p.add_argument("--threads", type=int, default=os.cpu_count())
p.add_argument("--batches", help="token batches to encode (see above)")
p.add_argument("--out", help="with --batches: where the mean-pooled embeddings go (float32)")
p.add_argument("--fast-path", action="store_true",
               help="allow nn.TransformerEncoderLayer's fused inference kernel (default: plain eager ops under "
                    "torch.no_grad(), which is how Hugging Face's BertModel runs)")
a = p.parse_args()
torch.set_num_threads(a.threads)
model = load_checkpoint(a.checkpoint)
config = model.config
model.eval()
if not a.fast_path:
    # nn.TransformerEncoderLayer takes its fused inference kernel only when this flag is set; clearing
    # it keeps the same exact-GELU math on plain eager ops.
    for layer in model.layers:
        layer.activation_relu_or_gelu = 0
if a.batches:
    with open(a.batches) as f:
        batches = []
        for b in json.load(f)["batches"]:
            shape = tuple(b["shape"])
            batches.append((torch.tensor(b["ids"], dtype=torch.long).view(shape),
                            torch.tensor(b["mask"], dtype=torch.long).view(shape)))

    def one_pass():
        pooled = []
        for ids, mask in batches:
            hidden = model(ids, mask, torch.zeros_like(ids))[0]
            m = mask.unsqueeze(-1).to(hidden.dtype)
            pooled.append((hidden * m).sum(1) / m.sum(1))
        return torch.cat(pooled)

    with torch.no_grad():
        one_pass()
        start = time.perf_counter()
        for _ in range(a.iters):
            pooled = one_pass()
        elapsed = (time.perf_counter() - start) / a.iters
    if a.out:
        pooled.contiguous().numpy().astype("<f4").tofile(a.out)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"sentences": int(pooled.shape[0]), "seconds_per_pass": elapsed, "peak_rss_mib": peak}),
          flush=True)
    sys.exit(0)
torch.manual_seed(0)
for seq in a.seq:
    ids = torch.randint(1000, config["vocab_size"], (a.batch, seq))
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    with torch.no_grad():
        for _ in range(a.warmup):
            model(ids, mask, types)
        start = time.perf_counter()
        for _ in range(a.iters):
            out = model(ids, mask, types)[0]
            out = out.detach()
        elapsed = (time.perf_counter() - start) / a.iters
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"seq": seq, "seconds_per_batch": elapsed, "peak_rss_mib": peak}), flush=True)
