"""MEGA's crypto against every vector of shared/mega-protocol.md section 11, plus round-trip properties."""

from __future__ import annotations

import hashlib
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.mega import crypto
from backends.mega.crypto import CryptoError, FileKey

MK = bytes.fromhex("0f0e0d0c0b0a09080706050403020100")
FILE_KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
NONCE = bytes.fromhex("0102030405060708")


def pattern(size: int) -> bytes:
    """Byte i = i mod 251: the content of the document's vectors."""
    return bytes(i % 251 for i in range(size))


def naive_chunk_mac(key: bytes, nonce: bytes, chunk: bytes) -> bytes:
    """The MAC block by block, the way the protocol describes it: an independent reference."""
    mac = nonce + nonce
    padded = chunk + bytes(-len(chunk) % 16)
    for i in range(0, len(padded), 16):
        block = bytes(a ^ b for a, b in zip(mac, padded[i : i + 16], strict=True))
        mac = crypto.aes_ecb_encrypt(key, block)
    return mac


def one_pass_meta_mac(key: bytes, nonce: bytes, data: bytes) -> bytes:
    macs = [naive_chunk_mac(key, nonce, data[o : o + n]) for o, n in crypto.chunk_bounds(len(data))]
    return crypto.condense_macs(key, macs)


# -- 11.9 / 1.x: encodings -----------------------------------------------------------------------------------


def test_small_encodings() -> None:
    assert crypto.b64encode(crypto.a32_to_bytes([0x01020304, 0xA0B0C0D0])) == "AQIDBKCwwNA"
    assert crypto.b64encode(bytes.fromhex("0011223344556677")) == "ABEiM0RVZnc"
    assert crypto.mpi_encode(65537).hex() == "0011010001"
    assert crypto.bytes_to_a32(bytes.fromhex("01020304a0b0c0d0")) == (0x01020304, 0xA0B0C0D0)
    assert crypto.bytes_to_a32(b"\x01") == (0x01000000,)


@pytest.mark.parametrize(
    ("size", "chars"), [(16, 22), (32, 43), (6, 8), (8, 11), (43, 58), (36, 48), (12, 16)]
)
def test_base64_lengths(size: int, chars: int) -> None:
    assert len(crypto.b64encode(os.urandom(size))) == chars


def test_base64_is_lenient_like_megas_clients() -> None:
    raw = bytes(range(250, 256)) + b"\xfb\xff"
    standard = "+/v8/f7/+/8="
    assert crypto.b64decode(crypto.b64encode(raw)) == raw
    assert crypto.b64decode(standard) == crypto.b64decode("-_v8_f7_-_8")
    assert crypto.b64decode("AQID,BKCwwNA") == bytes.fromhex("01020304a0b0c0d0")
    for bad in ("A", "AQ$D", "héllo"):
        with pytest.raises(ValueError):
            crypto.b64decode(bad)


@given(st.binary(max_size=200))
def test_base64_round_trip(data: bytes) -> None:
    text = crypto.b64encode(data)
    assert "=" not in text and "+" not in text and "/" not in text
    assert crypto.b64decode(text) == data


@given(st.lists(st.integers(0, 2**32 - 1), max_size=20))
def test_a32_round_trip(words: list[int]) -> None:
    assert crypto.bytes_to_a32(crypto.a32_to_bytes(words)) == tuple(words)


# -- 11.2 / 11.3: password keys ------------------------------------------------------------------------------

V1_VECTORS = [
    ("password123", "22f683851212b50a92114454fa542b99", "9QPYw5-wtJM"),
    ("correct horse battery staple", "57d978ef82e99ea50ab00045e8614d7b", "sSgbS6ks0bE"),
    ("pässwörd", "f38493e354193dd028c8ed07d52c7a25", "78NYz0bWHns"),
    ("pass€", "4811b5d129fcdf49f6ac34bd9407dbb1", "AV-dORGORxc"),
]


