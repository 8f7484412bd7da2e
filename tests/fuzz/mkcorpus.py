#!/usr/bin/env python3
"""Writes the seed corpus of the codec fuzz targets, tests/fuzz/corpus/NAME/.

Run from anywhere after changing a seed below: the files are committed, so
the build never needs Python.  Each input is:
  byte 0   the option set (index into the target's variants[], modulo),
  byte 1   how the rest is cut into reads (see driver.c),
  rest     the bytes fed to the decoder.
"""
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))


def v(n):
    """A protobuf varint."""
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


SEEDS = {
    "line": {
        "lines": (0, 1, b"hello\nworld\r\n\nlast\n"),
        "long": (0, 2, b"x" * 64 + b"\n" + b"y" * 65 + b"\n"),
        "unterminated": (0, 3, b"abc\ndef"),
        "crlf": (1, 4, b"a\r\nb\nc\r\r\n" + b"z" * 32 + b"\r\n"),
        "crlf-split": (1, 5, b"ab\r" + b"\n\r" * 20),
        "nul": (2, 6, b"one\0two\0\0" + b"q" * 17 + b"\0"),
        "abab": (3, 7, b"xabaababyababab" + b"ab" * 30),
        "nostrip": (4, 8, b"12345678\n123456789\n"),
        "noappend": (5, 9, b"raw\nlines\r\n"),
    },
    "length": {
        "frames": (0, 1, b"\0\0\0\3abc\0\0\0\0\0\0\0\1z"),
        "huge": (0, 2, b"\xff\xff\xff\xff" + b"p" * 8),
        "limit": (0, 3, b"\0\0\1\x28" + b"m" * 296),
        "byte": (1, 4, b"\3abc\0\xffxyz"),
        "le": (2, 5, b"\3\0abc\xe9\x03"),
        "three": (3, 6, b"\0\0\5hello\x7f\xff\xff"),
        "eight": (4, 7, b"\0" * 7 + b"\2hi" + b"\xff" * 8),
        "netty6": (5, 8, b"\xca\0\x0c\xfeHELLO, WORLD"),
        "netty3": (6, 9, b"\0\x0eHELLO, WORLD\0\1"),
        "incl": (7, 10, b"\0\0\0\6ab\0\0\0\3"),
    },
    "netstring": {
        "frames": (0, 1, b"5:hello,0:,3:abc,"),
        "bad-comma": (0, 2, b"3:abc;"),
        "leading-zero": (0, 3, b"03:abc,"),
        "over": (1, 4, b"9:123456789,10:0123456789,"),
        "digits": (2, 5, b"999999999999999999999:"),
        "colon": (2, 6, b":x,"),
    },
    "varint": {
        "frames": (0, 1, b"\3abc\0" + v(300) + b"s" * 300),
        "long-prefix": (0, 2, b"\x80" * 9 + b"\0" + b"\x80" * 10),
        "over": (1, 3, v(128) + b"t" * 128),
        "big": (2, 4, v(20000) + b"u" * 200),
        "max64": (2, 5, b"\xff" * 9 + b"\x01"),
        # 127 behind a 10-byte prefix: max_length + 10 bytes held.
        "nonminimal": (1, 6, b"\xff" + b"\x80" * 8 + b"\x00" + b"n" * 127),
    },
    "fixed": {
        "ones": (0, 1, b"abc"),
        "threes": (1, 2, b"abcdefgh"),
        "sixtyfour": (2, 3, bytes(range(130))),
    },
    "raw": {
        "bytes": (0, 1, b"anything \0 at all\n"),
        "one": (0, 2, b"x"),
        "split": (0, 3, bytes(range(256))),
    },
}


def main():
    for codec, seeds in SEEDS.items():
        d = os.path.join(HERE, "corpus", codec)
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
        for name, (variant, cut, data) in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(bytes([variant, cut]) + data)


if __name__ == "__main__":
    main()
