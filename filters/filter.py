"""The filter of one command: rclone's rules, size and age limits, --files-from, --exclude-if-present,
and the ignore files found while walking.

A ``Filter`` is built once per command from ``FilterOptions`` and then asked, for every entry of the walk,
whether it is included. The walker's contract (the same for both sides of a sync):

1. ``f = Filter(options)``; for the root and every directory it lists, ``g = f.enter(dir, names, read)``
   (skippable when ``needs_enter`` is False). ``None`` means the directory is excluded as a whole
   (``--exclude-if-present``): it is neither listed nor entered, even when it is the root.
2. For each entry of that directory, ask ``g``: ``g.include_dir(path)`` for a directory (False: skip it and
   its whole subtree), ``g.include(path, size=..., mtime_ns=...)`` for a file.

Paths are relative to the remote's root, '/'-separated, without leading or trailing '/'; "" is the root.
Everything is precompiled, and a Filter that filters nothing answers in one attribute check.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, fields

from filters.errors import FilterError
from filters.ignorefile import SYNCIGNORE, IgnoreFiles
from filters.rules import Rules, compile_rules, read_rules_file

__all__ = [
    "Filter",
    "FilterOptions",
    "format_size",
    "parse_duration",
    "parse_files_from",
    "parse_size",
]


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """Everything that decides what a command sees; mirrors rclone's filter flags.

    Rule flags keep their own lists because rclone orders rules by flag kind, not by position (see
    ``filters.rules``). ``*_from`` and ``files_from`` are local file paths, read when the Filter is built.
    Sizes are bytes and ages seconds (``parse_size`` / ``parse_duration`` turn flag text into them);
    None means "no limit". ``ignore_files`` are the names of gitignore-style files honoured in every
    directory; ``megaignore`` turns MEGA's .megaignore on or off.
    """

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    filter_rules: tuple[str, ...] = ()
    include_from: tuple[str, ...] = ()
    exclude_from: tuple[str, ...] = ()
    filter_from: tuple[str, ...] = ()
    files_from: tuple[str, ...] = ()
    exclude_if_present: tuple[str, ...] = ()
    min_size: int | None = None
    max_size: int | None = None
    min_age: float | None = None
    max_age: float | None = None
    delete_excluded: bool = False
    ignore_case: bool = False
    ignore_files: tuple[str, ...] = (SYNCIGNORE,)
    megaignore: bool = True

    def __post_init__(self) -> None:
        # Accept any sequence (a YAML list, argparse's list) but store tuples, so options stay hashable.
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, list):
                object.__setattr__(self, field.name, tuple(value))
        for name in ("min_size", "max_size"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise FilterError(f"{name} can't be negative: {value}")


# --- sizes and durations, with rclone's syntax --------------------------------------------------------

# Go's strconv.ParseFloat syntax for the decimal numbers rclone accepts (ASCII digits; no inf/nan/spaces).
_DIGITS = "[0-9](?:_?[0-9])*"
_GO_FLOAT = re.compile(rf"[+-]?(?:{_DIGITS}(?:\.(?:{_DIGITS})?)?|\.{_DIGITS})(?:[eE][+-]?{_DIGITS})?")
_SIZE_UNITS = {"k": 1, "m": 2, "g": 3, "t": 4, "p": 5, "e": 6}


def _go_float(text: str) -> float | None:
    return float(text.replace("_", "")) if _GO_FLOAT.fullmatch(text) else None


def parse_size(text: str) -> int | None:
    """Parse an rclone size (``--min-size``/``--max-size``): bytes, or None for "off".

    rclone's SizeSuffix: a plain number is KiB (``100`` = 102400 bytes); suffixes ``b``/``B`` bytes,
    ``k``/``K`` KiB, ``M`` MiB, ``G`` GiB, ``T``, ``P``, ``E``, optionally written ``Ki``/``KiB``; fractions
    allowed (``1.5G``), result truncated to whole bytes. FilterError with a one-line reason otherwise.
    """

    def bad(reason: str) -> FilterError:
        return FilterError(f'invalid size "{text}": {reason}')

    if not text:
        raise bad("empty string")
    if text.lower() == "off":
        return None
    suffix = text[-1]
    number = text[:-1]
    if suffix in "0123456789.":
        number, multiplier = text, 1024
    elif suffix in "bB":
        multiplier = 1
        if len(text) > 2 and text[-2] == "i":
            unit = text[-3]
            if unit.lower() not in _SIZE_UNITS:
                raise bad(f"bad suffix '{unit}'")
            number, multiplier = text[:-3], 1024 ** _SIZE_UNITS[unit.lower()]
    elif suffix in "iI":
        unit = text[-2] if len(text) > 1 else suffix
        if unit.lower() not in _SIZE_UNITS:
            raise bad(f"bad suffix '{unit}'")
        number, multiplier = text[:-2], 1024 ** _SIZE_UNITS[unit.lower()]
    elif suffix.lower() in _SIZE_UNITS:
        multiplier = 1024 ** _SIZE_UNITS[suffix.lower()]
    else:
        raise bad(f"bad suffix '{suffix}'")
    value = _go_float(number)
    if value is None:
        raise bad(f'not a number: "{number}"')
    if value < 0:
        raise bad("size can't be negative")
    return int(value * multiplier)


def format_size(size: int) -> str:
    """A size as rclone's dump prints it: ``0 B``, ``1023 B``, ``100 KiB``, ``1.500 MiB``."""
    scaled, unit = float(size), "B"
    for name in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if scaled < 1024:
            break
        scaled, unit = scaled / 1024, name
    return f"{scaled:.0f} {unit}" if scaled == math.floor(scaled) else f"{scaled:.3f} {unit}"