@pytest.mark.parametrize(("password", "key_hex", "uh"), V1_VECTORS)
def test_v1_password_key_and_user_hash(password: str, key_hex: str, uh: str) -> None:
    key = crypto.prepare_key_v1(password)
    assert key.hex() == key_hex
    assert crypto.user_hash_v1("User@Example.com", key) == uh


def test_v1_utf8_rule_differs_from_megas() -> None:
    """The document's 'wrong for MEGA' rows: the UTF-8 reading gives other keys; we never produce them."""
    assert crypto.prepare_key_v1("pässwörd").hex() != "dee8f3cc78a7d97fad4d03df2e09d207"
    assert crypto.prepare_key_v1("pass€").hex() != "a8c7e0e67be5bb84065d8c9a88c39eba"


def test_v2_derivation_and_wrapped_master_key() -> None:
    salt = crypto.b64decode("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8")
    assert salt == bytes(range(32))
    password_key, auth_key = crypto.derive_v2("password123", salt)
    assert (password_key + auth_key).hex() == (
        "e84abf7525b90a2fc743a248f43ebdddcc0be145ed59d56d054509bacfcf316d"
    )
    assert crypto.b64encode(auth_key) == "zAvhRe1Z1W0FRQm6z88xbQ"
    wrapped = crypto.aes_ecb_encrypt(password_key, MK)
    assert crypto.b64encode(wrapped) == "GBOe7jsokuCBrsqVfHdLfA"
    assert crypto.aes_ecb_decrypt(password_key, wrapped) == MK


def test_v2_salt_and_hashed_auth_key() -> None:
    random_part = bytes(range(16))
    expected = hashlib.sha256(b"mega.nz" + b"P" * 193 + random_part).digest()
    assert crypto.v2_salt(random_part) == expected
    assert crypto.hashed_auth_key(b"k" * 16) == hashlib.sha256(b"k" * 16).digest()[:16]


# -- 11.4: attributes ----------------------------------------------------------------------------------------

ATTR_KEY = bytes(range(16))


def test_attribute_vectors() -> None:
    compact = "PXKaKROX-3KfhCRae1zd6qp8ZOUIggiCiWGYp_LR_DE"
    spaced = "kTfx3GED0DO4OacGCP-H7eFL6Wv0Yd0l2E1bQXT6bTQ"  # mega.py's json.dumps spacing
    assert crypto.encrypt_attributes({"n": "hello.txt"}, ATTR_KEY) == compact
    assert crypto.decrypt_attributes(spaced, ATTR_KEY) == {"n": "hello.txt"}
    folder_key = bytes.fromhex("101112131415161718191a1b1c1d1e1f")
    assert (
        crypto.encrypt_attributes({"n": "Documents"}, folder_key)
        == "pmeOzjUEf32oPlrlVazuLHcL6vqZsNiyOqxC9Vvu_1Y"
    )
    assert crypto.b64encode(crypto.aes_ecb_encrypt(MK, folder_key)) == "ZZBBd_VfkkxbQjQnJs2XVw"


def test_attributes_under_a_wrong_key_are_an_error_not_garbage() -> None:
    blob = crypto.encrypt_attributes({"n": "secret"}, ATTR_KEY)
    with pytest.raises(CryptoError):
        crypto.decrypt_attributes(blob, bytes(16))
    with pytest.raises(CryptoError):
        crypto.decrypt_attributes("AAAA", ATTR_KEY)
    with pytest.raises(CryptoError):
        crypto.decrypt_attributes("not base64!", ATTR_KEY)


names = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80)


@given(name=names, key=st.binary(min_size=16, max_size=16), mtime=st.integers(0, 2**40))
def test_attribute_round_trip_with_unicode_names(name: str, key: bytes, mtime: int) -> None:
    attrs = {"n": name, "c": "x", "t": mtime}
    blob = crypto.encrypt_attributes(attrs, key)
    assert len(crypto.b64decode(blob)) % 16 == 0
    assert crypto.decrypt_attributes(blob, key) == attrs


