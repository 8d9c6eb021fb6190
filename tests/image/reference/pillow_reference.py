# SPDX-License-Identifier: Apache-2.0
"""Decodes and preprocesses images with Pillow / numpy / torchvision now, for image_test to compare.

Usage: /usr/bin/python3 pillow_reference.py DATA_DIR OUT_DIR

DATA_DIR is the real-data directory (env VIKCSE_DATA_DIR overrides it); its images/ folder is read
when it exists. The script also writes synthetic files to OUT_DIR/synthetic (JPEGs with every EXIF
orientation and some malformed EXIF blocks, PNGs of every colour type and bit depth, with tRNS,
eXIf, XMP and "Raw profile type exif") and synthetic resize cases. Outputs (raw little-endian
arrays) are listed in OUT_DIR/manifest.json:

  files[]: path, name, kind (real/synthetic), and per file
    decoded    load_image: ImageOps.exif_transpose(Image.open(p)).convert("RGB")   uint8 HxWx3
    composite  HF convert_to_rgb on exif_transpose(Image.open(p)) (non-RGB: RGBA over white),
               null where Pillow raises
    pillow_raised  true when exif_transpose raised (malformed EXIF); decoded is then convert("RGB")
    clip_u8 / clip     CLIPImageProcessor steps on decoded: resize shortest edge (BICUBIC,
                       reducing_gap=None), center_crop ((h - 224) // 2); then float32 rescale and
                       normalise, channels first
    resnet_u8 / resnet torchvision Compose([Resize(256), CenterCrop(224)]) then ToTensor, Normalize
  resize[]: random uint8 images resized with Image.resize(size, filter, reducing_gap=None)

transformers is not installed here; its steps are written out below from its source
(image_transforms.resize / center_crop / rescale / normalize, image_utils.load_image).
"""
import json
import os
import struct
import sys
import zlib

import numpy as np
from PIL import Image, ImageOps
from torchvision import transforms

CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073]
CLIP_STD = [0.26862954, 0.26130258, 0.27577711]
RESCALE = 0.00392156862745098


def save(out_dir, name, array):
    path = os.path.join(out_dir, name)
    np.ascontiguousarray(array).tofile(path)
    return {"file": name, "shape": list(array.shape), "dtype": str(array.dtype)}


def convert_to_rgb(image):
    """transformers.image_transforms.convert_to_rgb (composites non-RGB images over white)."""
    if image.mode == "RGB":
        return image
    image_rgba = image.convert("RGBA")
    background = Image.new("RGBA", image_rgba.size, (255, 255, 255))
    return Image.alpha_composite(background, image_rgba).convert("RGB")


def clip_steps(rgb):
    """CLIPImageProcessor on an RGB PIL image: (uint8 HxWx3 after resize+crop, float32 3xHxW)."""
    w, h = rgb.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = 224, int(224 * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    resized = np.array(rgb.resize((new_w, new_h), resample=Image.BICUBIC, reducing_gap=None))
    top, left = (new_h - 224) // 2, (new_w - 224) // 2
    cropped = resized[top:top + 224, left:left + 224]
    x = (cropped.astype(np.float64) * RESCALE).astype(np.float32)
    x = (x - np.array(CLIP_MEAN, dtype=np.float32)) / np.array(CLIP_STD, dtype=np.float32)
    return cropped, np.ascontiguousarray(x.transpose(2, 0, 1))


def resnet_steps(rgb):
    crop = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224)])
    tensor = transforms.Compose([transforms.ToTensor(),
                                 transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
    cropped = crop(rgb)
    return np.array(cropped), tensor(cropped).numpy()


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_png(path, rows, width, height, depth, color, plte=None, trns=None, extra=()):
    """A non-interlaced PNG; rows: list of per-row sample lists (already in the file's bit depth)."""
    raw = bytearray()
    for row in rows:
        raw.append(0)
        if depth == 16:
            for v in row:
                raw += struct.pack(">H", v)
        elif depth == 8:
            raw += bytes(row)
        else:
            per = 8 // depth
            for i in range(0, len(row), per):
                byte = 0
                for j in range(per):
                    v = row[i + j] if i + j < len(row) else 0
                    byte |= v << (8 - depth * (j + 1))
                raw.append(byte)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, color, 0, 0, 0))
    if plte is not None:
        data += png_chunk(b"PLTE", bytes(plte))
    if trns is not None:
        data += png_chunk(b"tRNS", trns)
    for kind, payload in extra:
        data += png_chunk(kind, payload)
    data += png_chunk(b"IDAT", zlib.compress(bytes(raw))) + png_chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(data)


