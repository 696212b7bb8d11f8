"""Reading the YAML config file: composed with PyYAML so every node keeps its line for error messages.

Split from ``config`` so that a command run without a config file never imports PyYAML.
"""

from __future__ import annotations

import re
import shlex
import typing
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from backends.errors import ConfigError
from backends.registry import Registry, RemoteConfig
from backends.secret_values import Secret

from .config import (
    COMMAND_SUFFIX,
    DEFAULTS_KEYS,
    LOG_LEVELS,
    POSITIVE_DEFAULTS,
    ROOT_KEY,
    TOP_LEVEL_KEYS,
    TYPE_KEY,
    Config,
    config_error,
    one_line,
)
from .option_schema import expected_choice
from .option_schema import schema as _schema
from .option_schema import unwrap_optional as _unwrap_optional

__all__ = ["Validator"]

#: libyaml's parser when PyYAML was built with it (much faster), else the pure-Python one; both are safe.
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: rclone's rule for remote names (the same as ``backends.registry``'s).
_REMOTE_NAME = re.compile(r"[\w.+@-][\w.+@ -]*")
#: ``$${`` (a literal ``${``) or ``${NAME}``; an unterminated ``${`` has an empty ``close`` group.
_INTERPOLATION = re.compile(r"\$\$\{|\$\{(?P<name>[^}]*)(?P<close>\}?)")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TAG = "tag:yaml.org,2002:"
_TAG_NAMES = {
    "str": "a string",
    "int": "an integer",
    "float": "a number",
    "bool": "a boolean",
    "null": "nothing (null)",
    "timestamp": "a date",
    "binary": "binary data",
    "seq": "a list",
    "map": "a mapping",
    "set": "a set",
    "omap": "an ordered mapping",
    "pairs": "a list of pairs",
}


def _compose(path: str, data: bytes) -> Node | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: invalid YAML: the file is not valid UTF-8") from None
    try:
        try:
            return yaml.compose(text, Loader=_LOADER)
        except yaml.reader.ReaderError:
            # libyaml reports a byte offset; the pure-Python reader reports the character index used below.
            return yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        raise _yaml_error(path, exc) from None
    except yaml.reader.ReaderError as exc:
        line = text[: exc.position].count("\n") + 1
        raise ConfigError(f"{path}:{line}: invalid YAML: {exc.reason}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {one_line(str(exc))}") from None


def _yaml_error(path: str, exc: yaml.MarkedYAMLError) -> ConfigError:
    # An unclosed bracket or quote is found lines later: its context mark is where it began, the line to fix.
    # Elsewhere (bad indentation) the context is the enclosing block and the problem mark is the culprit.
    context = exc.context or ""
    unclosed = exc.context_mark is not None and ("flow" in context or "quoted" in context)
    mark = exc.context_mark if unclosed else (exc.problem_mark or exc.context_mark)
    line = f":{mark.line + 1}" if mark is not None else ""
    problem = exc.problem or exc.context or "cannot parse"
    if exc.problem and exc.context:
        problem = f"{exc.problem} ({exc.context})"
    return ConfigError(f"{path}{line}: invalid YAML: {one_line(problem)}")


def _tag_name(node: Node) -> str:
    if isinstance(node, SequenceNode) and node.tag == _TAG + "seq":
        return "a list"
    if isinstance(node, MappingNode) and node.tag == _TAG + "map":
        return "a mapping"
    if node.tag.startswith(_TAG):
        suffix = node.tag[len(_TAG) :]
        return _TAG_NAMES.get(suffix, f"a {suffix}")
    return f"a value tagged {node.tag}"


