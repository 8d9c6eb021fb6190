#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fails when a header under include/vikcse includes a header of a layer above its own.

The layer order, lowest first, is written here and nowhere else; README.md#the-layout explains it.
A header may include headers of its own layer and of the layers below. Usage:
    check_layers.py <include dir>
"""
import pathlib
import re
import sys

LAYERS = [
    ("base", ["error.hpp", "version.hpp", "threads.hpp", "types.hpp", "detail/", "util/"]),
    ("concepts", ["concepts/"]),
    ("checkpoint", ["checkpoint/"]),
    ("tokenizer", ["tokenizer/"]),
    ("image", ["image/"]),
    ("prompt", ["prompt/"]),
    ("encoder", ["encoder/"]),
    ("vision", ["vision/"]),
    ("optim", ["optim/"]),
    ("heads", ["heads/"]),
    ("pooler", ["pooler/"]),
    ("loss", ["loss/"]),
    ("knowledge", ["knowledge/"]),
    ("search", ["search/"]),
    ("model", ["model/"]),
    ("distributed", ["distributed/"]),
    ("train", ["train/"]),
    ("eval", ["eval/"]),
    ("methods", ["methods/"]),
    ("inference", ["inference/"]),
    ("umbrella", ["vikcse.hpp"]),
]


def layer_of(path: str) -> int:
    for index, (_, prefixes) in enumerate(LAYERS):
        if any(path == p or (p.endswith("/") and path.startswith(p)) for p in prefixes):
            return index
    return -1


def main() -> int:
    root = pathlib.Path(sys.argv[1]) / "vikcse"
    include = re.compile(r'^\s*#\s*include\s*<vikcse/([^>]+)>')
    problems = []
    headers = sorted(root.rglob("*.hpp"))
    for header in headers:
        own_path = header.relative_to(root).as_posix()
        own = layer_of(own_path)
        if own < 0:
            problems.append(f"{own_path}: in no layer; add its folder to LAYERS in {pathlib.Path(__file__).name}")
            continue
        for number, line in enumerate(header.read_text(encoding="utf-8").splitlines(), start=1):
            match = include.match(line)
            if not match:
                continue
            target = layer_of(match.group(1))
            if target < 0:
                problems.append(f"{own_path}:{number}: includes <vikcse/{match.group(1)}>, which is in no layer")
            elif target > own:
                problems.append(f"{own_path}:{number}: layer '{LAYERS[own][0]}' includes <vikcse/{match.group(1)}> "
                                f"of the higher layer '{LAYERS[target][0]}'")
    for p in problems:
        print(p)
    print(f"check_layers: {len(headers)} headers, {len(LAYERS)} layers, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
