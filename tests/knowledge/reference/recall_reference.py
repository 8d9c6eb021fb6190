#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""numpy's Recall@k of paired image/text features, for tests/knowledge/stage1_test.

IN (JSON): {"image": [[...], ...], "text": [[...], ...], "ks": [1, 5, 10]}
OUT (JSON): {"image_to_text": {"1": pct, ...}, "text_to_image": {...}}
Rows are L2-normalised; every query ranks all candidates with a stable descending sort
(numpy.argsort(-scores, kind="stable")), and R@k is the percentage whose partner is in the first k.
Usage: recall_reference.py IN OUT
"""
import json
import sys

import numpy as np


def recall(scores, ks):
    order = np.argsort(-scores, axis=1, kind="stable")
    ranks = np.array([int(np.nonzero(order[i] == i)[0][0]) for i in range(scores.shape[0])])
    return {str(k): float(100.0 * np.mean(ranks < k)) for k in ks}


def main(inp, out):
    with open(inp) as f:
        data = json.load(f)
    image = np.asarray(data["image"], dtype=np.float64)
    text = np.asarray(data["text"], dtype=np.float64)
    image /= np.linalg.norm(image, axis=1, keepdims=True)
    text /= np.linalg.norm(text, axis=1, keepdims=True)
    scores = text @ image.T
    with open(out, "w") as f:
        json.dump({"text_to_image": recall(scores, data["ks"]), "image_to_text": recall(scores.T.copy(), data["ks"])}, f)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