def _is_null(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag == _TAG + "null"


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


class Validator:
    """Validation of one file; holds the file's path (for messages) and the environment (for ``${VAR}``)."""

    def __init__(self, path: str, env: Mapping[str, str], registry: Registry) -> None:
        self.path = path
        self.env = env
        self.registry = registry
        self.constructor = SafeConstructor()

    def error(self, node: Node | None, key: str, message: str) -> ConfigError:
        return config_error(self.path, node, key, message)

    def load(self, data: bytes) -> Config:
        root = _compose(self.path, data)
        if root is None or _is_null(root):
            return Config(path=self.path)
        self.check_duplicates(root, "", set())
        if not isinstance(root, MappingNode):
            raise self.error(root, "", f"the top level must be a mapping, not {_tag_name(root)}")
        remotes: dict[str, RemoteConfig] = {}
        defaults: dict[str, Any] = {}
        filters: Any = None
        jobs: Any = None
        nodes: dict[str, Node] = {}
        for key, key_node, value in self.items(root, ""):
            nodes[key] = value
            if key == "remotes":
                remotes = self.remotes(value)
            elif key == "defaults":
                defaults = self.defaults(value)
            elif key == "filters":
                filters = self.raw(value, key, MappingNode)
            elif key == "jobs":
                jobs = self.raw(value, key, SequenceNode)
            else:
                known = ", ".join(TOP_LEVEL_KEYS)
                raise self.error(key_node, key, f"unknown top-level key {key!r} (known: {known})")
        return Config(
            path=self.path, remotes=remotes, defaults=defaults, filters=filters, jobs=jobs, nodes=nodes
        )

    # -- structure ------------------------------------------------------------------------------------------

    def check_duplicates(self, node: Node, key: str, seen: set[int]) -> None:
        """Reject a mapping that repeats a key anywhere in the document (PyYAML keeps the last silently)."""
        if id(node) in seen:  # an alias: already checked, and possibly recursive
            return
        seen.add(id(node))
        if isinstance(node, MappingNode):
            first: dict[str, int] = {}
            for key_node, value in node.value:
                if isinstance(key_node, ScalarNode):
                    name = str(key_node.value)
                    line = key_node.start_mark.line + 1 if key_node.start_mark is not None else 0
                    if name in first:
                        raise self.error(
                            key_node,
                            _join(key, name),
                            f"duplicate key {name!r} (first set at line {first[name]})",
                        )
                    first[name] = line
                    self.check_duplicates(value, _join(key, name), seen)
                else:
                    self.check_duplicates(value, key, seen)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self.check_duplicates(item, f"{key}[{index}]", seen)

    def items(self, node: MappingNode, prefix: str) -> Iterator[tuple[str, ScalarNode, Node]]:
        """The (key, key node, value node) of a mapping whose keys are plain strings."""
        for key_node, value in node.value:
            if not isinstance(key_node, ScalarNode):
                raise self.error(key_node, prefix, f"keys must be plain strings, not {_tag_name(key_node)}")
            if key_node.tag == _TAG + "merge":
                raise self.error(key_node, prefix, "merge keys ('<<') are not supported here")
            if key_node.tag == _TAG + "null" and key_node.value in ("", "~"):
                raise self.error(key_node, prefix, "empty key")
            yield str(key_node.value), key_node, value

    def mapping(self, node: Node, key: str, what: str = "a mapping") -> MappingNode | None:
        """``node`` as a mapping; None for an empty value (``remotes:`` with nothing after it)."""
        if _is_null(node):
            return None
        if not isinstance(node, MappingNode):
            raise self.error(node, key, f"expected {what}, got {_tag_name(node)}")
        return node

    def raw(self, node: Node, key: str, kind: type[Node]) -> Any:
        """The plain Python data of a reserved section (validated by the feature that owns it)."""
        if _is_null(node):
            return None
        if not isinstance(node, kind):
            expected = "a mapping" if kind is MappingNode else "a list"
            raise self.error(node, key, f"expected {expected}, got {_tag_name(node)}")
        return self.construct(node, key)

    def construct(self, node: Node, key: str) -> Any:
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            raise _yaml_error(self.path, exc) from None
        except (TypeError, ValueError) as exc:
            raise self.error(node, key, f"invalid value: {exc}") from None

    # -- sections -------------------------------------------------------------------------------------------

    def remotes(self, node: Node) -> dict[str, RemoteConfig]:
        mapping = self.mapping(node, "remotes", "a mapping of remote names to remotes")
        if mapping is None:
            return {}
        remotes: dict[str, RemoteConfig] = {}
        for name, key_node, value in self.items(mapping, "remotes"):
            keypath = _join("remotes", name)
            if not _REMOTE_NAME.fullmatch(name):
                raise self.error(
                    key_node,
                    keypath,
                    f"invalid remote name {name!r}: use letters, digits, '_', '.', '+', '@', '-' and spaces, "
                    "not starting with a space",
                )
            remotes[name] = self.remote(name, key_node, value, keypath)
        return remotes

    def remote(self, name: str, key_node: ScalarNode, node: Node, keypath: str) -> RemoteConfig:
        mapping = self.mapping(node, keypath)
        if mapping is None:
            raise self.error(key_node, keypath, "missing 'type'")
        entries = list(self.items(mapping, keypath))
        type_entry = next((e for e in entries if e[0] == TYPE_KEY), None)
        if type_entry is None:
            raise self.error(key_node, keypath, "missing 'type'")
        type_node = type_entry[2]
        type_key = _join(keypath, TYPE_KEY)
        if not (isinstance(type_node, ScalarNode) and type_node.tag == _TAG + "str"):
            raise self.error(type_node, type_key, f"expected a string, got {_tag_name(type_node)}")
        type_name = str(type_node.value)
        try:
            backend = self.registry.backend_class(type_name)
        except ConfigError as exc:
            raise self.error(type_node, type_key, exc.message) from None
        except ImportError as exc:
            raise self.error(
                type_node, type_key, f"remote type {type_name!r} is not available: {exc}"
            ) from None
        options_class = backend.Options
        schema = _schema(options_class)
        known = sorted(
            [ROOT_KEY, *schema, *(f + COMMAND_SUFFIX for f, spec in schema.items() if spec.secret)]
        )

        root = ""
        values: dict[str, Any] = {}
        given: dict[str, ScalarNode] = {}
        aliases = {alias: spec.key for spec in schema.values() for alias in spec.aliases}
        for written, option_key_node, value in entries:
            option_path = _join(keypath, written)
            key = aliases.get(written, written)
            if written.endswith(COMMAND_SUFFIX) and written.removesuffix(COMMAND_SUFFIX) in aliases:
                key = aliases[written.removesuffix(COMMAND_SUFFIX)] + COMMAND_SUFFIX
            if key == TYPE_KEY:
                continue
            if key == ROOT_KEY:
                root = self.string(value, option_path)
                continue
            base = key.removesuffix(COMMAND_SUFFIX)
            if key in schema:
                spec, is_command = schema[key], False
            elif key != base and base in schema and schema[base].secret:
                spec, is_command = schema[base], True
            else:
                raise self.error(
                    option_key_node,
                    option_path,
                    f"unknown option {written!r} for remote type {type_name} (known: {', '.join(known)})",
                )
            if spec.name in given:
                other = str(given[spec.name].value)
                raise self.error(
                    option_key_node,
                    option_path,
                    f"set either {spec.key!r} or {spec.key + COMMAND_SUFFIX!r}, not both "
                    f"({other!r} is at line {_line(given[spec.name])})",
                )
            given[spec.name] = option_key_node
            if is_command:
                values[spec.name] = self.command_secret(value, option_path)
            else:
                values[spec.name] = self.value(spec.hint, value, option_path)

        for spec in schema.values():
            if spec.required and spec.name not in values:
                alternative = f" or '{spec.key}{COMMAND_SUFFIX}'" if spec.secret else ""
                raise self.error(key_node, keypath, f"missing required option '{spec.key}'{alternative}")
        try:
            options = options_class(**values)
        except ConfigError as exc:
            raise self.error(key_node, keypath, exc.message) from None
        except (TypeError, ValueError) as exc:
            raise self.error(key_node, keypath, f"invalid options: {exc}") from None
        return RemoteConfig(name=name, type=type_name, options=options, root=root)

    def defaults(self, node: Node) -> dict[str, Any]:
        mapping = self.mapping(node, "defaults")
        if mapping is None:
            return {}
        out: dict[str, Any] = {}
        for key, key_node, value in self.items(mapping, "defaults"):
            keypath = _join("defaults", key)
            hint = DEFAULTS_KEYS.get(key)
            if hint is None:
                known = ", ".join(sorted(DEFAULTS_KEYS))
                raise self.error(key_node, keypath, f"unknown option {key!r} in defaults (known: {known})")
            result = self.value(hint, value, keypath)
            if key == "log_level":
                level = str(result).upper()
                if level not in LOG_LEVELS:
                    raise self.error(
                        value, keypath, f"expected one of {', '.join(LOG_LEVELS)}, got {str(result)!r}"
                    )
                result = level
            elif key == "debris_keep":
                from filters import FilterError, parse_duration

                try:
                    parse_duration(str(result))
                except FilterError as exc:
                    raise self.error(value, keypath, str(exc)) from None
            elif key in POSITIVE_DEFAULTS and result <= 0:
                raise self.error(value, keypath, f"must be a positive integer, got {result}")
            out[key] = result
        return out

    # -- values ---------------------------------------------------------------------------------------------

    def value(self, hint: Any, node: Node, keypath: str) -> Any:
        """``node`` converted to the annotated type ``hint`` (see ``_check_hint`` for the types supported)."""
        optional, hint = _unwrap_optional(hint)
        if optional and _is_null(node):
            return None
        if hint is Secret:
            return Secret(self.string(node, keypath))
        if hint is str:
            return self.string(node, keypath)
        if hint is bool:
            return self.scalar(node, keypath, ("bool",), "a boolean (true or false)")
        if hint is int:
            return self.scalar(node, keypath, ("int",), "an integer")
        if hint is float:
            return float(self.scalar(node, keypath, ("int", "float"), "a number"))
        if typing.get_origin(hint) is Literal:
            choices = typing.get_args(hint)
            text = self.string(node, keypath)
            if text not in choices:
                raise self.error(node, keypath, expected_choice(choices, text))
            return text
        if typing.get_origin(hint) is list:
            if not isinstance(node, SequenceNode):
                raise self.error(node, keypath, f"expected a list of strings, got {_tag_name(node)}")
            return [self.string(item, f"{keypath}[{i}]") for i, item in enumerate(node.value)]
        raise TypeError(f"unsupported option type {hint!r}")  # _schema rejects these up front

    def scalar(self, node: Node, keypath: str, tags: tuple[str, ...], expected: str) -> Any:
        if not (isinstance(node, ScalarNode) and node.tag in {_TAG + t for t in tags}):
            raise self.error(node, keypath, f"expected {expected}, got {_tag_name(node)}")
        return self.construct(node, keypath)

    def string(self, node: Node, keypath: str) -> str:
        if not (isinstance(node, ScalarNode) and node.tag == _TAG + "str"):
            raise self.error(node, keypath, f"expected a string, got {_tag_name(node)}")
        return self.interpolate(str(node.value), node, keypath)

    def interpolate(self, text: str, node: Node, keypath: str) -> str:
        """Replace ``${NAME}`` with the environment variable NAME and ``$${`` with ``${``."""
        if "$" not in text:
            return text

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            name = match.group("name")
            if not match.group("close"):
                raise self.error(node, keypath, "unterminated '${' (write '$${' for a literal '${')")
            if not _ENV_NAME.fullmatch(name):
                raise self.error(node, keypath, f"invalid environment variable name {name!r} in '${{...}}'")
            value = self.env.get(name)
            if value is None:
                raise self.error(node, keypath, f"environment variable {name!r} is not set")
            return value

        return _INTERPOLATION.sub(replace, text)

    def command_secret(self, node: Node, keypath: str) -> Secret:
        """A lazily evaluated Secret for ``X_command``: split as written, then interpolate each word."""
        if not (isinstance(node, ScalarNode) and node.tag == _TAG + "str"):
            raise self.error(node, keypath, f"expected a command (a string), got {_tag_name(node)}")
        written = str(node.value)
        try:
            words = shlex.split(written)
        except ValueError as exc:
            raise self.error(node, keypath, f"cannot parse command: {exc}") from None
        if not words:
            raise self.error(node, keypath, "empty command")
        argv = [self.interpolate(word, node, keypath) for word in words]
        source = f"{self.path}:{_line(node)}: {keypath}"
        return Secret.from_command(written, argv=argv, source=source)


def _line(node: Node) -> int:
    return node.start_mark.line + 1 if node.start_mark is not None else 0
