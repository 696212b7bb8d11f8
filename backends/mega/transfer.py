"""Moving file bytes to and from MEGA's storage servers: chunked, encrypted, MAC-checked, in parallel.

``shared/mega-protocol.md`` sections 8 (upload) and 9 (download). The API (``u``, ``g``) only hands out URLs;
the bytes go over plain HTTP(S) to those URLs, which answer with statuses of their own (9.4): 509 is the
transfer quota (never retried), 403/404 an expired URL (a download gets a fresh one), 429/5xx and dropped
connections are retried with the API's backoff.

Uploads: the stream is read once, in order, into *pieces* (runs of whole MEGA chunks, up to ``PIECE_SIZE``);
each piece is encrypted, MAC-ed and POSTed by a worker, at most ``parallel`` pieces of one file in flight,
so memory stays at ``parallel * PIECE_SIZE`` per file however big it is. Downloads fetch ranges the same way,
``parallel`` ahead of the reader; when the whole file is read the chunk MACs are condensed and compared with
the file key before the last bytes are handed out, so a corrupted file ends in IntegrityError and the engine's
temp file never becomes the final file.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType

from backends.base import BinaryReader, read_exactly
from backends.errors import (
    BackendError,
    ConnectionError,
    IntegrityError,
    QuotaExceeded,
    RateLimited,
    TransientError,
)

from . import crypto
from .api import MegaApi
from .errors import translate
from .fingerprint import StreamingCrc
from .storage_http import ProtocolError, Response, StorageHttp

__all__ = ["PIECE_SIZE", "DownloadReader", "Downloaded", "Transfers", "Uploaded"]

log = logging.getLogger(__name__)

#: Bytes per POST or ranged GET: big enough that request overhead vanishes, small enough to bound memory.
PIECE_SIZE = 8 << 20

#: Seconds MEGA's SDK waits when a 509 carries no ``X-MEGA-Time-Left``.
_DEFAULT_QUOTA_WAIT = 3600


@dataclass(frozen=True)
class Uploaded:
    """What ``p`` needs to attach an upload: the completion token, the file key with its meta-MAC, the CRC."""

    token: str
    key: crypto.FileKey
    crc: bytes
    size: int


@dataclass(frozen=True)
class Downloaded:
    """Where a file's bytes are: a URL from ``g`` and the size it reported."""

    url: str
    size: int


def pieces(size: int, limit: int = PIECE_SIZE) -> list[tuple[int, int]]:
    """(offset, length) runs of whole MEGA chunks of at most ``limit`` bytes (one chunk if bigger)."""
    out: list[tuple[int, int]] = []
    start, length = 0, 0
    for offset, chunk in crypto.chunk_bounds(size):
        if length and length + chunk > limit:
            out.append((start, length))
            start, length = offset, 0
        length += chunk
    if length or not out:
        out.append((start, length))
    return out


class BufferPool:
    """Piece buffers used again and again: a fresh 8 MiB buffer per piece costs page faults and zeroing in
    the kernel on every piece (measured: a third of a download's CPU time). Keeps at most ``keep``."""

    def __init__(self, size: int, keep: int) -> None:
        self.size = size
        self._keep = keep
        self._free: list[bytearray] = []
        self._lock = threading.Lock()

    def take(self) -> bytearray:
        with self._lock:
            if self._free:
                return self._free.pop()
        return bytearray(self.size)

    def give(self, buffer: bytearray) -> None:
        with self._lock:
            if len(self._free) < self._keep and len(buffer) == self.size:
                self._free.append(buffer)


