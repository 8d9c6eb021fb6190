#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Reference of eval_classifier_test: SentEval's logistic regression (senteval/tools/classifier.py,
PyTorchClassifier + MLP with nhid = 0) trained on the data the test writes, in PyTorch.

Kept as SentEval runs it: nn.Sequential(nn.Linear(D, C)); the loss built as SentEval builds it,
`nn.CrossEntropyLoss()` followed by `loss_fn.size_average = False` (an attribute PyTorch reads only in
the constructor, so the loss stays the batch mean); the optimiser from `get_optimizer` ("adam": Adam
with PyTorch defaults, "rmsprop": RMSprop with PyTorch defaults, lr 0.01) with the L2 weight put into
`param_groups[0]['weight_decay']`; `fit` / `trainepoch` / `score` with their loop structure (epoch_size
passes per epoch over a fresh permutation, minibatches of batch_size, early stopping on dev
accuracy, best model kept).

Two deliberate differences, both about randomness only: it runs on the CPU, and the initial values of
nn.Linear and each pass's permutation come from one torch.Generator seeded with `seed`, drawn in the
order vikcse::LogisticRegression draws them (weight [C, D] uniform(-1/sqrt(D), 1/sqrt(D)), bias [C]
likewise, then randperm(n) per pass), so that both start from the same point and see the same
minibatches. SentEval itself draws these from numpy's and torch's global generators.

For each configuration it trains three variants: the SentEval loss in float32 (the reference), the
same in float64 (to measure how far float32 rounding moves this trajectory), and a summed loss in
float32 (what the test must be able to tell apart from the mean).

Usage: /usr/bin/python3 senteval_classifier.py INPUT.json OUTPUT.json
INPUT: {"x": [[...]], "y": [...], "seed": int, "num_classes": int, "configs": [{"optim", "l2",
        "batch_size", "epoch_size", "max_epoch", "tenacity"}, ...]}
"""
import copy
import json
import math
import sys

import torch
from torch import nn


class SentEvalLogisticRegression:
    def __init__(self, inputdim, nclasses, l2reg, batch_size, optim_name, tenacity, epoch_size, max_epoch, generator,
                 dtype, summed_loss=False):
        self.generator = generator
        self.batch_size = batch_size
        self.tenacity = tenacity
        self.epoch_size = epoch_size
        self.max_epoch = max_epoch
        self.model = nn.Sequential(nn.Linear(inputdim, nclasses))
        bound = 1.0 / math.sqrt(inputdim)
        with torch.no_grad():
            self.model[0].weight.copy_(torch.empty(nclasses, inputdim).uniform_(-bound, bound, generator=generator))
            self.model[0].bias.copy_(torch.empty(nclasses).uniform_(-bound, bound, generator=generator))
        self.model.to(dtype)
        if summed_loss:
            self.loss_fn = nn.CrossEntropyLoss(reduction="sum")
        else:
            self.loss_fn = nn.CrossEntropyLoss()  # SentEval's two lines
            self.loss_fn.size_average = False
        optim_fn = {"adam": torch.optim.Adam, "rmsprop": torch.optim.RMSprop}[optim_name]
        self.optimizer = optim_fn(self.model.parameters())
        self.optimizer.param_groups[0]['weight_decay'] = l2reg

    def fit(self, X, y, validation_data):
        self.nepoch = 0
        bestaccuracy = -1
        stop_train = False
        early_stop_count = 0
        trainX, trainy = X, y
        devX, devy = validation_data
        while not stop_train and self.nepoch <= self.max_epoch:
            self.trainepoch(trainX, trainy, epoch_size=self.epoch_size)
            accuracy = self.score(devX, devy)
            if accuracy > bestaccuracy:
                bestaccuracy = accuracy
                bestmodel = copy.deepcopy(self.model)
            else:
                if early_stop_count >= self.tenacity:
                    stop_train = True
                early_stop_count += 1
        self.model = bestmodel
        return bestaccuracy

    def trainepoch(self, X, y, epoch_size=1):
        self.model.train()
        for _ in range(self.nepoch, self.nepoch + epoch_size):
            permutation = torch.randperm(len(X), generator=self.generator)
            for i in range(0, len(X), self.batch_size):
                idx = permutation[i:i + self.batch_size]
                Xbatch = X.index_select(0, idx)
                ybatch = y.index_select(0, idx)
                output = self.model(Xbatch)
                loss = self.loss_fn(output, ybatch)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
        self.nepoch += epoch_size

    def score(self, devX, devy):
        self.model.eval()
        correct = 0
        with torch.no_grad():
            for i in range(0, len(devX), self.batch_size):
                output = self.model(devX[i:i + self.batch_size])
                pred = output.max(1)[1]
                correct += pred.long().eq(devy[i:i + self.batch_size].long()).sum().item()
        return 1.0 * correct / len(devX)


def as_lists(t):
    return t.detach().double().tolist()


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    x32 = torch.tensor(spec["x"], dtype=torch.float32)
    y = torch.tensor(spec["y"], dtype=torch.long)
    seed = spec["seed"]
    classes = spec["num_classes"]
    dim = x32.shape[1]
    # The generator's first draws as vikcse's classifier makes them (the test checks LibTorch agrees).
    g = torch.Generator().manual_seed(seed)
    bound = 1.0 / math.sqrt(dim)
    draws = {"weight": as_lists(torch.empty(classes, dim).uniform_(-bound, bound, generator=g)),
             "bias": as_lists(torch.empty(classes).uniform_(-bound, bound, generator=g)),
             "perm": torch.randperm(len(x32), generator=g).tolist()}
    results = []
    for c in spec["configs"]:
        out = {}
        for variant, dtype, summed in (("mean32", torch.float32, False), ("mean64", torch.float64, False),
                                       ("sum32", torch.float32, True)):
            g = torch.Generator().manual_seed(seed)
            clf = SentEvalLogisticRegression(dim, classes, c["l2"], c["batch_size"], c["optim"], c["tenacity"],
                                             c["epoch_size"], c["max_epoch"], g, dtype, summed_loss=summed)
            x = x32.to(dtype)
            clf.fit(x, y, (x, y))
            with torch.no_grad():
                proba = torch.softmax(clf.model(x), dim=1)
            out[variant] = {"weight": as_lists(clf.model[0].weight), "bias": as_lists(clf.model[0].bias),
                            "proba": as_lists(proba), "nepoch": clf.nepoch}
        results.append(out)
    probe = nn.CrossEntropyLoss()
    probe.size_average = False
    with open(sys.argv[2], "w") as f:
        json.dump({"torch": torch.__version__, "senteval_loss_reduction": probe.reduction, "draws": draws,
                   "results": results}, f)


if __name__ == "__main__":
    main()
