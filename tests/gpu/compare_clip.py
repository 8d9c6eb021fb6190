# SPDX-License-Identifier: Apache-2.0
"""Our ClipModel against transformers' own CLIPModel (imported by compare_encoders.py), on the
random checkpoint and outputs that `gpu_suite encoders` wrote (DIR/clip, DIR/clip.safetensors):
the image features, the text features (pooled at the end-of-text id, the highest id of each row)
and logits_per_text, in float32 and in bf16 autocast (float32 weights, torch.autocast).

The judge is the checkpoint run by transformers in float64 on the CPU. Ours must stay within the
bounds of tests/support/float_bounds.hpp, as tests/vision/clip_model_test.cpp derives them, per
tower (stages = 2L + 2: two dot-product stages per pre-LN block, the embedding with its LayerNorm,
the final LayerNorm with the projection; K = max(hidden, intermediate); M = max |features| of the
float64 run):
  float32:        eps32 * stages * sqrt(K) * M
  bf16 autocast:  eps_bf16 * stages * M      (each stage's product is rounded to bf16)
and for the logits exp(logit_scale) * (r_text + r_image + 2 sqrt(P) eps), r = sqrt(P) * bound /
min row norm (a relative perturbation r of a vector moves its cosine by at most r). transformers'
own float32 and bf16 autocast runs on the device are measured against the same judge. At
ViT-B/32's shape the bf16 logits bound is close to the trivial 2 exp(logit_scale) (26.8 of 28.6
in a CPU run at that shape with the torch.nn reference): there the feature rows are the test.

--rehearse without transformers: tests/vision/reference/clip_reference.py's torch.nn ReferenceClip
stands in for judge and peer (compare_encoders.py's report names the peer).
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

from peer_library import read_safetensors

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "vision", "reference"))

OUTPUTS = ("image_features", "text_features", "logits_per_text")
DTYPES = (("float32", "float32", False), ("bf16 autocast", "bf16_autocast", True))  # (report, key, autocast)


def load_reference(directory, dtype):
    """clip_reference.ReferenceClip of the checkpoint in `directory` (its tower sizes are read
    from the module's TEXT and VISION, set here from config.json)."""
    import clip_reference
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    for tower in ("text_config", "vision_config"):
        act = config[tower].get("hidden_act", "quick_gelu")
        if act != "quick_gelu":
            raise SystemExit(f"compare_clip: the torch.nn reference has quick_gelu only, {tower} has {act}")
    clip_reference.TEXT = dict(config["text_config"])
    clip_reference.VISION = dict(config["vision_config"])
    weights = read_safetensors(os.path.join(directory, "model.safetensors"))
    return clip_reference.ReferenceClip({k: v.to(dtype) for k, v in weights.items()}).to(dtype).eval()


def compare_clip(root, transformers, device, eps32, eps_bf16):
    """(rows, failures, facts): one row per (dtype, output) like compare_encoders' rows."""
    directory = os.path.join(root, "clip")
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    ours = read_safetensors(os.path.join(root, "clip.safetensors"))
    ids, mask, pixels = ours["input_ids"], ours["attention_mask"], ours["pixel_values"]
    eos = ids.max().item()
    if not bool(((ids == eos).int().argmax(-1) == mask.sum(-1) - 1).all()):
        raise SystemExit("compare_clip: the end-of-text id is not the highest id at each row's last token")

    def load(dtype, dev):
        if transformers is None:
            return load_reference(directory, dtype).to(dev)
        if dtype == torch.float64:
            model = transformers.CLIPModel.from_pretrained(directory).double()
        else:
            model = transformers.CLIPModel.from_pretrained(directory, dtype=dtype)
        return model.to(dev).eval()

    def run(model, dev, dtype, autocast):
        x, m, p = ids.to(dev), mask.to(dev), pixels.to(dev, dtype)
        with torch.no_grad(), torch.autocast(torch.device(dev).type, dtype=torch.bfloat16, enabled=autocast):
            if transformers is None:
                # dropout is 0, so train mode computes the same function; it keeps torch.nn's fused
                # attention (eval only), which torch 1.13's CPU autocast cannot run, out of the way
                model.train(autocast)
                text, image = model.text_features(x, m), model.image_features(p)
                logits = model.logit_scale.exp() * F.normalize(text, dim=-1) @ F.normalize(image, dim=-1).t()
                scale = model.logit_scale.item()
            else:
                out = model(input_ids=x, attention_mask=m, pixel_values=p)
                text = model.text_projection(out.text_model_output.pooler_output)
                image = model.visual_projection(out.vision_model_output.pooler_output)
                logits = out.logits_per_text
                scale = model.logit_scale.item()
                # the features are the ones the model's logits came from (as get_*_features gives them)
                for name, mine, theirs in (("text", text, out.text_embeds), ("image", image, out.image_embeds)):
                    gap = (F.normalize(mine.double(), dim=-1) - theirs.double()).abs().max().item()
                    if not gap <= 0.05:
                        raise SystemExit(f"compare_clip: normalised {name} features differ from transformers' "
                                         f"{name}_embeds by {gap:.3g}: the projection path changed")
        result = {"image_features": image, "text_features": text, "logits_per_text": logits}
        return {k: v.double().cpu() for k, v in result.items()}, scale

    exact, scale = run(load(torch.float64, "cpu"), "cpu", torch.float64, False)
    peer_model = load(torch.float32, device)
    peer = {key: run(peer_model, device, torch.float32, autocast)[0] for _, key, autocast in DTYPES}
    del peer_model

    towers = {"image_features": config["vision_config"], "text_features": config["text_config"]}
    projection = exact["image_features"].shape[1]
    rows, failures = [], 0
    for name, key, _ in DTYPES:
        eps = eps32 if key == "float32" else eps_bf16
        bounds, relative = {}, {}
        for output, tower in towers.items():
            stages = 2 * tower["num_hidden_layers"] + 2
            k = max(tower["hidden_size"], tower["intermediate_size"])
            m = exact[output].abs().max().item()
            bounds[output] = eps * stages * math.sqrt(k) * m if key == "float32" else eps * stages * m
            relative[output] = math.sqrt(projection) * bounds[output] / exact[output].norm(dim=1).min().item()
        bounds["logits_per_text"] = math.exp(scale) * (relative["text_features"] + relative["image_features"] +
                                                       2 * math.sqrt(projection) * eps)
        for output in OUTPUTS:
            want = exact[output]
            diff = (ours[f"{key}.{output}"].double() - want).abs().max().item()
            peer_diff = (peer[key][output] - want).abs().max().item()
            bound = bounds[output]
            ok = diff <= bound and math.isfinite(diff)
            failures += not ok
            rows.append({"model": "clip", "dtype": name, "output": output, "ours_vs_float64": diff,
                         "peer_vs_float64": peer_diff, "bound": bound, "pass": ok})
            print(f"[{'pass' if ok else 'fail'}] clip {name} {output}: ours {diff:.3g}, "
                  f"peer {peer_diff:.3g} (bound {bound:.3g})", flush=True)
    facts = {"peer": "transformers CLIPModel" if transformers is not None else
             "tests/vision/reference/clip_reference.py ReferenceClip (torch.nn; rehearsal)",
             "images": list(pixels.shape), "input_ids": list(ids.shape), "tokens": int(mask.sum().item()),
             "end_of_text_id": eos, "logit_scale": scale, "projection_dim": projection,
             "text_layers": towers["text_features"]["num_hidden_layers"],
             "vision_layers": towers["image_features"]["num_hidden_layers"]}
    return rows, failures, facts
