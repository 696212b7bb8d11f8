"""MEGA's client-side cryptography, on the ``cryptography`` package.

Everything MEGA encrypts is encrypted by its clients: the server stores ciphertext, wrapped keys and hashes.
This module holds the primitives both halves of the project share (the backend as a client, the emulator as
the server that only ever sees their outputs). ``shared/mega-protocol.md`` sections 1, 4, 6 and 8 are the
reference; its section 11 vectors are the tests.

The data path (CTR and chunk MACs) works on whole chunks: one cipher call per chunk, results written into
reused buffers, never a Python loop over 16-byte blocks.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import os
import re
import struct
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes

__all__ = [
    "CHUNK_UNIT",
    "UPLOAD_CHECKSUM_SIZE",
    "ChunkCipher",
    "CryptoError",
    "FileKey",
    "MacCollector",
    "RsaPrivateKey",
    "UploadChecksum",
    "a32_to_bytes",
    "aes_cbc_decrypt",
    "aes_cbc_encrypt",
    "aes_ecb_decrypt",
    "aes_ecb_encrypt",
    "b64decode",
    "b64encode",
    "bytes_to_a32",
    "chunk_bounds",
    "chunk_floor",
    "chunk_mac",
    "condense_macs",
    "ctr_crypt",
    "decode_private_key",
    "decode_public_key",
    "decrypt_attributes",
    "decrypt_session_id",
    "derive_v2",
    "encode_private_key",
    "encode_public_key",
    "encrypt_attributes",
    "fold_key",
    "generate_rsa_key",
    "hashed_auth_key",
    "mpi_decode",
    "mpi_encode",
    "prepare_key_v1",
    "rsa_encrypt_session",
    "upload_checksum",
    "user_hash_v1",
    "v2_salt",
]


class CryptoError(Exception):
    """A key, attribute block or MAC that does not check out: wrong key, corrupt data, malformed value."""


# -- encodings -----------------------------------------------------------------------------------------------

_B64_JUNK = re.compile(r"[^A-Za-z0-9_\-]")
_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_PADDING = (b"", b"", b"==", b"=")


def b64encode(data: bytes) -> str:
    """MEGA's base64: the URL-safe alphabet without ``=`` padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64decode(text: str | bytes) -> bytes:
    """Decode MEGA base64 leniently, as its clients do: either alphabet, padding optional, commas dropped.

    Raises ValueError for anything else, so a mangled key or handle is never silently shortened. The first
    try is the common, clean case in one C call (a tree of 100,000 nodes decodes 300,000 of these).
    """
    raw = text if isinstance(text, bytes) else text.encode("ascii", "replace")
    if len(raw) % 4 != 1:
        try:
            return binascii.a2b_base64(raw.translate(_TO_STANDARD) + _PADDING[len(raw) % 4], strict_mode=True)
        except binascii.Error:
            pass  # whitespace, commas, padding of its own, junk: the lenient path below decides
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    cleaned = text.strip().replace("+", "-").replace("/", "_").replace(",", "").rstrip("=")
    if _B64_JUNK.search(cleaned) or len(cleaned) % 4 == 1:
        raise ValueError(f"not MEGA base64: {text[:24]!r}")
    try:
        return base64.urlsafe_b64decode(cleaned + "=" * (-len(cleaned) % 4))
    except binascii.Error as exc:  # pragma: no cover - guarded by the checks above
        raise ValueError(f"not MEGA base64: {text[:24]!r}") from exc


def bytes_to_a32(data: bytes) -> tuple[int, ...]:
    """Big-endian 32-bit words, zero-padding the bytes to a multiple of 4 first (as the JS-era code does)."""
    padded = data + b"\0" * (-len(data) % 4)
    return struct.unpack(f">{len(padded) // 4}I", padded)


def a32_to_bytes(words: Sequence[int]) -> bytes:
    return struct.pack(f">{len(words)}I", *(w & 0xFFFFFFFF for w in words))


# -- AES building blocks -------------------------------------------------------------------------------------


def aes_ecb_encrypt(key: bytes, data: bytes) -> bytes:
    """Raw AES-128 over whole blocks: how MEGA wraps keys (each 16-byte block on its own)."""
    return Cipher(algorithms.AES(key), modes.ECB()).encryptor().update(data)


def aes_ecb_decrypt(key: bytes, data: bytes) -> bytes:
    return Cipher(algorithms.AES(key), modes.ECB()).decryptor().update(data)