_GO_DURATION = re.compile(r"[-+]?(?:0|(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+)")
_GO_DURATION_PART = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")
_GO_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
# rclone's own suffixes, tried in this order after Go's syntax; "" (seconds) matches anything left.
_AGE_SUFFIXES = (("d", 86400.0), ("w", 7 * 86400.0), ("M", 30 * 86400.0), ("y", 365 * 86400.0), ("", 1.0))
_DATE_FORMATS = ("%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d")
_RFC3339 = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}(?::[0-9]{2}){2}(?:\.[0-9]+)?(?:Z|[+-][0-9]{2}:[0-9]{2})"
)


def _parse_date(text: str) -> float | None:
    """A date rclone accepts, as a POSIX timestamp; local time unless the text carries a zone."""
    from datetime import datetime  # not at start-up: most commands take no date

    if _RFC3339.fullmatch(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).timestamp()
        except ValueError:
            continue
    return None


def parse_duration(text: str, *, now: float | None = None) -> float | None:
    """Parse an rclone age (``--min-age``/``--max-age``) into seconds, or None for "off".

    As rclone's fs.Duration, tried in order: Go's duration syntax (``1h30m``, ``90s``, ``100ms``); a number
    with rclone's suffix ``d`` (days), ``w`` (weeks), ``M`` (30 days), ``y`` (365 days) or none (seconds);
    then a date (``2006-01-02``, ``2006-01-02 15:04:05``, ``2006-01-02T15:04:05``, RFC 3339) in local time,
    which means the age of that instant at ``now`` (default: the current time). Negative ages are
    accepted, as in rclone. FilterError with a one-line reason otherwise.
    """
    if text == "off":
        return None
    if _GO_DURATION.fullmatch(text):
        seconds = sum(float(n) * _GO_UNITS[u] for n, u in _GO_DURATION_PART.findall(text))
        return -seconds if text.startswith("-") else seconds
    for suffix, multiplier in _AGE_SUFFIXES:
        if text.endswith(suffix):
            value = _go_float(text[: len(text) - len(suffix)])
            if value is not None:
                return value * multiplier
            break
    instant = _parse_date(text)
    if instant is None:
        raise FilterError(
            f'invalid duration "{text}": expected e.g. 90s, 1h30m, 30d, 2w, 1M, 1y, 2006-01-02 or off'
        )
    return (time.time() if now is None else now) - instant


def parse_files_from(text: str) -> list[str]:
    """The paths of a --files-from file: stripped lines, '#'/';' comments and blank lines skipped, leading
    and trailing '/' removed (rclone's reading); duplicates are kept once, in first-seen order."""
    paths: dict[str, None] = {}
    for raw in text.split("\n"):
        line = raw.strip()
        if line and line[0] not in "#;":
            paths.setdefault(line.strip("/"), None)
    return list(paths)


def _read_files_from(paths: Sequence[str]) -> list[str]:
    files: dict[str, None] = {}
    for path in paths:
        files.update(dict.fromkeys(parse_files_from(read_rules_file(path).text)))
    return list(files)


