"""HTTP/1.1 to MEGA's storage servers: kept-alive sockets, bodies sent from and received into caller buffers.

Why not httpx here (the API client keeps it): a storage transfer is megabytes per request, and httpx reads a
body 64 KiB at a time through h11 and joins the pieces, which measured at about 200 MB/s and 5 CPU-seconds
per GiB on loopback; ``recv_into`` one preallocated buffer per piece does the same GiB in half a CPU-second.
The storage servers need little of HTTP: a GET or a POST with a Content-Length, answered with a
Content-Length (a chunked answer is read too). Connections go straight to the server (no proxy).

Errors: ``OSError`` (refused, reset, timed out, TLS failure) and ``ProtocolError`` (an answer that is not
HTTP) for the caller to translate and retry; a connection is reused only after a complete, well-formed
answer. A request on a reused connection that the server had already closed is sent once more on a new one.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from dataclasses import dataclass, field
from urllib.parse import urlsplit

__all__ = ["ProtocolError", "Response", "StorageHttp"]

#: The largest status line or header block accepted, and the largest error body kept.
_MAX_HEAD = 64 * 1024
_MAX_SMALL_BODY = 1 << 20
_RECV = 256 * 1024


class ProtocolError(Exception):
    """The server's answer is not well-formed HTTP/1.1 (or a body came short: the connection dropped)."""


@dataclass
class Response:
    """Status, headers (lower-case names) and, unless the body went into the caller's buffer, the body."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""
    #: bytes written into the caller's buffer (``get_into`` with a 200 answer)
    received: int = 0


@dataclass(frozen=True)
class _Target:
    tls: bool
    host: str
    port: int
    path: str

    @property
    def pool_key(self) -> tuple[bool, str, int]:
        return (self.tls, self.host, self.port)


def _target(url: str) -> _Target:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ProtocolError("malformed transfer URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ProtocolError(f"not an http(s) URL: {parts.scheme}://{parts.hostname or ''}")
    tls = parts.scheme == "https"
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return _Target(tls, parts.hostname, port or (443 if tls else 80), path)


class _Connection:
    """One socket with the bytes read past the end of the last answer."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.pending = bytearray()
        self.reused = False

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()

    def fill(self) -> bool:
        """Read more into ``pending``; False at EOF."""
        data = self.sock.recv(_RECV)
        if not data:
            return False
        self.pending += data
        return True

    def read_head(self) -> bytes:
        while True:
            end = self.pending.find(b"\r\n\r\n")
            if end >= 0:
                head = bytes(self.pending[:end])
                del self.pending[: end + 4]
                return head
            if len(self.pending) > _MAX_HEAD:
                raise ProtocolError("answer head too long")
            if not self.fill():
                raise _Closed(bool(self.pending))

    def read_line(self) -> bytes:
        while True:
            end = self.pending.find(b"\r\n")
            if end >= 0:
                line = bytes(self.pending[:end])
                del self.pending[: end + 2]
                return line
            if len(self.pending) > _MAX_HEAD or not self.fill():
                raise ProtocolError("malformed chunked body")

    def read_into(self, view: memoryview) -> int:
        """Fill ``view`` (pending bytes first, then straight from the socket); fewer only at EOF."""
        filled = min(len(self.pending), len(view))
        if filled:
            view[:filled] = self.pending[:filled]
            del self.pending[:filled]
        while filled < len(view):
            got = self.sock.recv_into(view[filled:])
            if not got:
                break
            filled += got
        return filled


class _Closed(Exception):
    """The server closed the connection before a whole answer head (``partial``: after some of it)."""

    def __init__(self, partial: bool) -> None:
        super().__init__("connection closed before an answer")
        self.partial = partial


