"""Output formats of the listing commands, byte for byte as rclone prints them.

Pure functions of entries: the commands feed them from a walk and write the lines out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backends import Entry, HashType, Usage

from .errors import UsageError
from .humanize import count_suffix, size_suffix

__all__ = [
    "LocalTime",
    "LsfFormat",
    "about_text",
    "lsd_line",
    "lsjson_document",
    "lsjson_item",
    "size_text",
    "tree_lines",
]

#: rclone shows this time for a directory whose backend keeps no modification time.
_NO_TIME_NS = 946684800 * 10**9  # 2000-01-01T00:00:00Z


class LocalTime:
    """Formats epoch nanoseconds in the local time zone, caching per second (listings share seconds)."""

    def __init__(self) -> None:
        self._seconds: dict[int, str] = {}
        self._offsets: dict[int, str] = {}

    def _base(self, seconds: int) -> str:
        text = self._seconds.get(seconds)
        if text is None:
            text = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
            self._seconds[seconds] = text
        return text

    def seconds(self, mtime_ns: int | None) -> str:
        """``2006-01-02 15:04:05`` (lsd, lsf)."""
        return self._base((mtime_ns if mtime_ns is not None else _NO_TIME_NS) // 10**9)

    def nanos(self, mtime_ns: int | None) -> str:
        """``2006-01-02 15:04:05.000000000`` (lsl)."""
        seconds, nanos = divmod(mtime_ns if mtime_ns is not None else _NO_TIME_NS, 10**9)
        return f"{self._base(seconds)}.{nanos:09d}"

    def rfc3339(self, mtime_ns: int | None) -> str:
        """``2006-01-02T15:04:05.000000000+01:00`` ("Z" for UTC) (lsjson)."""
        seconds, nanos = divmod(mtime_ns if mtime_ns is not None else _NO_TIME_NS, 10**9)
        offset = self._offsets.get(seconds)
        if offset is None:
            gmtoff = time.localtime(seconds).tm_gmtoff
            if gmtoff == 0:
                offset = "Z"
            else:
                sign = "+" if gmtoff > 0 else "-"
                hours, minutes = divmod(abs(gmtoff) // 60, 60)
                offset = f"{sign}{hours:02d}:{minutes:02d}"
            self._offsets[seconds] = offset
        return f"{self._base(seconds).replace(' ', 'T')}.{nanos:09d}{offset}"


def lsd_line(entry: Entry, clock: LocalTime) -> str:
    """One ``lsd`` line: size, date, item count (-1: unknown), path."""
    return f"{entry.size:12d} {clock.seconds(entry.mtime_ns):>13} {-1:9d} {entry.path}\n"


def _mime_type(entry: Entry) -> str:
    if entry.is_dir:
        return "inode/directory"
    import mimetypes  # only lsf/lsjson pay for it

    guessed, _ = mimetypes.guess_type(entry.name, strict=False)
    if guessed is None:
        return "application/octet-stream"
    # Go's mime package (rclone's) declares UTF-8 for every text type.
    return guessed + "; charset=utf-8" if guessed.startswith("text/") else guessed


HashLookup = Callable[[Entry, HashType], str]


@dataclass
class LsfFormat:
    """``lsf --format`` fields: p path, s size, t time, h hash, i id, m mime type."""

    format: str = "p"
    separator: str = ";"
    dir_slash: bool = True
    absolute: bool = False
    csv: bool = False
    hash_type: HashType = HashType.MD5
    clock: LocalTime = field(default_factory=LocalTime)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.format) - set("psthim"))
        if unknown:
            raise UsageError(f"unknown --format character {unknown[0]!r} (known: p s t h i m)")
        if self.csv and self.separator == ";":
            self.separator = ","

    @property
    def wants_hash(self) -> bool:
        return "h" in self.format

    def line(self, entry: Entry, hash_of: HashLookup | None = None) -> str:
        if self.format == "p" and not self.absolute and not self.csv:  # the default, as big listings use it
            return f"{entry.path}/\n" if entry.is_dir and self.dir_slash else f"{entry.path}\n"
        fields: list[str] = []
        for char in self.format:
            if char == "p":
                path = entry.path + ("/" if entry.is_dir and self.dir_slash else "")
                fields.append("/" + path if self.absolute else path)
            elif char == "s":
                fields.append(str(entry.size))
            elif char == "t":
                fields.append(self.clock.seconds(entry.mtime_ns))
            elif char == "h":
                fields.append("" if entry.is_dir or hash_of is None else hash_of(entry, self.hash_type))
            elif char == "i":
                fields.append(entry.id or "")
            elif char == "m":
                fields.append(_mime_type(entry))
        if not self.csv:
            return self.separator.join(fields) + "\n"
        import csv
        import io

        buffer = io.StringIO()
        csv.writer(buffer, delimiter=self.separator, lineterminator="\n").writerow(fields)
        return buffer.getvalue()


def _json_text(name: str) -> str:
    """A name as JSON can carry it: bytes that are not UTF-8 become U+FFFD, as rclone writes them."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return name


