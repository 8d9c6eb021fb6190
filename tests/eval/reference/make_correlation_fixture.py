#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/data/eval/correlation_fixture.json: scipy's Pearson and Spearman for every real
SentEval STS file, between the gold scores and two deterministic "system" scores computed from
each pair's content (so the pairing does not depend on the order a reader returns pairs in):

    system_a = gold + ((31 * words(s1) + 17 * words(s2)) % 23) / 7.0      (continuous, some ties)
    system_b = float(floor(gold) + words(s1) % 3)                        (heavy ties)

words(s) = len(s.split()). The files are read the way SentEval reads them (independent code).
Run with Debian's python: /usr/bin/python3 tests/eval/reference/make_correlation_fixture.py [SENTEVAL_DIR]
"""
import io
import json
import math
import os
import sys

import scipy
from scipy.stats import pearsonr, spearmanr

root = os.path.dirname(os.path.abspath(__file__))
repo = os.path.abspath(os.path.join(root, "..", "..", ".."))
senteval = sys.argv[1] if len(sys.argv) > 1 else os.path.join(repo, "..", "shared", "data", "senteval")
sts = os.path.join(senteval, "downstream", "STS")

YEARS = {
    "STS12": ["MSRpar", "MSRvid", "SMTeuroparl", "surprise.OnWN", "surprise.SMTnews"],
    "STS13": ["FNWN", "headlines", "OnWN"],
    "STS14": ["deft-forum", "deft-news", "headlines", "images", "OnWN", "tweet-news"],
    "STS15": ["answers-forums", "answers-students", "belief", "headlines", "images"],
    "STS16": ["answer-answer", "headlines", "plagiarism", "postediting", "question-question"],
}


def year_subset(year, name):
    d = os.path.join(sts, year + "-en-test")
    lines = io.open(os.path.join(d, "STS.input.%s.txt" % name), encoding="utf8").read().splitlines()
    gold = io.open(os.path.join(d, "STS.gs.%s.txt" % name), encoding="utf8").read().splitlines()
    assert len(lines) == len(gold)
    out = []
    for line, g in zip(lines, gold):
        if g == "":
            continue
        s1, s2 = line.split("\t")[:2]
        out.append((len(s1.split()), len(s2.split()), float(g)))
    return out


def tsv(path, skip_header, c1, c2, cs):
    out = []
    with io.open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if skip_header and i == 0:
                continue
            t = line.strip().split("\t")
            out.append((len(t[c1].split()), len(t[c2].split()), float(t[cs])))
    return out


def stats(pairs):
    gold = [g for _, _, g in pairs]
    a = [g + ((31 * w1 + 17 * w2) % 23) / 7.0 for w1, w2, g in pairs]
    b = [float(math.floor(g) + w1 % 3) for w1, _, g in pairs]
    return {
        "n": len(pairs),
        "pearson_a": float(pearsonr(a, gold)[0]),
        "spearman_a": float(spearmanr(a, gold)[0]),
        "pearson_b": float(pearsonr(b, gold)[0]),
        "spearman_b": float(spearmanr(b, gold)[0]),
    }


tasks = {}
for year, subsets in YEARS.items():
    entry = {"subsets": {}}
    concat = []
    for s in subsets:
        p = year_subset(year, s)
        entry["subsets"][s] = stats(p)
        concat += p
    entry["all"] = stats(concat)
    tasks[year] = entry
stsb = os.path.join(sts, "STSBenchmark")
for name, split in [("STSBenchmark", "test"), ("STSBenchmark-dev", "dev")]:
    p = tsv(os.path.join(stsb, "sts-%s.csv" % split), False, 5, 6, 4)
    tasks[name] = {"subsets": {split: stats(p)}, "all": stats(p)}
sick = os.path.join(senteval, "downstream", "SICK")
for name, split, fname in [("SICKRelatedness", "test", "SICK_test_annotated.txt"),
                           ("SICKRelatedness-dev", "dev", "SICK_trial.txt")]:
    p = tsv(os.path.join(sick, fname), True, 1, 2, 3)
    tasks[name] = {"subsets": {split: stats(p)}, "all": stats(p)}

out = os.path.join(repo, "tests", "data", "eval", "correlation_fixture.json")
with open(out, "w") as f:
    json.dump({"generator": "tests/eval/reference/make_correlation_fixture.py", "scipy": scipy.__version__,
               "tasks": tasks}, f, indent=1, sort_keys=True)
    f.write("\n")
print("wrote", out)
