"""Reversible mapping between MEGA node names and the sync engine's path names.

A MEGA node name is any Unicode string: another client may have stored one containing ``/`` or NUL, or one
that is exactly ``.`` or ``..``. Used verbatim as a path component, such a name would split into several
components or climb out of the local root, so every name crossing the backend boundary goes through
:func:`to_engine` (listing) or :func:`to_mega` (upload, rename, mkdir).

The scheme is rclone's ``Base`` encoding, so a tree synced by rclone and by this tool shows the same local
names:

* NUL -> ``␀`` (U+2400) and ``/`` -> ``／`` (U+FF0F), character by character;
* the whole names ``.`` and ``..`` -> ``．`` and ``．．`` (U+FF0E); ``．`` elsewhere is left alone;
* a name that already contains a look-alike keeps it distinguishable by prefixing it with ``‛`` (U+201B,
  rclone's QuoteRune): ``␀`` -> ``‛␀``, ``／`` -> ``‛／``, and the whole names ``．`` -> ``‛．``,
  ``．．`` -> ``‛．‛．``.

Unlike rclone, a literal ``‛`` is doubled only where the decoder would otherwise read it as a quote, i.e. when
the next character's encoded form starts with ``␀``, ``／`` or ``‛``; everywhere else it stays a single ``‛``,
so ordinary names with that character list unchanged. The one place this needs extra care is the whole names
``‛．`` and ``‛．‛．``: encoded character by character they would be left alone and then decode as ``．``
and ``．．``, so they get whole-name rules of their own (``‛‛．`` and ``‛‛．‛‛．``, which is also what rclone
writes for them).

Lone surrogates (U+DC80..U+DCFF, Python's ``surrogateescape`` form of invalid UTF-8 written by another
client) are not encoded: the local backend writes them back to disk as the original raw bytes.

Every MEGA name maps to a distinct engine name and back, but not every engine name is the image of a MEGA
name (``‛‛x`` decodes to ``‛x``, which encodes to ``‛x``). :func:`round_trips` tells the backend which
engine names it can store without the listed name then differing from the uploaded one.

For the remote option ``encoding: raw`` no mapping is done; :func:`is_raw_name` says which names can then
be used at all.
"""

# This module is about look-alike characters, so its docs and comments show them literally.
# ruff: noqa: RUF001, RUF002, RUF003

from __future__ import annotations

import re

__all__ = [
    "DOT",
    "NUL_LOOKALIKE",
    "QUOTE",
    "SLASH_LOOKALIKE",
    "is_raw_name",
    "is_representable",
    "round_trips",
    "to_engine",
    "to_mega",
]

QUOTE = "\u201b"
"""``‛``: marks the following look-alike as a literal character of the MEGA name."""
NUL_LOOKALIKE = "\u2400"
"""``␀``: stands for NUL."""
SLASH_LOOKALIKE = "\uff0f"
"""``／``: stands for ``/``."""
DOT = "\uff0e"
"""``．``: stands for ``.`` in the whole names ``.`` and ``..``."""

# Whole-name rules; checked before any per-character work.
_WHOLE_TO_ENGINE: dict[str, str] = {
    ".": DOT,
    "..": DOT + DOT,
    DOT: QUOTE + DOT,
    DOT + DOT: QUOTE + DOT + QUOTE + DOT,
    # Per-character encoding would leave these two unchanged, and they would then decode via the rules
    # below to "．" and "．．"; doubling the quote keeps them distinct.
    QUOTE + DOT: QUOTE + QUOTE + DOT,
    QUOTE + DOT + QUOTE + DOT: QUOTE + QUOTE + DOT + QUOTE + QUOTE + DOT,
}
_WHOLE_TO_MEGA: dict[str, str] = {
    DOT: ".",
    DOT + DOT: "..",
    QUOTE + DOT: DOT,
    QUOTE + DOT + QUOTE + DOT: DOT + DOT,
}

_CHAR_TO_ENGINE: dict[str, str] = {
    "\x00": NUL_LOOKALIKE,
    "/": SLASH_LOOKALIKE,
    NUL_LOOKALIKE: QUOTE + NUL_LOOKALIKE,
    SLASH_LOOKALIKE: QUOTE + SLASH_LOOKALIKE,
}

