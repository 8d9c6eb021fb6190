#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes each fuzz target's seed corpus from the shared data: small excerpts, in the input layout the
target reads (see the comment at the top of each tests/fuzz/fuzz_*.cpp). Usage: make_seeds.py DATA OUT"""
import io
import json
import pathlib
import struct
import sys
import zlib

import numpy as np
from PIL import Image

data, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])


def seed(target, name, content):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape"))


def head(path, lines):
    with open(path, "rb") as f:
        return b"".join(f.readline() for _ in range(lines))


tok = data / "tokenizers"
# config.json: BERT, RoBERTa and CLIP (not a BERT: the error path).
for name, path in [("bert", tok / "bert-base-uncased/config.json"), ("roberta", tok / "roberta-base/config.json"),
                   ("clip", data / "clip/openai-clip-vit-base-patch32/config.json")]:
    if path.exists():
        seed("fuzz_config_json", name, path.read_bytes())
# Tokenizer files: the first 300 vocabulary entries and 200 merges; a tokenizer.json cut to 300 tokens.
bert_vocab = head(tok / "bert-base-uncased/vocab.txt", 300)
seed("fuzz_tokenizer_files", "vocab_txt", b"\x01" + bert_vocab)
tj = json.loads((tok / "bert-base-uncased/tokenizer.json").read_text())
tj["model"]["vocab"] = {k: v for k, v in tj["model"]["vocab"].items() if v < 300}
tj["added_tokens"] = [t for t in tj.get("added_tokens", []) if t["id"] < 300]
seed("fuzz_tokenizer_files", "tokenizer_json", b"\x00" + json.dumps(tj).encode())
rv = json.loads((tok / "roberta-base/vocab.json").read_text())
small = {k: v for k, v in rv.items() if v < 300}
seed("fuzz_tokenizer_files", "bpe", b"\x02" + json.dumps(small).encode() + b"\x00" + head(tok / "roberta-base/merges.txt", 200))
# Text to encode: SentEval, wiki1m and Flickr lines.
texts = [data / "senteval/downstream/STS/STS12-en-test/STS.input.MSRpar.txt", data / "corpora/wiki1m-subset.txt",
         data / "corpora/flickr30k-captions.txt", data / "senteval/downstream/TREC/TREC_10.label"]
for n, path in enumerate(texts):
    for k, line in enumerate(head(path, 20).splitlines()[::4]):
        seed("fuzz_encode", f"text-{n}-{k}", line)
# SentEval readers: the first 15 lines of each file, behind the selector byte the target reads.
sts = data / "senteval/downstream"
readers = [
    (0, [sts / "STS/STS12-en-test/STS.input.MSRpar.txt", sts / "STS/STS12-en-test/STS.gs.MSRpar.txt"]),
    (1, [sts / "STS/STSBenchmark/sts-dev.csv"]), (2, [sts / "SICK/SICK_trial.txt"]), (3, [sts / "MR/rt-polarity.pos"]),
    (4, [sts / "SST/binary/sentiment-dev"]), (5, [sts / "TREC/TREC_10.label"]), (6, [sts / "MRPC/msr_paraphrase_test.txt"]),
]
for selector, files in readers:
    if all(f.exists() for f in files):
        seed("fuzz_senteval", f"reader-{selector}", bytes([selector]) + b"\x00".join(head(f, 15) for f in files))
# .npy: float32/float64/float16 arrays, 2-D and 1-D.
for name, array in [("f4", np.ones((3, 4), np.float32)), ("f8", np.arange(6, dtype=np.float64)),
                    ("f2", np.zeros((2, 2), np.float16))]:
    buffer = io.BytesIO()
    np.save(buffer, array)
    seed("fuzz_npy_header", name, buffer.getvalue())
# safetensors: the real (truncated) all-MiniLM-L6-v2 file's header with a little of its data.
real = data / "fixtures/all-MiniLM-L6-v2.truncated.safetensors"
with open(real, "rb") as f:
    prefix = f.read(8)
    length = int.from_bytes(prefix, "little")
    seed("fuzz_safetensors_header", "minilm", prefix + f.read(length + 64))
# Images (fuzz_image): small JPEG and PNG files written here with Pillow (and a PNG writer for what
# Pillow 9.4 cannot write: Adam7 interlacing, 16-bit RGB(A), 2/4-bit grey, eXIf/XMP/raw-profile
# chunks), behind the target's two option bytes (flags, sizes). Each is a few KB at most.
rng = np.random.default_rng(7)
ys, xs = np.mgrid[0:12, 0:16]
photo = np.stack([xs * 16, ys * 20, (xs + ys) * 9], axis=-1).astype(np.uint8)
photo = (photo + rng.integers(0, 24, photo.shape)).astype(np.uint8)


def image_seed(name, flags, sizes, content):
    seed("fuzz_image", name, bytes([flags, sizes]) + content)


def pillow_bytes(image, fmt, **kw):
    buffer = io.BytesIO()
    image.save(buffer, fmt, **kw)
    return buffer.getvalue()


def tiff_orientation(value, endian="<"):
    """An EXIF block (Exif\0\0 + TIFF) whose IFD0 holds the orientation tag (SHORT)."""
    head = (b"II\x2a\x00" if endian == "<" else b"MM\x00\x2a") + struct.pack(endian + "I", 8)
    entry = struct.pack(endian + "HHIH", 0x0112, 3, 1, value) + b"\x00\x00"
    return b"Exif\x00\x00" + head + struct.pack(endian + "H", 1) + entry + struct.pack(endian + "I", 0)


def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_rows(samples, depth):
    """Serialised rows (filter byte 0) of a (h, w, c) array of samples in the file's bit depth."""
    out = bytearray()
    for row in samples.reshape(samples.shape[0], -1):
        out.append(0)
        if depth == 16:
            out += row.astype(">u2").tobytes()
        elif depth == 8:
            out += row.astype(np.uint8).tobytes()
        else:
            per = 8 // depth
            padded = np.concatenate([row, np.zeros((-len(row)) % per, row.dtype)]).reshape(-1, per)
            for group in padded:
                byte = 0
                for j, v in enumerate(group):
                    byte |= int(v) << (8 - depth * (j + 1))
                out.append(byte)
    return bytes(out)


