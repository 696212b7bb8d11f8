"""The node tree and the commands on it: ``f``, ``p``, ``m``, ``a``, ``d``, ``l``, ``s2`` and ``uq``.

The server sees no names and no plaintext keys, so it checks only what MEGA's can: that handles exist and
belong to the caller, that the tree stays a tree (no move into its own subtree, roots stay put), that keys and
attribute blocks have the right sizes, that an upload token attaches exactly one node, and the storage quota.
Duplicate names are therefore allowed, as on MEGA. Every change appends its action packets (``t``, ``u``,
``d``, ``ph``) with the command's ``i`` and the caller as ``ou``.

Node keys are stored as the owner sent them; share keys from ``cr`` sit beside them and are joined into the
``"<owner>:<key>/<share>:<key>"`` strings when a node is shown (``shared/mega-protocol.md`` sections 5, 8.7,
8.8 and 10).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from backends.mega import crypto
from backends.mega.emulator import codes, ids
from backends.mega.emulator.actions import ActionLog
from backends.mega.emulator.codes import EACCESS, EARGS, ENOENT, EOVERQUOTA, CommandError
from backends.mega.emulator.context import Caller, FolderLink
from backends.mega.emulator.store import Store, Tx

__all__ = ["UNLIMITED", "Node", "Nodes"]

log = logging.getLogger("syncer.mega.emulator.nodes")

FILE, FOLDER, ROOT, INBOX, RUBBISH = 0, 1, 2, 3, 4
ROOTS = (ROOT, INBOX, RUBBISH)
CONTAINERS = (FOLDER, ROOT, INBOX, RUBBISH)
FOLDER_KEY_SIZE = 16
FILE_KEY_SIZE = 32
MAX_ATTRIBUTES = 65536
#: What ``uq`` reports as the limit when no quota is set (1 PiB).
UNLIMITED = 1 << 50
EXPORTED = "EXP"


@dataclass(frozen=True)
class Node:
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


_COLUMNS = "handle, owner, parent, type, attrs, key, size, ts, fa, body"


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise CommandError(EARGS, f"{what}: expected a string")
    return value


def check_attributes(value: Any) -> str:
    """An encrypted attribute block: base64 of a non-empty multiple of 16 bytes, at most 64 KiB."""
    text = _text(value, "attributes")
    try:
        raw = crypto.b64decode(text)
    except ValueError:
        raise CommandError(EARGS, "attributes are not base64") from None
    if not raw or len(raw) % 16 or len(raw) > MAX_ATTRIBUTES:
        raise CommandError(EARGS, f"attributes of {len(raw)} bytes")
    return text


def check_key(value: Any, sizes: tuple[int, ...]) -> str:
    """An encrypted node key (base64) of one of ``sizes`` bytes."""
    text = _text(value, "key")
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


class Nodes:
    """Tree queries and tree commands over one store."""

    def __init__(
        self,
        store: Store,
        actions: ActionLog,
        quota: Callable[[], int | None],
        attach_upload: Callable[[Tx, str, str], tuple[str, int]],
    ) -> None:
        self._store = store
        self._actions = actions
        self._quota = quota
        #: (tx, user, token text) -> (body id, size); raises CommandError (see transfers.Uploads.attach)
        self._attach_upload = attach_upload

    # -- queries ---------------------------------------------------------------------------------------------

    @staticmethod
    def get(tx: Tx, handle: Any) -> Node | None:
        if not isinstance(handle, str):
            return None
        row = tx.execute(f"SELECT {_COLUMNS} FROM nodes WHERE handle = ?", (handle,)).fetchone()
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
                SELECT {", ".join("nodes." + c for c in _COLUMNS.split(", "))}
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

    def _check_quota(self, tx: Tx, owner: str, adding: int) -> None:
        quota = self._quota()
        if quota is not None and self.usage(tx, owner) + adding > quota:
            raise CommandError(EOVERQUOTA, "storage quota")

    def check_quota(self, tx: Tx, owner: str, adding: int) -> None:
        """EOVERQUOTA when ``adding`` more bytes would take ``owner`` over the storage quota."""
        self._check_quota(tx, owner, adding)

    @staticmethod
    def _free_handle(tx: Tx) -> str:
        while True:
            handle = ids.new_node_handle()
            if tx.execute("SELECT 1 FROM nodes WHERE handle = ?", (handle,)).fetchone() is None:
                return handle

    def _emit(
        self, tx: Tx, caller: Caller, command: dict[str, Any], packet: dict[str, Any], scope: list[str]
    ) -> None:
        assert caller.user is not None
        self._actions.emit(tx, caller.user, {**packet, "ou": caller.user, **request_id(command)}, scope)

    # -- f ---------------------------------------------------------------------------------------------------

    @staticmethod
    def _ordered(nodes: list[Node]) -> tuple[list[Node], list[Node]]:
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

    def cmd_f(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """The whole tree (or the folder link's subtree), parents first; ``ok``/``ok0``, ``s``, ``u``, ``ph``
        and ``sn`` always present. ``c``, ``r`` and ``ca`` are accepted and ignored."""
        link = caller.link
        if link is not None:
            current, versions = self._ordered(self._link_nodes(tx, link))
            return {
                "f": self.render(tx, current, link),
                "f2": self.render(tx, versions, link),
                "ok": [],
                "ok0": [],
                "s": [],
                "u": [],
                "ph": [],
                "sn": self._actions.current_sn(tx),
            }
        assert caller.user is not None
        rows = tx.execute(f"SELECT {_COLUMNS} FROM nodes WHERE owner = ?", (caller.user,)).fetchall()
        current, versions = self._ordered([Node(*row) for row in rows])
        shares = tx.execute(
            "SELECT node, user, access, ok, ha, ts FROM shares WHERE owner = ? ORDER BY node", (caller.user,)
        ).fetchall()
        owner_keys = [{"h": node, "ha": ha, "k": ok} for node, _, _, ok, ha, _ in shares if ok]
        links = tx.execute(
            "SELECT node, ph, ts FROM links WHERE owner = ? ORDER BY node", (caller.user,)
        ).fetchall()
        return {
            "f": self.render(tx, current),
            "f2": self.render(tx, versions),
            "ok": owner_keys,
            "ok0": owner_keys,
            "s": [{"h": node, "u": user, "r": access, "ts": ts} for node, user, access, _, _, ts in shares],
            "u": [],
            "ph": [{"h": node, "ph": ph, "ts": ts} for node, ph, ts in links],
            "sn": self._actions.current_sn(tx),
        }

    def _link_nodes(self, tx: Tx, link: FolderLink) -> list[Node]:
        nodes = self.subtree(tx, link.root)
        return [replace(nodes[0], parent=None), *nodes[1:]] if nodes else []

    # -- p ---------------------------------------------------------------------------------------------------

    def cmd_p(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """Create nodes under ``t``: folders (client temporary handles, in-batch parents via ``p``), files
        from an upload completion token, and copies (``h`` an existing file node, or ``ph`` a public file
        link).

        The batch is all or nothing. Slot errors: ENOENT (unknown target, parent, source or token), EACCESS
        (someone else's node, a file as target, a token already used), EARGS (malformed entry, key or
        attribute sizes), EOVERQUOTA (copies beyond the quota).
        """
        assert caller.user is not None
        target = self.own(tx, caller, command.get("t"))
        if target.type not in CONTAINERS:
            raise CommandError(codes.PUT_INTO_FILE, "target is a file")
        entries = command.get("n")
        if not isinstance(entries, list) or not entries or not all(isinstance(e, dict) for e in entries):
            raise CommandError(EARGS, "n: expected a list of nodes")
        now = int(time.time())
        batch: dict[str, Node] = {}  # client handle -> created node
        created: list[Node] = []
        versions: list[Node] = []
        copied = 0
        for entry in entries:
            node_type = entry.get("t")
            if node_type not in (FILE, FOLDER) or isinstance(node_type, bool):
                raise CommandError(EARGS, "t: 0 or 1")
            attrs = check_attributes(entry.get("a"))
            key = check_key(entry.get("k"), (FILE_KEY_SIZE,) if node_type == FILE else (FOLDER_KEY_SIZE,))
            parent = self._entry_parent(tx, caller, entry, batch, target)
            size, body, fa = 0, None, entry.get("fa") if isinstance(entry.get("fa"), str) else None
            if node_type == FILE:
                size, body, source_fa, is_copy = self._file_source(tx, caller, entry)
                fa = fa or source_fa
                copied += size if is_copy else 0
            node = Node(
                self._free_handle(tx), caller.user, parent.handle, node_type, attrs, key, size, now, fa, body
            )
            tx.execute(
                f"INSERT INTO nodes ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (node.handle, node.owner, node.parent, node.type, node.attrs, node.key, node.size, node.ts,
                 node.fa, node.body),
            )  # fmt: skip
            client_handle = entry.get("h")
            if isinstance(client_handle, str):
                batch[client_handle] = node
            created.append(node)
            if node_type == FILE and entry.get("ov") is not None:
                versions.extend(self._replace_version(tx, caller, command, entry, node))
        if copied:
            self._check_quota(tx, caller.user, 0)
        self._apply_cr(tx, caller, command.get("cr"), {h: n.handle for h, n in batch.items()})
        shown = self.render(tx, created)
        packet: dict[str, Any] = {"f": shown}
        if versions:
            packet["f2"] = self.render(tx, versions)
        self._emit(tx, caller, command, {"a": "t", "t": packet}, self.ancestors(tx, target.handle))
        return {"f": shown}

    def _entry_parent(
        self, tx: Tx, caller: Caller, entry: dict[str, Any], batch: dict[str, Node], target: Node
    ) -> Node:
        wanted = entry.get("p")
        if wanted is None:
            return target
        parent = batch.get(wanted) if isinstance(wanted, str) else None
        if parent is None:
            parent = self.own(tx, caller, wanted)
        if parent.type not in CONTAINERS:
            raise CommandError(codes.PUT_INTO_FILE, "parent is a file")
        return parent

    def _file_source(
        self, tx: Tx, caller: Caller, entry: dict[str, Any]
    ) -> tuple[int, str | None, str | None, bool]:
        """(size, body, file attributes, is a copy) for a new file node."""
        assert caller.user is not None
        public = entry.get("ph")
        if public is not None:
            row = tx.execute("SELECT node FROM links WHERE ph = ?", (public,)).fetchone()
            source = None if row is None else self.get(tx, row[0])
            if source is None or source.type != FILE:
                raise CommandError(ENOENT, "no such public file")
            return source.size, source.body, source.fa, True
        handle = _text(entry.get("h"), "h")
        if len(handle) == 8:
            source = self.own(tx, caller, handle)
            if source.type != FILE:
                raise CommandError(EARGS, "copy source is not a file")
            return source.size, source.body, source.fa, True
        body, size = self._attach_upload(tx, caller.user, handle)
        return size, body, None, False

    def _replace_version(
        self, tx: Tx, caller: Caller, command: dict[str, Any], entry: dict[str, Any], new: Node
    ) -> list[Node]:
        """``ov``: the old file becomes a version under the new one, or is deleted with ``vb: 0``."""
        old = self.own(tx, caller, entry.get("ov"))
        if old.type != FILE or old.handle == new.handle:
            raise CommandError(EARGS, "ov is not a file")
        if command.get("vb") == 0:
            self._delete(tx, caller, command, old)
            return []
        tx.execute("UPDATE nodes SET parent = ? WHERE handle = ?", (new.handle, old.handle))
        return self.subtree(tx, old.handle)

    def _apply_cr(self, tx: Tx, caller: Caller, cr: Any, aliases: dict[str, str]) -> None:
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

    # -- m, a, d ---------------------------------------------------------------------------------------------

    def cmd_m(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> int:
        """Move ``n`` under ``t``. Packets: ``d`` with ``m: 1``, then ``t`` with the moved subtree."""
        node = self.own(tx, caller, command.get("n"))
        if node.type in ROOTS:
            raise CommandError(EACCESS, "roots do not move")
        target = self.own(tx, caller, command.get("t"))
        if target.type not in CONTAINERS:
            raise CommandError(codes.MOVE_INTO_FILE, "target is a file")
        new_chain = self.ancestors(tx, target.handle)
        if node.handle in new_chain:
            raise CommandError(codes.CIRCULAR_MOVE, "move into its own subtree")
        old_chain = self.ancestors(tx, node.parent)
        tx.execute("UPDATE nodes SET parent = ? WHERE handle = ?", (target.handle, node.handle))
        self._apply_cr(tx, caller, command.get("cr"), {})
        self._emit(tx, caller, command, {"a": "d", "n": node.handle, "m": 1}, [node.handle, *old_chain])
        moved = self.render(tx, self.subtree(tx, node.handle))
        self._emit(tx, caller, command, {"a": "t", "t": {"f": moved}}, new_chain)
        return 0

    def cmd_a(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> int:
        """New attributes for ``n``: ``at``, or ``attr`` as go-mega and mega.py send it (their ``key`` is
        ignored)."""
        node = self.own(tx, caller, command.get("n"))
        if node.type in ROOTS:
            raise CommandError(EACCESS, "roots have no attributes")
        attrs = check_attributes(command.get("at", command.get("attr")))
        tx.execute("UPDATE nodes SET attrs = ? WHERE handle = ?", (attrs, node.handle))
        packet = {"a": "u", "n": node.handle, "u": node.owner, "at": attrs, "ts": int(time.time())}
        self._emit(tx, caller, command, packet, self.ancestors(tx, node.handle))
        return 0

    def cmd_d(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> int:
        """Destroy ``n`` and its whole subtree (versions included). Packet: ``d`` for the top node."""
        node = self.own(tx, caller, command.get("n"))
        if node.type in ROOTS:
            raise CommandError(EACCESS, "roots are not deletable")
        self._delete(tx, caller, command, node)
        return 0

    def _delete(self, tx: Tx, caller: Caller, command: dict[str, Any], node: Node) -> None:
        chain = self.ancestors(tx, node.handle)
        doomed = self.subtree(tx, node.handle)
        handles = [n.handle for n in doomed]
        bodies = {n.body for n in doomed if n.body}
        for start in range(0, len(handles), 500):
            batch = tuple(handles[start : start + 500])
            marks = ",".join("?" * len(batch))
            for sql in (
                f"DELETE FROM nodes WHERE handle IN ({marks})",
                f"DELETE FROM share_keys WHERE node IN ({marks}) OR share IN ({marks})",
                f"DELETE FROM links WHERE node IN ({marks})",
                f"DELETE FROM shares WHERE node IN ({marks})",
            ):
                tx.execute(sql, batch * sql.count("IN ("))
        orphans = [
            body
            for body in bodies
            if tx.execute("SELECT 1 FROM nodes WHERE body = ?", (body,)).fetchone() is None
        ]
        if orphans:
            paths = [self._store.body_path(body) for body in orphans]
            tx.after_commit(lambda: _unlink_all(paths))
        self._emit(tx, caller, command, {"a": "d", "n": node.handle}, chain)

    # -- l, s2 -----------------------------------------------------------------------------------------------

    def cmd_l(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> str | int:
        """Export ``n``: its public handle (one per node, the same on every call); ``d: 1`` removes it."""
        node = self.own(tx, caller, command.get("n"))
        if node.type in ROOTS:
            raise CommandError(EACCESS, "roots are not exported")
        row = tx.execute("SELECT ph FROM links WHERE node = ?", (node.handle,)).fetchone()
        chain = self.ancestors(tx, node.handle)
        if command.get("d") == 1:
            if row is None:
                raise CommandError(ENOENT, "no link")
            tx.execute("DELETE FROM links WHERE node = ?", (node.handle,))
            self._emit(tx, caller, command, {"a": "ph", "h": node.handle, "ph": row[0], "d": 1}, chain)
            return 0
        if row is not None:
            return str(row[0])
        while True:
            ph = ids.new_node_handle()
            if tx.execute("SELECT 1 FROM links WHERE ph = ?", (ph,)).fetchone() is None:
                break
        now = int(time.time())
        tx.execute(
            "INSERT INTO links (node, ph, owner, ts) VALUES (?, ?, ?, ?)", (node.handle, ph, node.owner, now)
        )
        self._emit(tx, caller, command, {"a": "ph", "h": node.handle, "ph": ph, "ts": now}, chain)
        return ph

    def cmd_s2(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> int:
        """Share a folder with the pseudo-user ``EXP`` (a public folder link), with ``ok``/``ha`` and ``cr``;
        an entry without ``r`` removes the share. Shares with other users are not emulated (EACCESS)."""
        node = self.own(tx, caller, command.get("n"))
        if node.type != FOLDER:
            raise CommandError(EACCESS, "only folders are shared")
        targets = command.get("s")
        if not isinstance(targets, list) or not targets or not all(isinstance(t, dict) for t in targets):
            raise CommandError(EARGS, "s: expected a list of users")
        owner_key = command.get("ok")
        handle_auth = command.get("ha")
        for value in (owner_key, handle_auth):
            if value is not None:
                check_key(value, (16,))
        now = int(time.time())
        for target in targets:
            if target.get("u") != EXPORTED:
                raise CommandError(EACCESS, "sharing with contacts is not emulated")
            access = target.get("r")
            if access is None:
                tx.execute("DELETE FROM shares WHERE node = ? AND user = ?", (node.handle, EXPORTED))
                continue
            if not isinstance(access, int) or isinstance(access, bool) or access not in (0, 1, 2):
                raise CommandError(EARGS, "r: 0, 1 or 2")
            tx.execute(
                "INSERT OR REPLACE INTO shares (node, user, owner, access, ok, ha, ts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (node.handle, EXPORTED, node.owner, access, owner_key, handle_auth, now),
            )
        self._apply_cr(tx, caller, command.get("cr"), {})
        return 0

    # -- uq --------------------------------------------------------------------------------------------------

    def cmd_uq(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """Storage and transfer figures: ``mstrg``, ``cstrg``, ``cstrgn`` per root, ``mxfer``, ``caxfer``,
        ``csxfer`` (transfer is not metered)."""
        assert caller.user is not None
        rows = tx.execute(f"SELECT {_COLUMNS} FROM nodes WHERE owner = ?", (caller.user,)).fetchall()
        nodes = [Node(*row) for row in rows]
        by_handle = {n.handle: n for n in nodes}
        per_root: dict[str, list[int]] = {n.handle: [0, 0, 0, 0, 0] for n in nodes if n.type in ROOTS}
        for node in nodes:
            if node.type in ROOTS:
                continue
            top, is_version, parent = node, False, by_handle.get(node.parent or "")
            while parent is not None:
                is_version = is_version or parent.type == FILE
                top, parent = parent, by_handle.get(parent.parent or "")
            figures = per_root.get(top.handle)
            if figures is None:
                continue
            if node.type == FOLDER:
                figures[2] += 1
            elif is_version:
                figures[3] += node.size
                figures[4] += 1
            else:
                figures[0] += node.size
                figures[1] += 1
        quota = self._quota()
        return {
            "mstrg": UNLIMITED if quota is None else quota,
            "cstrg": sum(n.size for n in nodes if n.type == FILE),
            "cstrgn": per_root,
            "mxfer": UNLIMITED,
            "caxfer": 0,
            "csxfer": 0,
            "srvratio": 0,
            "uslw": 9000,
        }


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