def lsjson_item(
    entry: Entry,
    clock: LocalTime,
    *,
    hashes: Mapping[str, str] | None = None,
    modtime: bool = True,
    mimetype: bool = True,
    path: str | None = None,
) -> dict[str, Any]:
    """One lsjson object, keys in rclone's order."""
    item: dict[str, Any] = {
        "Path": _json_text(entry.path if path is None else path),
        "Name": _json_text(entry.name),
        "Size": entry.size,
    }
    if mimetype:
        item["MimeType"] = _mime_type(entry)
    if modtime:
        item["ModTime"] = clock.rfc3339(entry.mtime_ns)
    item["IsDir"] = entry.is_dir
    if hashes is not None:
        item["Hashes"] = dict(hashes)
    if entry.id is not None:
        item["ID"] = entry.id
    return item


def lsjson_document(items: Iterable[dict[str, Any]]) -> Iterable[str]:
    """rclone's lsjson array: one object per line, streamed."""
    import json

    yield "[\n"
    first = True
    for item in items:
        text = json.dumps(item, ensure_ascii=False, separators=(",", ":"))
        yield text if first else ",\n" + text
        first = False
    yield "\n]\n" if not first else "]\n"


def size_text(count: int, total: int, sizeless: int) -> str:
    """``rclone size`` output."""
    objects = count_suffix(count)
    if objects != str(count):
        objects += f" ({count})"
    lines = f"Total objects: {objects}\nTotal size: {size_suffix(total)} ({total} Byte)\n"
    if sizeless:
        lines += f"Total objects with unknown size: {count_suffix(sizeless)} ({sizeless})\n"
    return lines


def about_text(usage: Usage, *, full: bool) -> str:
    """``rclone about`` output: one line per figure the backend reports."""
    rows = [
        ("Total", usage.total),
        ("Used", usage.used),
        ("Trashed", usage.trashed),
        ("Other", usage.other),
        ("Free", usage.free),
    ]
    out = []
    for label, value in rows:
        if value is not None:
            out.append(f"{label + ':':<9}{value if full else size_suffix(value)}\n")
    if usage.objects is not None:
        out.append(f"{'Objects:':<9}{usage.objects if full else count_suffix(usage.objects)}\n")
    return "".join(out)


@dataclass
class TreeStyle:
    """``tree`` flags."""

    dirs_only: bool = False
    full_path: bool = False
    size: bool = False
    modtime: bool = False
    all_files: bool = False
    noreport: bool = False


def tree_lines(entries: Iterable[Entry], style: TreeStyle) -> Iterable[str]:
    """The whole tree drawn with box characters, as ``tree`` (and rclone tree) does."""
    children: dict[str, list[Entry]] = {}
    for entry in entries:
        if not style.all_files and any(part.startswith(".") for part in entry.path.split("/")):
            continue
        if style.dirs_only and not entry.is_dir:
            continue
        cut = entry.path.rfind("/")
        children.setdefault(entry.path[:cut] if cut >= 0 else "", []).append(entry)
    counts = [0, 0]
    # A directory's size is the total of the files below it, as rclone's tree shows it.
    totals: dict[str, int] = {}
    if style.size:
        for items in children.values():
            for entry in items:
                if not entry.is_dir and entry.size > 0:
                    parent = entry.path
                    while parent:
                        cut = parent.rfind("/")
                        parent = parent[:cut] if cut >= 0 else ""
                        totals[parent] = totals.get(parent, 0) + entry.size

    def label(entry: Entry) -> str:
        name = entry.path if style.full_path else entry.name
        meta = []
        if style.size:
            meta.append(f"{totals.get(entry.path, 0) if entry.is_dir else entry.size:11d}")
        if style.modtime and entry.mtime_ns is not None and not entry.is_dir:
            meta.append(time.strftime("%b %d %H:%M", time.localtime(entry.mtime_ns // 10**9)))
        return f"[{' '.join(meta)}]  {name}" if meta else name

    def draw(directory: str, indent: str) -> Iterable[str]:
        items = sorted(children.get(directory, ()), key=lambda e: e.name)
        for index, entry in enumerate(items):
            last = index == len(items) - 1
            counts[0 if entry.is_dir else 1] += 1
            yield f"{indent}{'└── ' if last else '├── '}{label(entry)}\n"
            if entry.is_dir:
                yield from draw(entry.path, indent + ("    " if last else "│   "))

    yield f"[{totals.get('', 0):11d}]  /\n" if style.size else "/\n"
    yield from draw("", "")
    if not style.noreport:
        report = f"\n{counts[0]} directories"
        yield report + ("\n" if style.dirs_only else f", {counts[1]} files\n")
