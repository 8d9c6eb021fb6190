# SPDX-License-Identifier: Apache-2.0
"""What the GPU suite's Python side compares with: `transformers` (on the GPU machine), or, in a
--rehearse run where Debian offers no transformers package, the torch.nn reference encoder of
tests/encoder/reference (load_checkpoint, read_safetensors re-exported from there)."""
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "encoder", "reference"))
from reference_encoder import load_checkpoint, read_safetensors, use_bert_dropout  # noqa: E402,F401


def transformers_or_reference(rehearse, program):
    """(the transformers module or None, a description for the report). Without --rehearse a
    missing transformers ends the program with a message naming it."""
    try:
        import transformers
        return transformers, f"transformers {transformers.__version__}, torch {torch.__version__}"
    except ImportError:
        if not rehearse:
            sys.exit(f"{program}: transformers is not installed (only --rehearse may fall back to the reference)")
        return None, (f"tests/encoder/reference (torch.nn; transformers is not installed: rehearsal), "
                      f"torch {torch.__version__}")
