"""Identifiers: session id layout (section 4.5), sn encoding, completion tokens (section 8.6)."""

from __future__ import annotations

from backends.mega.crypto import b64encode
from backends.mega.emulator import ids


def test_session_ids_embed_the_user_handle_and_never_start_with_zero() -> None:
    user = ids.new_user_handle()
    assert len(user) == 11
    for _ in range(300):
        raw = ids.new_sid(user)
        assert len(raw) == 43 and raw[0] != 0
        assert raw[16:27] == user.encode()
        assert ids.sid_user(b64encode(raw)) == user
    assert ids.sid_user("not a sid") is None
    assert ids.sid_user(b64encode(b"short")) is None


def test_sn_is_eight_bytes_of_counter() -> None:
    assert ids.encode_sn(0) == "AAAAAAAAAAA"
    assert ids.encode_sn(1) == "AAAAAAAAAAE"
    assert ids.decode_sn(ids.encode_sn(123456789)) == 123456789
    assert ids.decode_sn("AAAA") is None
    assert ids.decode_sn("!!") is None


def test_completion_tokens_are_36_chars_of_text() -> None:
    tokens = {ids.completion_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        raw = token.encode("ascii")
        assert len(raw) == 36 and raw[35] != 1
        assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def test_handles_have_megas_sizes() -> None:
    assert len(ids.new_node_handle()) == 8
    assert len(ids.new_upload_id()) == 22
