#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Independent PyTorch reference for the methods' losses on a 3-sentence batch.

Written from the method descriptions (SimCSE/PromptBERT InfoNCE, supervised hard negatives, MCSE,
VIKCSE with full-sort top-1 retrieval as in the reference code, Test3, and the gradient
extensions, including the contrast mode with rows retrieved by the batch's own keys). Run with Debian's /usr/bin/python3 (torch 1.13):

    /usr/bin/python3 tests/methods/reference/make_loss_reference.py OUT.json

methods_loss_test runs it into a temporary file at the start of every run, so that the C++ losses
are compared with a reference computed on the same machine; tests/data/methods/loss_reference.json
is the same output committed, used only where the script cannot run.

The inputs are drawn in float32 (the values the C++ test reads, stored exactly in the JSON) and
every expected value is computed in float64 from them. The expected values therefore carry no
float32 rounding of this machine: what the test sees is only the C++ code's own float32 error,
which its bound (loss_test.cpp) is derived for. The script also checks that the retrieval is well
posed: the knowledge-base rows it picks are separated from the next candidates by far more than
float32 rounding can move a cosine score, so a float32 implementation must pick the same rows.
"""
import json
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1234)
N, H, D, M, DV, P = 3, 8, 4, 6, 5, 4
TAU = 0.05
# A cosine score computed in float32 is off by at most a few eps32 * sqrt(dim) ~ 1e-6 here; the
# retrieved rows must be separated by 100 times that (see retrieve_sorted).
MIN_RETRIEVAL_GAP = 1e-4
cos = nn.CosineSimilarity(dim=-1)


def info_nce(a, c, tau=TAU, extra=None, hard=None, hard_w=0.0):
    cand = c
    if hard is not None:
        cand = torch.cat([cand, hard], 0)
    if extra is not None:
        cand = torch.cat([cand, extra], 0)
    sim = cos(a.unsqueeze(1), cand.unsqueeze(0)) / tau
    if hard is not None:
        w = torch.tensor([[0.0] * (c.size(0) + i) + [hard_w] + [0.0] * (cand.size(0) - c.size(0) - i - 1)
                          for i in range(a.size(0))], dtype=sim.dtype)
        sim = sim + w
    return F.cross_entropy(sim, torch.arange(a.size(0)))


def t(x):
    return x.detach().tolist()


def rnd(*shape):
    """float32 draws: the stored inputs (converted to float64 below, for the computation)."""
    return torch.randn(*shape)


out = {"generator": "tests/methods/reference/make_loss_reference.py", "expected_dtype": "float64"}
z1, z2, zh = rnd(N, H), rnd(N, H), rnd(N, H)
out["z1"], out["z2"], out["zh"] = t(z1), t(z2), t(zh)

# PromptBERT: z_k = tanh(W (h_k - delta_k) + b)
h1, h2, d1, d2 = rnd(N, H), rnd(N, H), rnd(N, H), rnd(N, H)
mlp_w, mlp_b = rnd(H, H) * 0.3, rnd(H) * 0.1
out.update(h1=t(h1), h2=t(h2), delta1=t(d1), delta2=t(d2), mlp_w=t(mlp_w), mlp_b=t(mlp_b))

# MCSE: g_t on raw CLS, g_v on image features, lambda-weighted text->image term
c1, c2, x = rnd(N, H), rnd(N, H), rnd(N, DV)
gt_w, gt_b, gv_w, gv_b = rnd(P, H) * 0.3, rnd(P) * 0.1, rnd(P, DV) * 0.3, rnd(P) * 0.1
out.update(cls1=t(c1), cls2=t(c2), image=t(x), gt_w=t(gt_w), gt_b=t(gt_b), gv_w=t(gv_w), gv_b=t(gv_b))

# VIKCSE: projectors P_m (on z) and P_c (on raw CLS), KB of M unit rows, top-1 by full sort.
kb = F.normalize(rnd(M, D), dim=-1)
pm_w, pm_b, pc_w, pc_b = rnd(D, H) * 0.3, rnd(D) * 0.1, rnd(D, H) * 0.3, rnd(D) * 0.1
out.update(kb=t(kb), pm_w=t(pm_w), pm_b=t(pm_b), pc_w=t(pc_w), pc_b=t(pc_b))

# The batch's own retrieval keys (grounded retrieval, an extension): one per sentence, in the KB's space.
keys = rnd(N, D)
out.update(keys=t(keys))

# From here on everything is float64, computed from exactly the float32 values stored above. The
# C++ knowledge base normalises its rows again; so does the reference.
(z1, z2, zh, h1, h2, d1, d2, mlp_w, mlp_b, c1, c2, x, gt_w, gt_b, gv_w, gv_b, pm_w, pm_b, pc_w, pc_b) = (
    v.double() for v in (z1, z2, zh, h1, h2, d1, d2, mlp_w, mlp_b, c1, c2, x, gt_w, gt_b, gv_w, gv_b,
                         pm_w, pm_b, pc_w, pc_b))
kb = F.normalize(kb.double(), dim=-1)
keys = keys.double()

out["simcse"] = info_nce(z1, z2).item()
out["simcse_sup"] = info_nce(z1, z2, hard=zh, hard_w=0.0).item()
out["simcse_sup_weighted"] = info_nce(z1, z2, hard=zh, hard_w=1.5).item()

mlp = lambda inp: torch.tanh(inp @ mlp_w.t() + mlp_b)
out["promptbert"] = info_nce(mlp(h1 - d1), mlp(h2 - d2)).item()

g = lambda inp, w, b: F.normalize(torch.tanh(inp @ w.t() + b), dim=-1)
intra = info_nce(z1, z2)
v = g(x, gv_w, gv_b)
inter = 0.5 * (info_nce(g(c1, gt_w, gt_b), v) + info_nce(g(c2, gt_w, gt_b), v))
out["mcse_lambda"] = 0.1
out["mcse_intra"] = intra.item()
out["mcse_inter"] = inter.item()
out["mcse"] = (intra + 0.1 * inter).item()

proj = lambda inp, w, b: torch.tanh(inp @ w.t() + b)
min_gap = [float("inf")]


def retrieve_sorted(q, n):
    """The first n rows by descending cosine score. Row n (the first one left out) and the order
    of the first n must be decided by more than MIN_RETRIEVAL_GAP, so that float32 rounding cannot
    change which rows a float32 implementation retrieves."""
    with torch.no_grad():
        s = F.normalize(q, dim=-1) @ kb.t()
        ordered, order = torch.sort(s, dim=1, descending=True)
        gap = (ordered[:, :n] - ordered[:, 1:n + 1]).min().item()
        assert gap > MIN_RETRIEVAL_GAP, f"retrieval of {n} rows is decided by a score gap of only {gap:.3g}"
        min_gap[0] = min(min_gap[0], gap)
        return order[:, :n]


def vikcse(mode="none", top_n=1, soft_k=4, soft_tau=0.05, batch_keys=None):
    text = info_nce(z1, z2)
    total = text
    terms = {"text": text.item()}
    for name, q0, q1 in (("vm", proj(z1, pm_w, pm_b), proj(z2, pm_w, pm_b)),
                         ("vc", proj(c1, pc_w, pc_b), proj(c2, pc_w, pc_b))):
        pos, extras = [], []
        for q in (q0, q1):
            key = q if batch_keys is None else batch_keys  # what picks the rows
            qn = F.normalize(q, dim=-1)
            if mode == "soft":
                rows = kb[retrieve_sorted(key, soft_k)]  # only the set matters: the softmax weighs all of them
                w = torch.softmax((rows * qn.unsqueeze(1)).sum(-1) / soft_tau, dim=1)
                pos.append((w.unsqueeze(-1) * rows).sum(1))
            else:
                rows = kb[retrieve_sorted(key, top_n)]  # [N, n, D]
                p = rows[:, 0]
                if mode == "straight_through":
                    p = p + qn - qn.detach()
                pos.append(p)
                if top_n > 1:
                    extras.append(rows[:, 1:].reshape(-1, D))
        extra = torch.cat(extras, 0) if extras else None
        if mode == "contrast":  # each view's query against the batch's retrieved rows
            term = 0.5 * (info_nce(q0, pos[0], extra=extra) + info_nce(q1, pos[1], extra=extra))
        else:
            term = info_nce(pos[0], pos[1], extra=extra)
        terms[name] = term.item()
        total = total + 0.5 * term / torch.abs(term - text).detach()
    terms["total"] = total.item()
    return terms, total


out["vikcse"], _ = vikcse()
out["vikcse_test3"], _ = vikcse(top_n=2)
out["vikcse_soft"], _ = vikcse(mode="soft", soft_k=4)

# Gradient of the total w.r.t. z1 in the straight-through mode (extension), to check the C++ graph.
z1.requires_grad_(True)
_, total = vikcse(mode="straight_through")
total.backward()
out["vikcse_st_total"] = total.item()
out["vikcse_st_grad_z1"] = t(z1.grad)
z1.grad = None

# The contrast mode, rows retrieved by the queries (as the reference retrieves) and by the batch's
# keys; the gradient w.r.t. z1 of the latter (its knowledge terms reach z1 through P_m).
out["vikcse_contrast"], _ = vikcse(mode="contrast")
out["vikcse_contrast_keys"], total = vikcse(mode="contrast", batch_keys=keys)
total.backward()
out["vikcse_contrast_keys_grad_z1"] = t(z1.grad)
out["min_retrieval_gap"] = min_gap[0]

with open(sys.argv[1], "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