def tiff_ifd(entries, endian=">", truncate=None):
    """An EXIF TIFF block with IFD0 entries (tag, type, count, 4 value bytes)."""
    head = (b"MM\x00\x2a" if endian == ">" else b"II\x2a\x00") + struct.pack(endian + "I", 8)
    body = struct.pack(endian + "H", len(entries))
    for tag, typ, count, value in entries:
        body += struct.pack(endian + "HHI", tag, typ, count) + value
    block = head + body + struct.pack(endian + "I", 0)
    return block[:truncate] if truncate else block


def synthetic_files(out):
    rng = np.random.default_rng(1234)
    os.makedirs(out, exist_ok=True)
    files = []
    # JPEGs: a 40x24 picture with structure, every orientation.
    yy, xx = np.mgrid[0:24, 0:40]
    base = np.stack([xx * 6, yy * 10, (xx + yy) * 4], axis=-1).astype(np.uint8)
    base[2:8, 3:12] = (255, 0, 0)
    picture = Image.fromarray(base)
    for n in range(1, 9):
        exif = Image.Exif()
        exif[0x0112] = n
        path = os.path.join(out, f"exif_{n}.jpg")
        picture.save(path, quality=95, exif=exif.tobytes())
        files.append(path)
    short = lambda v: struct.pack(">H", v) + b"\x00\x00"  # noqa: E731
    malformed = {
        "exif_long6.jpg": tiff_ifd([(0x0112, 4, 1, struct.pack(">I", 6))]),
        "exif_ascii6.jpg": tiff_ifd([(0x0112, 2, 2, b"6\x00\x00\x00")]),
        "exif_le8.jpg": tiff_ifd([(0x0112, 3, 1, struct.pack("<H", 8) + b"\0\0")], endian="<"),
        "exif_truncated_ifd6.jpg": tiff_ifd([(0x0112, 3, 1, short(6)), (0x0110, 2, 40, struct.pack(">I", 9999)),
                                             (0x0112, 3, 1, short(3))], truncate=8 + 2 + 12 + 12 + 5),
        "exif_bad_offset3.jpg": tiff_ifd([(0x0112, 3, 1, short(3)), (0x010F, 2, 50, struct.pack(">I", 100000)),
                                          (0x0112, 3, 1, short(5))]),
        "exif_count0.jpg": tiff_ifd([(0x0112, 3, 0, short(6))]),
        "exif_unknown_type.jpg": tiff_ifd([(0x0112, 99, 1, short(6))]),
        "exif_value9.jpg": tiff_ifd([(0x0112, 3, 1, short(9))]),
        "exif_duplicate.jpg": tiff_ifd([(0x0112, 3, 1, short(6)), (0x0112, 3, 1, short(2))]),
        "exif_bad_header.jpg": b"XX\x00\x2a" + b"\x00" * 20,
        "exif_empty.jpg": b"",
        "exif_huge_count.jpg": tiff_ifd([(0x0112, 3, 1, short(7))])[:8] + b"\xff\xff" + tiff_ifd(
            [(0x0112, 3, 1, short(7))])[10:],
    }
    for name, block in malformed.items():
        path = os.path.join(out, name)
        picture.save(path, quality=95, exif=b"Exif\x00\x00" + block)
        files.append(path)
    # A 4:2:2 and a greyscale and a CMYK JPEG written by Pillow's libjpeg.
    path = os.path.join(out, "subsampling_422.jpg")
    picture.save(path, quality=90, subsampling=1)
    files.append(path)
    path = os.path.join(out, "cmyk_plain.jpg")
    picture.convert("CMYK").save(path, quality=90)
    files.append(path)
    # PNGs of every colour type and depth (width 13: rows that do not fill whole bytes).
    w, h = 13, 7
    for depth in (1, 2, 4, 8, 16):
        rows = [[int(rng.integers(0, 1 << depth)) for _ in range(w)] for _ in range(h)]
        path = os.path.join(out, f"grey{depth}.png")
        write_png(path, rows, w, h, depth, 0)
        files.append(path)
    rows = [[int(v) for v in rng.integers(0, 256, w)] for _ in range(h)]
    rows[0][0] = rows[1][1] = 77
    path = os.path.join(out, "grey8_trns.png")
    write_png(path, rows, w, h, 8, 0, trns=struct.pack(">H", 77))
    files.append(path)
    rows = [[int(v) for v in rng.integers(0, 4, w)] for _ in range(h)]
    path = os.path.join(out, "grey2_trns.png")
    write_png(path, rows, w, h, 2, 0, trns=struct.pack(">H", 2))
    files.append(path)
    rows = [[int(v) for v in rng.integers(0, 300, w)] for _ in range(h)]
    path = os.path.join(out, "grey16_small_trns.png")
    write_png(path, rows, w, h, 16, 0, trns=struct.pack(">H", 200))
    files.append(path)
    for depth in (8, 16):
        top = (1 << depth) - 1
        for color, samples, tag in ((2, 3, "rgb"), (4, 2, "ga"), (6, 4, "rgba")):
            rows = [[int(v) for v in rng.integers(0, top + 1, w * samples)] for _ in range(h)]
            if samples in (2, 4):  # some fully transparent and opaque pixels
                for r in rows:
                    r[samples - 1] = 0
                    r[2 * samples - 1] = top
            path = os.path.join(out, f"{tag}{depth}.png")
            write_png(path, rows, w, h, depth, color)
            files.append(path)
    path = os.path.join(out, "rgb8_trns.png")
    rows = [[int(v) for v in rng.integers(0, 256, w * 3)] for _ in range(h)]
    write_png(path, rows, w, h, 8, 2, trns=struct.pack(">HHH", *rows[0][:3]))
    files.append(path)
    for depth in (1, 2, 4, 8):
        entries = min(1 << depth, 12)
        plte = [int(v) for v in rng.integers(0, 256, entries * 3)]
        rows = [[int(rng.integers(0, entries)) for _ in range(w)] for _ in range(h)]
        path = os.path.join(out, f"palette{depth}.png")
        write_png(path, rows, w, h, depth, 3, plte=plte)
        files.append(path)
        path = os.path.join(out, f"palette{depth}_trns.png")
        alphas = bytes([0, 128, 255, 30][: min(entries, 4) - (1 if depth == 1 else 0)])
        write_png(path, rows, w, h, depth, 3, plte=plte, trns=alphas)
        files.append(path)
        path = os.path.join(out, f"palette{depth}_trns_simple.png")
        write_png(path, rows, w, h, depth, 3, plte=plte, trns=bytes([255, 0]))
        files.append(path)
    # PNG orientation: eXIf, "Raw profile type exif" text, XMP iTXt.
    rgb_rows = [[int(v) for v in rng.integers(0, 256, w * 3)] for _ in range(h)]
    exif6 = tiff_ifd([(0x0112, 3, 1, short(6))])
    write_png(os.path.join(out, "png_exif6.png"), rgb_rows, w, h, 8, 2, extra=[(b"eXIf", exif6)])
    exif3 = b"Exif\x00\x00" + tiff_ifd([(0x0112, 3, 1, short(3))])
    raw3 = "\nexif\n%8d\n" % len(exif3) + exif3.hex() + "\n"
    write_png(os.path.join(out, "png_rawprofile3.png"), rgb_rows, w, h, 8, 2,
              extra=[(b"tEXt", b"Raw profile type exif\x00" + raw3.encode())])
    xmp = '<x:xmpmeta><rdf:Description tiff:Orientation="8"/></x:xmpmeta>'
    write_png(os.path.join(out, "png_xmp8.png"), rgb_rows, w, h, 8, 2,
              extra=[(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp.encode())])
    xmp5 = "<x:xmpmeta><tiff:Orientation>5</tiff:Orientation></x:xmpmeta>"
    write_png(os.path.join(out, "png_xmp5_after_idat.png"), rgb_rows, w, h, 8, 2)
    with open(os.path.join(out, "png_xmp5_after_idat.png"), "rb") as f:
        data = f.read()
    data = data[:-12] + png_chunk(b"tEXt", b"XML:com.adobe.xmp\x00" + xmp5.encode()) + data[-12:]
    with open(os.path.join(out, "png_xmp5_after_idat.png"), "wb") as f:
        f.write(data)
    files += [os.path.join(out, n) for n in ("png_exif6.png", "png_rawprofile3.png", "png_xmp8.png",
                                               "png_xmp5_after_idat.png")]
    # Interlaced RGBA written by Pillow.
    path = os.path.join(out, "interlaced_rgba.png")
    Image.fromarray(rng.integers(0, 256, (21, 17, 4), dtype=np.uint8)).save(path, interlace=1)
    # Pillow 9.4 writes no interlaced PNG (the option is ignored); the file is still a test of RGBA.
    files.append(path)
    return files


