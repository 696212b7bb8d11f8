"""A small test-side MEGA client over raw httpx, for the emulator's protocol tests.

It is scaffolding, not the product's backend: it uses only the client-side helpers of
``backends.mega.crypto``/``fingerprint``, never retries on its own, and shows the tests every response the
server sends. ``ApiError`` carries the negative code; ``Client.request`` raises it for a bare error and leaves
slot errors in the list so a test can look at each.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from backends.mega import crypto
from backends.mega.fingerprint import fingerprint_of_bytes

#: Plain JSON values as they come off the wire.
Json = Any


class ApiError(Exception):
    """A negative MEGA error code, bare (whole request) or in a command's slot."""

    def __init__(self, code: int, context: str = "") -> None:
        super().__init__(f"MEGA error {code} {context}".strip())
        self.code = code


@dataclass
class Node:
    """One node of an ``f`` answer with its key and attributes decrypted where possible."""

    raw: dict[str, Json]
    key: bytes | None = None  # 16 bytes (folder) or 32 bytes (packed file key)
    attrs: dict[str, Json] | None = None

    @property
    def handle(self) -> str:
        return str(self.raw["h"])

    @property
    def parent(self) -> str | None:
        return self.raw.get("p") or None

    @property
    def type(self) -> int:
        return int(self.raw["t"])

    @property
    def name(self) -> str | None:
        return None if self.attrs is None else self.attrs.get("n")

    @property
    def file_key(self) -> crypto.FileKey:
        assert self.key is not None and len(self.key) == 32, f"{self.handle} has no file key"
        return crypto.FileKey.unpack(self.key)


@dataclass
class Tree:
    """A decrypted ``f`` answer: nodes by handle in server order, plus the raw response."""

    raw: dict[str, Json]
    nodes: dict[str, Node] = field(default_factory=dict)

    @property
    def sn(self) -> str:
        return str(self.raw["sn"])

    def root(self, node_type: int = 2) -> Node:
        return next(n for n in self.nodes.values() if n.type == node_type)

    def children(self, parent: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.parent == parent]

    def named(self, name: str) -> list[Node]:
        return [n for n in self.nodes.values() if n.name == name]


@dataclass(frozen=True)
class EncryptedFile:
    """A plaintext cut at MEGA's chunk boundaries and encrypted: what an upload sends."""

    key: crypto.FileKey
    pieces: list[tuple[int, bytes]]  # (offset, ciphertext), one per chunk
    size: int


def encrypt_file(data: bytes) -> EncryptedFile:
    """Encrypt ``data`` with a fresh key and nonce; the meta-MAC is computed over the plaintext chunks."""
    key, nonce = os.urandom(16), os.urandom(8)
    pieces, macs = [], []
    for offset, length in crypto.chunk_bounds(len(data)):
        chunk = data[offset : offset + length]
        pieces.append((offset, crypto.ctr_crypt(key, nonce, offset, chunk)))
        macs.append(crypto.chunk_mac(key, nonce, chunk))
    meta_mac = crypto.condense_macs(key, macs) if macs else bytes(8)
    return EncryptedFile(crypto.FileKey(key=key, nonce=nonce, meta_mac=meta_mac), pieces, len(data))


def meta_mac_of(key: crypto.FileKey, plaintext: bytes) -> bytes:
    """The meta-MAC of ``plaintext`` under ``key`` (SDK rule: 8 zero bytes for an empty file)."""
    macs = [
        crypto.chunk_mac(key.key, key.nonce, plaintext[o : o + n])
        for o, n in crypto.chunk_bounds(len(plaintext))
    ]
    return crypto.condense_macs(key.key, macs) if macs else bytes(8)


def new_request_id() -> str:
    """A 10-letter command id ``i`` as go-mega sends on m/a/d/p."""
    return "".join(random.choices("abcdefghijklmnopqrstuvwxyz", k=10))


