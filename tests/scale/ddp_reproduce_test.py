#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Data-parallel vikcse_reproduce: two processes started as torchrun starts them (RANK, WORLD_SIZE,
MASTER_ADDR, MASTER_PORT) against one process, SimCSE on the tiny BERT fixture with dropout off.

Checks: both ranks exit 0; rank 0 alone prints the table and writes metrics.jsonl and the checkpoints;
the step losses equal the one-process run's. Bound: the losses are float32 InfoNCE values over the same
global batch from the same weights; the runs differ only in the order of the batch reductions (4 + 4
rows against 8) in the forward pass and the gradients. At step 1 (identical weights) that is rounding of
the logits, |cos| / tau with tau = 0.05, in dot products of width K = 64: 20 * 64 * eps32 = 1.5e-4 at
most, so the relative bound 1e-4 on a loss near ln 8 = 2.1 holds with margin. Later steps add AdamW's
amplification of gradient rounding, at most lr = 3e-5 per parameter and step; 1e-3 relative covers it,
while a rank that lost the other's rows would score its anchors against 4 candidates instead of 8.
Also: WORLD_SIZE without RANK is refused with a message naming both variables.

Usage: ddp_reproduce_test.py <vikcse_reproduce> <tests dir>
"""
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile

PROGRAM = pathlib.Path(sys.argv[1]).resolve()
TESTS = pathlib.Path(sys.argv[2]).resolve()
sys.path.insert(0, str(TESTS / "support"))
from reproduce_inputs import make_inputs  # noqa: E402
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)
    return condition


def command(work, out):
    return [str(PROGRAM), "--method", "simcse", "--model", str(work / "model"), "--corpus", str(work / "corpus.txt"),
            "--senteval", str(work / "senteval"), "--steps", "4", "--batch-size", "8", "--eval-steps", "2",
            "--tasks", "STSBenchmark", "--out", str(out)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def step_losses(out):
    if not (out / "metrics.jsonl").exists():
        return []
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    return [r["loss"] for r in records if "loss" in r]


def main():
    base = dict(os.environ, OMP_NUM_THREADS="1")
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        base.pop(name, None)
    with tempfile.TemporaryDirectory(prefix="vikcse-ddp-reproduce-") as tmp:
        work = pathlib.Path(tmp)
        make_inputs(work, TESTS, dropout=0.0)
        single = subprocess.run(command(work, work / "single"), env=base, capture_output=True, text=True, timeout=300)
        check(single.returncode == 0, f"the one-process run failed ({single.returncode}): {single.stderr}")

        port = str(free_port())
        procs = []
        for rank in range(2):
            env = dict(base, RANK=str(rank), WORLD_SIZE="2", LOCAL_RANK=str(rank), MASTER_ADDR="127.0.0.1",
                       MASTER_PORT=port)
            procs.append(subprocess.Popen(command(work, work / "ddp"), env=env, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True))
        outputs = []
        for p in procs:
            try:
                out, err = p.communicate(timeout=300)
            except subprocess.TimeoutExpired:
                for q in procs:
                    q.kill()
                out, err = p.communicate()
                check(False, "a rank did not end within 300 s")
            outputs.append((p.returncode, out, err))
        for rank, (code, out, err) in enumerate(outputs):
            check(code == 0, f"rank {rank} exited {code}: {err}")
            check(f"data-parallel: rank {rank} of 2, rows {4 * rank}..{4 * rank + 3} of each batch of 8" in out,
                  f"rank {rank} does not report its share: {out}")
        check("(ours)" in outputs[0][1], f"rank 0 printed no table row: {outputs[0][1]}")
        check("(ours)" not in outputs[1][1], "rank 1 printed a table row")
        check((work / "ddp/best/model.safetensors").exists(), "no best checkpoint from the 2-rank run")
        state_file = work / "ddp/last/trainer_state.json"
        state = json.loads(state_file.read_text()) if state_file.exists() else {}
        check(state.get("world_size") == 2, f"trainer_state.json does not record 2 ranks: {state}")

        ddp, one = step_losses(work / "ddp"), step_losses(work / "single")
        print(f"step losses, 2 ranks: {ddp}\nstep losses, 1 process: {one}")
        if check(len(ddp) == 4 and len(one) == 4, "expected 4 step losses from each run"):
            check(abs(ddp[0] - one[0]) <= 1e-4 * abs(one[0]), f"step 1 loss {ddp[0]} vs {one[0]}")
            for step, (a, b) in enumerate(zip(ddp, one), start=1):
                check(abs(a - b) <= 1e-3 * abs(b), f"step {step} loss {a} vs {b}")

        env = dict(base, WORLD_SIZE="2")
        lonely = subprocess.run(command(work, work / "lonely"), env=env, capture_output=True, text=True, timeout=120)
        check(lonely.returncode != 0 and "RANK and WORLD_SIZE must be set together" in lonely.stderr,
              f"WORLD_SIZE without RANK: exit {lonely.returncode}, {lonely.stderr}")
    print(f"ddp reproduce: {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
