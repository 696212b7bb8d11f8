"""The storage-server HTTP client against a scripted server on 127.0.0.1: answers the emulator never gives
(chunked bodies, bodies longer than asked for, idle connections closed by the server) and connection reuse."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from backends.mega.storage_http import ProtocolError, StorageHttp

pytestmark = pytest.mark.timeout(20)


class Cut(bytes):
    """An answer after which the server closes the connection (a dropped transfer)."""


#: A script answers one request (method, path, body) on a connection; None closes it without an answer.
Script = Callable[[str, str, bytes], bytes | None]


@dataclass
class Server:
    url: str
    script: list[Script]
    connections: int = 0
    requests: list[tuple[str, str, bytes]] = field(default_factory=list)


def _read_request(conn: socket.socket, pending: bytearray) -> tuple[str, str, bytes] | None:
    while b"\r\n\r\n" not in pending:
        data = conn.recv(65536)
        if not data:
            return None
        pending += data
    end = pending.index(b"\r\n\r\n")
    head = pending[:end].decode("latin-1").split("\r\n")
    del pending[: end + 4]
    method, path, _ = head[0].split(" ", 2)
    length = 0
    for line in head[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    while len(pending) < length:
        data = conn.recv(65536)
        if not data:
            return None
        pending += data
    body = bytes(pending[:length])
    del pending[:length]
    return method, path, body


@pytest.fixture
def server() -> Iterator[Server]:
    listener = socket.create_server(("127.0.0.1", 0))
    state = Server(f"http://127.0.0.1:{listener.getsockname()[1]}", [])

    def serve(conn: socket.socket) -> None:
        pending = bytearray()
        with conn:
            while (request := _read_request(conn, pending)) is not None:
                state.requests.append(request)
                answer = state.script.pop(0)(*request) if state.script else None
                if answer is None:
                    return
                conn.sendall(answer)
                if isinstance(answer, Cut):
                    return

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            state.connections += 1
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield state
    listener.close()


def ok(body: bytes, *headers: str) -> Script:
    head = "".join(f"{h}\r\n" for h in headers)
    return lambda *_: f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{head}\r\n".encode() + body


def test_bodies_land_in_the_buffer_and_the_connection_is_kept(server: Server) -> None:
    server.script += [ok(b"0123456789"), ok(b"abc")]
    http = StorageHttp()
    buffer = bytearray(16)
    first = http.get_into(f"{server.url}/dl/x/0-9", memoryview(buffer))
    assert (first.status, first.received, bytes(buffer[:10])) == (200, 10, b"0123456789")
    second = http.post(f"{server.url}/ul/y/0", b"piece bytes")
    assert (second.status, second.content) == (200, b"abc")
    assert server.requests == [("GET", "/dl/x/0-9", b""), ("POST", "/ul/y/0", b"piece bytes")]
    assert server.connections == 1
    http.close()


def test_a_chunked_answer_is_read(server: Server) -> None:
    server.script.append(
        lambda *_: (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x=y\r\nefg\r\n0\r\n\r\n"
        )
    )
    buffer = bytearray(7)
    answer = StorageHttp().get_into(f"{server.url}/dl", memoryview(buffer))
    assert (answer.received, bytes(buffer)) == (7, b"abcdefg")


def test_a_connection_the_server_closed_while_idle_is_replaced(server: Server) -> None:
    server.script += [ok(b"one"), lambda *_: None, ok(b"two")]
    http = StorageHttp()
    assert http.post(f"{server.url}/a", b"1").content == b"one"
    # the server drops the kept connection when the next request arrives: sent again on a new one
    assert http.post(f"{server.url}/b", b"2").content == b"two"
    assert server.connections == 2
    assert [path for _, path, _ in server.requests] == ["/a", "/b", "/b"]


def test_a_fresh_connection_closed_without_an_answer_is_an_error(server: Server) -> None:
    server.script.append(lambda *_: None)
    with pytest.raises(ProtocolError):
        StorageHttp().post(f"{server.url}/a", b"1")
    assert server.connections == 1


def test_a_body_cut_short_reports_what_came_and_is_not_reused(server: Server) -> None:
    server.script += [
        lambda *_: Cut(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234"),
        ok(b"again"),
    ]
    http = StorageHttp()
    buffer = bytearray(10)
    first = http.get_into(f"{server.url}/dl", memoryview(buffer))
    assert (first.status, first.received, bytes(buffer[:5])) == (200, 5, b"01234")
    assert http.post(f"{server.url}/ul", b"x").content == b"again"
    assert server.connections == 2


def test_a_body_longer_than_the_buffer_is_refused(server: Server) -> None:
    server.script.append(ok(b"0123456789"))
    with pytest.raises(ProtocolError):
        StorageHttp().get_into(f"{server.url}/dl", memoryview(bytearray(4)))


def test_an_error_answer_keeps_its_body_and_headers(server: Server) -> None:
    server.script.append(
        lambda *_: b"HTTP/1.1 509 Bandwidth\r\nX-MEGA-Time-Left: 42\r\nContent-Length: 2\r\n\r\n-1"
    )
    buffer = bytearray(8)
    answer = StorageHttp().get_into(f"{server.url}/dl", memoryview(buffer))
    assert (answer.status, answer.headers["x-mega-time-left"], answer.content, answer.received) == (
        509,
        "42",
        b"-1",
        0,
    )


def test_an_answer_that_is_not_http_is_an_error(server: Server) -> None:
    server.script.append(lambda *_: b"SSH-2.0-nope\r\n\r\n")
    with pytest.raises(ProtocolError):
        StorageHttp().post(f"{server.url}/a", b"")
