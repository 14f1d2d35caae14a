#!/usr/bin/env python3
"""Rewrites a calibration cache in the first format, without the means.

    calibration_cache_v1.py IN.cal OUT.cal

The cache: "KILNCAL2", the product count (u64), then per product its
name's length (u64) and bytes and four arrays (rows and columns as u64,
then f32 values): abs_max, abs_mean, mean and samples. "KILNCAL1" had
the same without mean.
"""

import struct
import sys

data = open(sys.argv[1], "rb").read()
assert data[:8] == b"KILNCAL2", data[:8]
at = 8


def take(size):
    global at
    chunk = data[at:at + size]
    at += size
    return chunk


count, = struct.unpack("<Q", take(8))
out = [b"KILNCAL1", struct.pack("<Q", count)]
for _ in range(count):
    length, = struct.unpack("<Q", take(8))
    out += [struct.pack("<Q", length), take(length)]
    for field in ("abs_max", "abs_mean", "mean", "samples"):
        rows, k = struct.unpack("<QQ", take(16))
        values = take(4 * rows * k)
        if field != "mean":
            out += [struct.pack("<QQ", rows, k), values]
open(sys.argv[2], "wb").write(b"".join(out))
