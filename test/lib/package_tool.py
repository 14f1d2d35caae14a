#!/usr/bin/env python3
"""Damages .kiln packages on purpose, for the runtime's error tests.

    package_tool.py truncate IN OUT BYTES        drop the last BYTES bytes
    package_tool.py flip IN OUT SECTION OFFSET   flip a bit in a section
                                                 (manifest, cpu-code, weights)
    package_tool.py version IN OUT V             set the format version
                                                 (header checksum kept valid)
    package_tool.py require-feature IN OUT NAME  add a CPU feature to the
                                                 manifest (checksums kept
                                                 valid)
    package_tool.py bad-launch IN OUT            make the CUDA schedule's
                                                 last launch name kernel 999
                                                 (checksums kept valid)

The layout is runtime/src/PackageFormat.h: a 32-byte header, 32-byte
section entries, then the sections.
"""

import struct
import sys

HEADER = struct.Struct("<8sIIQII")
ENTRY = struct.Struct("<IIQQII")
KINDS = {"manifest": 1, "cpu-code": 2, "weights": 3, "cuda-fatbin": 4,
         "cuda-emulator": 5, "cuda-schedule": 6, "cuda-source": 7}


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def parse(data):
    magic, version, count, size, table_crc, _ = HEADER.unpack_from(data, 0)
    entries = [list(ENTRY.unpack_from(data, HEADER.size + i * ENTRY.size))
               for i in range(count)]
    return [magic, version, count, size, table_crc, 0], entries


def seal(header, entries, data):
    """Rewrites the table and header with fresh checksums."""
    table = b"".join(ENTRY.pack(*entry) for entry in entries)
    header[4] = crc32c(table)
    header[5] = 0
    header[5] = crc32c(HEADER.pack(*header))
    data[:HEADER.size] = HEADER.pack(*header)
    data[HEADER.size:HEADER.size + len(table)] = table


def section(entries, kind):
    for entry in entries:
        if entry[0] == KINDS[kind]:
            return entry
    sys.exit(f"no {kind} section")


def main():
    command, source, target = sys.argv[1:4]
    data = bytearray(open(source, "rb").read())
    header, entries = parse(data)
    if command == "truncate":
        data = data[:len(data) - int(sys.argv[4])]
    elif command == "flip":
        entry = section(entries, sys.argv[4])
        data[entry[2] + int(sys.argv[5])] ^= 0x10
    elif command == "version":
        header[1] = int(sys.argv[4])
        seal(header, entries, data)
    elif command == "require-feature":
        entry = section(entries, "manifest")
        offset, size = entry[2], entry[3]
        manifest = bytes(data[offset:offset + size])
        # version, then five strings (producer, model, target, triple,
        # cpu), then the feature list.
        cursor = 4
        for _ in range(5):
            (length,) = struct.unpack_from("<I", manifest, cursor)
            cursor += 4 + length
        (features,) = struct.unpack_from("<I", manifest, cursor)
        name = sys.argv[4].encode()
        manifest = (manifest[:cursor] + struct.pack("<I", features + 1) +
                    manifest[cursor + 4:])
        # Append the new feature after the existing ones.
        end = cursor + 4
        for _ in range(features):
            (length,) = struct.unpack_from("<I", manifest, end)
            end += 4 + length
        manifest = (manifest[:end] + struct.pack("<I", len(name)) + name +
                    manifest[end:])
        following = min(e[2] for e in entries if e[2] > offset)
        if offset + len(manifest) > following:
            sys.exit("the manifest no longer fits before the next section")
        data[offset:offset + len(manifest)] = manifest
        entry[3] = len(manifest)
        entry[4] = crc32c(manifest)
        seal(header, entries, data)
    elif command == "bad-launch":
        entry = section(entries, "cuda-schedule")
        # A launch is (kernel, grid x, y, z), 16 bytes; the last one comes
        # before the host steps' slot and step counts (a static schedule
        # has none), which end the section.
        struct.pack_into("<I", data, entry[2] + entry[3] - 8 - 16, 999)
        entry[4] = crc32c(bytes(data[entry[2]:entry[2] + entry[3]]))
        seal(header, entries, data)
    else:
        sys.exit(f"unknown command {command}")
    open(target, "wb").write(bytes(data))


if __name__ == "__main__":
    main()