def reference_file(path, kind, out_dir, index):
    entry = {"path": path, "name": os.path.basename(path), "kind": kind}
    tag = f"{index:03d}"
    try:
        image = ImageOps.exif_transpose(Image.open(path))
        entry["pillow_raised"] = False
    except Exception as e:  # malformed EXIF that Pillow cannot read: no transpose
        image = Image.open(path)
        image.load()
        entry["pillow_raised"] = True
        entry["pillow_error"] = repr(e)
    entry["mode"] = image.mode
    rgb = image.convert("RGB")
    entry["decoded"] = save(out_dir, f"{tag}.decoded.u8", np.array(rgb))
    try:
        entry["composite"] = save(out_dir, f"{tag}.composite.u8", np.array(convert_to_rgb(image)))
    except Exception as e:
        entry["composite"] = None
        entry["composite_error"] = repr(e)
    clip_u8, clip = clip_steps(rgb)
    entry["clip_u8"] = save(out_dir, f"{tag}.clip.u8", clip_u8)
    entry["clip"] = save(out_dir, f"{tag}.clip.f32", clip)
    resnet_u8, resnet = resnet_steps(rgb)
    entry["resnet_u8"] = save(out_dir, f"{tag}.resnet.u8", resnet_u8)
    entry["resnet"] = save(out_dir, f"{tag}.resnet.f32", resnet)
    return entry


