#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/data/methods/tiny-vocab/vocab.txt: a 99-token WordPiece vocabulary matching the
vocab_size of the tiny-bert fixture (tests/data/encoder/tiny-bert), with BERT's five special
tokens first, the words of the PromptBERT/VIKCSE templates, and the words of the smoke-test data
written by tests/methods/reproduce_smoke.cmake; padded with [unusedN] to 99 lines."""
import pathlib

specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
template_words = ["this", "the", "sentence", "of", "means", "\"", "'", ":", "!", ".", "[", "]"]
data_words = ["a", "an", "man", "woman", "dog", "cat", "child", "chef", "eats", "carries", "throws", "paints",
              "apple", "ball", "car", "book", "in", "park", "at", "home", "on", "street", "is", "two", "plays",
              "runs", "sleeps", "guitar", "food"]
words = specials + template_words + data_words
assert len(set(words)) == len(words)
words += [f"[unused{i}]" for i in range(99 - len(words))]
assert len(words) == 99
out = pathlib.Path(__file__).resolve().parents[2] / "data" / "methods" / "tiny-vocab" / "vocab.txt"
out.parent.mkdir(parents=True, exist_ok=True)
out.write_text("\n".join(words) + "\n")
print(out, len(words))