# -- 11.5 / 11.6: chunks, CTR, MACs, file keys ---------------------------------------------------------------


def test_chunk_boundaries() -> None:
    assert crypto.chunk_bounds(5 * 1024 * 1024) == [
        (0, 131072),
        (131072, 262144),
        (393216, 393216),
        (786432, 524288),
        (1310720, 655360),
        (1966080, 786432),
        (2752512, 917504),
        (3670016, 1048576),
        (4718592, 524288),
    ]
    assert crypto.chunk_bounds(300000) == [(0, 131072), (131072, 168928)]
    assert crypto.chunk_bounds(0) == []
    ten = crypto.chunk_bounds(10 * 1024 * 1024)
    assert [o for o, _ in ten[8:]] == [k * 1024 * 1024 + 512 * 1024 for k in range(4, 10)]
    assert ten[-1] == (9728 * 1024, 512 * 1024)


@given(st.integers(0, 40 * 1024 * 1024))
def test_chunk_floor_agrees_with_the_bounds(offset: int) -> None:
    starts = [o for o, _ in crypto.chunk_bounds(offset + 1)]
    assert crypto.chunk_floor(offset) == starts[-1]


def test_upload_of_a_300000_byte_file() -> None:
    data = pattern(300000)
    plain_sha = "3c65ea93424a9c362fec0e3a69ea36031e8a358441479dd665cc6110eabe7b08"
    cipher_sha = "9a81a0a4266fc81fe191332a4e9b9dce0b917a399cbe66117184d875d65b6e15"
    assert hashlib.sha256(data).hexdigest() == plain_sha
    ciphertext = crypto.ctr_crypt(FILE_KEY, NONCE, 0, data)
    assert ciphertext[:32].hex() == "a17a843e04c30b536d3ef3583a364dd40075bec3cd88735a62b8207da961d362"
    assert ciphertext[131072:131088].hex() == "f9bd67e1ca0b08f2232dda4710bf9169"
    assert hashlib.sha256(ciphertext).hexdigest() == cipher_sha
    cipher = crypto.ChunkCipher(FILE_KEY, NONCE)
    pieces = [cipher.encrypt(o, data[o : o + n]) for o, n in crypto.chunk_bounds(len(data))]
    assert b"".join(ct for ct, _ in pieces) == ciphertext
    assert [mac.hex() for _, mac in pieces] == [
        "56964c0412e7282dec7cb2a2ad41f470",
        "e7fe145cea9478b2daeea96eb5dc9b71",
    ]
    meta_mac = crypto.condense_macs(FILE_KEY, [mac for _, mac in pieces])
    assert meta_mac.hex() == "0bbe1dc60e358e08"
    packed = FileKey(FILE_KEY, NONCE, meta_mac).pack()
    assert crypto.bytes_to_a32(packed) == (
        0x01132137,
        0x4153617F,
        0x8327B77D,
        0xC2E860F7,
        0x01020304,
        0x05060708,
        0x0BBE1DC6,
        0x0E358E08,
    )
    assert crypto.b64encode(packed) == "ARMhN0FTYX-DJ7d9wuhg9wECAwQFBgcIC74dxg41jgg"
    node_k = "1w2ePnwOol9qQ80wjig56uVB14dzpsNyN6Lzjyih0Eg"
    assert crypto.b64encode(crypto.aes_ecb_encrypt(MK, packed)) == node_k
    folded = crypto.fold_key(packed)
    compact = "Te1Nt-7obULO88oxd5iQqLd5b3pePSrQlu-Im2Bb4Us"
    spaced = "TasK_Qg1JFMm1W5wmmaM_iaDMHDYS5fA8kjgl5VldtA"
    assert crypto.encrypt_attributes({"n": "data.bin"}, folded) == compact
    assert crypto.decrypt_attributes(spaced, folded) == {"n": "data.bin"}
    assert (
        crypto.encrypt_attributes({"n": "data.bin", "c": "lGjTAJjxdKIc32EmgYbPLQQA8VNl"}, folded)
        == "Te1Nt-7obULO88oxd5iQqGvmXlIkpc-146ioggJFt-rwL087DIDUu03fNthmwM9Arl2aZVfCUdiKawe4288g1w"
    )
    unpacked = FileKey.unpack(packed)
    assert (unpacked.key, unpacked.nonce, unpacked.meta_mac) == (FILE_KEY, NONCE, meta_mac)
    assert crypto.b64encode(crypto.upload_checksum(ciphertext[:131072])) == "XtCGHydnAyhbGzh0"
    assert crypto.b64encode(crypto.upload_checksum(b"")) == "AAAAAAAAAAAAAAAA"


