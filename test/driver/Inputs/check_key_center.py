#!/usr/bin/env python3
"""Checks the key centering's offset against the calibration's keys.

    check_key_center.py GRAPH.mlir MODEL.onnx CALIBRATION_DIR

GRAPH.mlir is `kiln compile --emit=graph` of key_cache_model.py's
turned_keys.onnx with --center-keys: its `key_center` constant must be
the mean of the keys as the cache received them over the calibration
samples (after the per-position `turn`), not the key projection's mean
output (before it), which it is far from.
"""

import glob
import os
import re
import sys

import numpy as np
import onnx
from onnx import numpy_helper

graph, model, calibration = sys.argv[1:4]
blob = re.search(r'key_center: "0x([0-9A-F]+)"', open(graph).read())
assert blob, "no key_center constant in the graph"
# A resource blob starts with its alignment (4 bytes).
center = np.frombuffer(bytes.fromhex(blob.group(1))[4:], np.float32)
weights = {t.name: numpy_helper.to_array(t)
           for t in onnx.load(model).graph.initializer}
received, projected = [], []
for path in sorted(glob.glob(os.path.join(calibration, "*.npz"))):
    sample = np.load(path)
    keys = sample["x"][0] @ weights["wk"]
    projected.append(keys)
    received.append(keys * sample["turn"][0, 0])
received = np.concatenate(received).mean(0)
projected = np.concatenate(projected).mean(0)
error = np.abs(center - received).max()
print(f"key_center: {error:.2e} from the received keys' mean, "
      f"{np.abs(center - projected).max():.2f} from the projection's")
assert error < 1e-4 * max(1.0, np.abs(received).max()), error
assert np.abs(center - projected).max() > 10 * error + 0.1
