"""The command endpoint ``POST /cs``: request-level checks, then one transaction per command.

Order of the checks on a request (``shared/mega-protocol.md`` sections 2 and 12):

1. faults that happen before anything runs: HTTP 500, bare ``-3``, bare ``-4``;
2. the body must be a JSON array of objects with a string ``a`` (else bare ``-2``);
3. hashcash, when switched on for login requests or for all (HTTP 402 until a solved challenge comes back);
4. idempotency: the same (``sid`` or ``n``, ``id``, body) again gets the stored answer, nothing runs twice
   (checked before the session, so a retried ``sml`` still gets its ``0``);
5. the session: a ``sid`` must be live and a command that needs one must have one (else bare ``-15``);
   ``n=`` works under a public folder link instead (reads only; writes answer ``-11`` in their slot);
6. a blocked account (the ``blocked`` fault): any request on its session answers a bare ``-16``, unless it
   holds only ``whyamiblocked`` (see ``BLOCKED_EXEMPT``);
7. each command in its own transaction: a slot error undoes only that command.

Blocked accounts follow MEGA's SDK rather than a per-slot error, because that is what the real API does:
the API checks the session of every POST and "directly returns -16 (EBLOCKED, without brackets)" for a
blocked account (meganz/sdk pull request 379); ``MegaClient::exec`` takes a bare ``-16`` on a request with a
sid as the signal to ``block()`` and to ask ``whyamiblocked``, which the SDK sends in a batch of its own
(``batchSeparately``: "don't let any other commands that might get batched with it cause the whole batch to
fail") and which therefore must still be answered. ``us`` carries no sid, so a blocked account still logs in
and gets the session it needs to ask (``shared/mega-protocol.md`` section 4.4); its ``sc`` polls answer a
bare ``-16`` too (SDK pull request 1919, "Process API_EBLOCKED on sc channel"). Folder links (``n=``) and
transfer URLs issued earlier are left alone: nothing tells what MEGA does with them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from backends.mega.emulator import codes
from backends.mega.emulator.accounts import Accounts
from backends.mega.emulator.actions import ActionLog
from backends.mega.emulator.codes import CommandError
from backends.mega.emulator.context import Caller, FolderLink, Urls
from backends.mega.emulator.faults import Faults
from backends.mega.emulator.links import Links
from backends.mega.emulator.nodes import Nodes
from backends.mega.emulator.store import Store, Tx
from backends.mega.emulator.transfers import Downloads, Uploads
from backends.mega.emulator.tree import EXPORTED

__all__ = ["Api", "Reply"]

log = logging.getLogger("syncer.mega.emulator.api")

MAX_BODY = 32 * 1024 * 1024
REPLAY_CACHE = 4096
LOGIN_COMMANDS = frozenset({"us0", "us"})
#: What a blocked account's session may still send: the question why (MEGA's SDK asks it on a bare -16).
BLOCKED_EXEMPT = frozenset({"whyamiblocked"})

Handler = Callable[[Tx, Caller, dict[str, Any]], Any]


@dataclass(frozen=True)
class Reply:
    """An HTTP answer, independent of the server that sends it."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Command:
    handler: Handler
    #: whether the command needs a logged-in session (given the command object)
    needs_session: Callable[[dict[str, Any]], bool]
    #: allowed under a folder link (n=)
    read_only: bool = False


def _always(command: dict[str, Any]) -> bool:
    return True


def _never(command: dict[str, Any]) -> bool:
    return False


def _bare(code: int) -> Reply:
    return Reply(200, str(code).encode("ascii"))


