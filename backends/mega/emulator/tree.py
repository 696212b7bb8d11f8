"""The node tree as stored: node rows, the checks on keys and attributes, queries, and how nodes are shown.

The server sees no names and no plaintext keys, so what it can check is shape: handles that exist and belong
to the caller, keys of 16 (folder) or 32 (file) bytes, attribute blocks of whole AES blocks up to 64 KiB.
Node keys are stored as the owner sent them; share keys from ``cr`` sit beside them and are joined into the
``"<owner>:<key>/<share>:<key>"`` strings when a node is shown (``shared/mega-protocol.md`` sections 5 and
10.6). ``emit`` appends a change's action packet with the command's ``i`` and the caller as ``ou``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any, NamedTuple

from backends.mega import crypto
from backends.mega.emulator import ids
from backends.mega.emulator.actions import ActionLog
from backends.mega.emulator.codes import EACCESS, EARGS, ENOENT, CommandError
from backends.mega.emulator.context import Caller, FolderLink
from backends.mega.emulator.store import Tx

__all__ = [
    "CONTAINERS",
    "EXPORTED",
    "FILE",
    "FILE_KEY_SIZE",
    "FOLDER",
    "FOLDER_KEY_SIZE",
    "NODE_COLUMNS",
    "ROOTS",
    "Node",
    "Tree",
    "check_attributes",
    "check_key",
    "request_id",
    "require_text",
]

FILE, FOLDER, ROOT, INBOX, RUBBISH = 0, 1, 2, 3, 4
ROOTS = (ROOT, INBOX, RUBBISH)
CONTAINERS = (FOLDER, ROOT, INBOX, RUBBISH)
FOLDER_KEY_SIZE = 16
FILE_KEY_SIZE = 32
MAX_ATTRIBUTES = 65536
EXPORTED = "EXP"


class Node(NamedTuple):
    """One row of the node table. A named tuple rather than a dataclass: ``f`` makes one per node of the
    account, and a frozen dataclass takes three times as long to build (100,000 nodes: 0.18 s against 0.07 s).
    """

    handle: str
    owner: str
    parent: str | None
    type: int
    attrs: str
    key: str
    size: int
    ts: int
    fa: str | None
    body: str | None


NODE_COLUMNS = "handle, owner, parent, type, attrs, key, size, ts, fa, body"


def require_text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise CommandError(EARGS, f"{what}: expected a string")
    return value


def check_attributes(value: Any) -> str:
    """An encrypted attribute block: base64 of a non-empty multiple of 16 bytes, at most 64 KiB."""
    text = require_text(value, "attributes")
    try:
        raw = crypto.b64decode(text)
    except ValueError:
        raise CommandError(EARGS, "attributes are not base64") from None
    if not raw or len(raw) % 16 or len(raw) > MAX_ATTRIBUTES:
        raise CommandError(EARGS, f"attributes of {len(raw)} bytes")
    return text


def check_key(value: Any, sizes: tuple[int, ...]) -> str:
    """An encrypted node key (base64) of one of ``sizes`` bytes."""
    text = require_text(value, "key")
    try:
        raw = crypto.b64decode(text)
    except ValueError:
        raise CommandError(EARGS, "key is not base64") from None
    if len(raw) not in sizes:
        raise CommandError(EARGS, f"key of {len(raw)} bytes")
    return text


def request_id(command: dict[str, Any]) -> dict[str, Any]:
    """The ``i`` a command carried, to copy onto its packets (clients recognise their own changes by it)."""
    reqid = command.get("i")
    return {"i": reqid} if isinstance(reqid, str) and reqid else {}


class Tree:
    """Queries on the node table, shared by the command handlers."""

    def __init__(self, actions: ActionLog) -> None:
        self._actions = actions

    @staticmethod
    def get(tx: Tx, handle: Any) -> Node | None:
        if not isinstance(handle, str):
            return None
        row = tx.execute(f"SELECT {NODE_COLUMNS} FROM nodes WHERE handle = ?", (handle,)).fetchone()
        return None if row is None else Node(*row)

    def own(self, tx: Tx, caller: Caller, handle: Any) -> Node:
        """The caller's node ``handle``: ENOENT when unknown, EACCESS when someone else's."""
        node = self.get(tx, handle)
        if node is None:
            raise CommandError(ENOENT, "no such node")
        if node.owner != caller.user:
            raise CommandError(EACCESS, "not your node")
        return node

    @staticmethod
    def subtree(tx: Tx, handle: str) -> list[Node]:
        """The node and everything under it (versions included), parents before children."""
        rows = tx.execute(
            f"""WITH RECURSIVE sub(h, depth) AS (
                    SELECT ?, 0
                    UNION ALL SELECT nodes.handle, sub.depth + 1 FROM nodes JOIN sub ON nodes.parent = sub.h)
                SELECT {", ".join("nodes." + c for c in NODE_COLUMNS.split(", "))}
                FROM sub JOIN nodes ON nodes.handle = sub.h ORDER BY sub.depth""",
            (handle,),
        ).fetchall()
        return [Node(*row) for row in rows]

    def ancestors(self, tx: Tx, handle: str | None) -> list[str]:
        """``handle`` and the handles above it, up to its root."""
        chain: list[str] = []
        while handle is not None and len(chain) < 10_000:
            chain.append(handle)
            row = tx.execute("SELECT parent FROM nodes WHERE handle = ?", (handle,)).fetchone()
            handle = None if row is None else row[0]
        return chain

    def in_link(self, tx: Tx, link: FolderLink, handle: str) -> bool:
        return link.root in self.ancestors(tx, handle)

    @staticmethod
    def _share_keys(tx: Tx, handles: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
        keys: dict[str, list[tuple[str, str]]] = defaultdict(list)
        if tx.execute("SELECT 1 FROM share_keys LIMIT 1").fetchone() is None:
            return keys  # no share at all: spares an ``f`` one query per 500 nodes
        wanted = list(handles)
        for start in range(0, len(wanted), 500):
            batch = wanted[start : start + 500]
            rows = tx.execute(
                f"SELECT node, share, key FROM share_keys WHERE node IN ({','.join('?' * len(batch))})"
                " ORDER BY node, share",
                tuple(batch),
            )
            for node, share, key in rows:
                keys[node].append((share, key))
        return keys

    def render(self, tx: Tx, nodes: list[Node], link: FolderLink | None = None) -> list[dict[str, Any]]:
        """Nodes as ``f`` and ``t`` packets show them; a folder-link viewer sees only its folder key's entries
        in ``k``."""
        share_keys = self._share_keys(tx, (n.handle for n in nodes if n.type not in ROOTS))
        shown = []
        for node in nodes:
            if node.type in ROOTS:
                key = ""
            else:
                parts = [] if link is not None else [f"{node.owner}:{node.key}"]
                parts += [
                    f"{share}:{k}"
                    for share, k in share_keys.get(node.handle, ())
                    if link is None or share == link.root
                ]
                key = "/".join(parts)
            item: dict[str, Any] = {
                "h": node.handle,
                "p": node.parent or "",
                "u": node.owner,
                "t": node.type,
                "a": node.attrs,
                "k": key,
                "ts": node.ts,
            }
            if node.type == FILE:
                item["s"] = node.size
            if node.fa:
                item["fa"] = node.fa
            shown.append(item)
        return shown

    @staticmethod
    def usage(tx: Tx, owner: str) -> int:
        """Bytes stored by ``owner``: every file, in the Rubbish Bin and old versions included."""
        row = tx.execute(
            "SELECT COALESCE(SUM(size), 0) FROM nodes WHERE owner = ? AND type = 0", (owner,)
        ).fetchone()
        return int(row[0])

    @staticmethod
    def free_handle(tx: Tx) -> str:
        """A random node handle not in use yet (handles are random, as MEGA's are: collisions are checked)."""
        while True:
            handle = ids.new_node_handle()
            if tx.execute("SELECT 1 FROM nodes WHERE handle = ?", (handle,)).fetchone() is None:
                return handle

    def emit(
        self, tx: Tx, caller: Caller, command: dict[str, Any], packet: dict[str, Any], scope: list[str]
    ) -> None:
        assert caller.user is not None
        self._actions.emit(tx, caller.user, {**packet, "ou": caller.user, **request_id(command)}, scope)

    @staticmethod
    def ordered(nodes: list[Node]) -> tuple[list[Node], list[Node]]:
        """(current nodes, parents first from the roots; old versions: nodes under a file, and their own)."""
        children: dict[str | None, list[Node]] = defaultdict(list)
        for node in nodes:
            children[node.parent].append(node)
        tops = sorted(children.get(None, []), key=lambda n: n.type)
        current: list[Node] = []
        versions: list[Node] = []
        queue = [(node, False) for node in tops]
        while queue:
            next_queue = []
            for node, is_version in queue:
                (versions if is_version else current).append(node)
                for child in children.get(node.handle, ()):
                    next_queue.append((child, is_version or node.type == FILE))
            queue = next_queue
        return current, versions

    def apply_cr(self, tx: Tx, caller: Caller, cr: Any, aliases: dict[str, str]) -> None:
        """Store the share keys of a ``cr`` element: [share handles], [node handles], [si, ni, key, ...]."""
        if cr is None:
            return
        if not (isinstance(cr, list) and len(cr) == 3 and all(isinstance(part, list) for part in cr)):
            raise CommandError(EARGS, "cr: expected three lists")
        shares, handles, triples = cr
        if len(triples) % 3:
            raise CommandError(EARGS, "cr: incomplete triple")
        for start in range(0, len(triples), 3):
            share_index, node_index, key = triples[start : start + 3]
            try:
                share = shares[share_index]
                handle = handles[node_index]
            except (IndexError, TypeError):
                raise CommandError(EARGS, "cr: index out of range") from None
            share = aliases.get(share, share)
            handle = aliases.get(handle, handle)
            self.own(tx, caller, share)
            node = self.own(tx, caller, handle)
            check_key(key, (FOLDER_KEY_SIZE, FILE_KEY_SIZE))
            tx.execute(
                "INSERT OR REPLACE INTO share_keys (node, share, key) VALUES (?, ?, ?)",
                (node.handle, share, key),
            )
