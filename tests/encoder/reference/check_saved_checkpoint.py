# SPDX-License-Identifier: Apache-2.0
"""Loads a checkpoint directory written by vikcse (AutoModel::save_pretrained) into the independent
torch.nn reference and checks its outputs against the reference's own fixture outputs.

Usage: /usr/bin/python3 check_saved_checkpoint.py SAVED_DIR EXPECTED.safetensors
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(__file__))
from reference_encoder import load_checkpoint, read_safetensors  # noqa: E402

saved, expected_path = sys.argv[1], sys.argv[2]
model = load_checkpoint(saved)
model.eval()
expected = read_safetensors(expected_path)
with torch.no_grad():
    last, pooled, _ = model(expected["input_ids"], expected["attention_mask"], expected["token_type_ids"])
diff = max((last - expected["last_hidden_state"]).abs().max().item(),
           (pooled - expected["pooler_output"]).abs().max().item())
print(f"max |reference(saved checkpoint) - reference fixture| = {diff:.3g}")
sys.exit(0 if diff < 1e-6 else 1)
