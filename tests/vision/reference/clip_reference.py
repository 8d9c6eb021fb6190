#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""An independent torch.nn reference of Hugging Face's CLIPModel, for tests/vision/clip_model_test.

Builds a tiny random CLIP in the Hugging Face key layout (text_model.*, vision_model.*,
visual_projection, text_projection, logit_scale), writes it twice:
    OUT/tiny-clip/          config.json in transformers' compact form + model.safetensors
    OUT/tiny-clip-legacy/   the Hub's older verbose config.json (text_config_dict: null,
                            num_channels: null, ...) + weights that also hold the position_ids buffers
and evaluates it with torch.nn layers (nn.TransformerEncoderLayer with norm_first=True and a
quick-GELU activation, nn.Conv2d, nn.Embedding, nn.LayerNorm, nn.Linear), not with a transcription
of the C++ code, in float32 and in float64, into OUT/tiny-clip-expected.safetensors.

Usage: clip_reference.py OUT
"""
import json
import os
import sys

import torch
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "encoder", "reference"))
from reference_encoder import write_safetensors  # noqa: E402

TEXT = dict(hidden_size=32, intermediate_size=37, num_hidden_layers=2, num_attention_heads=4,
            vocab_size=99, max_position_embeddings=16, layer_norm_eps=1e-5, hidden_act="quick_gelu", eos_token_id=2)
VISION = dict(hidden_size=48, intermediate_size=53, num_hidden_layers=2, num_attention_heads=4,
              image_size=32, patch_size=8, num_channels=3, layer_norm_eps=1e-5, hidden_act="quick_gelu")
PROJECTION = 24
LOGIT_SCALE = 2.6592
BOS, EOS = 97, 98  # <|endoftext|> is the highest id, as in CLIP's vocabulary
EOS7 = 7           # the id pooled at when the config names a real eos_token_id


def quick_gelu(x):
    return x * torch.sigmoid(1.702 * x)


def random_weights(gen):
    w = {}

    def normal(*shape, std=0.2):
        return torch.randn(*shape, generator=gen) * std

    def tower(prefix, cfg):
        d, f = cfg["hidden_size"], cfg["intermediate_size"]
        for i in range(cfg["num_hidden_layers"]):
            p = f"{prefix}.encoder.layers.{i}."
            for name in ("q_proj", "k_proj", "v_proj", "out_proj"):
                w[p + f"self_attn.{name}.weight"] = normal(d, d)
                w[p + f"self_attn.{name}.bias"] = normal(d, std=0.1)
            w[p + "mlp.fc1.weight"] = normal(f, d)
            w[p + "mlp.fc1.bias"] = normal(f, std=0.1)
            w[p + "mlp.fc2.weight"] = normal(d, f)
            w[p + "mlp.fc2.bias"] = normal(d, std=0.1)
            for ln in ("layer_norm1", "layer_norm2"):
                w[p + f"{ln}.weight"] = 1 + normal(d, std=0.3)
                w[p + f"{ln}.bias"] = normal(d, std=0.1)

    def layer_norm(name, d):
        w[name + ".weight"] = 1 + normal(d, std=0.3)
        w[name + ".bias"] = normal(d, std=0.1)

    t, v = TEXT, VISION
    w["text_model.embeddings.token_embedding.weight"] = normal(t["vocab_size"], t["hidden_size"], std=0.5)
    w["text_model.embeddings.position_embedding.weight"] = normal(t["max_position_embeddings"], t["hidden_size"], std=0.5)
    tower("text_model", t)
    layer_norm("text_model.final_layer_norm", t["hidden_size"])
    grid = v["image_size"] // v["patch_size"]
    w["vision_model.embeddings.class_embedding"] = normal(v["hidden_size"], std=0.5)
    w["vision_model.embeddings.patch_embedding.weight"] = normal(v["hidden_size"], v["num_channels"], v["patch_size"],
                                                                 v["patch_size"], std=0.1)
    w["vision_model.embeddings.position_embedding.weight"] = normal(grid * grid + 1, v["hidden_size"], std=0.5)
    layer_norm("vision_model.pre_layrnorm", v["hidden_size"])
    tower("vision_model", v)
    layer_norm("vision_model.post_layernorm", v["hidden_size"])
    w["visual_projection.weight"] = normal(PROJECTION, v["hidden_size"])
    w["text_projection.weight"] = normal(PROJECTION, t["hidden_size"])
    w["logit_scale"] = torch.tensor(LOGIT_SCALE)
    return w


class Tower(nn.Module):
    """A stack of torch.nn pre-LN transformer layers loaded from Hugging Face CLIP keys."""

    def __init__(self, cfg, weights, prefix):
        super().__init__()
        self.layers = nn.ModuleList()
        for i in range(cfg["num_hidden_layers"]):
            layer = nn.TransformerEncoderLayer(cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"],
                                               dropout=0.0, activation=quick_gelu, layer_norm_eps=cfg["layer_norm_eps"],
                                               batch_first=True, norm_first=True)
            p = f"{prefix}.encoder.layers.{i}."
            with torch.no_grad():
                layer.self_attn.in_proj_weight.copy_(torch.cat([weights[p + f"self_attn.{n}_proj.weight"] for n in "qkv"]))
                layer.self_attn.in_proj_bias.copy_(torch.cat([weights[p + f"self_attn.{n}_proj.bias"] for n in "qkv"]))
                layer.self_attn.out_proj.weight.copy_(weights[p + "self_attn.out_proj.weight"])
                layer.self_attn.out_proj.bias.copy_(weights[p + "self_attn.out_proj.bias"])
                for mine, theirs in (("linear1", "mlp.fc1"), ("linear2", "mlp.fc2"), ("norm1", "layer_norm1"),
                                     ("norm2", "layer_norm2")):
                    getattr(layer, mine).weight.copy_(weights[p + theirs + ".weight"])
                    getattr(layer, mine).bias.copy_(weights[p + theirs + ".bias"])
            self.layers.append(layer)

    def forward(self, x, mask=None, key_padding_mask=None):
        for layer in self.layers:
            x = layer(x, src_mask=mask, src_key_padding_mask=key_padding_mask)
        return x


def layer_norm(weights, name, d, eps):
    ln = nn.LayerNorm(d, eps=eps)
    with torch.no_grad():
        ln.weight.copy_(weights[name + ".weight"])
        ln.bias.copy_(weights[name + ".bias"])
    return ln


def linear(weight):
    lin = nn.Linear(weight.shape[1], weight.shape[0], bias=False)
    with torch.no_grad():
        lin.weight.copy_(weight)
    return lin


class ReferenceClip(nn.Module):
    def __init__(self, w):
        super().__init__()
        t, v = TEXT, VISION
        self.token = nn.Embedding.from_pretrained(w["text_model.embeddings.token_embedding.weight"].clone())
        self.position = nn.Embedding.from_pretrained(w["text_model.embeddings.position_embedding.weight"].clone())
        self.text = Tower(t, w, "text_model")
        self.final_ln = layer_norm(w, "text_model.final_layer_norm", t["hidden_size"], t["layer_norm_eps"])
        self.patch = nn.Conv2d(v["num_channels"], v["hidden_size"], v["patch_size"], stride=v["patch_size"], bias=False)
        with torch.no_grad():
            self.patch.weight.copy_(w["vision_model.embeddings.patch_embedding.weight"])
        self.cls = nn.Parameter(w["vision_model.embeddings.class_embedding"].clone())
        self.vpos = nn.Embedding.from_pretrained(w["vision_model.embeddings.position_embedding.weight"].clone())
        self.pre_ln = layer_norm(w, "vision_model.pre_layrnorm", v["hidden_size"], v["layer_norm_eps"])
        self.vision = Tower(v, w, "vision_model")
        self.post_ln = layer_norm(w, "vision_model.post_layernorm", v["hidden_size"], v["layer_norm_eps"])
        self.visual_projection = linear(w["visual_projection.weight"])
        self.text_projection = linear(w["text_projection.weight"])
        self.logit_scale = nn.Parameter(w["logit_scale"].clone())

    def text_features(self, ids, attention_mask, eos_id=None):
        n = ids.shape[1]
        x = self.token(ids) + self.position(torch.arange(n))
        causal = torch.triu(torch.ones(n, n, dtype=torch.bool), diagonal=1)  # True: may not attend
        x = self.final_ln(self.text(x, mask=causal, key_padding_mask=attention_mask == 0))
        pos = ids.argmax(-1) if eos_id is None else (ids == eos_id).int().argmax(-1)
        return self.text_projection(x[torch.arange(ids.shape[0]), pos])

    def image_features(self, pixels):
        patches = self.patch(pixels).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(pixels.shape[0], 1, -1), patches], dim=1) + self.vpos.weight
        x = self.vision(self.pre_ln(x))
        return self.visual_projection(self.post_ln(x[:, 0]))


def inputs(gen):
    lengths = [9, 5, 16]
    ids = torch.full((3, 16), EOS, dtype=torch.int64)
    mask = torch.zeros((3, 16), dtype=torch.int64)
    for r, n in enumerate(lengths):
        ids[r, 0] = BOS
        ids[r, 1:n - 1] = torch.randint(0, 97, (n - 2,), generator=gen)
        ids[r, n - 1] = EOS
        mask[r, :n] = 1
    ids[ids == EOS7] = 8
    for r, p in enumerate([3, 2, 11]):  # where the eos7 variant pools
        ids[r, p] = EOS7
    pixels = torch.randn(2, VISION["num_channels"], VISION["image_size"], VISION["image_size"], generator=gen)
    return ids, mask, pixels


def configs():
    compact = {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": PROJECTION,
               "logit_scale_init_value": LOGIT_SCALE, "initializer_factor": 1.0,
               "text_config": dict(TEXT, model_type="clip_text_model", projection_dim=PROJECTION),
               "vision_config": dict(VISION, model_type="clip_vision_model", projection_dim=PROJECTION),
               "transformers_version": "4.57.0"}
    legacy = {"_name_or_path": "tiny-clip", "architectures": ["CLIPModel"], "initializer_factor": 1.0,
              "logit_scale_init_value": LOGIT_SCALE, "model_type": "clip", "projection_dim": PROJECTION,
              "text_config_dict": None, "vision_config_dict": None, "transformers_version": None,
              "text_config": dict(TEXT, bos_token_id=0, pad_token_id=1, attention_dropout=0.0, dropout=0.0,
                                  is_decoder=False, id2label={"0": "LABEL_0"}, torch_dtype=None,
                                  transformers_version="4.16.0.dev0"),
              "vision_config": dict(VISION, num_channels=None, attention_dropout=0.0, dropout=0.0,
                                    torch_dtype=None, transformers_version="4.16.0.dev0")}
    return compact, legacy


def main(out):
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    w = random_weights(gen)
    ids, mask, pixels = inputs(gen)
    compact, legacy = configs()
    for name, cfg, extra in (("tiny-clip", compact, {}),
                             ("tiny-clip-legacy", legacy,
                              {"text_model.embeddings.position_ids": torch.arange(TEXT["max_position_embeddings"])[None],
                               "vision_model.embeddings.position_ids":
                                   torch.arange((VISION["image_size"] // VISION["patch_size"]) ** 2 + 1)[None]})):
        d = os.path.join(out, name)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f, indent=2)
        write_safetensors(os.path.join(d, "model.safetensors"), dict(w, **extra))
    expected = {"input_ids": ids, "attention_mask": mask, "pixel_values": pixels}
    for dtype, tag in ((torch.float32, "f32"), (torch.float64, "f64")):
        model = ReferenceClip({k: v.to(dtype) for k, v in w.items()}).to(dtype).eval()
        with torch.no_grad():
            image = model.image_features(pixels.to(dtype))
            text = model.text_features(ids, mask)
            text_eos7 = model.text_features(ids, mask, eos_id=EOS7)
            text_unmasked = model.text_features(ids, torch.ones_like(mask))
            ti = nn.functional.normalize(text, dim=-1)
            ii = nn.functional.normalize(image, dim=-1)
            logits = model.logit_scale.exp() * ti @ ii.t()
        expected.update({f"image_features.{tag}": image, f"text_features.{tag}": text,
                         f"text_features_eos7.{tag}": text_eos7, f"text_features_unmasked.{tag}": text_unmasked,
                         f"logits_per_text.{tag}": logits})
    write_safetensors(os.path.join(out, "tiny-clip-expected.safetensors"), expected)
    print(f"clip reference: wrote {out}/tiny-clip, tiny-clip-legacy, tiny-clip-expected.safetensors")


if __name__ == "__main__":
    main(sys.argv[1])