class StorageHttp:
    """A pool of kept-alive connections to storage servers; thread-safe (one request per connection).

    ``verify``: True for the system's CAs, a path to a CA bundle, or False to accept any certificate (a
    local emulator with a self-signed one), as the API client takes it.
    """

    def __init__(
        self, *, verify: bool | str = True, connect_timeout: float = 15.0, timeout: float = 120.0
    ) -> None:
        self._verify = verify
        self._connect_timeout = connect_timeout
        self._timeout = timeout
        self._idle: dict[tuple[bool, str, int], list[_Connection]] = {}
        self._lock = threading.Lock()
        self._tls: ssl.SSLContext | None = None
        self._closed = False

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    # -- requests --------------------------------------------------------------------------------------------

    def get_into(self, url: str, buffer: memoryview) -> Response:
        """GET ``url``; a 200 answer's body goes into ``buffer`` (ProtocolError if it is longer, ``received``
        says how much came), any other answer's into ``content``."""
        return self._request("GET", url, None, buffer)

    def post(self, url: str, body: bytes | bytearray | memoryview) -> Response:
        """POST ``body``; the answer (small: a token or an error code) in ``content``."""
        return self._request("POST", url, memoryview(body), None)

    def _request(self, method: str, url: str, body: memoryview | None, sink: memoryview | None) -> Response:
        target = _target(url)
        host = f"[{target.host}]" if ":" in target.host else target.host
        head = f"{method} {target.path} HTTP/1.1\r\nHost: {host}:{target.port}\r\n"
        if body is not None:
            head += f"Content-Length: {len(body)}\r\nContent-Type: application/octet-stream\r\n"
        try:
            request = (head + "\r\n").encode("ascii")
        except UnicodeEncodeError:
            raise ProtocolError("the transfer URL is not plain ASCII") from None
        while True:
            connection = self._checkout(target)
            try:
                try:
                    self._send(connection, request, body)
                    response, keep = self._receive(connection, method, sink)
                except _Closed as exc:
                    if connection.reused and not exc.partial:
                        connection.close()
                        continue  # the server had closed this idle connection: once more on a new one
                    raise ProtocolError("connection closed before an answer") from None
                except BrokenPipeError:
                    if connection.reused:
                        connection.close()
                        continue
                    raise
            except BaseException:
                connection.close()
                raise
            if keep:
                self._checkin(target, connection)
            else:
                connection.close()
            return response

    @staticmethod
    def _send(connection: _Connection, request: bytes, body: memoryview | None) -> None:
        sock = connection.sock
        if body is not None and len(body) <= _RECV:
            sock.sendall(request + bytes(body))
            return
        sock.sendall(request)
        if body is not None:
            sock.sendall(body)

    def _receive(
        self, connection: _Connection, method: str, sink: memoryview | None
    ) -> tuple[Response, bool]:
        head = connection.read_head()
        lines = head.decode("latin-1").split("\r\n")
        status_line = lines[0].split(" ", 2)
        if len(status_line) < 2 or not status_line[0].startswith("HTTP/1.") or not status_line[1].isdigit():
            raise ProtocolError("answer is not HTTP/1.x")
        status = int(status_line[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                raise ProtocolError("malformed answer header")
            headers[name.strip().lower()] = value.strip()
        keep = status_line[0] == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
        response = Response(status, headers)
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return response, keep
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = self._read_chunked(connection)
            if status == 200 and sink is not None:
                if len(body) > len(sink):
                    raise ProtocolError("answer longer than asked for")
                sink[: len(body)] = body
                response.received = len(body)
            else:
                response.content = body
            return response, keep
        length_text = headers.get("content-length")
        if length_text is None:  # the body runs to the end of the connection
            if status == 200 and sink is not None:
                response.received = connection.read_into(sink)
                if response.received == len(sink) and (connection.pending or connection.sock.recv(1)):
                    raise ProtocolError("answer longer than asked for")
            else:
                chunks = [bytes(connection.pending)]
                connection.pending.clear()
                total = len(chunks[0])
                while total <= _MAX_SMALL_BODY and (data := connection.sock.recv(_RECV)):
                    chunks.append(data)
                    total += len(data)
                response.content = b"".join(chunks)
            return response, False
        if not length_text.isdigit():
            raise ProtocolError("malformed Content-Length")
        length = int(length_text)
        if status == 200 and sink is not None:
            if length > len(sink):
                raise ProtocolError("answer longer than asked for")
            response.received = connection.read_into(sink[:length])
            if response.received != length:
                return response, False  # cut short: the caller sees received < asked
            return response, keep
        if length > _MAX_SMALL_BODY:
            raise ProtocolError("unexpectedly large answer")
        buffer = bytearray(length)
        got = connection.read_into(memoryview(buffer))
        if got != length:
            raise ProtocolError("answer cut short")
        response.content = bytes(buffer)
        return response, keep

    @staticmethod
    def _read_chunked(connection: _Connection) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size_text = connection.read_line().split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise ProtocolError("malformed chunk size") from None
            if size == 0:
                while connection.read_line():
                    pass  # trailers
                return b"".join(parts)
            total += size
            if total > (1 << 31):
                raise ProtocolError("chunked answer too large")
            buffer = bytearray(size)
            if connection.read_into(memoryview(buffer)) != size:
                raise ProtocolError("chunked answer cut short")
            parts.append(bytes(buffer))
            if connection.read_line():
                raise ProtocolError("malformed chunk end")

    # -- the pool --------------------------------------------------------------------------------------------

    def _checkout(self, target: _Target) -> _Connection:
        with self._lock:
            if self._closed:
                raise OSError("the storage connection pool is closed")
            idle = self._idle.get(target.pool_key)
            if idle:
                connection = idle.pop()
                connection.reused = True
                return connection
        return self._connect(target)

    def _checkin(self, target: _Target, connection: _Connection) -> None:
        with self._lock:
            if not self._closed and not connection.pending:
                self._idle.setdefault(target.pool_key, []).append(connection)
                return
        connection.close()

    def _connect(self, target: _Target) -> _Connection:
        sock = socket.create_connection((target.host, target.port), timeout=self._connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if target.tls:
                sock = self._tls_context().wrap_socket(sock, server_hostname=target.host)
            sock.settimeout(self._timeout)
        except BaseException:
            sock.close()
            raise
        return _Connection(sock)

    def _tls_context(self) -> ssl.SSLContext:
        with self._lock:
            if self._tls is None:
                if self._verify is False:
                    context = ssl.create_default_context()
                    context.check_hostname = False
                    context.verify_mode = ssl.CERT_NONE
                elif isinstance(self._verify, str):
                    context = ssl.create_default_context(cafile=self._verify)
                else:
                    context = ssl.create_default_context()
                self._tls = context
            return self._tls