def _format_time(ns: int) -> str:
    # Go's time.String() without the monotonic clock reading: "2006-01-02 15:04:05.999999999 -0700 MST".
    seconds, fraction = divmod(ns, 1_000_000_000)
    from datetime import datetime

    moment = datetime.fromtimestamp(seconds).astimezone()
    frac = f".{fraction:09d}".rstrip("0") if fraction else ""
    return f"{moment:%Y-%m-%d %H:%M:%S}{frac} {moment:%z} {moment.tzname()}"


class Filter:
    """The filter of one command (see the module docstring for how the walker uses it).

    Immutable: ``enter`` returns a filter for a subtree without touching this one, so the two sides of a
    sync, and parallel listings, can share it.
    """

    __slots__ = (
        "_active",
        "_dir_rules",
        "_dirs",
        "_exclude_if_present",
        "_file_rules",
        "_files",
        "_files_list",
        "_ignore",
        "_layered",
        "_limited",
        "_max_size",
        "_min_size",
        "_mtime_from",
        "_mtime_to",
        "_options",
        "_rules",
    )

    def __init__(self, options: FilterOptions | None = None, *, now: float | None = None) -> None:
        """Compile ``options``; ``now`` (a POSIX timestamp, default the current time) anchors the ages.

        Reads the *-from files. FilterError for a malformed rule (naming the file and line when it comes
        from a file), an unreadable file, --min-age above --max-age, or --files-from combined with other
        rclone filters (rclone refuses that too).
        """
        opts = options if options is not None else FilterOptions()
        self._options = opts
        rules = compile_rules(
            include=opts.include,
            include_from=[read_rules_file(path) for path in opts.include_from],
            exclude=opts.exclude,
            exclude_from=[read_rules_file(path) for path in opts.exclude_from],
            filter_rules=opts.filter_rules,
            filter_from=[read_rules_file(path) for path in opts.filter_from],
            ignore_case=opts.ignore_case,
        )
        self._rules = rules
        self._file_rules = rules.files if rules.files.rules else None
        self._dir_rules = rules.dirs if rules.dirs.rules else None
        if opts.min_age is not None and opts.max_age is not None and opts.min_age > opts.max_age:
            raise FilterError(
                f"--min-age ({opts.min_age:g}s) can't be larger than --max-age ({opts.max_age:g}s)"
            )
        now_ns = time.time_ns() if now is None else round(now * 1e9)
        self._mtime_to = None if opts.min_age is None else now_ns - round(opts.min_age * 1e9)
        self._mtime_from = None if opts.max_age is None else now_ns - round(opts.max_age * 1e9)
        self._min_size = opts.min_size
        self._max_size = opts.max_size
        self._limited = any(
            x is not None for x in (self._mtime_to, self._mtime_from, self._min_size, self._max_size)
        )
        self._exclude_if_present = frozenset(opts.exclude_if_present)
        self._files_list: tuple[str, ...] | None = None
        self._files: frozenset[str] | None = None
        self._dirs: frozenset[str] | None = None
        if opts.files_from:
            if rules or self._limited or self._exclude_if_present:
                raise FilterError(
                    "the usage of --files-from overrides all other filters, it should be used alone"
                )
            self._files_list = tuple(_read_files_from(opts.files_from))
            self._files = frozenset(self._files_list)
            dirs: set[str] = set()
            for path in self._files_list:
                parent = path.rpartition("/")[0]
                while parent and parent not in dirs:
                    dirs.add(parent)
                    parent = parent.rpartition("/")[0]
            self._dirs = frozenset(dirs)
        self._ignore = IgnoreFiles(opts.ignore_files, megaignore=opts.megaignore)
        self._layered = False  # an ignore file is in effect (found by enter)
        self._active = bool(rules) or self._limited or self._files is not None

    # --- properties the walker and the engine read ----------------------------------------------------

    @property
    def options(self) -> FilterOptions:
        return self._options

    @property
    def active(self) -> bool:
        """False when nothing can be filtered out, so the walker may skip asking: no rule, limit,
        --files-from, --exclude-if-present or ignore file in effect (ignore files not yet found don't
        count: see ``needs_enter``)."""
        return self._active or bool(self._exclude_if_present)

    @property
    def needs_enter(self) -> bool:
        """Whether ``enter`` can return anything but this filter (some names are watched for)."""
        return bool(self._exclude_if_present or self._ignore.watched)

    @property
    def ignore_file_names(self) -> frozenset[str]:
        """The file names ``enter`` reads when a directory holds them (ignore files and .megaignore)."""
        return self._ignore.watched

    @property
    def exclude_if_present(self) -> frozenset[str]:
        """The names whose presence excludes a directory (``--exclude-if-present``)."""
        return self._exclude_if_present

    @property
    def files_from(self) -> tuple[str, ...] | None:
        """The --files-from paths (deduplicated, in order), or None when --files-from was not given."""
        return self._files_list

    @property
    def delete_excluded(self) -> bool:
        """--delete-excluded: a sync also deletes destination files this filter excludes."""
        return self._options.delete_excluded

    @property
    def rules(self) -> Rules:
        return self._rules

    # --- the questions ----------------------------------------------------------------------------------

    def include(
        self,
        path: str,
        *,
        is_dir: bool = False,
        size: int | None = None,
        mtime_ns: int | None = None,
        is_symlink: bool = False,
    ) -> bool:
        """Whether the entry ``path`` is included.

        For a directory this is ``include_dir(path)``. For a file: with --files-from only the listed paths;
        otherwise the age and size limits (``mtime_ns``: nanoseconds since the epoch; an unknown time, None,
        passes; an unknown size, None or -1, fails --min-size, as rclone's -1 does), then the rclone rules
        (first match wins), then the ignore files in effect. Assumes the parent directories were included.
        """
        if not self._active:
            return True
        if is_dir:
            return self.include_dir(path)
        if self._files is not None:
            if path not in self._files:
                return False
        else:
            if self._limited:
                if mtime_ns is not None:
                    if self._mtime_from is not None and mtime_ns < self._mtime_from:
                        return False
                    if self._mtime_to is not None and mtime_ns > self._mtime_to:
                        return False
                known = -1 if size is None else size
                if self._min_size is not None and known < self._min_size:
                    return False
                if self._max_size is not None and known > self._max_size:
                    return False
            rules = self._file_rules
            if rules is not None and not rules.include(path):
                return False
        if self._layered:
            return self._ignore.include(path, is_dir=False, size=size, is_symlink=is_symlink)
        return True

    def include_dir(self, path: str) -> bool:
        """Whether the directory ``path`` is listed and walked; False prunes its whole subtree.

        The root is always included. With --files-from, only the parents of listed files; otherwise
        rclone's directory rules (see ``filters.rules``), then the ignore files in effect.
        """
        if not self._active or not path:
            return True
        if self._dirs is not None:
            if path not in self._dirs:
                return False
        else:
            rules = self._dir_rules
            if rules is not None and not rules.include(path + "/"):
                return False
        if self._layered:
            return self._ignore.include(path, is_dir=True)
        return True

    def enter(self, directory: str, names: Collection[str], read: Callable[[str], bytes]) -> Filter | None:
        """The filter for the entries of ``directory`` ("" for the root), given the names it holds.

        None when one of ``names`` is an --exclude-if-present marker: the directory is excluded whole.
        Otherwise reads, through ``read(name)`` (bytes of a file of ``directory``), the ignore files among
        ``names`` and only those, and returns a filter that also applies them to this subtree; returns
        ``self`` when there are none. FilterError for a malformed ignore file; errors of ``read`` propagate.
        """
        if self._exclude_if_present and not self._exclude_if_present.isdisjoint(names):
            return None
        ignore = self._ignore.enter(directory, names, read)
        if ignore is self._ignore:
            return self
        child = Filter.__new__(Filter)
        for slot in Filter.__slots__:
            object.__setattr__(child, slot, getattr(self, slot))
        child._ignore = ignore
        child._layered = bool(ignore)
        child._active = self._active or child._layered
        return child

    def dump(self) -> str:
        """What ``rclone --dump filters`` prints for these options (the ignore files are not part of it)."""
        lines = ["--- start filters ---"]
        if self._mtime_from is not None:
            lines.append(
                f"Last-modified date must be equal or greater than: {_format_time(self._mtime_from)}"
            )
        if self._mtime_to is not None:
            lines.append(f"Last-modified date must be equal or less than: {_format_time(self._mtime_to)}")
        if self._min_size is not None:
            lines.append(f"Minimum size is: {format_size(self._min_size)}")
        if self._max_size is not None:
            lines.append(f"Maximum size is: {format_size(self._max_size)}")
        lines.extend(self._rules.dump_lines())
        lines.append("--- end filters ---")
        return "\n".join(lines)
