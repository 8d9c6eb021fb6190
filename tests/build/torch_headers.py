#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Prints the public headers that include LibTorch, directly (<torch/...>, <ATen/...>, <c10/...>) or
through other vikcse headers, one `vikcse/...` path per line. The header self-check
(tests/build/CMakeLists.txt) compiles these with a precompiled <torch/torch.h> and every other header
without one, so a header that uses LibTorch without including it is still caught: it is not on this
list and fails to compile alone. Usage:
    torch_headers.py <include dir>
"""
import pathlib
import re
import sys


def main() -> int:
    root = pathlib.Path(sys.argv[1])
    include = re.compile(r'^\s*#\s*include\s*<((vikcse|torch|ATen|c10)/[^>]+)>')
    direct, uses = set(), {}
    for header in sorted((root / "vikcse").rglob("*.hpp")):
        name = header.relative_to(root).as_posix()
        uses[name] = set()
        for line in header.read_text(encoding="utf-8").splitlines():
            match = include.match(line)
            if not match:
                continue
            if match.group(2) == "vikcse":
                uses[name].add(match.group(1))
            else:
                direct.add(name)
    torch = set(direct)
    changed = True
    while changed:
        changed = False
        for name, deps in uses.items():
            if name not in torch and deps & torch:
                torch.add(name)
                changed = True
    for name in sorted(torch):
        print(name)
    return 0


if __name__ == "__main__":
    sys.exit(main())
