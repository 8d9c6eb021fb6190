# SPDX-License-Identifier: Apache-2.0
"""Peer for benchmarks/stage1_throughput: VIKCSE stage 1 in Python (Debian's Pillow 9.4, numpy,
python3-torch 1.13, torchvision 0.14), the same steps as the C++ side, timed in the same run.

Two modes; each prints one JSON line per measurement, with the median of the timed repeats.

preprocess: decode + preprocess every file, `--passes` passes per repeat.
    clip    Image.open + ImageOps.exif_transpose (a malformed EXIF block that Pillow cannot read
            means "as stored", as vikcse does) + convert("RGB") + resize of the shortest edge with
            BICUBIC and reducing_gap=None + centre crop ((h - crop) // 2) + float32(float64(v) *
            rescale_factor) + (x - mean) / std in float32, channels first (transformers'
            CLIPImageProcessor steps, written out as tests/image/reference/pillow_reference.py does;
            transformers is not installed here), settings from preprocessor_config.json.
    resnet  the same decoding, then torchvision's Compose([Resize(256), CenterCrop(224), ToTensor(),
            Normalize(ImageNet mean, std)]) on the PIL image (MCSE's ResNet-50 input).
    One thread runs the files in order; N threads share them through a ThreadPoolExecutor in this
    one process (Pillow releases the GIL while it decodes and resizes). torch's intra-op threads are
    set to 1. With --out DIR the first pass's outputs go to DIR/<pipeline>.f32 (files in order,
    raw little-endian float32) for the C++ side to compare.
    {"mode": "preprocess", "pipeline": p, "threads": t, "images": n, "seconds": s, "repeats": [...]}

encode: a CLIP vision tower (patch nn.Conv2d, class + position embeddings, pre-LayerNorm,
    nn.TransformerEncoderLayer(norm_first=True, quick-GELU) from tests/vision/reference's Tower,
    post-LayerNorm of the class token, visual projection) and torchvision's ResNet with Bottleneck
    blocks (resnet50 = [3, 4, 6, 3]; fc = Identity), random weights, eval mode, torch.no_grad(), on
    the float32 batches the C++ side wrote (raw [B, 3, S, S]).
    {"mode": "encode", "model": m, "threads": t, "batch": b, "parameters": n, "seconds": s, "repeats": [...]}

Usage:
  /usr/bin/python3 stage1_peer.py preprocess --config preprocessor_config.json --threads 1 2 \
      --passes 4 --repeats 5 --warmup 1 [--out DIR] FILE...
  /usr/bin/python3 stage1_peer.py encode --clip-pixels X.f32 --clip-shape 16,3,224,224 \
      --clip-vision 768,3072,12,12,32,512,1e-5 --resnet-pixels Y.f32 --resnet-shape 8,3,224,224 \
      --resnet-layers 3,4,6,3 --threads 1 2 --repeats 5 --warmup 1
"""
import argparse
import json
import os
import statistics
import sys
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def median_seconds(run, repeats, warmup):
    for _ in range(warmup):
        run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


# ----------------------------------------------------------------------------------- preprocess
def preprocess_mode(a):
    from PIL import Image, ImageOps
    from torchvision import transforms

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")  # Pillow's note on palette images with transparency
    with open(a.config) as f:
        cfg = json.load(f)
    size = cfg.get("size", 224)
    shortest = size["shortest_edge"] if isinstance(size, dict) else size
    crop = cfg.get("crop_size", 224)
    crop_h, crop_w = (crop["height"], crop["width"]) if isinstance(crop, dict) else (crop, crop)
    resample = cfg.get("resample", 3)
    rescale = cfg.get("rescale_factor", 1 / 255)
    mean = np.array(cfg.get("image_mean", [0.48145466, 0.4578275, 0.40821073]), dtype=np.float32)
    std = np.array(cfg.get("image_std", [0.26862954, 0.26130258, 0.27577711]), dtype=np.float32)

    def load_rgb(path):
        """transformers.image_utils.load_image: exif_transpose(Image.open(path)).convert("RGB")."""
        try:
            image = ImageOps.exif_transpose(Image.open(path))
        except Exception:  # malformed EXIF (exif_typeerror.jpg): as stored, like vikcse
            image = Image.open(path)
        return image.convert("RGB")

    def clip(path):
        rgb = load_rgb(path)
        w, h = rgb.size
        short, long = (w, h) if w <= h else (h, w)
        new_long = int(shortest * long / short)
        new_w, new_h = (shortest, new_long) if w <= h else (new_long, shortest)
        resized = np.asarray(rgb.resize((new_w, new_h), resample=resample, reducing_gap=None))
        top, left = (new_h - crop_h) // 2, (new_w - crop_w) // 2
        cropped = resized[top:top + crop_h, left:left + crop_w]
        x = (cropped.astype(np.float64) * rescale).astype(np.float32)
        x = (x - mean) / std
        return np.ascontiguousarray(x.transpose(2, 0, 1))

    resnet_transform = transforms.Compose([
        transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
        transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])

    def resnet(path):
        return resnet_transform(load_rgb(path)).numpy()

    jobs = a.files * a.passes
    for name, fn in (("clip", clip), ("resnet", resnet)):
        if name not in a.pipelines:
            continue
        if a.out:
            np.concatenate([fn(p).ravel() for p in a.files]).astype("<f4").tofile(os.path.join(a.out, name + ".f32"))
        for threads in a.threads:
            if threads == 1:
                def run():
                    for p in jobs:
                        fn(p)
                seconds, times = median_seconds(run, a.repeats, a.warmup)
            else:
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    def run():
                        for _ in pool.map(fn, jobs):
                            pass
                    seconds, times = median_seconds(run, a.repeats, a.warmup)
            print(json.dumps({"mode": "preprocess", "pipeline": name, "threads": threads, "images": len(jobs),
                              "seconds": seconds, "repeats": times}), flush=True)


