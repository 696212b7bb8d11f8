"""Backend options from the command line and the environment, as rclone has them: ``--mega-user``,
``--local-copy-links``, ``SYNCER_MEGA_USER``... one per field of each registered type's Options.

Names: the flag is ``--<type>-<key>`` and the variable ``SYNCER_<TYPE>_<KEY>``, ``key`` spelled as in YAML
(``--mega-2fa``, ``--mega-api-url``, ``SYNCER_MEGA_PASS``). Values apply to every remote of that type,
configured or on the fly (``:mega:``), over the config file: defaults < YAML < environment < flags.

Why the flags are taken out of argv before argparse sees them: building them means importing each backend's
Options, and the MEGA stack alone costs more than a small listing takes. So a type is imported only when a
flag names it (variables: when a remote of that type is opened, see ``Layered``), and rclone's syntax (a
bool flag alone is true, ``--flag=false`` turns it off, and never eats the next word) needs no argparse
contortions. ``--help`` lists them all.

Secrets: a field holding a Secret (a password) has no flag, since argv is readable by every user of the
machine; asking for one is a usage error saying where the value may come from. The environment form is
fine. The one exception is a field marked ``argv`` in its metadata (a one-time 2FA code, useless once used).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from backends.errors import ConfigError
from backends.registry import Registry

from .errors import UsageError

if TYPE_CHECKING:
    from .option_schema import OptionField

# ``option_schema`` (and the backend's module) is imported only once a flag or a variable names a type:
# every command starts here, most with neither.

__all__ = [
    "Layered",
    "TypeOptions",
    "add_help",
    "env_name",
    "flag_name",
    "from_env",
    "merge",
    "take_flags",
]

#: type name -> {Options field name -> value}: what ``open_backend`` lays over each remote's options.
TypeOptions = dict[str, dict[str, Any]]

COMMAND_SUFFIX = "_command"
ENV_PREFIX = "SYNCER_"


def flag_name(type_name: str, key: str) -> str:
    """``--mega-api-url`` for type ``mega``, key ``api_url``."""
    return f"--{type_name}-{key}".replace("_", "-")


def env_name(type_name: str, key: str) -> str:
    """``SYNCER_MEGA_API_URL`` for type ``mega``, key ``api_url``."""
    return (ENV_PREFIX + f"{type_name}_{key}".replace("-", "_")).upper()


def _fields(registry: Registry, type_name: str) -> dict[str, OptionField]:
    from .option_schema import schema

    return schema(registry.backend_class(type_name).Options)


def _from_text(spec: OptionField, text: str) -> Any:
    from .option_schema import from_text

    return from_text(spec, text)


def _types_by_length(registry: Registry) -> list[str]:
    # the longest first, so that a type whose name starts with another's is matched whole
    return sorted(registry.types, key=len, reverse=True)


def _secret_refusal(flag: str, type_name: str, spec: OptionField) -> UsageError:
    return UsageError(
        f"{flag}: {spec.key} is a secret, never taken on the command line (other users can read it there): "
        f"set '{spec.key}: ${{VAR}}' or '{spec.key}{COMMAND_SUFFIX}' in the config file, "
        f"or {env_name(type_name, spec.key)} in the environment"
    )


def _match(token: str, registry: Registry) -> tuple[str, str, str | None] | None:
    """(type, key spelled as in the flag, value after '=' or None) for a backend flag token, else None."""
    if not token.startswith("--"):
        return None
    name, eq, value = token[2:].partition("=")
    name = name.replace("_", "-")
    for type_name in _types_by_length(registry):
        prefix = type_name.replace("_", "-") + "-"
        if name.startswith(prefix) and len(name) > len(prefix):
            return type_name, name[len(prefix) :], value if eq else None
    return None


def take_flags(argv: Sequence[str], registry: Registry) -> tuple[list[str], TypeOptions]:
    """Split ``argv`` into the arguments argparse handles and the backend options the flags set.

    Stops at ``--``. A value flag takes ``--flag=V`` or ``--flag V``; a bool flag alone is true, and takes a
    value only after '='. Raises UsageError (one line, naming the flag) for an unknown flag, a missing or
    malformed value, or a secret.
    """
    rest: list[str] = []
    found: TypeOptions = {}
    tokens = list(argv)
    i = 0
    while i < len(tokens):
        token = tokens[i]
        i += 1
        if token == "--":
            rest.extend(tokens[i - 1 :])
            break
        matched = _match(token, registry)
        if matched is None:
            rest.append(token)
            continue
        type_name, spelled, value = matched
        try:
            fields = _fields(registry, type_name)
        except ImportError as exc:
            flag = token.partition("=")[0]
            raise UsageError(f"{flag}: remote type {type_name!r} is not available: {exc}") from None
        by_flag = {flag_name(type_name, key): spec for key, spec in fields.items()}
        flag = f"--{type_name}-{spelled}"
        spec = by_flag.get(flag)
        if spec is None:
            base = flag.removesuffix(COMMAND_SUFFIX.replace("_", "-"))
            secret = by_flag.get(base)
            if secret is not None and secret.secret:
                raise _secret_refusal(flag, type_name, secret)
            known = ", ".join(sorted(f for f, s in by_flag.items() if not s.secret or s.argv))
            raise UsageError(f"unknown flag {flag} (flags of {type_name} remotes: {known or 'none'})")
        if spec.secret and not spec.argv:
            raise _secret_refusal(flag, type_name, spec)
        if value is None:
            if spec.is_bool:
                value = "true"
            elif i < len(tokens):
                value = tokens[i]
                i += 1
            else:
                raise UsageError(f"flag {flag} needs a value")
        try:
            found.setdefault(type_name, {})[spec.name] = _from_text(spec, value)
        except ValueError as exc:
            raise UsageError(f"{flag}: {exc}") from None
    return rest, found


def _env_by_type(env: Mapping[str, str], registry: Registry) -> dict[str, list[tuple[str, str]]]:
    """The non-empty ``SYNCER_<TYPE>_*`` variables by type (by name only: nothing is imported)."""
    named = [(name, text) for name, text in env.items() if name.startswith(ENV_PREFIX) and text]
    found: dict[str, list[tuple[str, str]]] = {}
    for type_name in _types_by_length(registry):
        if not named:
            break
        prefix = env_name(type_name, "")
        mine = [item for item in named if item[0].startswith(prefix)]
        if mine:
            found[type_name] = mine
            named = [item for item in named if not item[0].startswith(prefix)]
    return found


def _parse_env(registry: Registry, type_name: str, given: list[tuple[str, str]]) -> dict[str, Any]:
    try:
        fields = _fields(registry, type_name)
    except ImportError as exc:
        raise ConfigError(f"{given[0][0]}: remote type {type_name!r} is not available: {exc}") from None
    return _env_values(type_name, fields, given)


def from_env(env: Mapping[str, str], registry: Registry) -> TypeOptions:
    """The backend options set by ``SYNCER_<TYPE>_<KEY>`` variables (empty ones are ignored, as for the
    global options); a secret may also come from ``SYNCER_<TYPE>_<KEY>_COMMAND``.

    Raises ConfigError, naming the variable and never its value, for an unknown or malformed one.
    """
    return {t: _parse_env(registry, t, given) for t, given in _env_by_type(env, registry).items()}


class Layered(Mapping[str, Mapping[str, Any]]):
    """What ``open_backend`` lays over each remote's options: the environment's values for a type, then the
    flags', read when that type is first looked up.

    Why lazily: a variable set for MEGA in a shell profile (``SYNCER_MEGA_USER``) must not make every local
    command import the MEGA stack to check it. Its errors (``from_env``'s) come when a remote of that type
    is opened. Flags were checked when argv was parsed: the user asked for that type on this command.
    """

    def __init__(self, env: Mapping[str, str], registry: Registry, flags: Mapping[str, dict[str, Any]]):
        self._registry = registry
        self._env = _env_by_type(env, registry)
        self._flags = flags
        self._types = sorted({*self._env, *flags})
        self._done: dict[str, dict[str, Any]] = {}

    def __getitem__(self, type_name: str) -> Mapping[str, Any]:
        done = self._done.get(type_name)
        if done is None:
            if type_name not in self._types:
                raise KeyError(type_name)
            given = self._env.get(type_name)
            done = _parse_env(self._registry, type_name, given) if given else {}
            done.update(self._flags.get(type_name, {}))
            self._done[type_name] = done
        return done

    def __iter__(self) -> Iterator[str]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)


def _env_values(
    type_name: str, fields: Mapping[str, OptionField], given: Iterable[tuple[str, str]]
) -> dict[str, Any]:
    by_name = {env_name(type_name, key): spec for key, spec in fields.items()}
    commands = {
        env_name(type_name, key + COMMAND_SUFFIX): spec for key, spec in fields.items() if spec.secret
    }
    values: dict[str, Any] = {}
    for name, text in sorted(given):
        spec = by_name.get(name)
        if spec is not None:
            if spec.name in values:
                raise ConfigError(f"set either {name} or {name}{COMMAND_SUFFIX.upper()}, not both")
            try:
                values[spec.name] = _from_text(spec, text)
            except ValueError as exc:
                raise ConfigError(f"{name}: {exc}") from None
            continue
        spec = commands.get(name)
        if spec is None:
            known = ", ".join(sorted([*by_name, *commands]))
            raise ConfigError(f"unknown variable {name} (variables of {type_name} remotes: {known})")
        if spec.name in values:
            raise ConfigError(f"set either {name.removesuffix(COMMAND_SUFFIX.upper())} or {name}, not both")
        from backends.secret_values import Secret

        values[spec.name] = Secret.from_command(text, source=name)
    return values


def merge(*layers: TypeOptions) -> TypeOptions:
    """The layers laid over each other in order, later ones winning field by field."""
    merged: TypeOptions = {}
    for layer in layers:
        for type_name, values in layer.items():
            merged.setdefault(type_name, {}).update(values)
    return merged


def add_help(parser: argparse.ArgumentParser, registry: Registry) -> None:
    """Groups listing every backend flag in ``parser``'s help (flags without a help text show their
    default). They are parsed by ``take_flags``, never by argparse: these entries only describe them."""
    for type_name in sorted(registry.types):
        try:
            fields = _fields(registry, type_name)
        except ImportError:
            continue
        usable = [spec for spec in fields.values() if not spec.secret or spec.argv]
        secrets = [spec for spec in fields.values() if spec.secret and not spec.argv]
        if not usable and not secrets:
            continue
        description = f"for every {type_name} remote; also {env_name(type_name, '')}<KEY> in the environment"
        if secrets:
            names = ", ".join(env_name(type_name, s.key) for s in secrets)
            description += f"; secrets only there or in the config ({names})"
        group = parser.add_argument_group(f"{type_name} remotes", description)
        defaults = _defaults(registry, type_name)
        for spec in usable:
            text = spec.help or spec.key
            default = defaults.get(spec.name)
            if default not in (None, "", False):
                text += f" (default {default})"
            flag, dest = flag_name(type_name, spec.key), f"_backend_flag_{type_name}_{spec.name}"
            shown = text.replace("%", "%%")
            if spec.is_bool:
                group.add_argument(
                    flag, dest=dest, action="store_true", default=argparse.SUPPRESS, help=shown
                )
            else:
                group.add_argument(flag, dest=dest, metavar="VALUE", default=argparse.SUPPRESS, help=shown)


def _defaults(registry: Registry, type_name: str) -> dict[str, Any]:
    import dataclasses

    options = registry.backend_class(type_name).Options
    out: dict[str, Any] = {}
    for f in dataclasses.fields(options):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
    return out