class Client:
    """One MEGA API client: an httpx connection pool, a request counter and, after login, sid and master key.

    ``folder`` is a public folder handle: requests then carry ``n=<folder>`` and no ``sid``.
    """

    def __init__(
        self,
        api_url: str,
        *,
        verify: bool | str | ssl.SSLContext = True,
        timeout: float = 20.0,
        sid: str | None = None,
        master_key: bytes | None = None,
        folder: str | None = None,
        folder_key: bytes | None = None,
    ) -> None:
        self.base = api_url.rstrip("/")
        self.http = httpx.Client(verify=verify, timeout=timeout, trust_env=False)
        self.seq = random.randrange(2**32)
        self.sid = sid
        self.master_key = master_key
        #: a session id embeds the user handle in bytes 16..26, so a resumed session knows it too
        self.user_handle: str | None = None if sid is None else crypto.b64decode(sid)[16:27].decode("ascii")
        self.folder = folder
        #: share keys by node handle, used for "<node handle>:<key>" entries of node ``k``
        self.share_keys: dict[str, bytes] = {}
        #: a folder link's key: it wraps every "<folder root handle>:<key>" entry the link shows
        self.folder_key = folder_key

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport -------------------------------------------------------------------------------------------

    def params(self, *, sid: str | None = None, req_id: str | None = None) -> dict[str, str]:
        if req_id is None:
            self.seq += 1
            req_id = str(self.seq)
        query = {"id": req_id}
        if self.folder is not None:
            query["n"] = self.folder
        elif (sid or self.sid) is not None:
            query["sid"] = sid or self.sid or ""
        return query

    def post_cs(
        self,
        body: bytes | str | Sequence[Mapping[str, Json]],
        *,
        sid: str | None = None,
        req_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """POST one raw batch to ``/cs``; a list is sent as compact JSON."""
        content = body if isinstance(body, bytes | str) else json.dumps(list(body), separators=(",", ":"))
        return self.http.post(
            f"{self.base}/cs",
            params=self.params(sid=sid, req_id=req_id),
            content=content,
            headers={"Content-Type": "application/json", **(headers or {})},
        )

    def request(self, commands: Sequence[Mapping[str, Json]], **kwargs: Any) -> list[Json]:
        """Send a batch; a bare negative answer raises ``ApiError``, slot errors stay in the list."""
        response = self.post_cs(commands, **kwargs)
        if response.status_code != 200:
            raise httpx.HTTPStatusError(
                f"HTTP {response.status_code}", request=response.request, response=response
            )
        answer = response.json()
        if isinstance(answer, int):
            raise ApiError(answer, "(request)")
        assert isinstance(answer, list) and len(answer) == len(commands), answer
        return answer

    def call(self, command: Mapping[str, Json], **kwargs: Any) -> Json:
        """One command; a negative answer (bare or in its slot) raises ``ApiError``."""
        (result,) = self.request([command], **kwargs)
        if isinstance(result, int) and result < 0:
            raise ApiError(result, str(command.get("a")))
        return result

    # -- login -----------------------------------------------------------------------------------------------

    def login(self, email: str, password: str, *, mfa: str | None = None) -> dict[str, Json]:
        """us0 then us; decrypt the master key, the RSA key and the session id. Returns the ``us`` answer."""
        email = email.lower()
        pre = self.call({"a": "us0", "user": email})
        if pre["v"] == 1:
            password_key = crypto.prepare_key_v1(password)
            user_hash = crypto.user_hash_v1(email, password_key)
        else:
            password_key, auth_key = crypto.derive_v2(password, crypto.b64decode(pre["s"]))
            user_hash = crypto.b64encode(auth_key)
        command = {"a": "us", "user": email, "uh": user_hash}
        if mfa is not None:
            command["mfa"] = mfa
        answer: dict[str, Json] = self.call(command)
        self.master_key = crypto.aes_ecb_decrypt(password_key, crypto.b64decode(answer["k"]))
        private_key = crypto.decode_private_key(
            crypto.aes_ecb_decrypt(self.master_key, crypto.b64decode(answer["privk"]))
        )
        self.sid = crypto.decrypt_session_id(private_key, answer["csid"])
        self.user_handle = answer["u"]
        return answer

    # -- tree ------------------------------------------------------------------------------------------------

    def decrypt_key(self, key_field: str) -> bytes | None:
        """The node key from a ``k`` string, via our own handle (master key) or a known share key."""
        for part in key_field.split("/"):
            holder, _, encrypted = part.rpartition(":")
            if holder == self.user_handle:
                wrapping = self.master_key
            else:
                wrapping = self.share_keys.get(holder, self.folder_key if len(holder) == 8 else None)
            if wrapping is not None:
                return crypto.aes_ecb_decrypt(wrapping, crypto.b64decode(encrypted))
        return None

    def decode_node(self, raw: dict[str, Json]) -> Node:
        node = Node(raw)
        if raw.get("k"):
            node.key = self.decrypt_key(raw["k"])
        if node.key is not None and raw.get("a"):
            node.attrs = crypto.decrypt_attributes(raw["a"], crypto.fold_key(node.key))
        return node

    def fetch(self) -> Tree:
        """``f``: the whole tree (or the folder link's subtree), keys and attributes decrypted."""
        answer = self.call({"a": "f", "c": 1, "r": 1})
        if self.master_key is not None:
            for share in answer.get("ok", []):
                self.share_keys[share["h"]] = crypto.aes_ecb_decrypt(
                    self.master_key, crypto.b64decode(share["k"])
                )
        tree = Tree(answer)
        for raw in answer["f"]:
            tree.nodes[raw["h"]] = self.decode_node(raw)
        return tree

    def put_nodes(self, target: str, nodes: list[dict[str, Json]], **extra: Json) -> list[Node]:
        """``p``: attach new nodes under ``target``; returns the created nodes, decoded."""
        answer = self.call({"a": "p", "t": target, "n": nodes, **extra})
        return [self.decode_node(raw) for raw in answer["f"]]

    def folder_node(
        self, name: str, *, temp_handle: str = "xxxxxxxx", **attrs: Json
    ) -> tuple[dict[str, Json], bytes]:
        """A ``p`` entry for a new folder and its fresh 16-byte key."""
        key = os.urandom(16)
        assert self.master_key is not None
        entry = {
            "h": temp_handle,
            "t": 1,
            "a": crypto.encrypt_attributes({"n": name, **attrs}, key),
            "k": crypto.b64encode(crypto.aes_ecb_encrypt(self.master_key, key)),
        }
        return entry, key

    def mkdir(self, parent: str, name: str, *, req_id: str | None = None) -> Node:
        entry, _ = self.folder_node(name)
        extra = {} if req_id is None else {"i": req_id}
        (node,) = self.put_nodes(parent, [entry], **extra)
        return node

    def share_to_exp(
        self, folder: Node, nodes: Sequence[Node] = (), *, share_key: bytes | None = None
    ) -> tuple[Json, bytes]:
        """``s2`` to EXP (how exporting a folder link starts): a share key wrapped with the master key in
        ``ok``, ``ha``, and in ``cr`` the keys of ``nodes`` (default: the folder alone) under the share key.
        Returns (the answer, the share key)."""
        assert self.master_key is not None
        share_key = os.urandom(16) if share_key is None else share_key
        covered = list(nodes) or [folder]
        keys: list[Json] = []
        for index, node in enumerate(covered):
            assert node.key is not None
            keys += [0, index, crypto.b64encode(crypto.aes_ecb_encrypt(share_key, node.key))]
        answer = self.call(
            {
                "a": "s2",
                "n": folder.handle,
                "s": [{"u": "EXP", "r": 0}],
                "i": new_request_id(),
                "ok": crypto.b64encode(crypto.aes_ecb_encrypt(self.master_key, share_key)),
                "ha": crypto.b64encode(
                    crypto.aes_ecb_encrypt(self.master_key, (folder.handle * 2).encode("ascii"))
                ),
                "cr": [[folder.handle], [node.handle for node in covered], keys],
            }
        )
        return answer, share_key

    def file_node(self, token: str, key: crypto.FileKey, attrs: Mapping[str, Json]) -> dict[str, Json]:
        """A ``p`` entry attaching the completed upload ``token``."""
        assert self.master_key is not None
        return {
            "h": token,
            "t": 0,
            "a": crypto.encrypt_attributes(attrs, crypto.fold_key(key.pack())),
            "k": crypto.b64encode(crypto.aes_ecb_encrypt(self.master_key, key.pack())),
        }

    # -- upload ----------------------------------------------------------------------------------------------

    def upload_url(self, size: int) -> str:
        return str(self.call({"a": "u", "s": size})["p"])

    def post_piece(self, url: str, offset: int, body: bytes, *, checksum: bool = True) -> httpx.Response:
        """POST one encrypted piece; with ``checksum`` the web client's ``?c=`` is added."""
        query = f"?c={crypto.b64encode(crypto.upload_checksum(body))}" if checksum else ""
        return self.http.post(f"{url}/{offset}{query}", content=body)

    def send_pieces(self, url: str, pieces: Iterable[tuple[int, bytes]], *, workers: int = 4) -> list[bytes]:
        """POST the pieces (in the order given) over ``workers`` connections; returns each reply body."""

        def send(piece: tuple[int, bytes]) -> bytes:
            response = self.post_piece(url, *piece)
            assert response.status_code == 200, (piece[0], response.status_code, response.text)
            return response.content

        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(send, pieces))

    def upload(
        self,
        parent: str,
        name: str,
        data: bytes,
        *,
        mtime: int = 1_700_000_000,
        shuffle: bool = True,
        workers: int = 4,
    ) -> tuple[Node, EncryptedFile]:
        """Upload ``data`` as ``name`` under ``parent``: u, parallel piece POSTs (shuffled), p with n, c."""
        encrypted = encrypt_file(data)
        url = self.upload_url(len(data))
        pieces = list(encrypted.pieces) or [(0, b"")]
        if shuffle:
            random.shuffle(pieces)
        replies = self.send_pieces(url, pieces, workers=workers)
        tokens = [reply for reply in replies if reply]
        assert len(tokens) == 1 and len(tokens[0]) == 36, replies
        attrs = {"n": name, "c": fingerprint_of_bytes(data, mtime)}
        (node,) = self.put_nodes(parent, [self.file_node(tokens[0].decode("ascii"), encrypted.key, attrs)])
        return node, encrypted

    # -- download --------------------------------------------------------------------------------------------

    def download_info(self, *, node: str | None = None, public: str | None = None) -> dict[str, Json]:
        """``g`` with ``g:1`` for an own/folder-link node (``n``) or a public file handle (``p``)."""
        command: dict[str, Json] = {"a": "g", "g": 1}
        if public is not None:
            command["p"] = public
        else:
            command["n"] = node
        return dict(self.call(command))

    def fetch_range(self, url: str, start: int, end: int) -> bytes:
        """``GET <url>/<start>-<end>`` (inclusive): raw ciphertext."""
        response = self.http.get(f"{url}/{start}-{end}")
        response.raise_for_status()
        return response.content

    def download(
        self, url: str, key: crypto.FileKey, size: int, *, start: int = 0, end: int | None = None
    ) -> bytes:
        """Plaintext of bytes [start, end] (inclusive; default: to the end of the file)."""
        end = size - 1 if end is None else end
        if size == 0:
            return b""
        return crypto.ctr_crypt(key.key, key.nonce, start, self.fetch_range(url, start, end))

    # -- sc --------------------------------------------------------------------------------------------------

    def poll_sc(self, sn: str, *, sid: str | None = None) -> Json:
        """One ``sc`` poll: a dict (``a`` packets or ``w``) or a bare negative number."""
        query: dict[str, str] = {"sn": sn}
        if self.folder is not None:
            query["n"] = self.folder
        else:
            query["sid"] = sid or self.sid or ""
        response = self.http.post(f"{self.base}/sc", params=query, content=b"")
        response.raise_for_status()
        return response.json()


