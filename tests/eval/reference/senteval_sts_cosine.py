#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference of eval_sts_precision_test: SentEval's STS scoring of one subset (senteval/sts.py with
senteval/utils.py) on the embeddings the test writes, in numpy/scipy.

SentEval's similarity is `np.nan_to_num(cosine(np.nan_to_num(s1), np.nan_to_num(s2)))` with
`cosine(u, v) = np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))`, applied to the rows of the
float32 arrays its batchers return, so numpy computes every step in float32; the scores then go to
scipy's pearsonr/spearmanr. This script scores the rows as float32 (SentEval) and, for comparison, as
float64.

Usage: /usr/bin/python3 senteval_sts_cosine.py INPUT.json OUTPUT.json
INPUT: {"first": [[...]], "second": [[...]], "gold": [...]}
"""
import json
import sys

import numpy as np
from scipy.stats import pearsonr, spearmanr


def cosine(u, v):  # senteval/utils.py
    return np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))


def similarity(s1, s2):  # senteval/sts.py, STSEval.do_prepare default
    return np.nan_to_num(cosine(np.nan_to_num(s1), np.nan_to_num(s2)))


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    out = {}
    for name, dtype in (("float32", np.float32), ("float64", np.float64)):
        enc1 = np.array(spec["first"], dtype=dtype)
        enc2 = np.array(spec["second"], dtype=dtype)
        sys_scores = [similarity(enc1[kk], enc2[kk]) for kk in range(enc2.shape[0])]
        assert all(np.asarray(s).dtype == dtype for s in sys_scores)
        out[name] = {"cosines": [float(s) for s in sys_scores],
                     "pearson": float(pearsonr(sys_scores, spec["gold"])[0]),
                     "spearman": float(spearmanr(sys_scores, spec["gold"])[0]),
                     "distinct": len(set(float(s) for s in sys_scores))}
    with open(sys.argv[2], "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main()
