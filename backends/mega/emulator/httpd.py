"""The HTTP/1.1 server under the emulator: threads, keep-alive, optional TLS, and a small request object.

``http.server`` parses requests; each connection gets a daemon thread and stays open between requests
(every answer carries a Content-Length). ``Exchange`` gives the routes what they need and nothing of
``http.server``: the query, bodies read into caller buffers, answers, ``sendfile`` for file bodies, and
``abort`` to cut a connection (the drop fault). ``stop`` closes the listener and every open connection, so no
thread outlives the server by more than the request it is finishing.

Request lines are logged at DEBUG without their query strings: those carry session ids.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import socketserver
import ssl
import threading
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO, Protocol
from urllib.parse import parse_qs, urlsplit

__all__ = ["Exchange", "HttpServer", "Routes"]

log = logging.getLogger("syncer.mega.emulator.http")

#: An idle keep-alive connection is closed after this many seconds.
IDLE_TIMEOUT = 120.0
TLS_HANDSHAKE_TIMEOUT = 30.0
#: How long ``stop`` waits for requests already being answered.
STOP_GRACE = 10.0
_SENDFILE_BLOCK = 1 << 20


class Routes(Protocol):
    def handle(self, exchange: Exchange) -> None: ...


class Exchange:
    """One request and its answer. Routes must answer exactly once: ``reply``, ``start`` (+ ``write`` /
    ``sendfile``), or ``abort``."""

    def __init__(self, handler: _Handler) -> None:
        self._handler = handler
        parts = urlsplit(handler.path)
        path = parts.path
        while path.startswith("//"):  # clients that join a base ending in '/' with "/cs"
            path = path[1:]
        self.method = handler.command
        self.path = path
        self.query = {key: values[0] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
        self.headers = handler.headers
        self.tls = isinstance(handler.connection, ssl.SSLSocket)
        self.answered = False
        self._body_read = False

    @property
    def host_header(self) -> str | None:
        return self.headers.get("Host")

    def body_length(self) -> int | None:
        """The body size: Content-Length, 0 without one (HTTP/1.1), None for a chunked or unreadable one
        (not supported: no MEGA client sends them)."""
        if self.headers.get("Transfer-Encoding"):
            return None
        text = self.headers.get("Content-Length")
        if text is None:
            return 0
        return int(text) if text.strip().isdigit() else None

    def readinto(self, view: memoryview) -> int:
        """Fill ``view`` from the body; fewer bytes only when the client stopped sending (EOF or timeout)."""
        self._body_read = True
        filled = 0
        try:
            while filled < len(view):
                got = self._handler.rfile.readinto(view[filled:])
                if not got:
                    break
                filled += got
        except (OSError, ValueError):
            pass
        return filled

    def read_body(self, limit: int) -> bytes | None:
        """The whole body if its declared size is at most ``limit``; None otherwise (or if it came short)."""
        length = self.body_length()
        if length is None or length > limit:
            return None
        buffer = bytearray(length)
        if self.readinto(memoryview(buffer)) != length:
            return None
        return bytes(buffer)

    def discard_body(self, limit: int) -> None:
        """Read and drop an unread body up to ``limit`` bytes; a bigger one closes the connection after the
        answer instead (its bytes would otherwise be taken for the next request)."""
        if self._body_read:
            return
        length = self.body_length()
        if length == 0:
            return
        if length is None or length > limit or self.read_body(limit) is None:
            self._handler.close_connection = True

    def _headers(
        self, status: int, length: int, content_type: str, headers: Mapping[str, str] | None
    ) -> None:
        if self.answered:
            raise RuntimeError("answered twice")
        self.answered = True
        if not self._body_read and self.body_length() != 0:
            self.discard_body(0)  # an unread body: the connection closes after this answer
        handler = self._handler
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(length))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        if handler.close_connection:
            handler.send_header("Connection", "close")
        handler.end_headers()

    def reply(
        self,
        status: int,
        body: bytes = b"",
        *,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        close: bool = False,
    ) -> None:
        if close:
            self._handler.close_connection = True
        self._headers(status, len(body), content_type, headers)
        if body and self.method != "HEAD":
            self.write(body)

    def start(
        self, status: int, length: int, *, content_type: str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Send the status and headers of a streamed answer of ``length`` bytes."""
        self._headers(status, length, content_type, headers)

    def write(self, data: bytes | memoryview) -> None:
        self._handler.wfile.write(data)

    def sendfile(self, file: BinaryIO, offset: int, count: int) -> None:
        """Send ``count`` bytes of ``file`` from ``offset``: zero-copy on plain sockets, else 1 MiB reads."""
        connection = self._handler.connection
        if count == 0:
            return
        if not self.tls:
            sent = connection.sendfile(file, offset, count)
            if sent != count:
                raise ConnectionError(f"sent {sent} of {count} bytes")
            return
        position, end = offset, offset + count
        while position < end:
            file.seek(position)
            block = file.read(min(_SENDFILE_BLOCK, end - position))
            if not block:
                raise ConnectionError("file shorter than announced")
            connection.sendall(block)
            position += len(block)

    def abort(self) -> None:
        """Cut the connection without (the rest of) an answer."""
        self.answered = True
        handler = self._handler
        handler.close_connection = True
        with contextlib.suppress(OSError):
            handler.wfile.flush()
        with contextlib.suppress(OSError):
            handler.connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MEGA-emulator"
    sys_version = ""
    timeout = IDLE_TIMEOUT
    server: _Server

    def setup(self) -> None:
        if isinstance(self.request, ssl.SSLSocket):
            self.request.settimeout(TLS_HANDSHAKE_TIMEOUT)
            self.request.do_handshake()
        with contextlib.suppress(OSError):
            self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        super().setup()

    def _dispatch(self) -> None:
        with self.server.in_flight():
            self._route()

    def _route(self) -> None:
        exchange = Exchange(self)
        try:
            self.server.routes.handle(exchange)
        except (ConnectionError, TimeoutError, ssl.SSLError):
            self.close_connection = True
            raise
        except Exception:
            log.exception("error in %s %s", exchange.method, exchange.path)
            if not exchange.answered:
                exchange.reply(500, b"", content_type="text/plain", close=True)
            else:
                self.close_connection = True
            return
        if not exchange.answered:  # a route bug: never leave the client waiting
            exchange.reply(500, b"", content_type="text/plain", close=True)

    do_GET = do_POST = do_PUT = do_HEAD = do_OPTIONS = do_DELETE = _dispatch

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if log.isEnabledFor(logging.DEBUG):
            path = urlsplit(getattr(self, "path", "")).path
            log.debug("%s %s %s -> %s", self.client_address[0], getattr(self, "command", "?"), path, code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: %s", self.client_address[0], format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], routes: Routes, tls: ssl.SSLContext | None) -> None:
        self.routes = routes
        self._tls = tls
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._busy = 0
        self._idle = threading.Condition(self._connections_lock)
        family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.address_family = family
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host name (socket.getfqdn), which can stall on DNS.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)
        if self._tls is not None:
            self.socket = self._tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("connection from %s ended with an error", client_address[0], exc_info=True)

    @contextlib.contextmanager
    def in_flight(self) -> Iterator[None]:
        """Count a request being answered, so ``wait_idle`` can wait for it."""
        with self._idle:
            self._busy += 1
        try:
            yield
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being answered; False if some still are after ``timeout`` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class HttpServer:
    """One listening socket served by a background thread until ``stop``."""

    def __init__(self, host: str, port: int, routes: Routes, tls: ssl.SSLContext | None = None) -> None:
        self._server = _Server((host, port), routes, tls)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def tls(self) -> bool:
        return self._server._tls is not None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.2},
            name="mega-emulator-http",
            daemon=True,
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, close the listener, cut every open connection and give the requests being answered
        a moment to notice (so nothing touches the store after it closed)."""
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join()
            self._thread = None
        self._server.server_close()
        self._server.close_connections()
        if not self._server.wait_idle(STOP_GRACE):
            log.warning("requests still running %.0f s after the server stopped", STOP_GRACE)