# -- harness: a started emulator and its accounts (the fixtures live in conftest.py) -------------------------


@dataclass(frozen=True)
class Server:
    """A started emulator (``backends.mega.emulator.Emulator``) and the API URL it gave (``http://127.0.0.1:P/``)."""

    emulator: Any
    api_url: str

    def client(self, **kwargs: Any) -> Client:
        return Client(self.api_url, **kwargs)


#: ``start_server(**EmulatorSettings fields) -> Server``, for tests that need their own settings
StartServer = Callable[..., Server]


@dataclass(frozen=True)
class Account:
    email: str
    password: str
    user_handle: str


def new_account(server: Server, *, version: int = 2, mfa_secret: str | None = None) -> Account:
    """A fresh account on ``server`` with a random e-mail and a throwaway random password."""
    email = f"user-{secrets.token_hex(6)}@example.com"
    password = f"pw-{secrets.token_urlsafe(12)}"
    handle = server.emulator.add_account(email, password, version=version, mfa_secret=mfa_secret)
    return Account(email, password, handle)


def logged_in(server: Server, account: Account | None = None) -> Client:
    """A client logged in to ``account`` (default: a fresh one); use it as a context manager."""
    account = account or new_account(server)
    client = server.client()
    client.login(account.email, account.password)
    return client


def payload(size: int, seed: int) -> bytes:
    """Reproducible test content."""
    return random.Random(seed).randbytes(size)


def random_name(prefix: str = "n") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