@pytest.mark.parametrize(
    ("size", "meta_mac"),
    [
        (0, "0000000000000000"),
        (5, "d244afcd1823d926"),
        (16, "991f13eedd3e92a4"),
        (17, "70f89102ffb60ef6"),
        (131072, "eaa6491c66ec63cc"),
        (131082, "251c36ad1f4e5a6a"),
        (131088, "772cdf6ac2dabeb7"),
        (131089, "1247870b29ef2687"),
        (393216, "e4b96b98ea2aff3e"),
    ],
)
def test_meta_macs_at_edge_sizes(size: int, meta_mac: str) -> None:
    data = pattern(size)
    collector = crypto.MacCollector(FILE_KEY, size)
    cipher = crypto.ChunkCipher(FILE_KEY, NONCE)
    for offset, length in crypto.chunk_bounds(size):
        collector.add(offset, cipher.mac(data[offset : offset + length]))
    assert collector.meta_mac().hex() == meta_mac
    assert one_pass_meta_mac(FILE_KEY, NONCE, data).hex() == meta_mac


def test_hello() -> None:
    assert crypto.ctr_crypt(FILE_KEY, NONCE, 0, b"hello").hex() == "c91eea516f"
    meta_mac = crypto.condense_macs(FILE_KEY, [crypto.chunk_mac(FILE_KEY, NONCE, b"hello")])
    assert meta_mac.hex() == "bd3a21e187d7fad6"


def test_a_missing_chunk_mac_is_reported() -> None:
    collector = crypto.MacCollector(FILE_KEY, 300000)
    collector.add(0, bytes(16))
    assert not collector.complete
    with pytest.raises(CryptoError, match="131072"):
        collector.meta_mac()


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(min_size=1, max_size=20000),
    start=st.integers(0, 19999),
    length=st.integers(0, 20000),
    key=st.binary(min_size=16, max_size=16),
    nonce=st.binary(min_size=8, max_size=8),
)
def test_ctr_at_any_offset_and_length(data: bytes, start: int, length: int, key: bytes, nonce: bytes) -> None:
    start %= len(data)
    whole = crypto.ctr_crypt(key, nonce, 0, data)
    piece = whole[start : start + length]
    assert crypto.ctr_crypt(key, nonce, start, piece) == data[start : start + length]
    assert crypto.ChunkCipher(key, nonce).crypt(start, data[start : start + length]) == piece


