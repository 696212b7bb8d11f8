"""The fingerprint attribute ``c``: sparse CRCs of the content plus the modification time.

MEGA keeps a file's mtime nowhere else: its own apps write ``c`` on upload and read the mtime back from it, so
writing it the way MEGA's SDK does is what lets size+mtime comparison work against MEGA (and what shows the
right date in MEGA's apps). ``shared/mega-protocol.md`` section 7; vectors in 11.7.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from typing import BinaryIO

from .crypto import CryptoError, b64decode, b64encode

__all__ = [
    "content_crc",
    "crc_of_file",
    "fingerprint",
    "fingerprint_of_bytes",
    "parse_fingerprint",
]

_SPARSE_LANES = 4
_SPARSE_BLOCKS = 32
_SPARSE_BLOCK = 64
_DENSE_LIMIT = 8192


def content_crc(size: int, read_at: Callable[[int, int], bytes]) -> bytes:
    """The 16 CRC bytes of a file of ``size`` bytes, reading it through ``read_at(offset, length)``.

    Small files are read whole; bigger ones only at 128 spread-out 64-byte blocks, so a fingerprint of a large
    file costs 8 KiB of reads.
    """
    if size <= 16:
        return read_at(0, size).ljust(16, b"\0") if size else bytes(16)
    out = bytearray()
    if size <= _DENSE_LIMIT:
        data = read_at(0, size)
        for i in range(_SPARSE_LANES):
            part = data[i * size // 4 : (i + 1) * size // 4]
            out += zlib.crc32(part).to_bytes(4, "big")
        return bytes(out)
    blocks = _SPARSE_LANES * _SPARSE_BLOCKS - 1
    for i in range(_SPARSE_LANES):
        crc = 0
        for j in range(_SPARSE_BLOCKS):
            offset = (size - _SPARSE_BLOCK) * (_SPARSE_BLOCKS * i + j) // blocks
            crc = zlib.crc32(read_at(offset, _SPARSE_BLOCK), crc)
        out += crc.to_bytes(4, "big")
    return bytes(out)


def _serialize_mtime(mtime: int) -> bytes:
    """A count byte, then the value little-endian without trailing zero bytes (MEGA's ``Serialize64``)."""
    value = max(0, int(mtime))
    raw = value.to_bytes(8, "little").rstrip(b"\0")
    return bytes([len(raw)]) + raw


def fingerprint(crc: bytes, mtime: int) -> str:
    """The ``c`` attribute from the content CRCs and the mtime in whole seconds."""
    if len(crc) != 16:
        raise ValueError("a fingerprint CRC is 16 bytes")
    return b64encode(crc + _serialize_mtime(mtime))


def fingerprint_of_bytes(data: bytes, mtime: int) -> str:
    return fingerprint(content_crc(len(data), lambda offset, length: data[offset : offset + length]), mtime)


def crc_of_file(handle: BinaryIO, size: int) -> bytes:
    """Content CRCs of an open, seekable binary file."""

    def read_at(offset: int, length: int) -> bytes:
        handle.seek(offset)
        return handle.read(length)

    return content_crc(size, read_at)


def parse_fingerprint(value: str) -> tuple[bytes, int]:
    """(crc, mtime) of a ``c`` attribute; CryptoError if it is not one (other apps may write odd values)."""
    try:
        raw = b64decode(value)
    except ValueError as exc:
        raise CryptoError("fingerprint is not base64") from exc
    if len(raw) < 17:
        raise CryptoError("fingerprint too short")
    count = raw[16]
    if count > 8 or 17 + count > len(raw):
        raise CryptoError("fingerprint has a malformed mtime")
    return raw[:16], int.from_bytes(raw[17 : 17 + count], "little")


class StreamingCrc:
    """The CRC part of a fingerprint, gathered from a stream read once from start to end (an upload).

    ``content_crc`` reads at spread-out offsets; an upload cannot seek back, so the bytes those reads need are
    copied out as the data passes (8 KiB at most, whatever the size) and replayed at the end.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._wanted: list[tuple[int, int]] = []
        content_crc(size, self._record)  # learn which ranges the CRC reads
        self._got = {start: bytearray(length) for start, length in self._wanted}

    def _record(self, offset: int, length: int) -> bytes:
        self._wanted.append((offset, length))
        return bytes(length)

    def feed(self, offset: int, data: bytes | memoryview) -> None:
        """Take what the CRC needs from ``data``, which sits at ``offset`` in the file."""
        end = offset + len(data)
        for start, length in self._wanted:
            lo, hi = max(start, offset), min(start + length, end)
            if lo < hi:
                self._got[start][lo - start : hi - start] = data[lo - offset : hi - offset]

    def crc(self) -> bytes:
        return content_crc(self.size, lambda offset, length: bytes(self._got[offset][:length]))
