#!/usr/bin/env python3
"""Rewrites a calibration cache in an earlier format.

    calibration_cache_old.py IN.cal OUT.cal VERSION

The cache (format 3): "KILNCAL3", the product count (u64), then per
product its name's length (u64) and bytes, its statistics' count (u64)
and each statistic: its name's length and bytes, its rows and columns
(u64) and its f32 values. Format 2 ("KILNCAL2") held abs_max, abs_mean,
mean and samples in that order without their names; format 1
("KILNCAL1") the same without mean. Neither held Gram matrices.
"""

import struct
import sys

data = open(sys.argv[1], "rb").read()
version = int(sys.argv[3])
assert data[:8] == b"KILNCAL3", data[:8]
at = 8


def take(size):
    global at
    chunk = data[at:at + size]
    at += size
    return chunk


count, = struct.unpack("<Q", take(8))
out = [b"KILNCAL%d" % version, struct.pack("<Q", count)]
for _ in range(count):
    length, = struct.unpack("<Q", take(8))
    out += [struct.pack("<Q", length), take(length)]
    fields, = struct.unpack("<Q", take(8))
    stats = {}
    for _ in range(fields):
        name_length, = struct.unpack("<Q", take(8))
        name = take(name_length).decode()
        rows, k = struct.unpack("<QQ", take(16))
        stats[name] = struct.pack("<QQ", rows, k) + take(4 * rows * k)
    for name in ("abs_max", "abs_mean", "mean", "samples"):
        if name != "mean" or version == 2:
            out.append(stats[name])
open(sys.argv[2], "wb").write(b"".join(out))
