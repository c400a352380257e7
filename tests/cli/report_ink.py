#!/usr/bin/python3
"""How much of a picture is not blank: reads a PNG (8-bit RGB or RGBA, not
interlaced, as chromium writes it; decoded with zlib) or a binary PPM (as
pdftoppm writes it), prints "WIDTHxHEIGHT ink=F colours=N" and exits 0
when more than 1% of the pixels are not near-white and there are at least
3 distinct colours, else 1."""
import struct
import sys
import zlib


def png(data):
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and ctype in (2, 6) and interlace == 0, "unsupported PNG"
            bpp = 3 if ctype == 2 else 4
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    pixels = []
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        pixels.append(bytes(line))
        prev = line
    return w, h, bpp, pixels


def ppm(data):
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P6", "not a binary PPM"
    w, h = int(parts[1]), int(parts[2])
    body = parts[4]
    return w, h, 3, [body[y * w * 3:(y + 1) * w * 3] for y in range(h)]


def main():
    data = open(sys.argv[1], "rb").read()
    w, h, bpp, lines = png(data) if data[:4] == b"\x89PNG" else ppm(data)
    ink, colours = 0, set()
    for line in lines:
        for x in range(0, w * bpp, bpp * 2):   # every other pixel is enough
            r, g, b = line[x], line[x + 1], line[x + 2]
            if min(r, g, b) < 230:
                ink += 1
            if len(colours) < 64:
                colours.add((r >> 4, g >> 4, b >> 4))
    frac = ink / (h * ((w + 1) // 2))
    print(f"{w}x{h} ink={frac:.4f} colours={len(colours)}")
    return 0 if frac > 0.01 and len(colours) >= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
