"""Action packets: the log every tree change appends to, the ``sc`` poll that reads it, and the long poll.

Each packet gets the next value of one commit counter; ``sn`` is that counter base64ed (8 bytes,
big-endian). A poll returns the caller's packets after its ``sn`` in commit order, with the new ``sn``; with
none it returns ``{"w": url, "sn": sn}``, and the ``w`` URL blocks until a packet for that account is
committed or ``sc_wait`` passes (``shared/mega-protocol.md`` section 2.6). An ``sn`` that was never
issued, or that is older than the oldest packet kept, answers ETOOMANY: the client must reload its tree
with ``f``.

Folder-link viewers (``n=``) see the owner's packets whose scope holds the link's folder, with node keys cut
down to the folder key's entries.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from backends.mega.emulator import codes, ids
from backends.mega.emulator.context import Caller
from backends.mega.emulator.store import Store, Tx

__all__ = ["ActionLog"]

log = logging.getLogger("syncer.mega.emulator.actions")

#: Packets kept in the database; an ``sn`` older than the oldest kept one gets ETOOMANY.
MAX_KEPT = 200_000
#: Packets per poll answer; more are flagged with ``"ir": 1`` (poll again at once).
MAX_PER_POLL = 5_000
MAX_TICKETS = 10_000


@dataclass(frozen=True)
class _Ticket:
    owner: str
    after: int
    expires: float


def _scope_text(scope: Iterable[str]) -> str:
    return " " + " ".join(dict.fromkeys(scope)) + " "


def _link_view(packet: dict[str, Any], root: str) -> dict[str, Any]:
    """A packet as a folder-link viewer sees it: node keys reduced to the entries under the folder's key."""
    nodes = packet.get("t")
    if packet.get("a") != "t" or not isinstance(nodes, dict):
        return packet
    prefix = root + ":"
    view = dict(packet)
    view["t"] = {
        name: [
            {**node, "k": "/".join(p for p in str(node.get("k", "")).split("/") if p.startswith(prefix))}
            for node in listed
        ]
        for name, listed in nodes.items()
    }
    return view


class ActionLog:
    """The packet log of one store; thread-safe."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._latest: dict[str, int] = {}  # owner -> counter of its newest committed packet
        self._tickets: OrderedDict[str, _Ticket] = OrderedDict()
        self._stopping = False

    @staticmethod
    def current(tx: Tx) -> int:
        """The counter of the newest packet (0 before any)."""
        value = Store.get_meta(tx, "sn")
        return 0 if value is None else int(value)

    def current_sn(self, tx: Tx) -> str:
        return ids.encode_sn(self.current(tx))

    def emit(self, tx: Tx, owner: str, packet: dict[str, Any], scope: Iterable[str] = ()) -> int:
        """Append ``packet`` for ``owner``'s sessions; ``scope`` names the folders whose subtree it touches.

        Waiters wake once the transaction commits.
        """
        seq = self.current(tx) + 1
        Store.set_meta(tx, "sn", str(seq))
        tx.execute(
            "INSERT INTO packets (seq, owner, scope, body, created) VALUES (?, ?, ?, ?, ?)",
            (seq, owner, _scope_text(scope), json.dumps(packet, separators=(",", ":")), time.time()),
        )
        if seq % 1000 == 0:
            self._prune(tx, seq)
        tx.after_commit(lambda: self._committed(owner, seq))
        return seq

    @staticmethod
    def _prune(tx: Tx, seq: int) -> None:
        horizon = seq - MAX_KEPT
        if horizon > 0:
            tx.execute("DELETE FROM packets WHERE seq <= ?", (horizon,))
            Store.set_meta(tx, "horizon", str(horizon))

    def _committed(self, owner: str, seq: int) -> None:
        with self._cond:
            if seq > self._latest.get(owner, 0):
                self._latest[owner] = seq
            self._cond.notify_all()

    def poll(self, tx: Tx, caller: Caller, sn: str) -> dict[str, Any] | int:
        """One ``sc`` answer for ``caller`` (a session or a folder link) from ``sn``: packets, ``w``, or a
        negative code."""
        owner = caller.user if caller.link is None else caller.link.owner
        assert owner is not None
        after = ids.decode_sn(sn)
        current = self.current(tx)
        horizon = int(Store.get_meta(tx, "horizon") or 0)
        if after is None or after > current or after < horizon:
            return codes.STALE_SN
        query = "SELECT seq, body FROM packets WHERE owner = ? AND seq > ?"
        params: tuple[object, ...] = (owner, after)
        if caller.link is not None:
            query += " AND instr(scope, ?) > 0"
            params += (f" {caller.link.root} ",)
        rows = tx.execute(query + " ORDER BY seq LIMIT ?", (*params, MAX_PER_POLL + 1)).fetchall()
        if not rows:
            return {"w": caller.urls.wait(self._ticket(owner, current)), "sn": sn}
        more = len(rows) > MAX_PER_POLL
        rows = rows[:MAX_PER_POLL]
        packets = [json.loads(body) for _, body in rows]
        if caller.link is not None:
            packets = [_link_view(packet, caller.link.root) for packet in packets]
        answer: dict[str, Any] = {"a": packets, "sn": ids.encode_sn(rows[-1][0] if more else current)}
        if more:
            answer["ir"] = 1
        return answer

    def _ticket(self, owner: str, after: int) -> str:
        token = secrets.token_urlsafe(16)
        with self._cond:
            self._tickets[token] = _Ticket(owner, after, time.monotonic() + 3600)
            while len(self._tickets) > MAX_TICKETS:
                self._tickets.popitem(last=False)
        return token

    def wait(self, token: str, timeout: float) -> None:
        """Block until a packet newer than the ticket's commit arrives for its owner, or ``timeout`` passes.

        An unknown or expired ticket (say, from before a restart) returns at once: the client polls ``sc``
        again, which is always safe.
        """
        deadline = time.monotonic() + timeout
        with self._cond:
            ticket = self._tickets.get(token)
            if ticket is None or ticket.expires < time.monotonic():
                return
            while not self._stopping and self._latest.get(ticket.owner, 0) <= ticket.after:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._cond.wait(remaining)

    def stop(self) -> None:
        """Release every long poll now (server shutdown)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
