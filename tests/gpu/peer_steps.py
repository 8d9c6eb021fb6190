# SPDX-License-Identifier: Apache-2.0
"""The eager PyTorch peer of `gpu_suite steps`: the same SimCSE and VIKCSE training steps, with
transformers' BertModel on the checkpoints and batches that `gpu_suite steps` wrote (DIR/simcse,
DIR/vikcse, DIR/kb.safetensors, DIR/steps.json for the shapes), on the same device.

A step: forward under bf16 autocast, losses in float32, backward, clip_grad_norm_(1.0), AdamW.
  SimCSE: both views of B sentences in one pass of 2B rows; [CLS] -> tanh(Linear) -> InfoNCE (τ 0.05).
  VIKCSE: one pass per view (dropout differs); z = tanh(Linear(h_[MASK])), c = h_[CLS];
          L_text = InfoNCE(z0, z1); the [MASK] and [CLS] queries tanh(P_m z), tanh(P_c c) retrieve
          their top-1 row of the L2-normalised bank (float32, no gradient); L_vm, L_vc = InfoNCE of
          the retrieved rows; L = L_text + 0.5 L_vm / |L_vm - L_text| + 0.5 L_vc / |L_vc - L_text|
          (the weights detached), as the reference code (no gradient through retrieval).
The loss is read once, after the timed steps.

--rehearse without transformers (Debian has none): tests/encoder/reference's torch.nn encoder
stands in, and the report says so.
"""
import argparse
import json
import os
import time

import torch
import torch.nn.functional as F

from peer_library import load_checkpoint, read_safetensors, transformers_or_reference, use_bert_dropout

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument("dir")
p.add_argument("--device", default="cuda")
p.add_argument("--rehearse", action="store_true")
p.add_argument("--threads", type=int, default=0)
p.add_argument("--out", required=True)
a = p.parse_args()
if a.threads > 0:
    torch.set_num_threads(a.threads)
device = torch.device(a.device)

transformers, peer_name = transformers_or_reference(a.rehearse, "peer_steps")

with open(os.path.join(a.dir, "steps.json")) as f:
    ours = json.load(f)
shape = ours["shape"]


def encoder(directory):
    if transformers is not None:
        model = transformers.BertModel.from_pretrained(directory, add_pooling_layer=False)

        def forward(ids, mask):
            return model(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        return model.to(device), forward
    model = use_bert_dropout(load_checkpoint(directory)).to(device)

    def forward(ids, mask):
        return model(ids, mask, torch.zeros_like(ids))[0]
    return model, forward


def info_nce(x, y, tau=0.05):
    logits = F.cosine_similarity(x.float().unsqueeze(1), y.float().unsqueeze(0), dim=-1) / tau
    return F.cross_entropy(logits, torch.arange(x.shape[0], device=x.device))


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_method(method, step_info):
    torch.manual_seed(0)
    model, forward = encoder(os.path.join(a.dir, method))
    batch = read_safetensors(os.path.join(a.dir, method, "batch.safetensors"))
    ids, mask = batch["input_ids"].to(device), batch["attention_mask"].to(device)
    h = shape["hidden"]
    head = torch.nn.Linear(h, h).to(device)
    modules = [model, head]
    if method == "vikcse":
        bank = read_safetensors(os.path.join(a.dir, "kb.safetensors"))["features"].float().to(device)
        bank = bank / bank.norm(dim=-1, keepdim=True).clamp_min(1e-8)
        p_m = torch.nn.Linear(h, shape["kb_dim"]).to(device)
        p_c = torch.nn.Linear(h, shape["kb_dim"]).to(device)
        modules += [p_m, p_c]
        rows = torch.arange(ids.shape[0], device=device)
        at_mask = (ids == step_info["mask_token_id"]).long().argmax(1)
    params = [q for module in modules for q in module.parameters()]
    optimizer = torch.optim.AdamW(params, lr=3e-5, weight_decay=0.0)
    model.train()
    loss_box = []

    def retrieve(q):  # float32 with autocast off, as the library searches
        with torch.no_grad(), torch.autocast(device.type, enabled=False):
            qn = q.float() / q.float().norm(dim=-1, keepdim=True).clamp_min(1e-8)
            return bank[(qn @ bank.T).argmax(1)]

    def step():
        optimizer.zero_grad(set_to_none=True)
        with torch.autocast(device.type, dtype=torch.bfloat16):
            if method == "simcse":
                last = forward(torch.cat([ids, ids]), torch.cat([mask, mask]))
                z = torch.tanh(head(last[:, 0]))
                n = ids.shape[0]
                loss = info_nce(z[:n], z[n:])
            else:
                views = []
                for _ in range(2):
                    last = forward(ids, mask)
                    views.append((torch.tanh(head(last[rows, at_mask])), last[:, 0]))
                text = info_nce(views[0][0], views[1][0])
                vm = info_nce(retrieve(torch.tanh(p_m(views[0][0]))), retrieve(torch.tanh(p_m(views[1][0]))))
                vc = info_nce(retrieve(torch.tanh(p_c(views[0][1]))), retrieve(torch.tanh(p_c(views[1][1]))))
                loss = text + 0.5 * vm / (vm - text).abs().detach().clamp_min(1e-8) + \
                    0.5 * vc / (vc - text).abs().detach().clamp_min(1e-8)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        loss_box[:] = [loss]

    for _ in range(shape["warmup"]):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(shape["iters"]):
        step()
    sync()
    seconds = (time.perf_counter() - start) / shape["iters"]
    return {"method": method, "seconds_per_step": seconds, "tokens_per_second": step_info["tokens_per_step"] / seconds,
            "final_loss": loss_box[0].item()}


report = {"peer": peer_name, "device": str(device),
          "steps": [time_method(s["method"], s) for s in ours["steps"]]}
for s in report["steps"]:
    print(f"peer {s['method']}: {s['seconds_per_step']:.4f} s/step, {s['tokens_per_second']:.0f} tokens/s", flush=True)
tmp = a.out + ".partial"
with open(tmp, "w") as f:
    json.dump(report, f, indent=2)
os.replace(tmp, a.out)