@settings(max_examples=25, deadline=None)
@given(size=st.integers(0, 3 * 1024 * 1024), seed=st.integers(0, 2**32))
def test_mac_in_shuffled_chunks_equals_one_pass(size: int, seed: int) -> None:
    rng = random.Random(seed)
    data = rng.randbytes(size)
    key, nonce = rng.randbytes(16), rng.randbytes(8)
    expected = crypto.condense_macs(
        key, [crypto.chunk_mac(key, nonce, data[o : o + n]) for o, n in crypto.chunk_bounds(size)]
    )
    chunks = crypto.chunk_bounds(size)
    rng.shuffle(chunks)
    collector = crypto.MacCollector(key, size)
    cipher = crypto.ChunkCipher(key, nonce)
    ciphertext = bytearray(size)
    for offset, length in chunks:
        ct, mac = cipher.encrypt(offset, memoryview(data)[offset : offset + length])
        ciphertext[offset : offset + length] = ct
        collector.add(offset, mac)
    assert collector.complete
    assert collector.meta_mac() == expected
    assert bytes(ciphertext) == crypto.ctr_crypt(key, nonce, 0, data)
    # a download in another shuffled order verifies against the same meta-MAC
    rng.shuffle(chunks)
    verifier = crypto.MacCollector(key, size)
    for offset, length in chunks:
        plain, mac = cipher.decrypt(offset, bytes(ciphertext[offset : offset + length]))
        assert plain == data[offset : offset + length]
        verifier.add(offset, mac)
    assert verifier.meta_mac() == expected


@settings(max_examples=20, deadline=None)
@given(st.binary(max_size=600))
def test_chunk_mac_matches_the_block_by_block_reference(chunk: bytes) -> None:
    if chunk:
        assert crypto.chunk_mac(FILE_KEY, NONCE, chunk) == naive_chunk_mac(FILE_KEY, NONCE, chunk)


@given(st.binary(min_size=32, max_size=32))
def test_file_key_round_trip(packed: bytes) -> None:
    key = FileKey.unpack(packed)
    assert key.pack() == packed
    assert crypto.fold_key(packed) == bytes(a ^ b for a, b in zip(packed[:16], packed[16:], strict=True))


def test_bad_key_sizes_are_rejected() -> None:
    with pytest.raises(CryptoError):
        FileKey.unpack(bytes(31))
    with pytest.raises(CryptoError):
        crypto.fold_key(bytes(20))
    with pytest.raises(CryptoError):
        crypto.encrypt_attributes({"n": "x"}, bytes(8))


@given(st.binary(max_size=5000))
def test_upload_checksum_is_the_12_lane_xor(body: bytes) -> None:
    lanes = bytearray(12)
    for i, byte in enumerate(body):
        lanes[i % 12] ^= byte
    assert crypto.upload_checksum(body) == bytes(lanes)


def lane_xor(body: bytes) -> bytes:
    """The upload checksum byte by byte: an independent reference."""
    lanes = bytearray(12)
    for i, byte in enumerate(body):
        lanes[i % 12] ^= byte
    return bytes(lanes)


class SmallSlices(crypto.UploadChecksum):
    """Slices of 24 bytes, so short bodies already cross several slices and end in a short one."""

    SLICE = 24


@pytest.mark.parametrize("kind", [crypto.UploadChecksum, SmallSlices])
@given(data=st.data(), body=st.binary(max_size=3000))
def test_upload_checksum_streamed_in_random_splits_is_the_12_lane_xor(
    kind: type[crypto.UploadChecksum], data: st.DataObject, body: bytes
) -> None:
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(body)), max_size=8))
    checksum = kind()
    position = 0
    for cut in sorted(cuts):
        checksum.update(memoryview(body)[position:cut])  # pieces start and end anywhere, some are empty
        position = cut
    checksum.update(body[position:])
    assert checksum.digest() == lane_xor(body)
    assert checksum.digest() == lane_xor(body)  # digest leaves the state as it was
    assert kind().digest() == bytes(12)


def test_upload_checksum_of_a_body_bigger_than_one_slice() -> None:
    body = random.Random(7).randbytes(5 * crypto.UploadChecksum.SLICE + 7)
    checksum = crypto.UploadChecksum()
    checksum.update(body[:100_001])  # ends mid-lane
    checksum.update(bytearray(body[100_001:]))
    assert checksum.digest() == crypto.upload_checksum(body) == lane_xor(body)