def resize_cases(out_dir):
    rng = np.random.default_rng(99)
    cases = [((1, 1), (1, 7)), ((1, 1), (4, 4)), ((3, 1), (1, 1)), ((13, 7), (5, 11)), ((100, 60), (33, 21)),
             ((64, 48), (64, 20)), ((64, 48), (20, 48)), ((640, 427), (335, 224)), ((31, 29), (224, 224)),
             ((1000, 3), (7, 1)), ((5, 9), (5, 9)), ((451, 300), (336, 224)), ((257, 256), (256, 255))]
    out = []
    for i, ((iw, ih), (ow, oh)) in enumerate(cases):
        for mode, channels in (("RGB", 3), ("L", 1)):
            if mode == "L" and i % 3:
                continue
            shape = (ih, iw, channels) if channels > 1 else (ih, iw)
            pixels = rng.integers(0, 256, shape, dtype=np.uint8)
            if i == 7:  # smooth with hard edges, closer to a photo
                yy, xx = np.mgrid[0:ih, 0:iw]
                pixels = ((xx * 255 // iw) ^ (yy % 32 * 8)).astype(np.uint8)
                pixels = np.stack([pixels] * channels, axis=-1) if channels > 1 else pixels
            image = Image.fromarray(pixels, mode)
            for name, flt in (("bilinear", Image.BILINEAR), ("bicubic", Image.BICUBIC)):
                tag = f"resize{i:02d}.{mode}.{name}"
                result = np.array(image.resize((ow, oh), flt, reducing_gap=None))
                out.append({"input": save(out_dir, tag + ".in.u8", pixels), "filter": int(flt), "channels": channels,
                            "in_size": [iw, ih], "out_size": [ow, oh],
                            "expected": save(out_dir, tag + ".out.u8", result)})
    return out


def main():
    data_dir = os.environ.get("VIKCSE_DATA_DIR") or sys.argv[1]
    out_dir = sys.argv[2]
    os.makedirs(out_dir, exist_ok=True)
    manifest = {"files": [], "resize": resize_cases(out_dir)}
    images = os.path.join(data_dir, "images")
    paths = []
    if os.path.isdir(images):
        paths += [(os.path.join(images, n), "real") for n in sorted(os.listdir(images)) if not n.endswith(".md")]
    paths += [(p, "synthetic") for p in synthetic_files(os.path.join(out_dir, "synthetic"))]
    for i, (path, kind) in enumerate(paths):
        manifest["files"].append(reference_file(path, kind, out_dir, i))
    with open(os.path.join(out_dir, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    raised = sum(e["pillow_raised"] for e in manifest["files"])
    print(f"pillow_reference: {len(manifest['files'])} files ({raised} with EXIF Pillow cannot read), "
          f"{len(manifest['resize'])} resize cases -> {out_dir}")


if __name__ == "__main__":
    main()
