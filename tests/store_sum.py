#!/usr/bin/env python3
"""Prints a key and its value, with the checksum lg-store puts at the end of
every value, as lines for `mdb_load -T -s SUBDB DIR` (docs/store.md,
"Checksums"). Written from the format's description, not from the C code, so
a test that plants entries this way also checks that description.

usage: store_sum.py [--time MS] [--raw] [--hex] SUBDB KEY VALUE
  --time MS  the key is a time key: 8 bytes of MS (big-endian, sign bit
             flipped), then KEY
  --raw      no checksum (a value as stores written before checksums hold it)
  --hex      VALUE is given in hex (a binary value, such as a summary)
"""
import struct
import sys

MASK = (1 << 64) - 1
P1, P2, P3 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9
SEED = 0xCBF29CE484222325


def rotl(x, r):
    return ((x << r) | (x >> (64 - r))) & MASK


def fmix(x):
    x ^= x >> 33
    x = (x * P2) & MASK
    x ^= x >> 29
    x = (x * P3) & MASK
    x ^= x >> 32
    return x


def hash_data(b, seed):
    """Eight little-endian bytes a step; the last 0..7 bytes as one word."""
    h = (seed ^ (len(b) * P1)) & MASK
    i = 0
    while len(b) - i >= 8:
        (w,) = struct.unpack_from("<Q", b, i)
        h = (rotl(h ^ ((w * P2) & MASK), 31) * P1) & MASK
        i += 8
    tail = int.from_bytes(b[i:], "little")
    h = (rotl(h ^ ((tail * P2) & MASK), 27) * P1) & MASK
    return fmix(h)


def checksum(subdb, key, value):
    seed = hash_data(subdb, SEED)
    return struct.pack("<Q", hash_data(value, hash_data(key, seed)))


def escape(b):
    """mdb_load -T: printable bytes as they are, backslash doubled, others \\xx."""
    out = []
    for c in b:
        if c == 0x5C:
            out.append("\\\\")
        elif 0x20 <= c < 0x7F:
            out.append(chr(c))
        else:
            out.append("\\%02x" % c)
    return "".join(out)


def main(argv):
    raw, hexval, ms, rest = False, False, None, []
    while argv:
        a, argv = argv[0], argv[1:]
        if a == "--raw":
            raw = True
        elif a == "--hex":
            hexval = True
        elif a == "--time":
            ms, argv = int(argv[0]), argv[1:]
        elif a.startswith("--"):
            sys.exit("store_sum.py: unknown option " + a)
        else:
            rest.append(a)
    argv = rest
    if len(argv) != 3:
        sys.exit(__doc__)
    subdb, key, value = (a.encode() for a in argv)
    if hexval:
        value = bytes.fromhex(argv[2])
    if ms is not None:
        key = struct.pack(">Q", (ms & MASK) ^ (1 << 63)) + key
    if not raw:
        value += checksum(subdb, key, value)
    print(escape(key))
    print(escape(value))


if __name__ == "__main__":
    main(sys.argv[1:])