# -- 11.8 / 4.5: RSA and the session id ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def rsa_key() -> crypto.RsaPrivateKey:
    return crypto.generate_rsa_key(2048)


@given(st.integers(0, 2**4000))
def test_mpi_round_trip(value: int) -> None:
    encoded = crypto.mpi_encode(value)
    assert crypto.mpi_decode(encoded + b"pad") == (value, len(encoded))


def test_truncated_mpi_is_an_error() -> None:
    with pytest.raises(CryptoError):
        crypto.mpi_decode(bytes.fromhex("0011 0100".replace(" ", "")))


def test_private_key_blob_round_trip_through_the_master_key(rsa_key: crypto.RsaPrivateKey) -> None:
    blob = crypto.encode_private_key(rsa_key)
    assert len(blob) % 16 == 0 and len(blob) >= 256
    wrapped = crypto.aes_ecb_encrypt(MK, blob)
    assert crypto.decode_private_key(crypto.aes_ecb_decrypt(MK, wrapped)) == rsa_key
    with pytest.raises(CryptoError):
        crypto.decode_private_key(crypto.aes_ecb_decrypt(bytes(16), wrapped))
    n, e = crypto.decode_public_key(crypto.encode_public_key(rsa_key.n, rsa_key.e))
    assert (n, e) == (rsa_key.n, 65537)


def session_plaintext(first: int, user: str, size: int) -> bytes:
    sid = bytes([first]) + os.urandom(15) + user.encode() + os.urandom(16)
    return sid + os.urandom(size - len(sid))


@pytest.mark.parametrize("first_byte", [0x5A, 0x00])
def test_session_id_round_trip(rsa_key: crypto.RsaPrivateKey, first_byte: int) -> None:
    """A zero first byte still decrypts right: the plaintext is taken at its fixed length (the SDK's rule)."""
    plaintext = session_plaintext(first_byte, "ABEiM0RVZnc", rsa_key.plaintext_size)
    assert rsa_key.plaintext_size == 254
    csid = crypto.b64encode(crypto.rsa_encrypt_session(rsa_key.n, rsa_key.e, plaintext))
    sid = crypto.decrypt_session_id(rsa_key, csid)
    assert len(sid) == 58
    raw = crypto.b64decode(sid)
    assert raw == plaintext[:43]
    assert raw[16:27] == b"ABEiM0RVZnc"


def test_documented_session_id_layout() -> None:
    raw = crypto.b64decode("WjmmG3RvqTCoQUd17Gt8i0FCRWlNMFJWWm5jMEJStO8jDm4bVrcntahDlg")
    assert len(raw) == 43 and raw[0] == 0x5A and raw[16:27] == b"ABEiM0RVZnc"


def test_session_id_under_the_wrong_key_fails(rsa_key: crypto.RsaPrivateKey) -> None:
    other = crypto.generate_rsa_key(2048)
    plaintext = session_plaintext(0x5A, "ABEiM0RVZnc", rsa_key.plaintext_size)
    csid = crypto.b64encode(crypto.rsa_encrypt_session(rsa_key.n, rsa_key.e, plaintext))
    try:
        sid = crypto.decrypt_session_id(other, csid)
    except CryptoError:
        return
    assert crypto.b64decode(sid) != plaintext[:43]


def test_attributes_with_invalid_utf8_from_another_client_round_trip() -> None:
    # another client stored a name whose bytes are not UTF-8: it must list (as surrogates) and re-encrypt
    # to the very same bytes, not make the node undecryptable
    key = bytes(range(16))
    raw = b'MEGA{"n":"caf\xe9.txt"}'
    block = crypto.b64encode(crypto.aes_cbc_encrypt(key, raw + b"\0" * (-len(raw) % 16)))
    attrs = crypto.decrypt_attributes(block, key)
    assert attrs == {"n": "caf\udce9.txt"}
    assert crypto.encrypt_attributes(attrs, key) == block
