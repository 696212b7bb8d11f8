"""The tree commands: ``f`` (fetch), ``p`` (put nodes), ``m`` (move), ``a`` (attributes), ``d`` (delete) and
``uq`` (quota).

They keep the tree a tree (no move into its own subtree, roots stay put), let an upload token make exactly one
node, and hold each account to its storage quota. Duplicate names are allowed, as on MEGA: the server never
sees names. Every change appends its action packets (``t``, ``u``, ``d``); see ``shared/mega-protocol.md``
sections 5, 8.7, 8.8 and 10.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backends.mega.emulator import codes
from backends.mega.emulator.actions import ActionLog
from backends.mega.emulator.codes import EACCESS, EARGS, ENOENT, EOVERQUOTA, CommandError
from backends.mega.emulator.context import Caller, FolderLink
from backends.mega.emulator.store import Store, Tx
from backends.mega.emulator.tree import (
    CONTAINERS,
    FILE,
    FILE_KEY_SIZE,
    FOLDER,
    FOLDER_KEY_SIZE,
    NODE_COLUMNS,
    ROOTS,
    Node,
    Tree,
    check_attributes,
    check_key,
    require_text,
)

__all__ = ["UNLIMITED", "Nodes"]

log = logging.getLogger("syncer.mega.emulator.nodes")

#: What ``uq`` reports as the limit when no quota is set (1 PiB).
UNLIMITED = 1 << 50


class Nodes:
    """The tree commands over one store."""

    def __init__(
        self,
        store: Store,
        tree: Tree,
        actions: ActionLog,
        quota: Callable[[], int | None],
        attach_upload: Callable[[Tx, str, str], tuple[str, int]],
    ) -> None:
        self._store = store
        self._tree = tree
        self._actions = actions
        self._quota = quota
        #: (tx, user, token text) -> (body id, size); raises CommandError (see transfers.Uploads.attach)
        self._attach_upload = attach_upload

    def _check_quota(self, tx: Tx, owner: str, adding: int) -> None:
        quota = self._quota()
        if quota is not None and self._tree.usage(tx, owner) + adding > quota:
            raise CommandError(EOVERQUOTA, "storage quota")

    def check_quota(self, tx: Tx, owner: str, adding: int) -> None:
        """EOVERQUOTA when ``adding`` more bytes would take ``owner`` over the storage quota."""
        self._check_quota(tx, owner, adding)

    def cmd_f(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """The whole tree (or the folder link's subtree), parents first; ``ok``/``ok0``, ``s``, ``u``, ``ph``
        and ``sn`` always present. ``c``, ``r`` and ``ca`` are accepted and ignored."""
        link = caller.link
        if link is not None:
            current, versions = self._tree.ordered(self._link_nodes(tx, link))
            return {
                "f": self._tree.render(tx, current, link),
                "f2": self._tree.render(tx, versions, link),
                "ok": [],
                "ok0": [],
                "s": [],
                "u": [],
                "ph": [],
                "sn": self._actions.current_sn(tx),
            }
        assert caller.user is not None
        rows = tx.execute(f"SELECT {NODE_COLUMNS} FROM nodes WHERE owner = ?", (caller.user,)).fetchall()
        current, versions = self._tree.ordered([Node(*row) for row in rows])
        shares = tx.execute(
            "SELECT node, user, access, ok, ha, ts FROM shares WHERE owner = ? ORDER BY node", (caller.user,)
        ).fetchall()
        owner_keys = [{"h": node, "ha": ha, "k": ok} for node, _, _, ok, ha, _ in shares if ok]
        links = tx.execute(
            "SELECT node, ph, ts FROM links WHERE owner = ? ORDER BY node", (caller.user,)
        ).fetchall()
        return {
            "f": self._tree.render(tx, current),
            "f2": self._tree.render(tx, versions),
            "ok": owner_keys,
            "ok0": owner_keys,
            "s": [{"h": node, "u": user, "r": access, "ts": ts} for node, user, access, _, _, ts in shares],
            "u": [],
            "ph": [{"h": node, "ph": ph, "ts": ts} for node, ph, ts in links],
            "sn": self._actions.current_sn(tx),
        }

    def _link_nodes(self, tx: Tx, link: FolderLink) -> list[Node]:
        nodes = self._tree.subtree(tx, link.root)
        return [nodes[0]._replace(parent=None), *nodes[1:]] if nodes else []

    def cmd_p(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """Create nodes under ``t``: folders (client temporary handles, in-batch parents via ``p``), files
        from an upload completion token, and copies (``h`` an existing file node, or ``ph`` a public file
        link).

        The batch is all or nothing. Slot errors: ENOENT (unknown target, parent, source or token), EACCESS
        (someone else's node, a file as target, a token already used), EARGS (malformed entry, key or
        attribute sizes), EOVERQUOTA (copies beyond the quota).
        """
        assert caller.user is not None
        target = self._tree.own(tx, caller, command.get("t"))
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
                self._tree.free_handle(tx),
                caller.user,
                parent.handle,
                node_type,
                attrs,
                key,
                size,
                now,
                fa,
                body,
            )
            tx.execute(
                f"INSERT INTO nodes ({NODE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
        self._tree.apply_cr(tx, caller, command.get("cr"), {h: n.handle for h, n in batch.items()})
        shown = self._tree.render(tx, created)
        packet: dict[str, Any] = {"f": shown}
        if versions:
            packet["f2"] = self._tree.render(tx, versions)
        self._tree.emit(tx, caller, command, {"a": "t", "t": packet}, self._tree.ancestors(tx, target.handle))
        return {"f": shown}

    def _entry_parent(
        self, tx: Tx, caller: Caller, entry: dict[str, Any], batch: dict[str, Node], target: Node
    ) -> Node:
        wanted = entry.get("p")
        if wanted is None:
            return target
        parent = batch.get(wanted) if isinstance(wanted, str) else None
        if parent is None:
            parent = self._tree.own(tx, caller, wanted)
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
            source = None if row is None else self._tree.get(tx, row[0])
            if source is None or source.type != FILE:
                raise CommandError(ENOENT, "no such public file")
            return source.size, source.body, source.fa, True
        handle = require_text(entry.get("h"), "h")
        if len(handle) == 8:
            source = self._tree.own(tx, caller, handle)
            if source.type != FILE:
                raise CommandError(EARGS, "copy source is not a file")
            return source.size, source.body, source.fa, True
        body, size = self._attach_upload(tx, caller.user, handle)
        return size, body, None, False

    def _replace_version(
        self, tx: Tx, caller: Caller, command: dict[str, Any], entry: dict[str, Any], new: Node
    ) -> list[Node]:
        """``ov``: the old file becomes a version under the new one, or is deleted with ``vb: 0``."""
        old = self._tree.own(tx, caller, entry.get("ov"))
        if old.type != FILE or old.handle == new.handle:
            raise CommandError(EARGS, "ov is not a file")
        if command.get("vb") == 0:
            self._delete(tx, caller, command, old)
            return []
        tx.execute("UPDATE nodes SET parent = ? WHERE handle = ?", (new.handle, old.handle))
        return self._tree.subtree(tx, old.handle)

    def cmd_m(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> int:
        """Move ``n`` under ``t``. Packets: ``d`` with ``m: 1``, then ``t`` with the moved subtree."""
        node = self._tree.own(tx, caller, command.get("n"))
        if node.type in ROOTS:
            raise CommandError(EACCESS, "roots do not move")
        target = self._tree.own(tx, caller, command.get("t"))
        if target.type not in CONTAINERS:
            raise CommandError(codes.MOVE_INTO_FILE, "target is a file")
        new_chain = self._tree.ancestors(tx, target.handle)
        if node.handle in new_chain:
            raise CommandError(codes.CIRCULAR_MOVE, "move into its own subtree")
        old_chain = self._tree.ancestors(tx, node.parent)
        tx.execute("UPDATE nodes SET parent = ? WHERE handle = ?", (target.handle, node.handle))
        self._tree.apply_cr(tx, caller, command.get("cr"), {})
        self._tree.emit(tx, caller, command, {"a": "d", "n": node.handle, "m": 1}, [node.handle, *old_chain])
        moved = self._tree.render(tx, self._tree.subtree(tx, node.handle))
        self._tree.emit(tx, caller, command, {"a": "t", "t": {"f": moved}}, new_chain)
        return 0

    def cmd_a(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> int:
        """New attributes for ``n``: ``at``, or ``attr`` as go-mega and mega.py send it (their ``key`` is
        ignored)."""
        node = self._tree.own(tx, caller, command.get("n"))
        if node.type in ROOTS:
            raise CommandError(EACCESS, "roots have no attributes")
        attrs = check_attributes(command.get("at", command.get("attr")))
        tx.execute("UPDATE nodes SET attrs = ? WHERE handle = ?", (attrs, node.handle))
        packet = {"a": "u", "n": node.handle, "u": node.owner, "at": attrs, "ts": int(time.time())}
        self._tree.emit(tx, caller, command, packet, self._tree.ancestors(tx, node.handle))
        return 0

    def cmd_d(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> int:
        """Destroy ``n`` and its whole subtree (versions included). Packet: ``d`` for the top node."""
        node = self._tree.own(tx, caller, command.get("n"))
        if node.type in ROOTS:
            raise CommandError(EACCESS, "roots are not deletable")
        self._delete(tx, caller, command, node)
        return 0

    def _delete(self, tx: Tx, caller: Caller, command: dict[str, Any], node: Node) -> None:
        chain = self._tree.ancestors(tx, node.handle)
        doomed = self._tree.subtree(tx, node.handle)
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
        self._tree.emit(tx, caller, command, {"a": "d", "n": node.handle}, chain)

    def cmd_uq(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """Storage and transfer figures: ``mstrg``, ``cstrg``, ``cstrgn`` per root, ``mxfer``, ``caxfer``,
        ``csxfer`` (transfer is not metered); with ``pro: 1`` also the plan ``utype`` (always 0, free)."""
        assert caller.user is not None
        rows = tx.execute(f"SELECT {NODE_COLUMNS} FROM nodes WHERE owner = ?", (caller.user,)).fetchall()
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
        answer: dict[str, Any] = {
            "mstrg": UNLIMITED if quota is None else quota,
            "cstrg": sum(n.size for n in nodes if n.type == FILE),
            "cstrgn": per_root,
            "mxfer": UNLIMITED,
            "caxfer": 0,
            "csxfer": 0,
            "srvratio": 0,
            "uslw": 9000,
        }
        if command.get("pro"):
            # the account's plan, asked for with pro:1 (SDK, megajs getAccountInfo): 0 = free, no Pro level
            answer["utype"] = 0
        return answer


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
