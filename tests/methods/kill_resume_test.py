#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Crash safety of a real training process (vikcse_reproduce, SimCSE on the tiny BERT fixture, dropout on).

A reference run trains 12 steps uninterrupted. Then, for each kill point, a fresh run is killed with
SIGKILL at that moment, checked (no torn metrics line, `best/` and `last/` either absent or whole, nothing
half written taken as either), resumed with --resume (or rerun, when it died before its first
checkpoint), possibly killed again, and finally compared with the reference: the parameters of
`last/` and `best/` and the whole of `metrics.jsonl` must be identical.

The bound is exact equality, derived rather than observed: the resumed process restores the float32
weights, the AdamW moments and step counts (optimizer.pt), the generator state (rng_state.pt, so
dropout draws the same masks) and recomputes the data order from (seed, epoch); with one intra-op thread
(OMP_NUM_THREADS=1, set here) it then performs the same float operations in the same order as the
uninterrupted run, so every bit agrees. Any difference is a resume bug, not rounding.

Also: Ctrl-C (SIGINT) stops after the step in progress, saves `last/` whole, exits 130 and says how to
resume; a write beyond the file-size limit (ulimit -f) and a read-only output directory fail with exit
status 1 and a message naming the file or directory, leaving the previous checkpoint byte for byte intact.

