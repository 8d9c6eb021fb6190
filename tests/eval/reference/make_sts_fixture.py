#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/data/eval/sts_fixture.json: a small synthetic STS task (two subsets, 150 and 90
pairs, 6-d embeddings, gold scores 0..5) with the results of SentEval's STS protocol and MCSE's
alignment/uniformity, computed independently with numpy/scipy/torch (float64):
cosine per pair (NaN -> 0), Pearson/Spearman per subset, over the concatenation ("all"), mean and
size-weighted mean; alignment/uniformity per SentEval batch of 128 pairs (alignment over pairs with
gold >= 4, 0 for a batch without one; uniformity over the 2 x batch rows), averaged per subset and
over all batches. Run: /usr/bin/python3 tests/eval/reference/make_sts_fixture.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from scipy.stats import pearsonr, spearmanr

rng = np.random.RandomState(20240611)
sizes = {"alpha": 150, "beta": 90}
dim = 6
subsets = []
for name, n in sizes.items():
    a = np.round(rng.randn(n, dim), 4)
    noise = np.round(rng.randn(n, dim), 4)
    gold = np.round(rng.uniform(0, 5, size=n), 1)
    # second sentence: closer to the first when gold is high, so correlations are clearly positive
    b = np.round(a * (gold[:, None] / 5.0) + noise * (1.2 - gold[:, None] / 5.0), 4)
    if name == "beta":
        b[3] = 0.0  # a zero vector: cosine NaN -> 0
        gold[5] = gold[6]  # a tie in gold
    subsets.append((name, a, b, gold))


def align(x, y):
    if min(x.shape) == 0:
        return 0.0
    x = F.normalize(x, p=2, dim=1)
    y = F.normalize(y, p=2, dim=1)
    return (x - y).norm(p=2, dim=1).pow(2).mean().item()


def uniform(x):
    x = F.normalize(x, p=2, dim=1)
    return torch.pdist(x, p=2).pow(2).mul(-2).exp().mean().log().item()


results = {"subsets": []}
all_sys, all_gold, all_al, all_un = [], [], [], []
for name, a, b, gold in subsets:
    na = np.linalg.norm(a, axis=1)
    nb = np.linalg.norm(b, axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        sys_scores = np.nan_to_num((a * b).sum(1) / (na * nb))
    al, un = [], []
    for i in range(0, len(gold), 128):
        ta = torch.tensor(a[i:i + 128], dtype=torch.float64)
        tb = torch.tensor(b[i:i + 128], dtype=torch.float64)
        pos = [k for k, g in enumerate(gold[i:i + 128]) if g >= 4.0]
        al.append(align(ta[pos], tb[pos]))
        un.append(uniform(torch.cat((ta, tb), 0)))
    results["subsets"].append({
        "name": name, "n": len(gold), "first": a.tolist(), "second": b.tolist(), "gold": gold.tolist(),
        "pearson": float(pearsonr(sys_scores, gold)[0]), "spearman": float(spearmanr(sys_scores, gold)[0]),
        "alignment": float(np.mean(al)), "uniformity": float(np.mean(un))})
    all_sys += list(sys_scores)
    all_gold += list(gold)
    all_al += al
    all_un += un

w = [s["n"] for s in results["subsets"]]
for metric in ["pearson", "spearman", "alignment", "uniformity"]:
    vals = [s[metric] for s in results["subsets"]]
    results[metric] = {"mean": float(np.average(vals)), "wmean": float(np.average(vals, weights=w))}
results["pearson"]["all"] = float(pearsonr(all_sys, all_gold)[0])
results["spearman"]["all"] = float(spearmanr(all_sys, all_gold)[0])
results["alignment"]["all"] = float(np.mean(all_al))
results["uniformity"]["all"] = float(np.mean(all_un))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "data", "eval", "sts_fixture.json")
with open(out, "w") as f:
    json.dump(results, f)
    f.write("\n")
print("wrote", os.path.abspath(out))