class Api:
    """Dispatches /cs batches to the account, node and transfer handlers."""

    def __init__(
        self,
        store: Store,
        faults: Faults,
        accounts: Accounts,
        nodes: Nodes,
        links: Links,
        uploads: Uploads,
        downloads: Downloads,
        actions: ActionLog,
    ) -> None:
        self._store = store
        self._faults = faults
        self._accounts = accounts
        self._actions = actions
        self._replays: OrderedDict[tuple[str, str, bytes], bytes] = OrderedDict()
        self._replays_lock = threading.Lock()
        self._commands: dict[str, _Command] = {
            "us0": _Command(accounts.cmd_us0, _never),
            "us": _Command(accounts.cmd_us, _never),
            "uc2": _Command(accounts.cmd_sign_up, _never),
            "uc": _Command(accounts.cmd_sign_up, _never),
            "ug": _Command(accounts.cmd_ug, _always),
            "sml": _Command(accounts.cmd_sml, _always),
            "whyamiblocked": _Command(accounts.cmd_whyamiblocked, _always),
            "f": _Command(nodes.cmd_f, _always, read_only=True),
            "p": _Command(nodes.cmd_p, _always),
            "m": _Command(nodes.cmd_m, _always),
            "a": _Command(nodes.cmd_a, _always),
            "d": _Command(nodes.cmd_d, _always),
            "l": _Command(links.cmd_l, _always),
            "s2": _Command(links.cmd_s2, _always),
            "uq": _Command(nodes.cmd_uq, _always),
            "u": _Command(uploads.cmd_u, _always),
            "g": _Command(downloads.cmd_g, lambda command: "p" not in command, read_only=True),
        }

    # -- /cs -------------------------------------------------------------------------------------------------

    def handle_cs(self, query: dict[str, str], body: bytes | None, hashcash: str | None, urls: Urls) -> Reply:
        settings = self._faults.settings
        if self._faults.roll(settings.http500_rate, "cs:http500"):
            return Reply(500)
        if self._faults.roll(settings.eagain_rate, "cs:eagain"):
            return _bare(codes.EAGAIN)
        if self._faults.roll(settings.ratelimit_rate, "cs:ratelimit"):
            return _bare(codes.ERATELIMIT)
        batch = self._parse(body)
        if batch is None:
            return _bare(codes.MALFORMED_BATCH)
        wants_work = settings.hashcash == "all" or (
            settings.hashcash == "login" and any(command["a"] in LOGIN_COMMANDS for command in batch)
        )
        if wants_work and not self._faults.hashcash.redeem(hashcash):
            challenge = self._faults.hashcash.challenge(settings.hashcash_easiness)
            return Reply(402, b"", {"X-Hashcash": challenge})
        # A retry is answered from the cache before the session is checked: a logout whose answer got lost
        # must get its 0 again, not ESID. The key holds the sid the answer was made for.
        request_id = query.get("id")
        replay_key = None
        if request_id is not None and body is not None:
            session = f"n:{query['n']}" if "n" in query else query.get("sid", "")
            replay_key = (session, request_id, hashlib.sha256(body).digest())
            with self._replays_lock:
                stored = self._replays.get(replay_key)
                if stored is not None:
                    self._replays.move_to_end(replay_key)
                    log.debug("replaying the answer to request id %s", request_id)
                    return Reply(200, stored)
        caller, bad_link = self._caller(query, urls)
        if caller is None:
            return _bare(codes.ESID)
        if caller.user is None and caller.link is None and not bad_link:
            for command in batch:
                spec = self._commands.get(command["a"])
                if spec is not None and spec.needs_session(command):
                    return _bare(codes.ESID)
        exempt = bool(batch) and all(command["a"] in BLOCKED_EXEMPT for command in batch)
        if settings.blocked and caller.user is not None and not exempt:
            with self._store.transaction() as tx:
                if self._accounts.is_blocked(tx, caller.user):
                    log.debug("blocked account %s: -16", caller.user)
                    return _bare(codes.EBLOCKED)
        results = [self._run(caller, command, bad_link) for command in batch]
        answer = json.dumps(results, separators=(",", ":")).encode("utf-8")
        if replay_key is not None:
            with self._replays_lock:
                self._replays[replay_key] = answer
                while len(self._replays) > REPLAY_CACHE:
                    self._replays.popitem(last=False)
        return Reply(200, answer)

    @staticmethod
    def _parse(body: bytes | None) -> list[dict[str, Any]] | None:
        if body is None:
            return None
        try:
            batch = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(batch, list):
            return None
        if not all(isinstance(command, dict) and isinstance(command.get("a"), str) for command in batch):
            return None
        return batch

    def _caller(self, query: dict[str, str], urls: Urls) -> tuple[Caller | None, bool]:
        """(the caller, whether ``n=`` named no folder link); caller None means a dead ``sid``."""
        with self._store.transaction() as tx:
            public = query.get("n")
            if public is not None:
                link = self.folder_link(tx, public)
                return Caller(urls, link=link), link is None
            sid = query.get("sid")
            if sid is None:
                return Caller(urls), False
            user = self._accounts.session_user(tx, sid)
            if user is None:
                log.debug("dead session %s…", sid[:6])
                return None, False
            return Caller(urls, user=user, sid=sid), False

    @staticmethod
    def folder_link(tx: Tx, public_handle: str) -> FolderLink | None:
        """The folder behind a public handle, if that folder is exported (shared to ``EXP``)."""
        row = tx.execute(
            """SELECT links.node, links.owner FROM links JOIN nodes ON nodes.handle = links.node
               JOIN shares ON shares.node = links.node AND shares.user = ?
               WHERE links.ph = ? AND nodes.type = 1""",
            (EXPORTED, public_handle),
        ).fetchone()
        return None if row is None else FolderLink(public_handle, str(row[0]), str(row[1]))

    def _run(self, caller: Caller, command: dict[str, Any], bad_link: bool) -> Any:
        name = command["a"]
        spec = self._commands.get(name)
        if spec is None:
            log.debug("unknown command %r", name)
            return codes.UNKNOWN_COMMAND
        if caller.link is not None or bad_link:
            if spec.read_only:
                if bad_link:
                    return codes.ENOENT
            elif spec.needs_session(command):
                return codes.WRITE_THROUGH_LINK
        try:
            with self._store.transaction() as tx:
                return spec.handler(tx, caller, command)
        except CommandError as error:
            log.debug("%s -> %d (%s)", name, error.code, error.reason)
            return error.code
        except Exception:
            log.exception("command %s failed", name)
            return codes.EINTERNAL

    # -- /sc -------------------------------------------------------------------------------------------------

    def handle_sc(self, query: dict[str, str], urls: Urls) -> Reply:
        """One ``sc`` poll (``sid`` or ``n`` for a folder link; ``sn`` required)."""
        if self._faults.roll(self._faults.settings.http500_rate, "sc:http500"):
            return Reply(500)
        with self._store.transaction() as tx:
            public = query.get("n")
            if public is not None:
                link = self.folder_link(tx, public)
                if link is None:
                    return _bare(codes.ENOENT)
                caller = Caller(urls, link=link)
            else:
                user = self._accounts.session_user(tx, query.get("sid", ""))
                if user is None:
                    return _bare(codes.ESID)
                if self._accounts.is_blocked(tx, user):
                    return _bare(codes.EBLOCKED)
                caller = Caller(urls, user=user, sid=query.get("sid"))
            answer = self._actions.poll(tx, caller, query.get("sn", ""))
        return Reply(200, json.dumps(answer, separators=(",", ":")).encode("utf-8"))