def png(samples, depth, color, interlace=False, plte=None, trns=None, extra=()):
    h, w = samples.shape[:2]
    if interlace:  # Adam7: seven passes, each a sub-image of its own rows
        raw = b""
        for x0, y0, dx, dy in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
                               (0, 1, 1, 2)]:
            part = samples[y0::dy, x0::dx]
            if part.shape[0] and part.shape[1]:
                raw += png_rows(part, depth)
    else:
        raw = png_rows(samples, depth)
    data = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, int(interlace)))
    if plte is not None:
        data += chunk(b"PLTE", plte)
    if trns is not None:
        data += chunk(b"tRNS", trns)
    for kind, payload in extra:
        data += chunk(kind, payload)
    return data + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


rgb = Image.fromarray(photo)
# JPEG: baseline 4:2:0, 4:4:4, progressive, greyscale, CMYK (Adobe, inverted), with EXIF orientations.
image_seed("jpeg-baseline", 0x08, 0x37, pillow_bytes(rgb, "JPEG", quality=80))
image_seed("jpeg-444", 0x10, 0x9a, pillow_bytes(rgb, "JPEG", quality=90, subsampling=0))
image_seed("jpeg-progressive", 0x18, 0x00, pillow_bytes(rgb, "JPEG", quality=75, progressive=True))
image_seed("jpeg-grey", 0x28, 0x45, pillow_bytes(rgb.convert("L"), "JPEG", quality=85))
image_seed("jpeg-cmyk", 0x09, 0x63, pillow_bytes(rgb.convert("CMYK"), "JPEG", quality=85))
for value, endian in [(6, "<"), (3, ">"), (8, "<"), (5, ">")]:
    image_seed(f"jpeg-exif-{value}", 0x48 if value % 2 else 0x08, 0x5c,
               pillow_bytes(rgb, "JPEG", quality=70, exif=tiff_orientation(value, endian)))