_ZERO_IV = bytes(16)
#: Mode objects carry only their IV: one shared zero-IV CBC spares a validation per node attribute block.
_CBC_ZERO_IV = modes.CBC(_ZERO_IV)


def aes_cbc_encrypt(key: bytes, data: bytes, iv: bytes = _ZERO_IV) -> bytes:
    return Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor().update(data)


def aes_cbc_decrypt(key: bytes, data: bytes, iv: bytes = _ZERO_IV) -> bytes:
    mode = _CBC_ZERO_IV if iv == _ZERO_IV else modes.CBC(iv)
    algorithm = algorithms.AES128(key) if len(key) == 16 else algorithms.AES(key)
    return Cipher(algorithm, mode).decryptor().update(data)


def _check_key(key: bytes, what: str = "key") -> None:
    if len(key) != 16:
        raise CryptoError(f"{what} must be 16 bytes, got {len(key)}")


# -- password keys -------------------------------------------------------------------------------------------

_V1_INITIAL = bytes.fromhex("93c467e37db0c7a4d1be3f810152cb56")


def _password_words_v1(password: str) -> list[int]:
    """The password as MEGA's web client and SDK see it: one UTF-16 code unit per byte slot, OR-ed into 32-bit
    words with the bits above 32 lost. For Latin-1 this is the Latin-1 bytes; go-mega and megajs use UTF-8 and
    therefore disagree with MEGA for other characters."""
    units = password.encode("utf-16-be")
    count = len(units) // 2
    words = [0] * ((count + 3) // 4)
    for j in range(count):
        unit = (units[2 * j] << 8) | units[2 * j + 1]
        words[j // 4] |= (unit << (24 - 8 * (j % 4))) & 0xFFFFFFFF
    return words


def prepare_key_v1(password: str) -> bytes:
    """The v1 password key: 65536 rounds of AES over a fixed start value, keyed by 16-byte password slices."""
    words = _password_words_v1(password)
    words += [0] * (-len(words) % 4)
    raw = a32_to_bytes(words)
    encryptors = [
        Cipher(algorithms.AES(raw[i : i + 16]), modes.ECB()).encryptor() for i in range(0, len(raw), 16)
    ]
    pkey = _V1_INITIAL
    for _ in range(0x10000):
        for enc in encryptors:
            pkey = enc.update(pkey)
    return pkey


def user_hash_v1(email: str, password_key: bytes) -> str:
    """The v1 ``uh`` login hash of the lower-cased e-mail under the password key (11 characters)."""
    _check_key(password_key, "password key")
    data = email.lower().encode("utf-8")
    data += b"\0" * (-len(data) % 16)
    h = bytearray(16)
    for i in range(0, len(data), 16):
        for j in range(16):
            h[j] ^= data[i + j]
    enc = Cipher(algorithms.AES(password_key), modes.ECB()).encryptor()
    block = bytes(h)
    for _ in range(0x4000):
        block = enc.update(block)
    return b64encode(block[0:4] + block[8:12])


def derive_v2(password: str, salt: bytes) -> tuple[bytes, bytes]:
    """v2 accounts: PBKDF2-HMAC-SHA512 (100,000 rounds) gives the password key and the auth key (``uh``)."""
    dk = hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, 100_000, 32)
    return dk[:16], dk[16:]


def v2_salt(client_random: bytes) -> bytes:
    """The salt of a v2 account, made at sign-up from 16 random client bytes (as MEGA's SDK makes it)."""
    return hashlib.sha256(b"mega.nz".ljust(200, b"P") + client_random).digest()


def hashed_auth_key(auth_key: bytes) -> bytes:
    """What the server keeps of a v2 auth key: never the key itself."""
    return hashlib.sha256(auth_key).digest()[:16]


# -- attributes ----------------------------------------------------------------------------------------------

_ATTR_PREFIX = b'MEGA{"'
_JSON = json.JSONDecoder()
MAX_ATTRIBUTES = 65536


def encrypt_attributes(attrs: Mapping[str, Any], key: bytes) -> str:
    """``MEGA`` + compact JSON, NUL-padded, AES-CBC with a zero IV, as MEGA's SDK writes it."""
    _check_key(key, "node key")
    # surrogateescape: a name read from another client's invalid UTF-8 goes back as the same bytes
    text = b"MEGA" + json.dumps(dict(attrs), separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogateescape"
    )
    if not text.startswith(_ATTR_PREFIX):
        raise CryptoError("attributes must be a JSON object with a string key first")
    text += b"\0" * (-len(text) % 16)
    if len(text) > MAX_ATTRIBUTES:
        raise CryptoError("attributes larger than 64 KiB")
    return b64encode(aes_cbc_encrypt(key, text))


def decrypt_attributes(data: str | bytes, key: bytes) -> dict[str, Any]:
    """Decrypt an attribute block; a wrong key or damaged block raises CryptoError (node undecryptable)."""
    _check_key(key, "node key")
    try:
        raw = b64decode(data) if isinstance(data, str) else data
    except ValueError as exc:
        raise CryptoError("attributes are not base64") from exc
    if not raw or len(raw) % 16:
        raise CryptoError("attribute block is not a multiple of 16 bytes")
    text = aes_cbc_decrypt(key, raw).rstrip(b"\0")
    if not text.startswith(_ATTR_PREFIX):
        raise CryptoError("attributes do not decrypt (wrong key)")
    try:
        body = text[4:].decode("utf-8", "surrogateescape")
        value, end = _JSON.raw_decode(body)  # json.loads without its wrappers: called once per node
        if end != len(body) and body[end:].strip():
            raise CryptoError("attributes are not valid JSON")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CryptoError("attributes are not valid JSON") from exc
    if not isinstance(value, dict):
        raise CryptoError("attributes are not a JSON object")
    return value


# -- file keys -----------------------------------------------------------------------------------------------


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


@dataclass(frozen=True, slots=True)
class FileKey:
    """A file's AES key, CTR nonce and meta-MAC: the 32-byte node key (wrapped in the tree, bare in links)."""

    key: bytes
    nonce: bytes
    meta_mac: bytes = bytes(8)

    def __post_init__(self) -> None:
        if len(self.key) != 16 or len(self.nonce) != 8 or len(self.meta_mac) != 8:
            raise CryptoError("file key needs 16 key, 8 nonce and 8 MAC bytes")

    @classmethod
    def random(cls) -> FileKey:
        raw = os.urandom(24)
        return cls(raw[:16], raw[16:])

    def pack(self) -> bytes:
        """``[k0^n0, k1^n1, k2^m0, k3^m1, n0, n1, m0, m1]``: the key folded with nonce and meta-MAC."""
        tail = self.nonce + self.meta_mac
        return _xor(self.key, tail) + tail

    @classmethod
    def unpack(cls, packed: bytes) -> FileKey:
        if len(packed) != 32:
            raise CryptoError(f"a file key is 32 bytes, got {len(packed)}")
        tail = packed[16:]
        return cls(_xor(packed[:16], tail), tail[:8], tail[8:])

    def with_meta_mac(self, meta_mac: bytes) -> FileKey:
        return FileKey(self.key, self.nonce, meta_mac)


def fold_key(node_key: bytes) -> bytes:
    """The 16-byte key that encrypts a node's attributes: a folder's key as is, a file's halves XOR-ed."""
    if len(node_key) == 32:
        return _xor(node_key[:16], node_key[16:])
    if len(node_key) == 16:
        return node_key
    raise CryptoError(f"a node key is 16 or 32 bytes, got {len(node_key)}")


# -- chunks, CTR and MACs ------------------------------------------------------------------------------------

CHUNK_UNIT = 131072
_GROWING_CHUNKS = 8  # chunk k (1-based) is min(k, 8) * 128 KiB
_GROWTH_END = CHUNK_UNIT * _GROWING_CHUNKS * (_GROWING_CHUNKS + 1) // 2  # 4608 KiB
_BIG_CHUNK = CHUNK_UNIT * _GROWING_CHUNKS


def chunk_floor(offset: int) -> int:
    """The MAC chunk boundary at or below ``offset``."""
    if offset >= _GROWTH_END:
        return _GROWTH_END + (offset - _GROWTH_END) // _BIG_CHUNK * _BIG_CHUNK
    start, k = 0, 1
    while start + k * CHUNK_UNIT <= offset:
        start += k * CHUNK_UNIT
        k += 1
    return start


def chunk_bounds(size: int) -> list[tuple[int, int]]:
    """MEGA's chunks of a ``size``-byte file as (offset, length): 128 KiB, 256 KiB, ... up to 1 MiB each."""
    bounds: list[tuple[int, int]] = []
    start, k = 0, 1
    while start < size:
        length = min(k, _GROWING_CHUNKS) * CHUNK_UNIT
        bounds.append((start, min(length, size - start)))
        start += length
        k += 1
    return bounds


def chunk_bounds_between(start: int, end: int) -> list[tuple[int, int]]:
    """The chunks (offset, length) covering [start, end), where ``start`` is a chunk boundary and ``end`` one
    or the file's size: the chunks of one upload piece or download range, without listing the whole file."""
    if chunk_floor(start) != start:
        raise ValueError(f"{start} is not a chunk boundary")
    bounds: list[tuple[int, int]] = []
    while start < end:
        if start >= _GROWTH_END:
            length = _BIG_CHUNK
        else:
            k = 1
            while chunk_floor(start + k * CHUNK_UNIT) == start:
                k += 1
            length = k * CHUNK_UNIT
        bounds.append((start, min(length, end - start)))
        start += length
    return bounds


def _ctr_counter(nonce: bytes, offset: int) -> bytes:
    return nonce + (offset // 16).to_bytes(8, "big")


def ctr_crypt(key: bytes, nonce: bytes, offset: int, data: bytes) -> bytes:
    """AES-128-CTR from any byte offset (encrypting and decrypting are the same operation)."""
    return ChunkCipher(key, nonce).crypt(offset, data)


def chunk_mac(key: bytes, nonce: bytes, chunk: bytes) -> bytes:
    """The MAC of one chunk of plaintext: CBC-MAC with IV nonce‖nonce, the last block zero-padded."""
    return ChunkCipher(key, nonce).mac(chunk)


def condense_macs(key: bytes, macs: Iterable[bytes]) -> bytes:
    """The 8-byte meta-MAC: CBC-MAC (zero IV) over the chunk MACs in file order, its words folded pairwise."""
    joined = b"".join(macs)
    m = aes_cbc_encrypt(key, joined)[-16:] if joined else bytes(16)
    return _xor(m[0:4], m[4:8]) + _xor(m[8:12], m[12:16])


#: Per thread: where ``ChunkCipher.mac`` writes the CBC output it throws away (up to a chunk, 1 MiB).
_SCRATCH = threading.local()


class ChunkCipher:
    """Encrypts, decrypts and MACs whole chunks of one file.

    Not thread-safe: give each worker its own (they are cheap; the MAC's scratch buffer is per thread, so a
    new one per piece allocates nothing). Chunks may be handled in any order; the
    caller collects the MACs by offset (MacCollector) and condenses them at the end.
    """

    def __init__(self, key: bytes, nonce: bytes) -> None:
        _check_key(key)
        if len(nonce) != 8:
            raise CryptoError("a CTR nonce is 8 bytes")
        self.key = key
        self.nonce = nonce
        self._aes = algorithms.AES(key)
        self._iv = nonce + nonce

    @staticmethod
    def _scratch(size: int) -> bytearray:
        buf: bytearray | None = getattr(_SCRATCH, "buf", None)
        if buf is None or len(buf) < size + 16:
            buf = _SCRATCH.buf = bytearray(size + 16)
        return buf

    def crypt(self, offset: int, data: bytes | memoryview) -> bytes:
        """CTR-transform ``data`` that sits at ``offset`` in the file."""
        return self._ctr(offset).update(data)

    def crypt_into(self, offset: int, data: bytes | bytearray | memoryview, out: bytearray) -> int:
        """``crypt`` written into ``out`` (at least ``len(data) + 15`` bytes; it may be the buffer ``data``
        views: CTR works in place); returns the byte count. Spares a new buffer per piece."""
        return self._ctr(offset).update_into(data, out)

    def _ctr(self, offset: int) -> CipherContext:
        enc = Cipher(self._aes, modes.CTR(_ctr_counter(self.nonce, offset))).encryptor()
        skip = offset % 16
        if skip:
            enc.update(bytes(skip))
        return enc

    def mac(self, chunk: bytes | memoryview) -> bytes:
        """CBC-MAC of a plaintext chunk; only the last cipher block is kept."""
        view = memoryview(chunk)
        size = len(view)
        enc = Cipher(self._aes, modes.CBC(self._iv)).encryptor()
        whole = size - size % 16
        last = b""
        if whole:
            buf = self._scratch(whole)
            written = enc.update_into(view[:whole], buf)
            last = bytes(buf[written - 16 : written])
        if size % 16:
            tail = bytes(view[whole:]) + bytes(16 - size % 16)
            last = enc.update(tail)
        if not size:
            return self._iv  # an empty chunk: nothing was chained in
        return last

    def encrypt(self, offset: int, plaintext: bytes | memoryview) -> tuple[bytes, bytes]:
        """Ciphertext and MAC of one chunk of plaintext at ``offset`` (a chunk boundary)."""
        return self.crypt(offset, plaintext), self.mac(plaintext)

    def decrypt(self, offset: int, ciphertext: bytes | memoryview) -> tuple[bytes, bytes]:
        """Plaintext and MAC of one downloaded chunk at ``offset`` (a chunk boundary)."""
        plaintext = self.crypt(offset, ciphertext)
        return plaintext, self.mac(plaintext)


class MacCollector:
    """Chunk MACs arriving in any order (parallel transfers), condensed in file order once all are in."""

    def __init__(self, key: bytes, size: int) -> None:
        self.key = key
        self.size = size
        self._macs: dict[int, bytes] = {}

    def add(self, offset: int, mac: bytes) -> None:
        self._macs[offset] = mac

    @property
    def complete(self) -> bool:
        return all(offset in self._macs for offset, _ in chunk_bounds(self.size))

    def meta_mac(self) -> bytes:
        try:
            ordered = [self._macs[offset] for offset, _ in chunk_bounds(self.size)]
        except KeyError as exc:
            raise CryptoError(f"no MAC for the chunk at offset {exc.args[0]}") from None
        return condense_macs(self.key, ordered)


UPLOAD_CHECKSUM_SIZE = 12


class UploadChecksum:
    """The 12-byte upload checksum computed as the body streams past: ``update`` pieces in order, then
    ``digest``. Byte i of the body is XOR-ed into lane i mod 12 (``shared/mega-protocol.md`` section 8.5).

    Python has no vector XOR, so the lanes are folded as big integers: every slice of ``SLICE`` bytes becomes
    one little-endian int (``int.from_bytes`` runs near memory speed; it, not the XOR, is the bottleneck) and
    is XOR-ed into an accumulator of the same width. ``SLICE`` is a multiple of 12, so each byte keeps its
    lane's column; little-endian makes a short last slice need no padding, and a piece that starts mid-lane
    only needs its first few bytes shifted into place. Slices stay small so their ints stay below malloc's
    mmap threshold (bigger ones come from fresh pages every time): 12 to 48 KiB measured alike, about
    1.2 GB/s, 96 KiB a fifth slower, and one int of a whole 64 MiB body (the old halving fold) 0.2 GB/s.
    One fold to 12 bytes at the end.
    """

    SLICE = UPLOAD_CHECKSUM_SIZE * 4096

    __slots__ = ("_position", "_wide")

    def __init__(self) -> None:
        self._wide = 0
        self._position = 0

    def update(self, data: bytes | bytearray | memoryview) -> None:
        """Add the next ``data`` of the body (any length; pieces need not end on a lane boundary)."""
        view = memoryview(data).cast("B")
        start = 0
        lane = self._position % UPLOAD_CHECKSUM_SIZE
        if lane and view:
            start = min(UPLOAD_CHECKSUM_SIZE - lane, len(view))
            self._wide ^= int.from_bytes(view[:start], "little") << (8 * lane)
        step = self.SLICE
        wide = self._wide
        for offset in range(start, len(view), step):
            wide ^= int.from_bytes(view[offset : offset + step], "little")
        self._wide = wide
        self._position += len(view)

    def digest(self) -> bytes:
        """The checksum of everything added so far (the object stays usable)."""
        value = self._wide
        width = -(-((value.bit_length() + 7) // 8) // UPLOAD_CHECKSUM_SIZE) * UPLOAD_CHECKSUM_SIZE
        while width > UPLOAD_CHECKSUM_SIZE:  # halve at a multiple of 12 bytes, so lanes meet their own kind
            half = width // UPLOAD_CHECKSUM_SIZE // 2 * UPLOAD_CHECKSUM_SIZE
            value = (value & ((1 << (8 * half)) - 1)) ^ (value >> (8 * half))
            width -= half
        return value.to_bytes(UPLOAD_CHECKSUM_SIZE, "little")


def upload_checksum(body: bytes | bytearray | memoryview) -> bytes:
    """The 12-byte checksum of an upload POST (``?c=``): byte i of the body XOR-ed into position i mod 12."""
    checksum = UploadChecksum()
    checksum.update(body)
    return checksum.digest()


# -- RSA -----------------------------------------------------------------------------------------------------


def mpi_encode(value: int) -> bytes:
    """A multi-precision integer: 2-byte big-endian bit count, then the magnitude bytes."""
    bits = value.bit_length()
    return bits.to_bytes(2, "big") + value.to_bytes((bits + 7) // 8, "big")


def mpi_decode(data: bytes, pos: int = 0) -> tuple[int, int]:
    """One MPI at ``pos``: its value and the position after it."""
    if pos + 2 > len(data):
        raise CryptoError("truncated MPI")
    bits = int.from_bytes(data[pos : pos + 2], "big")
    end = pos + 2 + (bits + 7) // 8
    if end > len(data):
        raise CryptoError("truncated MPI")
    return int.from_bytes(data[pos + 2 : end], "big"), end


@dataclass(frozen=True, slots=True)
class RsaPrivateKey:
    """MEGA's RSA key as its clients store it: p, q, d and u = p^-1 mod q (the CRT coefficient)."""

    p: int
    q: int
    d: int
    u: int

    @property
    def n(self) -> int:
        return self.p * self.q

    @property
    def e(self) -> int:
        """The public exponent, recovered from d (MEGA's blob does not carry it)."""
        return pow(self.d, -1, math.lcm(self.p - 1, self.q - 1))

    @property
    def plaintext_size(self) -> int:
        """Bytes of an RSA plaintext: the SDK's bytes(p) + bytes(q) - 2."""
        return (self.p.bit_length() + 7) // 8 + (self.q.bit_length() + 7) // 8 - 2

    def decrypt_int(self, c: int) -> int:
        """Raw RSA (MEGA uses no padding scheme), with the CRT."""
        m1 = pow(c, self.d % (self.p - 1), self.p)
        m2 = pow(c, self.d % (self.q - 1), self.q)
        h = (self.u * (m2 - m1)) % self.q
        return m1 + h * self.p

    def __repr__(self) -> str:
        return f"RsaPrivateKey(<{self.n.bit_length()} bits>)"


def generate_rsa_key(bits: int = 2048) -> RsaPrivateKey:
    """A fresh key pair. MEGA's SDK uses e = 17; no client checks e, and ``cryptography`` makes 65537."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    numbers = rsa.generate_private_key(public_exponent=65537, key_size=bits).private_numbers()
    p, q = numbers.p, numbers.q
    return RsaPrivateKey(p, q, numbers.d, pow(p, -1, q))


def encode_private_key(key: RsaPrivateKey) -> bytes:
    """MPI(p)‖MPI(q)‖MPI(d)‖MPI(u), padded with random bytes to whole AES blocks (before wrapping with MK)."""
    blob = mpi_encode(key.p) + mpi_encode(key.q) + mpi_encode(key.d) + mpi_encode(key.u)
    return blob + os.urandom(-len(blob) % 16)


def decode_private_key(blob: bytes) -> RsaPrivateKey:
    """The four MPIs of an unwrapped ``privk``; the padding after them is ignored."""
    values = []
    pos = 0
    for _ in range(4):
        value, pos = mpi_decode(blob, pos)
        values.append(value)
    p, q, d, u = values
    if p < 3 or q < 3 or d < 1 or (u * p) % q != 1:
        raise CryptoError("the RSA private key does not decode (wrong master key?)")
    return RsaPrivateKey(p, q, d, u)


def encode_public_key(n: int, e: int) -> bytes:
    return mpi_encode(n) + mpi_encode(e)


def decode_public_key(data: bytes) -> tuple[int, int]:
    n, pos = mpi_decode(data)
    e, _ = mpi_decode(data, pos)
    return n, e


def rsa_encrypt_session(n: int, e: int, plaintext: bytes) -> bytes:
    """Server side of the login: raw RSA of the fixed-length session plaintext, as MPI bytes (``csid``)."""
    m = int.from_bytes(plaintext, "big")
    if m >= n:
        raise CryptoError("RSA plaintext longer than the modulus")
    return mpi_encode(pow(m, e, n))


SID_LENGTH = 43


def decrypt_session_id(key: RsaPrivateKey, csid: str) -> str:
    """The session id from ``csid``: the first 43 bytes of the fixed-length RSA plaintext, base64ed.

    The plaintext is converted at its full length (the SDK's rule) rather than as minimal bytes, so a session
    id whose first byte is zero still comes out right.
    """
    try:
        c, _ = mpi_decode(b64decode(csid))
    except ValueError as exc:
        raise CryptoError("csid is not base64") from exc
    m = key.decrypt_int(c)
    size = key.plaintext_size
    if m.bit_length() > 8 * size:
        raise CryptoError("the session id does not decrypt (wrong key)")
    return b64encode(m.to_bytes(size, "big")[:SID_LENGTH])
