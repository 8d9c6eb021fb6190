# SPDX-License-Identifier: Apache-2.0
"""Merges the GPU suite's reports (OUT/checks.json, encoders.json, steps.json, peer.json and the
stage statuses run.sh passes) into OUT/gpu_suite.json, and prints the tables that
benchmarks/BENCHMARKS.md records: BERT's, RoBERTa's and CLIP's differences from the float64 judge,
then the steps. The goals (a step at least as fast as the eager peer; VIKCSE's bf16 MFU at least
35%) are reported as met or not; they do not fail the suite, the tests do.
Usage: summarize.py OUT stage=status ...
"""
import json
import os
import sys

out = sys.argv[1]
stages = dict(arg.split("=", 1) for arg in sys.argv[2:])


def load(name):
    path = os.path.join(out, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


summary = {"stages": stages, "checks": load("checks.json"), "encoders": load("encoders.json"),
           "steps": load("steps.json"), "peer": load("peer.json"), "goals": []}
print("\n== GPU suite ==")
for stage, status in stages.items():
    print(f"{stage:<10} {status}")
encoders = summary["encoders"]
if encoders:  # BERT, RoBERTa and CLIP against the float64 judge (compare_encoders.py)
    print(f"\nencoders on {encoders['device']} against the {encoders['judge']}; peer: {encoders['peer']}")
    clip = encoders.get("clip")
    if clip:
        print(f"clip: {clip['images'][0]} images of {clip['images'][2]}px, {clip['input_ids'][0]} texts of "
              f"{clip['input_ids'][1]} ids ({clip['tokens']} tokens); its peer and judge: {clip['peer']}")
    print("| model | dtype | output | ours vs float64 | peer vs float64 | bound | pass |")
    print("|---|---|---|---|---|---|---|")
    for r in encoders["rows"]:
        print(f"| {r['model']} | {r['dtype']} | {r['output']} | {r['ours_vs_float64']:.3g} | "
              f"{r['peer_vs_float64']:.3g} | {r['bound']:.3g} | {'pass' if r['pass'] else 'FAIL'} |")
steps, peer = summary["steps"], summary["peer"]
if steps and peer:
    mine = {s["method"]: s for s in steps["steps"]}
    theirs = {s["method"]: s for s in peer["steps"]}
    print(f"\nbf16 matmul {steps['matmul_n']}^3 on {steps['device']}: {steps['bf16_matmul_tflops']:.1f} TFLOP/s")
    print(f"peer: {peer['peer']}")
    print("| step | vikcse s/step | peer s/step | vikcse / peer speed | tokens/s | MFU |")
    print("|---|---|---|---|---|---|")
    for method, s in mine.items():
        ratio = theirs[method]["seconds_per_step"] / s["seconds_per_step"]
        print(f"| {method} | {s['seconds_per_step']:.4f} | {theirs[method]['seconds_per_step']:.4f} | {ratio:.2f}x | "
              f"{s['tokens_per_second']:.0f} | {100 * s['mfu']:.1f}% |")
        summary["goals"].append({"goal": f"{method} step at least 1.0x the peer", "value": ratio, "met": ratio >= 1.0})
    mfu = mine["vikcse"]["mfu"]
    summary["goals"].append({"goal": "VIKCSE bf16 MFU at least 35%", "value": mfu, "met": mfu >= 0.35})
    for g in summary["goals"]:
        print(f"goal: {g['goal']}: {g['value']:.3f} [{'met' if g['met'] else 'NOT MET'}]")
tmp = os.path.join(out, "gpu_suite.json.partial")
with open(tmp, "w") as f:
    json.dump(summary, f, indent=2)
os.replace(tmp, os.path.join(out, "gpu_suite.json"))
print(f"\nreport: {os.path.join(out, 'gpu_suite.json')}")