# Characters whose encoded form starts with a look-alike or the quote.
_STARTS_SPECIAL = "\x00/" + NUL_LOOKALIKE + SLASH_LOOKALIKE
# Fast-path test: a name without any of these encodes to itself.
_ENCODE_NEEDED = re.compile(f"[{_STARTS_SPECIAL}{QUOTE}]")
# A run of quotes: every quote but the last is followed by a quote, so is doubled; the last is doubled only
# when a character in _STARTS_SPECIAL follows (group 2).
_ENCODE_TOKEN = re.compile(f"({QUOTE}+)(?=([{_STARTS_SPECIAL}])?)|[{_STARTS_SPECIAL}]")

# Leftmost-first alternation gives exactly the left-to-right scan: a quote is consumed together with a
# following look-alike or quote; a quote followed by anything else matches nothing and stays.
_DECODE_TOKEN = re.compile(
    f"{QUOTE}[{NUL_LOOKALIKE}{SLASH_LOOKALIKE}{QUOTE}]|[{NUL_LOOKALIKE}{SLASH_LOOKALIKE}]"
)
_TOKEN_TO_MEGA: dict[str, str] = {
    QUOTE + NUL_LOOKALIKE: NUL_LOOKALIKE,
    QUOTE + SLASH_LOOKALIKE: SLASH_LOOKALIKE,
    QUOTE + QUOTE: QUOTE,
    NUL_LOOKALIKE: "\x00",
    SLASH_LOOKALIKE: "/",
}


def _encode_token(match: re.Match[str]) -> str:
    quotes = match.group(1)
    if quotes is None:
        return _CHAR_TO_ENGINE[match.group()]
    doubled = 2 * len(quotes)
    return QUOTE * (doubled if match.group(2) is not None else doubled - 1)


def _decode_token(match: re.Match[str]) -> str:
    return _TOKEN_TO_MEGA[match.group()]


def to_engine(mega_name: str) -> str:
    """The engine name under which the MEGA node ``mega_name`` is listed.

    Never contains ``/`` or NUL and is never ``.`` or ``..``, so a remote name cannot address anything
    outside its parent; ``""`` stays ``""`` (callers reject empty names themselves).
    """
    whole = _WHOLE_TO_ENGINE.get(mega_name)
    if whole is not None:
        return whole
    if _ENCODE_NEEDED.search(mega_name) is None:
        return mega_name
    return _ENCODE_TOKEN.sub(_encode_token, mega_name)


def to_mega(engine_name: str) -> str:
    """The MEGA node name to store for the engine name ``engine_name``; the inverse of :func:`to_engine`.

    Defined for every string (a quote before an ordinary character, or at the end, is kept literally), but
    only names for which :func:`round_trips` holds come back unchanged when listed.
    """
    whole = _WHOLE_TO_MEGA.get(engine_name)
    if whole is not None:
        return whole
    if _DECODE_TOKEN.search(engine_name) is None:
        return engine_name
    return _DECODE_TOKEN.sub(_decode_token, engine_name)


def round_trips(engine_name: str) -> bool:
    """Whether storing ``engine_name`` on MEGA lists back as the same engine name.

    The backend refuses names for which this is False rather than upload a node whose listed name differs,
    which every later sync would see as a missing file and upload again.
    """
    return to_engine(to_mega(engine_name)) == engine_name


def is_representable(mega_name: str) -> bool:
    """Whether ``mega_name`` can be used unchanged as an engine name (the ``encoding: raw`` mode).

    In raw mode the backend skips, with a notice, MEGA nodes for which this is False instead of letting them
    address a different or enclosing path.
    """
    return mega_name not in ("", ".", "..") and "/" not in mega_name and "\x00" not in mega_name


# A lone surrogate: a byte of invalid UTF-8 (Python's surrogateescape), or an escape no UTF-8 text can hold.
_SURROGATE = re.compile("[\ud800-\udfff]")


def is_raw_name(name: str) -> bool:
    """Whether ``encoding: raw`` uses ``name`` as it is, both ways: a MEGA name listed as the engine name,
    an engine name stored as the MEGA name.

    That takes :func:`is_representable` and valid Unicode: a lone surrogate stands for invalid UTF-8 (a
    name another client wrote, or a local file name that is not UTF-8), which raw mode can neither list
    as a name nor write as one that MEGA's apps would show. The backend skips such MEGA nodes with a
    warning and refuses such engine names with InvalidName.
    """
    return is_representable(name) and _SURROGATE.search(name) is None