# --------------------------------------------------------------------------------------- encode
def clip_vision_tower(hidden, intermediate, layers, heads, patch, projection, eps, image_size, gen):
    sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "vision", "reference"))
    from clip_reference import Tower  # nn.TransformerEncoderLayer(norm_first=True) with quick-GELU

    cfg = dict(hidden_size=hidden, intermediate_size=intermediate, num_hidden_layers=layers,
               num_attention_heads=heads, layer_norm_eps=eps)

    def normal(*shape):
        return torch.randn(*shape, generator=gen) * 0.02

    w = {}
    for i in range(layers):
        p = f"vision_model.encoder.layers.{i}."
        for n in ("q_proj", "k_proj", "v_proj", "out_proj"):
            w[p + f"self_attn.{n}.weight"] = normal(hidden, hidden)
            w[p + f"self_attn.{n}.bias"] = normal(hidden)
        w[p + "mlp.fc1.weight"], w[p + "mlp.fc1.bias"] = normal(intermediate, hidden), normal(intermediate)
        w[p + "mlp.fc2.weight"], w[p + "mlp.fc2.bias"] = normal(hidden, intermediate), normal(hidden)
        for ln in ("layer_norm1", "layer_norm2"):
            w[p + f"{ln}.weight"], w[p + f"{ln}.bias"] = torch.ones(hidden), torch.zeros(hidden)
    grid = image_size // patch

    class VisionTower(nn.Module):
        def __init__(self):
            super().__init__()
            self.patch = nn.Conv2d(3, hidden, patch, stride=patch, bias=False)
            self.cls = nn.Parameter(normal(hidden))
            self.vpos = nn.Embedding(grid * grid + 1, hidden)
            self.pre_ln = nn.LayerNorm(hidden, eps=eps)
            self.tower = Tower(cfg, w, "vision_model")
            self.post_ln = nn.LayerNorm(hidden, eps=eps)
            self.visual_projection = nn.Linear(hidden, projection, bias=False)

        def forward(self, pixels):  # transformers' get_image_features
            patches = self.patch(pixels).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls.expand(pixels.shape[0], 1, -1), patches], dim=1) + self.vpos.weight
            x = self.tower(self.pre_ln(x))
            return self.visual_projection(self.post_ln(x[:, 0]))

    return VisionTower()


def read_batch(path, shape):
    shape = [int(v) for v in shape.split(",")]
    return torch.from_numpy(np.fromfile(path, dtype="<f4").reshape(shape).copy())


def encode_mode(a):
    from torchvision.models.resnet import Bottleneck, ResNet

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    models = []
    if a.clip_pixels:
        hidden, intermediate, layers, heads, patch, projection, eps = a.clip_vision.split(",")
        pixels = read_batch(a.clip_pixels, a.clip_shape)
        model = clip_vision_tower(int(hidden), int(intermediate), int(layers), int(heads), int(patch),
                                  int(projection), float(eps), pixels.shape[-1], gen)
        models.append(("clip", model, pixels))
    if a.resnet_pixels:
        resnet = ResNet(Bottleneck, [int(v) for v in a.resnet_layers.split(",")])
        resnet.fc = nn.Identity()
        models.append(("resnet", resnet, read_batch(a.resnet_pixels, a.resnet_shape)))
    for name, model, pixels in models:
        model.eval()
        parameters = sum(p.numel() for p in model.parameters())
        for threads in a.threads:
            torch.set_num_threads(threads)
            with torch.no_grad():
                seconds, times = median_seconds(lambda: model(pixels), a.repeats, a.warmup)
                dim = int(model(pixels[:1]).shape[-1])
            print(json.dumps({"mode": "encode", "model": name, "threads": threads, "batch": int(pixels.shape[0]),
                              "parameters": parameters, "output_dim": dim, "seconds": seconds,
                              "repeats": times}), flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="mode", required=True)
    pre = sub.add_parser("preprocess")
    pre.add_argument("--config", required=True, help="preprocessor_config.json")
    pre.add_argument("--pipelines", nargs="+", default=["clip", "resnet"])
    pre.add_argument("--threads", type=int, nargs="+", default=[1])
    pre.add_argument("--passes", type=int, default=1)
    pre.add_argument("--repeats", type=int, default=5)
    pre.add_argument("--warmup", type=int, default=1)
    pre.add_argument("--out", help="write the first pass's outputs here")
    pre.add_argument("files", nargs="+")
    enc = sub.add_parser("encode")
    enc.add_argument("--clip-pixels")
    enc.add_argument("--clip-shape")
    enc.add_argument("--clip-vision", help="hidden,intermediate,layers,heads,patch,projection,eps")
    enc.add_argument("--resnet-pixels")
    enc.add_argument("--resnet-shape")
    enc.add_argument("--resnet-layers", default="3,4,6,3")
    enc.add_argument("--threads", type=int, nargs="+", default=[1])
    enc.add_argument("--repeats", type=int, default=5)
    enc.add_argument("--warmup", type=int, default=1)
    a = p.parse_args()
    preprocess_mode(a) if a.mode == "preprocess" else encode_mode(a)


if __name__ == "__main__":
    main()
