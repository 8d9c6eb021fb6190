# SPDX-License-Identifier: Apache-2.0
"""The inputs the tests that run vikcse_reproduce as a process share: the tiny BERT fixture with its
vocabulary, a 72-sentence corpus and a 24-pair STS-B split (dev = test) in SentEval's layout."""
import json
import pathlib
import shutil


def make_inputs(work: pathlib.Path, tests: pathlib.Path, dropout=None) -> pathlib.Path:
    """Writes the inputs under `work`; returns the model directory. `dropout`: when given, the
    model's hidden and attention dropout probabilities are set to it."""
    model = work / "model"
    model.mkdir(parents=True)
    fixture = tests / "data/encoder/tiny-bert"
    shutil.copy(fixture / "model.safetensors", model / "model.safetensors")
    config = json.loads((fixture / "config.json").read_text())
    if dropout is None:
        shutil.copy(fixture / "config.json", model / "config.json")
    else:
        config["hidden_dropout_prob"] = dropout
        config["attention_probs_dropout_prob"] = dropout
        (model / "config.json").write_text(json.dumps(config))
    shutil.copy(tests / "data/methods/tiny-vocab/vocab.txt", model / "vocab.txt")
    subjects = ["a man", "a woman", "a dog", "a cat", "a child", "a chef"]
    actions = ["eats an apple", "carries a ball", "throws a book", "paints a car"]
    places = ["in the park", "on the street", "at home"]
    corpus = [f"{s} {a} {p} ." for s in subjects for a in actions for p in places]
    (work / "corpus.txt").write_text("\n".join(corpus) + "\n")
    sts = work / "senteval/downstream/STS/STSBenchmark"
    sts.mkdir(parents=True)
    rows = []
    for i, s in enumerate(subjects):
        for j, a in enumerate(actions):
            other = actions[(j + i) % len(actions)]
            rows.append(f"main\tfile\t2012\t{len(rows)}\t{(i + j) % 6}.000\t{s} {a} .\t{s} {other} .")
    for split in ("dev", "test"):
        (sts / f"sts-{split}.csv").write_text("\n".join(rows) + "\n")
    return model
