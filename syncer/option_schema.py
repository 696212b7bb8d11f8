"""The typed fields of a backend's Options dataclass: what the config file, ``SYNCER_<TYPE>_<KEY>`` variables
and ``--<type>-<key>`` flags may set, and how text (a flag or a variable) becomes a value of the field's type.

Kept apart from ``config_loader`` so that reading a flag never imports PyYAML: the config file, the
environment and the command line all validate against the one schema built here.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal

from backends.secret_values import Secret

__all__ = ["OptionField", "check_hint", "from_text", "schema", "unwrap_optional"]

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


@dataclass(frozen=True)
class OptionField:
    """One field of a backend's Options: its annotated type and whether it is secret or required.

    ``argv`` marks a secret that may still be a flag because it is worthless once used (a one-time 2FA
    code); every other secret is refused on the command line, where other users can read it.
    """

    name: str
    hint: Any
    secret: bool
    required: bool
    key: str = ""  # the YAML key, when it is not ``name``
    help: str = ""
    argv: bool = False
    #: other YAML spellings accepted for this key (``password`` for ``pass``)
    aliases: tuple[str, ...] = ()

    @property
    def is_bool(self) -> bool:
        return unwrap_optional(self.hint)[1] is bool


def unwrap_optional(hint: Any) -> tuple[bool, Any]:
    """(True, T) for ``T | None`` / ``Optional[T]``, else (False, hint)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) == 1 and len(typing.get_args(hint)) == 2:
            return True, args[0]
    return False, hint


def check_hint(options_class: type[Any], name: str, hint: Any) -> None:
    """Options fields: bool, int, float, str, Secret, list[str] or Literal[str, ...], or ``T | None``."""
    _, base = unwrap_optional(hint)
    if base in (bool, int, float, str, Secret):
        return
    if typing.get_origin(base) is list and typing.get_args(base) == (str,):
        return
    if typing.get_origin(base) is Literal and all(isinstance(a, str) for a in typing.get_args(base)):
        return
    raise TypeError(f"{options_class.__qualname__}.{name}: unsupported option type {hint!r}")


_SCHEMAS: dict[type[Any], dict[str, OptionField]] = {}


def schema(options_class: type[Any]) -> dict[str, OptionField]:
    """The fields of a backend's Options dataclass by YAML key, annotations resolved (cached per class)."""
    cached = _SCHEMAS.get(options_class)
    if cached is not None:
        return cached
    if not dataclasses.is_dataclass(options_class):
        raise TypeError(f"{options_class.__qualname__} is not a dataclass")
    hints = typing.get_type_hints(options_class)
    fields: dict[str, OptionField] = {}
    for f in dataclasses.fields(options_class):
        # ``internal`` fields are set by the program (a state directory), not by users; ``key`` is the YAML
        # spelling where the field name cannot be it (``pass`` is a Python keyword)
        if not f.init or f.metadata.get("internal"):
            continue
        hint = hints[f.name]
        check_hint(options_class, f.name, hint)
        key = f.metadata.get("key", f.name)
        fields[key] = OptionField(
            key=key,
            name=f.name,
            hint=hint,
            secret=unwrap_optional(hint)[1] is Secret,
            required=f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
            help=str(f.metadata.get("help", "")),
            argv=bool(f.metadata.get("argv", False)),
            aliases=tuple(f.metadata.get("aliases", ())),
        )
    _SCHEMAS[options_class] = fields
    return fields


def expected_choice(choices: tuple[Any, ...], text: str) -> str:
    """The message for a value outside a Literal's choices (the config file says the same)."""
    return f"expected one of {', '.join(map(str, choices))}, got {text!r}"


def from_text(spec: OptionField, text: str) -> Any:
    """``text`` (a flag's or an environment variable's value) as a value of the field's type.

    Strings are taken as they are (the shell has already expanded them); a secret becomes a ``Secret``.
    Raises ValueError with a message naming what was expected, never echoing a secret.
    """
    optional, hint = unwrap_optional(spec.hint)
    if hint is Secret:
        return Secret(text)
    if hint is str:
        return text
    word = text.strip()
    if optional and word.lower() in ("", "null", "none", "~"):
        return None
    if hint is bool:
        lowered = word.lower()
        if lowered in _TRUE | _FALSE:
            return lowered in _TRUE
        raise ValueError(f"expected true or false, got {text!r}")
    if hint is int:
        try:
            return int(word)
        except ValueError:
            raise ValueError(f"expected an integer, got {text!r}") from None
    if hint is float:
        try:
            return float(word)
        except ValueError:
            raise ValueError(f"expected a number, got {text!r}") from None
    if typing.get_origin(hint) is Literal:
        choices = typing.get_args(hint)
        if word not in choices:
            raise ValueError(expected_choice(choices, word))
        return word
    if typing.get_origin(hint) is list:
        return [item.strip() for item in text.split(",") if item.strip()]
    raise TypeError(f"unsupported option type {hint!r}")  # schema() rejects these up front
