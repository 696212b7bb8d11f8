"""Public links: ``l`` (export a node, or remove its link) and ``s2`` to the pseudo-user ``EXP`` (what makes a
folder link readable: the share key wraps the folder's keys, given in ``cr``). Shares with other users are not
emulated (``shared/mega-protocol.md`` sections 10.4 and 10.6).
"""

from __future__ import annotations

import time
from typing import Any

from backends.mega.emulator import ids
from backends.mega.emulator.codes import EACCESS, EARGS, ENOENT, CommandError
from backends.mega.emulator.context import Caller
from backends.mega.emulator.store import Tx
from backends.mega.emulator.tree import EXPORTED, FOLDER, ROOTS, Tree, check_key

__all__ = ["Links"]


class Links:
    """The ``l`` and ``s2`` commands."""

    def __init__(self, tree: Tree) -> None:
        self._tree = tree

    def cmd_l(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> str | int:
        """Export ``n``: its public handle (one per node, the same on every call); ``d: 1`` removes it."""
        node = self._tree.own(tx, caller, command.get("n"))
        if node.type in ROOTS:
            raise CommandError(EACCESS, "roots are not exported")
        row = tx.execute("SELECT ph FROM links WHERE node = ?", (node.handle,)).fetchone()
        chain = self._tree.ancestors(tx, node.handle)
        if command.get("d") == 1:
            if row is None:
                raise CommandError(ENOENT, "no link")
            tx.execute("DELETE FROM links WHERE node = ?", (node.handle,))
            self._tree.emit(tx, caller, command, {"a": "ph", "h": node.handle, "ph": row[0], "d": 1}, chain)
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
        self._tree.emit(tx, caller, command, {"a": "ph", "h": node.handle, "ph": ph, "ts": now}, chain)
        return ph

    def cmd_s2(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, list[int]]:
        """Share a folder with the pseudo-user ``EXP`` (a public folder link), with ``ok``/``ha`` and ``cr``;
        an entry without ``r`` (SDK) or with ``r: ""`` (web client, megajs) removes the share and with it the
        folder's link. Shares with other users are not emulated (EACCESS).

        The answer is ``{"r": [0, ...]}``, one result per entry of ``s``: MEGA's web client counts a share
        change done only when ``r[0] == 0``; the SDK reads the same array, megajs and mega.py ignore it."""
        node = self._tree.own(tx, caller, command.get("n"))
        if node.type != FOLDER:
            raise CommandError(EACCESS, "only folders are shared")
        targets = command.get("s")
        if not isinstance(targets, list) or not targets or not all(isinstance(t, dict) for t in targets):
            raise CommandError(EARGS, "s: expected a list of users")
        # MEGA's web client sends ``ha: ""`` when it removes a share: an empty value is no value
        owner_key = command.get("ok") or None
        handle_auth = command.get("ha") or None
        for value in (owner_key, handle_auth):
            if value is not None:
                check_key(value, (16,))
        now = int(time.time())
        results: list[int] = []
        for target in targets:
            if target.get("u") != EXPORTED:
                raise CommandError(EACCESS, "sharing with contacts is not emulated")
            access = target.get("r")
            # Removal: the SDK leaves ``r`` out, the web client and megajs send ``r: ""``.
            if access is None or access == "":
                self._unexport_folder(tx, caller, command, node.handle)
                results.append(0)
                continue
            if not isinstance(access, int) or isinstance(access, bool) or access not in (0, 1, 2):
                raise CommandError(EARGS, "r: 0, 1 or 2")
            tx.execute(
                "INSERT OR REPLACE INTO shares (node, user, owner, access, ok, ha, ts)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (node.handle, EXPORTED, node.owner, access, owner_key, handle_auth, now),
            )
            results.append(0)
        self._tree.apply_cr(tx, caller, command.get("cr"), {})
        return {"r": results}

    def _unexport_folder(self, tx: Tx, caller: Caller, command: dict[str, Any], handle: str) -> None:
        """End the share to ``EXP`` and with it the folder's public link: the web client and megajs remove a
        folder link with this ``s2`` alone (no ``l`` with ``d: 1``), so the handle must not stay listed."""
        tx.execute("DELETE FROM shares WHERE node = ? AND user = ?", (handle, EXPORTED))
        row = tx.execute("SELECT ph FROM links WHERE node = ?", (handle,)).fetchone()
        if row is not None:
            tx.execute("DELETE FROM links WHERE node = ?", (handle,))
            chain = self._tree.ancestors(tx, handle)
            self._tree.emit(tx, caller, command, {"a": "ph", "h": handle, "ph": row[0], "d": 1}, chain)
