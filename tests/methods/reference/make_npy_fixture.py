#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes tests/data/methods/numpy_features.npy with NumPy itself (float64, shape [2, 3])."""
import sys
import numpy as np

np.save(sys.argv[1], np.array([[0.5, -1.0, 2.0], [3.25, 0.0, -0.125]], dtype=np.float64))
