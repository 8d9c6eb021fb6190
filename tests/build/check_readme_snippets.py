#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fails when a C++ snippet of README.md is not in tests/build/readme_snippets.cpp, line for line
and in order (indentation, blank lines and the snippet's own #include of the umbrella header aside), so that
every snippet a reader copies is one the build compiled. Usage: check_readme_snippets.py README TU
"""
import pathlib
import sys


def blocks(text):
    out, current = [], None
    for line in text.splitlines():
        if current is None and line.strip() == "```cpp":
            current = []
        elif current is not None and line.strip() == "```":
            out.append(current)
            current = None
        elif current is not None:
            current.append(line.rstrip())
    return out


def main() -> int:
    readme = pathlib.Path(sys.argv[1]).read_text(encoding="utf-8")
    tu = [line.strip() for line in pathlib.Path(sys.argv[2]).read_text(encoding="utf-8").splitlines()]
    problems = 0
    found = blocks(readme)
    for number, block in enumerate(found, start=1):
        at = 0
        for line in block:
            if not line.strip() or line.strip() == "#include <vikcse/vikcse.hpp>":
                continue
            try:
                at = tu.index(line.strip(), at) + 1
            except ValueError:
                print(f"README.md C++ block {number}: line not in {sys.argv[2]} (or out of order): {line}")
                problems += 1
                break
    print(f"check_readme_snippets: {len(found)} C++ blocks, {problems} problems")
    return 1 if problems or not found else 0


if __name__ == "__main__":
    sys.exit(main())
