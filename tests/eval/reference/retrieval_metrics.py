#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference of eval_retrieval_test: ranks a corpus by a score matrix and computes the retrieval
metrics of sentence-transformers' InformationRetrievalEvaluator (compute_metrics, binary
relevance) with numpy, written independently of the C++ code, array by array:

    ranking   = stable argsort of -scores per query (equal scores: the lower corpus row first),
                cut to max_k rows
    rel[q, i] = 1 when the hit at rank i + 1 is relevant to query q (0 past the end of a short ranking)
    hits@k    = rel[:, :k].sum(1)
    Accuracy@k  = mean(hits@k > 0)          Precision@k = mean(hits@k / k)
    Recall@k    = mean(hits@k / |R|)        MRR@k       = mean(1 / first relevant rank <= k, else 0)
    NDCG@k      = mean(DCG@k / IDCG@k), DCG@k = sum_i rel_i / log2(i + 1), IDCG@k the DCG of
                  min(k, |R|) relevant hits
    MAP@k       = mean(sum_{i <= k} rel_i * hits@i / i  /  min(k, |R|))

Usage: /usr/bin/python3 retrieval_metrics.py INPUT.json OUTPUT.json
INPUT: {"scores": [[...] per query], "relevant": [[corpus rows] per query],
        "cutoffs": {"accuracy": [...], "precision": [...], "recall": [...], "mrr": [...], "ndcg": [...], "map": [...]}}
OUTPUT: {"rankings": [[...]], "metrics": {"<family>@<k>": value}}
"""
import json
import sys

import numpy as np


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    scores = np.asarray(spec["scores"], dtype=np.float64)
    cutoffs = spec["cutoffs"]
    max_k = max(max(v) for v in cutoffs.values() if v)
    n_queries, n_docs = scores.shape
    depth = min(max_k, n_docs)
    ranking = np.argsort(-scores, axis=1, kind="stable")[:, :depth]

    rel = np.zeros((n_queries, max_k), dtype=np.float64)
    n_rel = np.zeros(n_queries, dtype=np.float64)
    for q, docs in enumerate(spec["relevant"]):
        docs = set(docs)
        assert docs, "every query of the test has a relevant document"
        n_rel[q] = len(docs)
        rel[q, :depth] = [1.0 if d in docs else 0.0 for d in ranking[q]]
    ranks = np.arange(1, max_k + 1, dtype=np.float64)
    cum = np.cumsum(rel, axis=1)  # cum[:, i] = relevant hits among the first i + 1
    discount = 1.0 / np.log2(ranks + 1.0)

    out = {}
    for k in cutoffs["accuracy"]:
        out[f"accuracy@{k}"] = float(np.mean(cum[:, k - 1] > 0))
    for k in cutoffs["precision"]:
        out[f"precision@{k}"] = float(np.mean(cum[:, k - 1] / k))
    for k in cutoffs["recall"]:
        out[f"recall@{k}"] = float(np.mean(cum[:, k - 1] / n_rel))
    for k in cutoffs["mrr"]:
        first = np.argmax(rel[:, :k] > 0, axis=1)
        found = rel[:, :k].max(axis=1) > 0
        out[f"mrr@{k}"] = float(np.mean(np.where(found, 1.0 / (first + 1.0), 0.0)))
    for k in cutoffs["ndcg"]:
        dcg = (rel[:, :k] * discount[:k]).sum(axis=1)
        ideal = np.array([discount[: int(min(k, r))].sum() for r in n_rel])
        out[f"ndcg@{k}"] = float(np.mean(dcg / ideal))
    for k in cutoffs["map"]:
        precision_at_hits = (rel[:, :k] * cum[:, :k] / ranks[:k]).sum(axis=1)
        out[f"map@{k}"] = float(np.mean(precision_at_hits / np.minimum(k, n_rel)))

    with open(sys.argv[2], "w") as f:
        json.dump({"rankings": ranking.tolist(), "metrics": out}, f)


if __name__ == "__main__":
    main()
