# SPDX-License-Identifier: Apache-2.0
"""An independent BERT/RoBERTa reference built from stock torch.nn layers.

The transformer layers are torch.nn.TransformerEncoderLayer (post-LN, exact GELU), not a
transliteration of the C++ code. Weights are exchanged in Hugging Face key layout through a
minimal safetensors reader/writer written here (Debian has no `safetensors` package).
Run with Debian's interpreter: /usr/bin/python3 (python3-torch 1.13).
"""
import json
import os
import struct

import torch
from torch import nn

DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "BF16": torch.bfloat16,
          "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8, "BOOL": torch.bool}
NAMES = {v: k for k, v in DTYPES.items()}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        flat = t.reshape(-1)  # a 0-d tensor (a scalar parameter) cannot be viewed as bytes directly
        raw = flat.view(torch.uint8).numpy().tobytes() if t.dtype != torch.bfloat16 else \
            flat.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def read_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        b, end = e["data_offsets"]
        buf = bytearray(data[8 + n + b:8 + n + end])
        dtype = DTYPES[e["dtype"]]
        if dtype == torch.bfloat16:
            t = torch.frombuffer(buf, dtype=torch.int16).view(torch.bfloat16)
        else:
            t = torch.frombuffer(buf, dtype=dtype)
        out[name] = t.reshape(e["shape"]).clone()
    return out


class ReferenceEncoder(nn.Module):
    """Embeddings + nn.TransformerEncoderLayer stack + pooler."""

    def __init__(self, config):
        super().__init__()
        self.config = config
        h = config["hidden_size"]
        self.word = nn.Embedding(config["vocab_size"], h)
        self.position = nn.Embedding(config["max_position_embeddings"], h)
        self.token_type = nn.Embedding(config["type_vocab_size"], h)
        self.norm = nn.LayerNorm(h, eps=config["layer_norm_eps"])
        self.layers = nn.ModuleList([
            nn.TransformerEncoderLayer(d_model=h, nhead=config["num_attention_heads"],
                                       dim_feedforward=config["intermediate_size"], dropout=0.0,
                                       activation="gelu", layer_norm_eps=config["layer_norm_eps"],
                                       batch_first=True, norm_first=False)
            for _ in range(config["num_hidden_layers"])])
        self.pooler = nn.Linear(h, h)

    def positions(self, ids):
        if self.config["model_type"] == "roberta":
            pad = self.config["pad_token_id"]
            not_pad = (ids != pad).long()
            return torch.cumsum(not_pad, dim=1) * not_pad + pad
        return torch.arange(ids.shape[1]).unsqueeze(0).expand_as(ids)

    def forward(self, ids, mask, types):
        x = self.norm(self.word(ids) + self.position(self.positions(ids)) + self.token_type(types))
        states = [x]
        for layer in self.layers:
            x = layer(x, src_key_padding_mask=(mask == 0))
            states.append(x)
        return x, torch.tanh(self.pooler(x[:, 0])), states

    def hf_state_dict(self):
        """The weights under Hugging Face BertModel keys."""
        h = self.config["hidden_size"]
        sd = {
            "embeddings.word_embeddings.weight": self.word.weight,
            "embeddings.position_embeddings.weight": self.position.weight,
            "embeddings.token_type_embeddings.weight": self.token_type.weight,
            "embeddings.LayerNorm.weight": self.norm.weight,
            "embeddings.LayerNorm.bias": self.norm.bias,
            "pooler.dense.weight": self.pooler.weight,
            "pooler.dense.bias": self.pooler.bias,
        }
        for i, layer in enumerate(self.layers):
            p = f"encoder.layer.{i}."
            w, b = layer.self_attn.in_proj_weight, layer.self_attn.in_proj_bias
            for j, name in enumerate(["query", "key", "value"]):
                sd[p + f"attention.self.{name}.weight"] = w[j * h:(j + 1) * h]
                sd[p + f"attention.self.{name}.bias"] = b[j * h:(j + 1) * h]
            sd[p + "attention.output.dense.weight"] = layer.self_attn.out_proj.weight
            sd[p + "attention.output.dense.bias"] = layer.self_attn.out_proj.bias
            sd[p + "attention.output.LayerNorm.weight"] = layer.norm1.weight
            sd[p + "attention.output.LayerNorm.bias"] = layer.norm1.bias
            sd[p + "intermediate.dense.weight"] = layer.linear1.weight
            sd[p + "intermediate.dense.bias"] = layer.linear1.bias
            sd[p + "output.dense.weight"] = layer.linear2.weight
            sd[p + "output.dense.bias"] = layer.linear2.bias
            sd[p + "output.LayerNorm.weight"] = layer.norm2.weight
            sd[p + "output.LayerNorm.bias"] = layer.norm2.bias
        return {k: v.detach().clone().contiguous() for k, v in sd.items()}

    @torch.no_grad()
    def load_hf_state_dict(self, sd):
        for name, param in [("embeddings.word_embeddings.weight", self.word.weight),
                            ("embeddings.position_embeddings.weight", self.position.weight),
                            ("embeddings.token_type_embeddings.weight", self.token_type.weight),
                            ("embeddings.LayerNorm.weight", self.norm.weight),
                            ("embeddings.LayerNorm.bias", self.norm.bias),
                            ("pooler.dense.weight", self.pooler.weight),
                            ("pooler.dense.bias", self.pooler.bias)]:
            if name.startswith("pooler.") and name not in sd:
                continue  # a checkpoint saved without the pooler (as SimCSE saves)
            param.copy_(sd[name])
        for i, layer in enumerate(self.layers):
            p = f"encoder.layer.{i}."
            layer.self_attn.in_proj_weight.copy_(torch.cat([sd[p + f"attention.self.{n}.weight"]
                                                            for n in ["query", "key", "value"]]))
            layer.self_attn.in_proj_bias.copy_(torch.cat([sd[p + f"attention.self.{n}.bias"]
                                                          for n in ["query", "key", "value"]]))
            pairs = [(layer.self_attn.out_proj, "attention.output.dense"), (layer.norm1, "attention.output.LayerNorm"),
                     (layer.linear1, "intermediate.dense"), (layer.linear2, "output.dense"),
                     (layer.norm2, "output.LayerNorm")]
            for module, key in pairs:
                module.weight.copy_(sd[p + key + ".weight"])
                module.bias.copy_(sd[p + key + ".bias"])


def use_bert_dropout(model):
    """Turns on BERT's dropouts for training (the encoder is built with none): on the attention
    probabilities, after the attention output and after the feed-forward output, from the config;
    nn.TransformerEncoderLayer's extra dropout inside the feed-forward block, which BERT lacks, stays 0."""
    for layer in model.layers:
        layer.self_attn.dropout = model.config["attention_probs_dropout_prob"]
        layer.dropout1.p = model.config["hidden_dropout_prob"]
        layer.dropout2.p = model.config["hidden_dropout_prob"]
        layer.dropout.p = 0.0
    return model


def load_checkpoint(directory):
    """A ReferenceEncoder with the config.json and model.safetensors of a checkpoint directory."""
    with open(os.path.join(directory, "config.json")) as f:
        config = json.load(f)
    model = ReferenceEncoder(config)
    model.load_hf_state_dict(read_safetensors(os.path.join(directory, "model.safetensors")))
    return model
