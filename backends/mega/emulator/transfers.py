"""Uploads and downloads: the ``u`` and ``g`` commands and the storage endpoints their URLs point at.

Upload (``shared/mega-protocol.md`` section 8): ``u`` hands out a capability URL; the client POSTs ciphertext
to ``<url>/<offset>`` in pieces that start on a chunk boundary and end on one or at the file's end (else
``-7``), in any order and in parallel, optionally with a ``?c=``/``?d=`` checksum (``-14`` when wrong).
Pieces are written with ``os.pwrite`` at their offsets as they arrive; the received ranges are kept in memory
and in SQLite. An earlier piece is answered with an empty body (``0`` for ``?d=``); the piece that completes
the file gets the 36-character completion token, which ``p`` turns into exactly one node. After
``upload_ttl`` the URL answers ``-8``.

Download (section 9): ``g`` hands out ``<url>`` for a file; ``GET <url>`` sends the whole ciphertext and
``GET <url>/<start>-<end>`` an inclusive range of any alignment (HTTP 416 when it does not fit). The URL is a
capability (an HMAC over the body, the account its bytes are charged to, and an expiry), so it needs no
session. Bytes go out with ``sendfile`` unless a fault (drop, corrupt, bandwidth cap) needs them in Python.
With a transfer quota (``faults.TransferMeter``) an account past it gets HTTP 509 and ``X-MEGA-Time-Left``
on its URLs, and ``e: -17`` with ``tl`` in ``g`` (sections 9.1, 9.4).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from backends.mega import crypto
from backends.mega.emulator import codes, ids
from backends.mega.emulator.codes import EARGS, EEXPIRED, EKEY, ENOENT, EOVERQUOTA, ERANGE, CommandError
from backends.mega.emulator.context import Caller
from backends.mega.emulator.faults import Faults
from backends.mega.emulator.nodes import Nodes
from backends.mega.emulator.store import Store, Tx
from backends.mega.emulator.tree import FILE, Tree

if TYPE_CHECKING:
    from backends.mega.emulator.httpd import Exchange

__all__ = ["Downloads", "Uploads", "merge_interval", "piece_in_bounds", "remove_interval"]

log = logging.getLogger("syncer.mega.emulator.transfers")

#: Receive buffer per thread: large reads keep Python out of the per-byte path; a multiple of the 12-byte
#: checksum lanes.
BLOCK = 4 * 1024 * 1024 - (4 * 1024 * 1024) % 12
#: Bodies up to this size are read and dropped after an early refusal, so the connection stays usable.
DRAIN_LIMIT = 1 << 20
DOWNLOAD_TTL = 24 * 3600
_MAC_SIZE = 16
_RAW_BODY_ID = 16
_RAW_USER = 8  # a user handle is the base64 of 8 bytes

Intervals = list[list[int]]


def merge_interval(intervals: Intervals, start: int, end: int) -> Intervals:
    """``intervals`` (sorted, disjoint [start, end) pairs) with [start, end) added and neighbours merged."""
    if start >= end:
        return [list(pair) for pair in intervals]
    merged: Intervals = []
    for low, high in sorted([*map(tuple, intervals), (start, end)]):
        if merged and low <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], high)
        else:
            merged.append([low, high])
    return merged


def remove_interval(intervals: Intervals, start: int, end: int) -> Intervals:
    """``intervals`` without [start, end)."""
    kept: Intervals = []
    for low, high in intervals:
        if high <= start or low >= end:
            kept.append([low, high])
            continue
        if low < start:
            kept.append([low, start])
        if high > end:
            kept.append([end, high])
    return kept


def piece_in_bounds(offset: int, length: int, size: int) -> bool:
    """A piece may start on a chunk boundary and end on one or at the end of the file (section 8.2/8.5)."""
    end = offset + length
    if offset < 0 or length < 0 or end > size:
        return False
    if size == 0:
        return offset == 0 and length == 0
    if length == 0 or crypto.chunk_floor(offset) != offset:
        return False
    return end == size or crypto.chunk_floor(end) == end


@dataclass
class _Upload:
    id: str
    owner: str
    size: int
    created: float
    covered: Intervals
    token: str | None
    lock: threading.Lock = field(default_factory=threading.Lock)


class Uploads:
    """Upload URLs, the pieces they receive, and the completion tokens ``p`` redeems."""

    def __init__(self, store: Store, faults: Faults, nodes: Nodes) -> None:
        self._store = store
        self._faults = faults
        self._nodes = nodes
        self._lock = threading.Lock()
        self._active: dict[str, _Upload] = {}
        self._buffers = threading.local()

    # -- commands --------------------------------------------------------------------------------------------

    def cmd_u(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """An upload URL for ``s`` bytes. EARGS for a bad size, EOVERQUOTA beyond the storage quota.

        ``ssl: 2`` asks for an https URL (given when the server has a certificate); ``v``, ``ms``, ``r``,
        ``e`` and ``t`` are accepted and ignored.
        """
        assert caller.user is not None
        size = command.get("s")
        if not isinstance(size, int) or isinstance(size, bool) or size < 0:
            raise CommandError(EARGS, "s: a size in bytes")
        self._nodes.check_quota(tx, caller.user, size)
        self._purge_expired(tx)
        upload_id = ids.new_upload_id()
        tx.execute(
            "INSERT INTO uploads (id, owner, size, created, coverage) VALUES (?, ?, ?, ?, '[]')",
            (upload_id, caller.user, size, time.time()),
        )
        return {"p": caller.urls.upload(upload_id, command.get("ssl"))}

    def attach(self, tx: Tx, user: str, token: str) -> tuple[str, int]:
        """Redeem a completion token (36 characters, or the base64 of those 36 bytes) for ``p``.

        Returns (body id, size). UNKNOWN_TOKEN for a token this user never got, TOKEN_REUSED the second time.
        """
        text = token
        if len(token) == 48:
            with contextlib.suppress(ValueError, UnicodeDecodeError):
                text = crypto.b64decode(token).decode("ascii")
        row = tx.execute("SELECT id, owner, size, attached FROM uploads WHERE token = ?", (text,)).fetchone()
        if row is None or row[1] != user:
            raise CommandError(codes.UNKNOWN_TOKEN, "unknown upload token")
        if row[3]:
            raise CommandError(codes.TOKEN_REUSED, "upload token already used")
        tx.execute("UPDATE uploads SET attached = 1 WHERE id = ?", (row[0],))
        return str(row[0]), int(row[2])

    def _purge_expired(self, tx: Tx) -> None:
        """Forget uploads never attached, one TTL after their URL expired, and delete their bodies."""
        cutoff = time.time() - 2 * self._faults.settings.upload_ttl
        rows = tx.execute("SELECT id FROM uploads WHERE attached = 0 AND created < ?", (cutoff,)).fetchall()
        if not rows:
            return
        stale = [str(row[0]) for row in rows]
        tx.execute(f"DELETE FROM uploads WHERE id IN ({','.join('?' * len(stale))})", tuple(stale))
        with self._lock:
            for upload_id in stale:
                self._active.pop(upload_id, None)
        paths = [self._store.body_path(upload_id) for upload_id in stale]

        def unlink() -> None:
            for path in paths:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()

        tx.after_commit(unlink)

    # -- pieces ----------------------------------------------------------------------------------------------

    def _load(self, upload_id: str) -> _Upload | None:
        # Never hold self._lock while waiting for the store: cmd_u holds the store and then wants self._lock.
        with self._lock:
            upload = self._active.get(upload_id)
        if upload is not None:
            return upload
        with self._store.transaction() as tx:
            row = tx.execute(
                "SELECT owner, size, created, coverage, token FROM uploads WHERE id = ?", (upload_id,)
            ).fetchone()
        if row is None:
            return None
        owner, size, created, coverage, token = row
        upload = _Upload(upload_id, owner, size, created, json.loads(coverage), token)
        if token is None:
            with self._lock:  # one object per upload, shared by its concurrent pieces until complete
                upload = self._active.setdefault(upload_id, upload)
        return upload

    def _buffer(self) -> memoryview:
        view: memoryview | None = getattr(self._buffers, "view", None)
        if view is None:
            view = memoryview(bytearray(BLOCK))
            self._buffers.view = view
        return view

    def receive(self, ex: Exchange, upload_id: str, offset_text: str) -> None:
        """Handle ``POST <upload url>/<offset>``: store the piece, answer empty/``0``/token/``-<code>``."""
        upload = self._load(upload_id)
        if upload is None:
            ex.discard_body(DRAIN_LIMIT)
            ex.reply(404, b"", content_type="text/plain")
            return
        settings = self._faults.settings
        length = ex.body_length()
        if length is None:  # chunked: no MEGA client sends pieces that way
            ex.reply(411, b"", content_type="text/plain", close=True)
            return
        if time.time() > upload.created + settings.upload_ttl:
            self._refuse(ex, EEXPIRED)
            return
        offset = int(offset_text) if offset_text.isdigit() else -1
        if not piece_in_bounds(offset, length, upload.size):
            self._refuse(ex, ERANGE)
            return
        expected: bytes | None = None
        checksum_text = ex.query.get("c", ex.query.get("d"))
        if checksum_text is not None:
            try:
                expected = crypto.b64decode(checksum_text)
            except ValueError:
                expected = b""
            if len(expected) != crypto.UPLOAD_CHECKSUM_SIZE:
                self._refuse(ex, EKEY)
                return
        if self._faults.roll(settings.http500_rate, "upload:http500"):
            ex.discard_body(DRAIN_LIMIT)
            ex.reply(500, b"", content_type="text/plain")
            return
        drop_at = self._faults.below(length) if self._faults.roll(settings.drop_rate, "upload:drop") else None
        stored = self._store_piece(ex, upload, offset, length, expected, drop_at)
        if stored is None:
            return  # connection dropped (fault or client): no answer
        if not stored:
            ex.reply(200, str(EKEY).encode(), content_type="text/plain")
            return
        token = self._complete_piece(upload, offset, offset + length)
        if token is not None:
            ex.reply(200, token.encode("ascii"), content_type="text/plain")
        else:
            ex.reply(200, b"0" if "d" in ex.query else b"", content_type="text/plain")

    @staticmethod
    def _refuse(ex: Exchange, code: int) -> None:
        ex.discard_body(DRAIN_LIMIT)
        ex.reply(200, str(code).encode(), content_type="text/plain")

    def _store_piece(
        self,
        ex: Exchange,
        upload: _Upload,
        offset: int,
        length: int,
        expected: bytes | None,
        drop_at: int | None,
    ) -> bool | None:
        """Read the body into the upload's file. True when stored, False on a checksum mismatch, None when the
        connection ended early (then the range counts as missing again)."""
        complete = upload.token is not None
        view = self._buffer()
        bandwidth = self._faults.bandwidth
        fd = -1 if complete else self._open_body(upload)
        checksum = crypto.UploadChecksum() if expected is not None else None
        try:
            position = 0
            while position < length:
                want = min(length - position, bandwidth.slice_size(len(view)))
                if drop_at is not None:
                    want = min(want, drop_at - position)
                    if want <= 0:
                        break
                bandwidth.take(want)
                got = ex.readinto(view[:want])
                if got:
                    if fd >= 0:
                        os.pwrite(fd, view[:got], offset + position)
                    if checksum is not None:
                        checksum.update(view[:got])
                    position += got
                if got < want:
                    break
        finally:
            if fd >= 0:
                os.close(fd)
        if position < length or drop_at is not None:
            if drop_at is not None:
                log.debug(
                    "drop fault: upload %s… piece %d cut after %d bytes", upload.id[:6], offset, position
                )
            self._uncover(upload, offset, offset + length)
            ex.abort()
            return None
        if checksum is not None and checksum.digest() != expected:
            log.debug("upload %s… piece %d: checksum mismatch", upload.id[:6], offset)
            self._uncover(upload, offset, offset + length)
            return False
        return True

    def _open_body(self, upload: _Upload) -> int:
        fd = os.open(self._store.body_path(upload.id), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o600)
        if os.fstat(fd).st_size < upload.size:
            os.ftruncate(fd, upload.size)
        return fd

    def _uncover(self, upload: _Upload, start: int, end: int) -> None:
        if upload.token is not None:
            return
        with upload.lock:
            upload.covered = remove_interval(upload.covered, start, end)
            self._save(upload)

    def _complete_piece(self, upload: _Upload, start: int, end: int) -> str | None:
        """Record [start, end) as received; the completion token if the file is now whole."""
        with upload.lock:
            if upload.token is not None:
                return upload.token
            upload.covered = merge_interval(upload.covered, start, end)
            # a 0-byte upload is whole once its one empty POST arrived (which created its empty body file)
            if upload.covered == [[0, upload.size]] or upload.size == 0:
                upload.token = ids.completion_token()
                with self._lock:
                    self._active.pop(upload.id, None)
            self._save(upload)
            return upload.token

    def _save(self, upload: _Upload) -> None:
        with self._store.transaction() as tx:
            tx.execute(
                "UPDATE uploads SET coverage = ?, token = ? WHERE id = ?",
                (json.dumps(upload.covered), upload.token, upload.id),
            )


class Downloads:
    """``g`` and the download endpoint."""

    def __init__(self, store: Store, faults: Faults, tree: Tree, secret: bytes) -> None:
        self._store = store
        self._faults = faults
        self._tree = tree
        self._secret = secret

    # -- the g command ---------------------------------------------------------------------------------------

    def cmd_g(self, tx: Tx, caller: Caller, command: dict[str, Any]) -> dict[str, Any]:
        """A file's size and attributes, and with ``g: 1`` its download URL. The file is named by ``p`` (a
        public link), by ``n`` inside the caller's folder link, or by ``n`` among the caller's own nodes.

        ENOENT for an unknown node or link (or a node outside the folder link), GET_FOLDER for a folder.
        The download is charged to the caller's account, or for a public link (``p``, or ``n`` under a folder
        link) to the link's owner. When that account is past its transfer quota the answer carries
        ``e: -17`` and ``tl`` (seconds until it may download again) beside the usual fields; the URL is still
        given (it answers 509 until then), as clients that skip ``e`` then meet the quota where the SDK
        expects it too (**UNCONFIRMED** whether MEGA still hands out the URL).
        """
        public = command.get("p")
        if public is not None:
            row = (
                tx.execute("SELECT node, owner FROM links WHERE ph = ?", (public,)).fetchone()
                if isinstance(public, str)
                else None
            )
            if row is None or (node := self._tree.get(tx, row[0])) is None:
                raise CommandError(ENOENT, "no such link")
            account = str(row[1])
        elif caller.link is not None:
            node = self._tree.get(tx, command.get("n"))
            if node is None or not self._tree.in_link(tx, caller.link, node.handle):
                raise CommandError(ENOENT, "not in this folder link")
            account = caller.link.owner
        else:
            node = self._tree.own(tx, caller, command.get("n"))
            assert caller.user is not None
            account = caller.user
        if node.type != FILE or node.body is None:
            raise CommandError(codes.GET_FOLDER, "not a file")
        answer: dict[str, Any] = {"s": node.size, "at": node.attrs}
        if node.fa:
            answer["fa"] = node.fa
        if command.get("g"):
            answer["g"] = caller.urls.download(self.token(node.body, account), command.get("ssl"))
        time_left = self._faults.transfers.time_left(account)
        if time_left is not None:
            answer["e"] = EOVERQUOTA
            answer["tl"] = time_left
        return answer

    def token(self, body: str, account: str, now: float | None = None) -> str:
        """The capability in a download URL: body id, the account charged for its bytes, expiry, and a MAC
        over all three (so a client can neither reach another body nor shift the charge)."""
        expires = int(time.time() if now is None else now) + DOWNLOAD_TTL
        signed = crypto.b64decode(body) + crypto.b64decode(account) + expires.to_bytes(8, "big")
        mac = hmac.new(self._secret, b"dl:" + signed, hashlib.sha256).digest()[:_MAC_SIZE]
        return crypto.b64encode(signed + mac)

    def _body_of(self, token: str) -> tuple[str | None, str, bool]:
        """(body id, charged account, expired) of a download token; (None, "", False) when it is not ours."""
        try:
            raw = crypto.b64decode(token)
        except ValueError:
            return None, "", False
        if len(raw) != _RAW_BODY_ID + _RAW_USER + 8 + _MAC_SIZE:
            return None, "", False
        signed, mac = raw[:-_MAC_SIZE], raw[-_MAC_SIZE:]
        good = hmac.new(self._secret, b"dl:" + signed, hashlib.sha256).digest()[:_MAC_SIZE]
        if not hmac.compare_digest(mac, good):
            return None, "", False
        account = crypto.b64encode(signed[_RAW_BODY_ID : _RAW_BODY_ID + _RAW_USER])
        expired = int.from_bytes(signed[_RAW_BODY_ID + _RAW_USER :], "big") < time.time()
        return crypto.b64encode(signed[:_RAW_BODY_ID]), account, expired

    # -- the endpoint ----------------------------------------------------------------------------------------

    def send(self, ex: Exchange, token: str, range_text: str | None) -> None:
        """Handle ``GET <download url>[/<start>-<end>]``: 509 with ``X-MEGA-Time-Left`` when the account
        charged is past its transfer quota, checked after the URL and range (a bad one is not a quota
        matter) and before any dice are rolled."""
        body, account, expired = self._body_of(token)
        if body is None or expired:
            ex.reply(403 if expired else 404, b"", content_type="text/plain")
            return
        try:
            file = open(self._store.body_path(body), "rb")  # noqa: SIM115 - closed in the finally below
        except FileNotFoundError:
            ex.reply(404, b"", content_type="text/plain")
            return
        try:
            size = os.fstat(file.fileno()).st_size
            span = _parse_range(range_text, size)
            if span is None:
                ex.reply(416, b"", content_type="text/plain", headers={"Content-Range": f"bytes */{size}"})
                return
            time_left = self._faults.transfers.time_left(account)
            if time_left is not None:
                log.debug("transfer quota: %s must wait %d s", account, time_left)
                ex.reply(509, b"", content_type="text/plain", headers={"X-MEGA-Time-Left": str(time_left)})
                return
            self._send_span(ex, file, *span, account)
        finally:
            file.close()

    def _send_span(self, ex: Exchange, file: BinaryIO, start: int, count: int, account: str) -> None:
        """Send ``count`` bytes from ``start``, applying the transfer faults; charge what goes out.

        Bytes are charged just before they are written, never after: a client that has read a whole body
        and asks again at once must find it already counted.
        """
        settings = self._faults.settings
        if self._faults.roll(settings.http500_rate, "download:http500"):
            ex.reply(500, b"", content_type="text/plain")
            return
        dropped = self._faults.roll(settings.drop_rate, "download:drop")
        drop_at = self._faults.below(count) if dropped else None
        corrupt = count > 0 and self._faults.roll(settings.corrupt_rate, "download:corrupt")
        flip_at = self._faults.below(count) if corrupt else None
        ex.start(200, count, content_type="application/octet-stream")
        if drop_at is None and flip_at is None and settings.bandwidth <= 0:
            self._faults.transfers.charge(account, count)
            ex.sendfile(file, start, count)
            return
        bandwidth = self._faults.bandwidth
        sent = 0
        end = count if drop_at is None else drop_at
        while sent < end:
            piece = os.pread(file.fileno(), min(bandwidth.slice_size(), end - sent), start + sent)
            if not piece:
                break
            if flip_at is not None and sent <= flip_at < sent + len(piece):
                changed = bytearray(piece)
                changed[flip_at - sent] ^= 0xFF
                piece = bytes(changed)
            bandwidth.take(len(piece))
            self._faults.transfers.charge(account, len(piece))
            ex.write(piece)
            sent += len(piece)
        if drop_at is not None:
            log.debug("drop fault: download cut after %d of %d bytes", sent, count)
            ex.abort()


def _parse_range(text: str | None, size: int) -> tuple[int, int] | None:
    """(start, byte count) of ``<start>-<end>`` (inclusive; ``<start>-`` runs to the end), None if invalid."""
    if text is None or text == "":
        return 0, size
    first, sep, last = text.partition("-")
    if not sep or not first.isdigit() or (last and not last.isdigit()):
        return None
    start = int(first)
    end = int(last) if last else size - 1
    if start > end or end >= size:
        return None
    return start, end - start + 1
