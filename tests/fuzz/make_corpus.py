#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora: small valid idx files (raw and gzip) and .npz archives
(stored and deflated, float32 and float64, NPY 1.0 and 2.0), plus a few broken ones.
Usage: make_corpus.py OUT_DIR   (creates OUT_DIR/fuzz_idx and OUT_DIR/fuzz_npz). Python stdlib only."""
import gzip
import io
import os
import struct
import sys
import zipfile
import zlib


def idx(dims, data=None):
    magic = 0x0800 | len(dims)
    n = 1
    for d in dims:
        n *= d
    body = bytes((i * 37) % 256 for i in range(n)) if data is None else data
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + body


def npy(shape, descr="<f4", version=(1, 0)):
    fmt_char = "f" if descr == "<f4" else "d"
    n = 1
    for d in shape:
        n *= d
    data = struct.pack("<%d%s" % (n, fmt_char), *[0.5 * i - 1 for i in range(n)])
    shape_text = "(%s)" % (", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else ""))
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    prefix_len = 10 if version[0] == 1 else 12
    pad = 64 - (prefix_len + len(header) + 1) % 64
    header = (header + " " * pad + "\n").encode("latin1")
    length = struct.pack("<H", len(header)) if version[0] == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes(version) + length + header + data


def npz(arrays, compression=zipfile.ZIP_STORED):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, content in arrays:
            info = zipfile.ZipInfo(name + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = compression
            z.writestr(info, content)
    return out.getvalue()


def overlapping_npz(content):
    """Entry b.npy lies inside the data of entry a.npy, so the two share bytes: the trick of zip
    bombs that list the same compressed data many times. Every header is consistent."""
    def local(name, data):
        return struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 33, zlib.crc32(data), len(data), len(data),
                           len(name), 0) + name

    def central(name, data, offset):
        return struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 33, zlib.crc32(data), len(data),
                           len(data), len(name), 0, 0, 0, 0, 0, offset) + name

    b = local(b"b.npy", content) + content
    a = local(b"a.npy", b) + b
    directory = central(b"a.npy", b, 0) + central(b"b.npy", content, len(a) - len(b))
    return a + directory + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(directory), len(a), 0)


def write(folder, name, data):
    with open(os.path.join(folder, name), "wb") as f:
        f.write(data)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    idx_dir = os.path.join(sys.argv[1], "fuzz_idx")
    npz_dir = os.path.join(sys.argv[1], "fuzz_npz")
    os.makedirs(idx_dir, exist_ok=True)
    os.makedirs(npz_dir, exist_ok=True)

    labels, images, cube = idx([10]), idx([3, 4, 4]), idx([2, 2, 2, 2])
    for name, data in [("labels.idx", labels), ("images.idx", images), ("four_dims.idx", cube)]:
        write(idx_dir, name, data)
        write(idx_dir, name + ".gz", gzip.compress(data, mtime=0))
    write(idx_dir, "empty_labels.idx", idx([0]))
    write(idx_dir, "truncated.idx", images[:-5])
    write(idx_dir, "trailing.idx", labels + b"\x01\x02")
    write(idx_dir, "huge_claim.idx", struct.pack(">IIII", 0x0803, 60000, 4096, 4096) + b"\x00" * 16)
    write(idx_dir, "int32_type.idx", struct.pack(">II", 0x0C01, 2) + b"\x00" * 8)
    write(idx_dir, "truncated.gz", gzip.compress(images, mtime=0)[:-9])
    write(idx_dir, "two_members.gz", gzip.compress(labels[:6], mtime=0) + gzip.compress(labels[6:], mtime=0))

    matrix, vector = npy((2, 3)), npy((4,), "<f8")
    scalar, empty, v2 = npy((), "<f8"), npy((0, 3)), npy((2, 2), "<f4", (2, 0))
    write(npz_dir, "stored.npz", npz([("0.weight", matrix), ("0.bias", vector)]))
    write(npz_dir, "deflated.npz", npz([("w", matrix), ("b", vector)], zipfile.ZIP_DEFLATED))
    write(npz_dir, "scalar_empty_v2.npz", npz([("s", scalar), ("e", empty), ("v2", v2)]))
    good = npz([("a", matrix)])
    write(npz_dir, "truncated.npz", good[:-10])
    bad_crc = bytearray(good)
    bad_crc[good.index(b"\x93NUMPY") + 128 + 5] ^= 0xFF  # a data byte (after the 128-byte preamble): CRC mismatch
    write(npz_dir, "bad_crc.npz", bytes(bad_crc))
    write(npz_dir, "not_npy.npz", npz([("x", b"hello")]))
    write(npz_dir, "big_shape.npz", npz([("a", matrix.replace(b"(2, 3)", b"(9999999999, 3)"))]))
    write(npz_dir, "overlap.npz", overlapping_npz(npy((8, 8))))


if __name__ == "__main__":
    main()