class Transfers:
    """The storage-server side of one account: an HTTP pool and the workers that encrypt and send pieces.

    ``parallel`` is the number of pieces of one file in flight. Workers are shared by every file of the run
    (the engine already runs several files at once), so the pool is ``workers`` threads in all.
    """

    def __init__(self, api: MegaApi, *, parallel: int = 4, workers: int = 16, verify: bool | str = True):
        self.api = api
        self.parallel = max(1, parallel)
        self._http = StorageHttp(verify=verify, connect_timeout=15.0, timeout=120.0)
        #: room for a piece plus the block the cipher may write past it (``update_into``)
        self.buffers = BufferPool(PIECE_SIZE + 16, keep=workers + self.parallel)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mega-transfer")

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._http.close()

    # -- upload ----------------------------------------------------------------------------------------------

    def upload(self, url: str, stream: BinaryReader, size: int, path: str) -> Uploaded:
        """Send ``size`` bytes of ``stream`` to the upload URL; IntegrityError if its length differs."""
        key = crypto.FileKey.random()
        crc = StreamingCrc(size)
        macs = crypto.MacCollector(key.key, size)
        in_flight: collections.deque[Future[str | None]] = collections.deque()
        token: str | None = None
        try:
            for offset, length in pieces(size):
                data = read_exactly(stream, length)
                if len(data) != length:
                    raise IntegrityError(
                        f"stream ended after {offset + len(data)} of {size} bytes", path=path
                    )
                crc.feed(offset, data)
                if len(in_flight) >= self.parallel:
                    token = in_flight.popleft().result() or token
                in_flight.append(self._pool.submit(self._send_piece, url, key, offset, data, macs, path))
            if stream.read(1):
                raise IntegrityError(f"stream longer than the expected {size} bytes", path=path)
            while in_flight:
                token = in_flight.popleft().result() or token
        finally:
            for future in in_flight:
                future.cancel()
            for future in in_flight:
                if not future.cancelled():
                    future.exception()  # wait: no worker may still be sending when we give up
        if token is None:
            raise BackendError("MEGA's storage server accepted every piece but sent no completion token")
        return Uploaded(token, key.with_meta_mac(macs.meta_mac()), crc.crc(), size)

    def _send_piece(
        self,
        url: str,
        key: crypto.FileKey,
        offset: int,
        data: bytes,
        macs: crypto.MacCollector,
        path: str,
    ) -> str | None:
        cipher = crypto.ChunkCipher(key.key, key.nonce)
        view = memoryview(data)
        end = offset + len(data)
        for chunk_offset, chunk_length in crypto.chunk_bounds_between(offset, end):
            macs.add(
                chunk_offset, cipher.mac(view[chunk_offset - offset : chunk_offset - offset + chunk_length])
            )
        buffer = self.buffers.take() if len(data) + 16 <= self.buffers.size else bytearray(len(data) + 16)
        try:
            written = cipher.crypt_into(offset, data, buffer)
            with memoryview(buffer) as whole, whole[:written] as body:
                answer = self._with_retries(
                    lambda: self._http.post(f"{url}/{offset}", body), f"upload of {path!r}"
                )
        finally:
            self.buffers.give(buffer)
        text = answer.content.decode("ascii", "replace").strip()
        if not text or text == "0":
            return None
        if text.lstrip("-").isdigit() and text.startswith("-"):
            raise translate(int(text), "upload")
        if len(answer.content) == 36:
            return text
        raise BackendError(
            f"MEGA's storage server sent an unexpected answer to an upload ({len(text)} bytes)"
        )

    # -- download --------------------------------------------------------------------------------------------

    def fetch_into(self, url: str, start: int, end: int, buffer: bytearray, what: str) -> None:
        """Ciphertext bytes [start, end) of a download URL into the start of ``buffer``; retried until
        whole."""
        with memoryview(buffer) as whole, whole[: end - start] as view:

            def get() -> Response:
                response = self._http.get_into(f"{url}/{start}-{end - 1}", view)
                if response.status == 200 and response.received != end - start:
                    raise _Short(response.received, end - start)
                return response

            self._with_retries(get, what)

    def _with_retries(self, send: Callable[[], Response], what: str) -> Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                response = send()
                error = _status_error(response, what)
            except TimeoutError as exc:
                error = ConnectionError(
                    f"{what}: storage server did not answer in time ({type(exc).__name__})"
                )
            except (OSError, ProtocolError) as exc:
                error = ConnectionError(
                    f"{what}: connection to the storage server failed ({type(exc).__name__})"
                )
            except _Short as exc:
                error = ConnectionError(f"{what}: storage server sent {exc.got} of {exc.wanted} bytes")
            if error is None:
                return response
            if not error.retryable or attempt >= self.api.max_attempts:
                raise error
            log.debug("%s: %s; retry %d", what, error, attempt)
            self.api.pause(attempt)


class _Short(Exception):
    def __init__(self, got: int, wanted: int) -> None:
        super().__init__(f"{got} of {wanted}")
        self.got, self.wanted = got, wanted


class UrlExpired(TransientError):
    """A transfer URL answered 403/404: ask the API for a fresh one."""


def _status_error(response: Response, what: str) -> BackendError | None:
    status = response.status
    if status == 200:
        return None
    if status == 509:
        wait = response.headers.get("x-mega-time-left", "")
        seconds = int(wait) if wait.isdigit() else _DEFAULT_QUOTA_WAIT
        return QuotaExceeded(f"{what}: transfer quota exceeded (HTTP 509); MEGA allows more in {seconds} s")
    if status in (403, 404):
        return UrlExpired(f"{what}: transfer URL expired (HTTP {status})")
    if status == 429:
        return RateLimited(f"{what}: too many requests (HTTP 429)")
    if status >= 500:
        return TransientError(f"{what}: storage server error (HTTP {status})")
    return BackendError(f"{what}: unexpected answer from the storage server (HTTP {status})")


