"""Small real image files for tests, built with the standard library."""

from __future__ import annotations

import struct
import zlib


def png_bytes(width: int = 4, height: int = 4) -> bytes:
    """A valid PNG: ``width`` x ``height`` red pixels."""
    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def jpeg_bytes(size: int = 2048) -> bytes:
    """Bytes that start like a JFIF JPEG (SOI + APP0), padded to ``size``."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return head + b"\x00" * (size - len(head) - 2) + b"\xff\xd9"


def heic_bytes() -> bytes:
    return b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 64


def webp_bytes() -> bytes:
    return b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