Usage: kill_resume_test.py <vikcse_reproduce> <tests dir>
Kill moments come from the program's VIKCSE_TRACE_PHASES hook (a line on stderr at each training
phase, then a pause of that many milliseconds, in which the kill lands).
"""
import json
import os
import pathlib
import random
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import time

PROGRAM = pathlib.Path(sys.argv[1]).resolve()
TESTS = pathlib.Path(sys.argv[2]).resolve()
sys.path.insert(0, str(TESTS / "support"))
from reproduce_inputs import make_inputs  # noqa: E402
STEPS = 12
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print(f"FAIL: {what}", flush=True)
    return condition


def command(work, out, resume=False, steps=STEPS):
    args = [str(PROGRAM), "--method", "simcse", "--model", str(work / "model"), "--corpus", str(work / "corpus.txt"),
            "--senteval", str(work / "senteval"), "--steps", str(steps), "--batch-size", "8", "--eval-steps", "3",
            "--save-steps", "2", "--tasks", "STSBenchmark", "--out", str(out)]
    return args + (["--resume"] if resume else [])


ENV = dict(os.environ, OMP_NUM_THREADS="1")


def run(args, env=ENV, **kwargs):
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=300, **kwargs)


def run_and_kill(args, phase, step, file=None, sig=signal.SIGKILL, delay_ms=400):
    """Starts `args` with the phase trace and sends `sig` when the program reports (phase, step[, file])."""
    env = dict(ENV, VIKCSE_TRACE_PHASES=str(delay_ms))
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = []
    for line in proc.stderr:
        if not line.startswith("vikcse-phase: "):
            continue
        fields = line.split()
        seen.append(" ".join(fields[1:]))
        if fields[1] == phase and int(fields[2]) == step and (file is None or fields[3] == file):
            proc.send_signal(sig)
            break
    else:
        proc.wait()
        raise RuntimeError(f"the run ended (status {proc.returncode}) before {phase} {step} {file or ''}; saw {seen}")
    rest = proc.stderr.read()
    proc.wait(timeout=120)
    return proc.returncode, rest


def run_and_kill_at(args, seconds):
    proc = subprocess.Popen(args, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        proc.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    return proc.returncode


def safetensors_whole(path: pathlib.Path) -> bool:
    data = path.read_bytes()
    if len(data) < 8:
        return False
    (n,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8:8 + n])
    except ValueError:
        return False
    end = max((v["data_offsets"][1] for k, v in header.items() if k != "__metadata__"), default=0)
    return len(data) == 8 + n + end


LAST_FILES = ["config.json", "model.safetensors", "vikcse_embedding.json", "optimizer.pt", "rng_state.pt",
              "trainer_state.json"]


def check_after_kill(out: pathlib.Path, label: str, save_steps_only=True):
    """What a killed run may leave: whole lines, whole checkpoints (or none)."""
    metrics = out / "metrics.jsonl"
    if metrics.exists():
        text = metrics.read_text()
        check(text == "" or text.endswith("\n"), f"{label}: metrics.jsonl ends inside a line")
        for n, line in enumerate(text.splitlines(), 1):
            try:
                json.loads(line)
            except ValueError:
                check(False, f"{label}: metrics.jsonl line {n} is torn: {line!r}")
    for name, files in (("last", LAST_FILES), ("best", LAST_FILES[:3])):
        d = out / name
        if not d.exists():
            continue
        for f in files:
            check((d / f).is_file(), f"{label}: {name}/ exists without {f}")
        if (d / "model.safetensors").is_file():
            check(safetensors_whole(d / "model.safetensors"), f"{label}: {name}/model.safetensors is not whole")
        if name == "last" and save_steps_only and (d / "trainer_state.json").is_file():
            state = json.loads((d / "trainer_state.json").read_text())
            check(state["step"] % 2 == 0, f"{label}: last/ holds step {state['step']}, not a save step")


def compare_with_reference(out: pathlib.Path, ref: pathlib.Path, label: str):
    for rel in ("last/model.safetensors", "last/vikcse_heads.safetensors", "best/model.safetensors",
                "best/vikcse_heads.safetensors", "metrics.jsonl"):
        a, b = out / rel, ref / rel
        if not check(a.is_file(), f"{label}: {rel} missing after the resume"):
            continue
        check(a.read_bytes() == b.read_bytes(), f"{label}: {rel} differs from the uninterrupted run")
    leftovers = [p.name for p in out.iterdir() if ".partial-" in p.name or ".tmp-" in p.name or
                 p.name.endswith(".previous")]
    check(not leftovers, f"{label}: half-written entries left in {out}: {leftovers}")


def finish(work, out, label):
    """Resumes (or reruns, before the first checkpoint) until the run completes."""
    resume = (out / "last/trainer_state.json").is_file()
    r = run(command(work, out, resume=resume))
    check(r.returncode == 0, f"{label}: the {'resumed' if resume else 'rerun'} run failed: {r.stderr[-800:]}")


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="vikcse-kill-"))
    try:
        make_inputs(work, TESTS)
        ref = work / "reference"
        started = time.monotonic()
        r = run(command(work, ref))
        duration = time.monotonic() - started
        if not check(r.returncode == 0, f"the reference run failed: {r.stderr[-800:]}"):
            return 1
        check((ref / "best/model.safetensors").is_file(), "the reference run wrote no best/")

        # Kill points: (phase, step, file) reported by the program just before the kill.
        points = [
            ("step", 1, None),                       # before the first checkpoint: rerun from scratch
            ("step", 5, None),                       # gradients computed, parameters not updated
            ("evaluation", 6, None),                 # inside an evaluation
            ("checkpoint", 4, "model.safetensors"),  # last/ of step 4: model written, optimizer not
            ("checkpoint", 8, "trainer_state.json"),  # last/ of step 8 complete but not yet in place
            ("checkpoint", 3, "model.safetensors"),  # best/ of step 3 (the first evaluation is always best)
        ]
        for n, (phase, step, file) in enumerate(points):
            label = f"kill at {phase} {step}" + (f" {file}" if file else "")
            out = work / f"kill-{n}"
            code, _ = run_and_kill(command(work, out), phase, step, file)
            check(code == -signal.SIGKILL, f"{label}: the run was not killed (status {code})")
            check_after_kill(out, label)
            finish(work, out, label)
            compare_with_reference(out, ref, label)
            print(f"ok: {label}", flush=True)

        # Killed twice: during a checkpoint, then again inside a step of the resumed run.
        out = work / "kill-twice"
        run_and_kill(command(work, out), "checkpoint", 4, "optimizer.pt")
        check_after_kill(out, "kill twice (1)")
        run_and_kill(command(work, out, resume=True), "step", 7)
        check_after_kill(out, "kill twice (2)")
        finish(work, out, "kill twice")
        compare_with_reference(out, ref, "kill twice")
        print("ok: killed twice", flush=True)

        # Kills at random moments (fixed seed), without pauses: wherever they land, the same holds.
        rng = random.Random(20261207)
        for n in range(3):
            seconds = rng.uniform(0.2, 0.7) * duration  # past the start-up, before the end
            out = work / f"random-{n}"
            code = run_and_kill_at(command(work, out), seconds)
            check_after_kill(out, f"random kill {n} at {seconds:.2f} s")
            finish(work, out, f"random kill {n}")
            compare_with_reference(out, ref, f"random kill {n}")
            print(f"ok: random kill {n} at {seconds:.2f} s of {duration:.2f} s (status {code})", flush=True)

        # Ctrl-C: the step in progress ends, last/ is saved whole, status 130, the message says how to resume.
        out = work / "ctrl-c"
        code, stderr = run_and_kill(command(work, out), "step", 5, sig=signal.SIGINT)
        check(code == 130, f"Ctrl-C: exit status {code}, expected 130")
        check("--resume" in stderr and "after step 5" in stderr, f"Ctrl-C: the message does not say how to resume: "
              f"{stderr[-400:]!r}")
        state = json.loads((out / "last/trainer_state.json").read_text())
        check(state["step"] == 5, f"Ctrl-C: last/ holds step {state['step']}, expected 5")
        check_after_kill(out, "Ctrl-C", save_steps_only=False)
        finish(work, out, "Ctrl-C")
        compare_with_reference(out, ref, "Ctrl-C")
        print("ok: Ctrl-C", flush=True)

        # A file-size limit hit while writing a checkpoint: status 1, the file named, last/ unchanged.
        out = work / "fsize"
        shutil.copytree(ref, out)
        before = {f: (out / "last" / f).read_bytes() for f in LAST_FILES}

        def limit_file_size():
            resource.setrlimit(resource.RLIMIT_FSIZE, (40 * 1024, 40 * 1024))  # the model file is 81 KiB

        r = run(command(work, out, resume=True, steps=STEPS + 4), preexec_fn=limit_file_size)
        check(r.returncode == 1, f"ulimit -f: exit status {r.returncode}, expected 1")
        check("File too large" in r.stderr and ".safetensors" in r.stderr,
              f"ulimit -f: the message does not name the file and the reason: {r.stderr[-400:]!r}")
        for f, content in before.items():
            check((out / "last" / f).read_bytes() == content, f"ulimit -f: last/{f} changed")
        check_after_kill(out, "ulimit -f")
        leftovers = [p.name for p in out.iterdir() if ".partial-" in p.name or ".tmp-" in p.name]
        check(not leftovers, f"ulimit -f: half-written entries left: {leftovers}")
        print("ok: file-size limit", flush=True)

        # A read-only output directory: status 1 before any training, naming the directory; nothing changes.
        read_only_case(work, ref)
    finally:
        for p in work.rglob("*"):
            if p.is_dir():
                p.chmod(0o755)
        shutil.rmtree(work, ignore_errors=True)
    print(f"kill/resume: {len(failures)} failures")
    return 1 if failures else 0


def read_only_case(work, ref):
    out = work / "read-only"
    shutil.copytree(ref, out)
    before = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    args = command(work, out, resume=True, steps=STEPS + 4)
    if os.geteuid() == 0:
        # root writes through permission bits: run as nobody, on copies nobody can read.
        for p in [work, *work.rglob("*")]:
            p.chmod(p.stat().st_mode | stat.S_IROTH | (stat.S_IXOTH if p.is_dir() else 0))
        binary = work / "vikcse_reproduce"
        shutil.copy(PROGRAM, binary)
        binary.chmod(0o755)
        args = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", str(binary)] + args[1:]
    for p in [out, *out.rglob("*")]:
        p.chmod(p.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    r = run(args)
    check(r.returncode == 1, f"read-only: exit status {r.returncode}, expected 1 ({r.stderr[-300:]!r})")
    check(str(out) in r.stderr and "Permission denied" in r.stderr,
          f"read-only: the message does not name the directory and the reason: {r.stderr[-400:]!r}")
    after = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    check(after == before, "read-only: the output directory changed")
    print("ok: read-only output directory", flush=True)


if __name__ == "__main__":
    sys.exit(main())