class DownloadReader:
    """A ``ReadStream`` over bytes [offset, offset+length) of a MEGA file, fetched ``parallel`` pieces ahead.

    ``locate`` returns a (fresh) download URL; it is called again when a URL expires. With ``verify`` (the
    whole file is read) pieces follow MEGA's chunk boundaries and every chunk's MAC is checked at the end.
    """

    def __init__(
        self,
        transfers: Transfers,
        locate: Callable[[], Downloaded],
        key: crypto.FileKey,
        size: int,
        offset: int,
        length: int | None,
        path: str,
    ) -> None:
        self._transfers = transfers
        self._locate = locate
        self._url: str | None = None
        self._key = key
        self._path = path
        end = size if length is None else min(size, offset + length)
        start = min(offset, end)
        self._verify = start == 0 and end == size and size > 0
        if self._verify:
            self._plan = pieces(size)
            self._macs: crypto.MacCollector | None = crypto.MacCollector(key.key, size)
        else:
            aligned = start - start % 16
            self._plan = [(o, min(PIECE_SIZE, end - o)) for o in range(aligned, end, PIECE_SIZE)]
            self._macs = None
        self._skip = start % 16 if not self._verify else 0
        self._next = 0
        self._ahead: collections.deque[Future[tuple[bytearray, int]]] = collections.deque()
        self._buffer = memoryview(b"")
        self._holding: bytearray | None = None
        self._closed = False

    def _url_now(self) -> str:
        if self._url is None:
            self._url = self._locate().url
        return self._url

    def _piece(self, offset: int, length: int) -> tuple[bytearray, int]:
        """A pool buffer holding the plaintext of [offset, offset+length), decrypted in place, and length."""
        what = f"download of {self._path!r}"
        pool = self._transfers.buffers
        buffer = pool.take() if length + 16 <= pool.size else bytearray(length + 16)
        try:
            for refreshed in (False, True):
                try:
                    self._transfers.fetch_into(self._url_now(), offset, offset + length, buffer, what)
                    break
                except UrlExpired:
                    if refreshed:
                        raise
                    self._url = None
            cipher = crypto.ChunkCipher(self._key.key, self._key.nonce)
            with memoryview(buffer) as view:
                cipher.crypt_into(offset, view[:length], buffer)
                if self._macs is not None:
                    for chunk_offset, chunk_length in crypto.chunk_bounds_between(offset, offset + length):
                        start = chunk_offset - offset
                        self._macs.add(chunk_offset, cipher.mac(view[start : start + chunk_length]))
        except BaseException:
            pool.give(buffer)
            raise
        return buffer, length

    def _fill(self) -> None:
        while self._next < len(self._plan) and len(self._ahead) < self._transfers.parallel:
            offset, length = self._plan[self._next]
            self._next += 1
            if len(self._plan) == 1:  # one piece: no thread hand-off
                done: Future[tuple[bytearray, int]] = Future()
                try:
                    done.set_result(self._piece(offset, length))
                except BaseException as exc:
                    done.set_exception(exc)
                self._ahead.append(done)
            else:
                self._ahead.append(self._transfers._pool.submit(self._piece, offset, length))

    def _release(self) -> None:
        """Hand the current piece's buffer back to the pool (``read`` only ever gives out copies)."""
        self._buffer.release()
        self._buffer = memoryview(b"")
        if self._holding is not None:
            self._transfers.buffers.give(self._holding)
            self._holding = None

    def _advance(self) -> bool:
        """Move the next piece into the buffer; False at the end."""
        self._release()
        self._fill()
        if not self._ahead:
            return False
        buffer, length = self._ahead.popleft().result()
        self._holding = buffer
        start, self._skip = self._skip, 0
        last = not self._ahead and self._next >= len(self._plan)
        if last and self._macs is not None and self._macs.meta_mac() != self._key.meta_mac:
            raise IntegrityError("MAC mismatch: the downloaded data is corrupt (EKEY)", path=self._path)
        self._buffer = memoryview(buffer)[start:length]
        return True

    def read(self, size: int = -1, /) -> bytes:
        if self._closed:
            raise ValueError("read of a closed MEGA download")
        if size is None or size < 0:
            parts = [bytes(self._buffer)]
            while self._advance():
                parts.append(bytes(self._buffer))
            self._release()
            return b"".join(parts)
        while not self._buffer:
            if not self._advance():
                return b""
        out = bytes(self._buffer[:size])
        self._buffer = self._buffer[size:]
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for future in self._ahead:
            future.cancel()
        self._ahead.clear()
        self._release()

    def __enter__(self) -> DownloadReader:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
