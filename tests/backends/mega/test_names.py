"""The MEGA name <-> engine name mapping in backends/mega/names.py.

MEGA names may contain '/' or NUL or be '.' / '..'; listed verbatim they would escape the local root or
collide, and a mapping that is not reversible would rename or duplicate files on every sync. So: one example
per rule (including the quote's position-dependent doubling and surrogates passing through), and hypothesis
properties that every MEGA name round-trips, that no engine name is unsafe, that the engine names the backend
accepts (round_trips) come back unchanged, and that ordinary names are untouched.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.mega.names import (
    DOT,
    NUL_LOOKALIKE,
    QUOTE,
    SLASH_LOOKALIKE,
    is_representable,
    round_trips,
    to_engine,
    to_mega,
)

Q, N, S, D = QUOTE, NUL_LOOKALIKE, SLASH_LOOKALIKE, DOT
SPECIALS = (Q, N, S, D, "/", "\x00")

# (MEGA name, engine name); to_mega must invert each of these too.
EXAMPLES = [
    ("", ""),
    ("plain.txt", "plain.txt"),
    # whole-name rules
    (".", D),
    ("..", D + D),
    (D, Q + D),
    (D + D, Q + D + Q + D),
    ("...", "..."),
    (".x", ".x"),
    ("x" + D, "x" + D),
    (D + D + D, D + D + D),
    # quote + dot whole names are not in the brief's rules: see names.py
    (Q + D, Q + Q + D),
    (Q + D + Q + D, Q + Q + D + Q + Q + D),
    (Q + D + D, Q + D + D),
    # per-character rules
    ("a\x00b", f"a{N}b"),
    ("\x00", N),
    ("a/b", f"a{S}b"),
    ("/", S),
    ("../etc", f"..{S}etc"),
    (f"a{N}b", f"a{Q}{N}b"),
    (f"a{S}b", f"a{Q}{S}b"),
    # the quote: doubled only before something whose encoding starts with a look-alike or the quote
    (Q, Q),
    (f"{Q}x", f"{Q}x"),
    (f"x{Q}", f"x{Q}"),
    (f"a{Q}b", f"a{Q}b"),
    (f"{Q}/", f"{Q}{Q}{S}"),
    (f"{Q}\x00", f"{Q}{Q}{N}"),
    (f"a{Q}{N}b", f"a{Q}{Q}{Q}{N}b"),
    (f"a{Q}{S}b", f"a{Q}{Q}{Q}{S}b"),
    (f"{Q}{Q}", f"{Q}{Q}{Q}"),
    (f"{Q}{Q}x", f"{Q}{Q}{Q}x"),
    (f"{Q}{Q}/", f"{Q}{Q}{Q}{Q}{S}"),
    (f"{Q}{D}x", f"{Q}{D}x"),
    # lone surrogates from surrogateescape pass through
    ("\udcff", "\udcff"),
    ("a\udc80/\udcff", f"a\udc80{S}\udcff"),
    (b"\xff\xfe.bin".decode("utf-8", "surrogateescape"), "\udcff\udcfe.bin"),
]


@pytest.mark.parametrize(("mega", "engine"), EXAMPLES)
def test_examples(mega: str, engine: str) -> None:
    assert to_engine(mega) == engine
    assert to_mega(engine) == mega
    assert round_trips(engine)


@pytest.mark.parametrize(
    ("engine", "mega"),
    [
        (f"{Q}{Q}x", f"{Q}x"),
        (f"{Q}{Q}", Q),
        (f"a{Q}{Q}{D}", f"a{Q}{D}"),
        (f"{Q}{Q}{D}{Q}{D}", f"{Q}{D}{Q}{D}"),
    ],
)
def test_engine_names_outside_the_image(engine: str, mega: str) -> None:
    assert to_mega(engine) == mega
    assert to_engine(mega) != engine
    assert not round_trips(engine)


def test_plain_names_are_returned_unchanged() -> None:
    name = "".join(["report-2024", "_final.pdf"])  # not interned with a literal
    assert to_engine(name) is name
    assert to_mega(name) is name


@pytest.mark.parametrize(
    ("name", "representable"),
    [
        ("", False),
        (".", False),
        ("..", False),
        ("a/b", False),
        ("/", False),
        ("a\x00", False),
        ("...", True),
        (".hidden", True),
        (D, True),
        (f"{Q}{N}{S}", True),
        ("\udcff", True),
    ],
)
def test_is_representable(name: str, representable: bool) -> None:
    assert is_representable(name) is representable


any_text = st.text(alphabet=st.characters(codec=None), max_size=12)  # includes lone surrogates
special_text = st.text(alphabet=st.sampled_from([*SPECIALS, ".", "a", "\udcff"]), max_size=10)
names = st.one_of(any_text, special_text)
plain_text = st.text(
    alphabet=st.characters(codec=None, exclude_characters="".join(SPECIALS)), max_size=20
).filter(lambda s: s not in ("", ".", ".."))

# What the engine can hand the backend: no '/', NUL, '.' or '..'.
engine_names = st.one_of(
    st.text(alphabet=st.characters(codec=None, exclude_characters="/\x00"), max_size=12),
    st.text(alphabet=st.sampled_from([Q, N, S, D, ".", "a", "\udcff"]), max_size=10),
).filter(lambda s: s not in (".", ".."))

FAST = settings(max_examples=200, deadline=None)


@FAST
@given(names)
def test_every_mega_name_round_trips(mega: str) -> None:
    engine = to_engine(mega)
    assert to_mega(engine) == mega
    assert round_trips(engine)


@FAST
@given(names)
def test_engine_names_are_safe(mega: str) -> None:
    engine = to_engine(mega)
    assert "/" not in engine
    assert "\x00" not in engine
    if mega:
        assert engine not in ("", ".", "..")
    else:
        assert engine == ""


@FAST
@given(engine_names)
def test_accepted_engine_names_come_back(engine: str) -> None:
    if round_trips(engine):
        assert to_engine(to_mega(engine)) == engine
    else:
        # only a doubled quote the encoder would not have written can be outside the image
        assert Q + Q in engine
    # whatever the engine name, what is stored on MEGA lists back as a fixed point
    stored = to_engine(to_mega(engine))
    assert round_trips(stored)


@FAST
@given(plain_text)
def test_plain_names_are_the_identity(name: str) -> None:
    assert to_engine(name) == name
    assert to_mega(name) == name
    assert round_trips(name)


@FAST
@given(names, names)
def test_to_engine_is_injective(a: str, b: str) -> None:
    if a != b:
        assert to_engine(a) != to_engine(b)