image_seed("jpeg-progressive-exif", 0x90, 0x21,
           pillow_bytes(rgb.convert("L"), "JPEG", progressive=True, exif=tiff_orientation(7, ">")))
image_seed("jpeg-tiny-limit", 0x04, 0x02, pillow_bytes(rgb, "JPEG"))
# PNG through Pillow: RGB, RGBA, L, LA, 1-bit, palette with tRNS, 16-bit grey (I;16).
rgba = np.concatenate([photo, (xs * 17).astype(np.uint8)[..., None]], axis=-1)
image_seed("png-rgb", 0x08, 0x3f, pillow_bytes(rgb, "PNG"))
image_seed("png-rgba", 0x09, 0x24, pillow_bytes(Image.fromarray(rgba), "PNG"))
image_seed("png-grey", 0x10, 0x77, pillow_bytes(rgb.convert("L"), "PNG"))
image_seed("png-grey-alpha", 0x01, 0x00, pillow_bytes(Image.fromarray(rgba).convert("LA"), "PNG"))
image_seed("png-1bit", 0x18, 0x11, pillow_bytes(rgb.convert("1"), "PNG"))
palette = rgb.convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
image_seed("png-palette-trns", 0x09, 0x53,
           pillow_bytes(palette, "PNG", transparency=bytes([0, 64, 128, 255] * 4)))
image_seed("png-palette-4bit", 0x28, 0x35, pillow_bytes(palette, "PNG", bits=4))
image_seed("png-i16", 0x08, 0x42, pillow_bytes(Image.fromarray((photo[..., 0].astype(np.uint16) * 3)), "PNG"))
# PNG written here: 16-bit RGB / RGBA, 2/4-bit grey with a tRNS key, interlaced (Adam7) files, eXIf,
# "Raw profile type exif" text and XMP orientations.
image_seed("png-rgb16", 0x08, 0x29, png(photo.astype(np.uint16) * 257, 16, 2))
image_seed("png-rgba16-interlaced", 0x11, 0x58, png(rgba.astype(np.uint16) * 257 + 3, 16, 6, interlace=True))
image_seed("png-grey2-trns", 0x09, 0x13, png((photo[..., :1] // 64), 2, 0, trns=struct.pack(">H", 2)))
image_seed("png-grey4-interlaced", 0x18, 0x66, png((photo[..., :1] // 16), 4, 0, interlace=True))
image_seed("png-grey16-trns", 0x09, 0x31, png(photo[..., :1].astype(np.uint16) * 2, 16, 0, trns=struct.pack(">H", 300)))
image_seed("png-la16", 0x01, 0x44, png(rgba[..., 2:].astype(np.uint16) * 257, 16, 4))
image_seed("png-palette2-interlaced", 0x09, 0x27,
           png(photo[..., :1] // 64, 2, 3, interlace=True, plte=bytes(range(12)), trns=b"\x00\x80"))
image_seed("png-rgb-interlaced", 0x10, 0xe1, png(photo, 8, 2, interlace=True))
image_seed("png-exif-chunk", 0x08, 0x38, png(photo, 8, 2, extra=[(b"eXIf", tiff_orientation(6, ">")[6:])]))
raw_profile = tiff_orientation(8, "<").hex()
image_seed("png-raw-profile", 0x48, 0x4d,
           png(photo, 8, 2, extra=[(b"tEXt", b"Raw profile type exif\x00\nexif\n" +
                                    str(len(raw_profile) // 2).encode() + b"\n" + raw_profile.encode() + b"\n")]))
xmp = b'<x:xmpmeta><rdf:Description tiff:Orientation="3"/></x:xmpmeta>'
image_seed("png-xmp", 0x10, 0x5a, png(photo, 8, 2, extra=[(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp)]))
print(f"fuzz seeds written to {out}")
