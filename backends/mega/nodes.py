"""MEGA's node tree as the client sees it: nodes decrypted from ``f`` and kept current from action packets.

``shared/mega-protocol.md`` sections 5 (``f``, node keys), 6 (attributes), 7 (the ``c`` fingerprint) and 2.6
(packets). The tree is plain data plus indexes: ``nodes`` by handle and, per folder, its children by *engine*
name (``names.to_engine``), each name holding a list because MEGA allows duplicates. Old file versions (nodes
whose parent is a file) are dropped on arrival: no listing shows them and nothing here needs them.

Why keys are decrypted in one batch: a 100,000-node account has 100,000 wrapped keys under the same master
key, and ECB decrypts each 16-byte block independently, so one ``update`` call over all of them replaces
100,000 cipher setups. Attributes need a cipher per node (each has its own key); that is the floor.

Every change is recorded in ``dirty``/``removed`` so ``tree_cache`` knows whether to write. Packets and
command results are applied the same way and are idempotent (``t`` replaces, ``d`` of a missing node is a
no-op), so replaying packets the tree already reflects (our own changes) leaves it as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from . import crypto, forked, names
from .fingerprint import parse_fingerprint

__all__ = [
    "FILE",
    "FOLDER",
    "ROOT",
    "RUBBISH",
    "VAULT",
    "Keyring",
    "Node",
    "NodeTree",
]

log = logging.getLogger(__name__)

FILE, FOLDER, ROOT, VAULT, RUBBISH = 0, 1, 2, 3, 4

_ZERO_IV = bytes(16)


class Node:
    """One decrypted node. ``name`` is MEGA's (may hold '/'); ``engine_name`` is how paths spell it.

    ``key`` is the unwrapped node key (32 bytes packed for files, 16 for folders, empty for roots).
    ``attrs`` is the encrypted attribute block as MEGA sent it, kept so that a rename re-encrypts every
    attribute other apps set (labels, favourites) instead of dropping them. ``mtime`` is seconds from the
    ``c`` fingerprint, None when the uploader wrote none (rclone, mega.py); ``ts`` is MEGA's creation time.
    A class with slots rather than a dataclass: trees hold 100,000 of these.
    """

    __slots__ = ("attrs", "engine_name", "handle", "key", "mtime", "name", "parent", "size", "ts", "type")

    def __init__(
        self,
        handle: str,
        parent: str,
        type: int,
        name: str,
        size: int,
        ts: int,
        key: bytes,
        attrs: str,
        mtime: int | None,
        engine_name: str | None = None,
    ) -> None:
        self.handle = handle
        self.parent = parent
        self.type = type
        self.name = name
        # given only by ``row`` round trips (the tree cache): to_engine of 100,000 names costs a load 0.1 s
        self.engine_name = names.to_engine(name) if engine_name is None else engine_name
        self.size = size
        self.ts = ts
        self.key = key
        self.attrs = attrs
        self.mtime = mtime

    def row(self) -> tuple[str, str, int, str, int, int, bytes, str, int | None, str]:
        """The node as a tuple, the shape ``tree_cache`` stores and ``Node(*row)`` reads back."""
        return (
            self.handle,
            self.parent,
            self.type,
            self.name,
            self.size,
            self.ts,
            self.key,
            self.attrs,
            self.mtime,
            self.engine_name,
        )

    @classmethod
    def from_row(cls, row: Iterable[Any]) -> Node:
        return cls(*row)

    def __repr__(self) -> str:
        return f"Node({self.handle!r}, type={self.type}, name={self.name!r}, size={self.size})"


def attributes_of(attrs: Mapping[str, Any]) -> tuple[str, int | None]:
    """(name, mtime) from decrypted attributes; a malformed ``c`` just means no mtime."""
    name = attrs.get("n")
    mtime = None
    fp = attrs.get("c")
    if isinstance(fp, str):
        try:
            mtime = parse_fingerprint(fp)[1]
        except crypto.CryptoError:
            mtime = None
    return (name if isinstance(name, str) else ""), mtime


@dataclass
class Keyring:
    """What unwraps node keys: the master key with our user handle, and share keys by node handle.

    An account has the first (plus ``ok`` share keys of its own exported folders); a public folder link has
    only one share key, the link's, filed under the link's root handle.
    """

    master_key: bytes | None = field(default=None, repr=False)
    user_handle: str | None = None
    share_keys: dict[str, bytes] = field(default_factory=dict, repr=False)

    def add_owner_keys(self, entries: Iterable[Mapping[str, Any]]) -> None:
        """File ``ok`` entries (share keys of our own shares, wrapped with the master key).

        ``ha`` (AES(MK, h‖h)) is checked first, as megajs does: a key whose check fails is not trusted.
        """
        if self.master_key is None:
            return
        for entry in entries:
            try:
                handle, wrapped, check = str(entry["h"]), str(entry["k"]), str(entry.get("ha", ""))
                if check and crypto.b64decode(check) != crypto.aes_ecb_encrypt(
                    self.master_key, (handle + handle).encode("ascii")
                ):
                    log.debug("share key of %s fails its check; ignored", handle)
                    continue
                self.share_keys[handle] = crypto.aes_ecb_decrypt(self.master_key, crypto.b64decode(wrapped))
            except (KeyError, ValueError, crypto.CryptoError, UnicodeEncodeError):
                log.debug("malformed share key entry ignored")

    def _pick(self, k: str) -> tuple[bytes | None, bytes] | None:
        """(unwrapping key or None for the master key, wrapped key) of the usable entry of a ``k`` string."""
        fallback: tuple[bytes | None, bytes] | None = None
        for part in k.split("/"):
            owner, sep, wrapped = part.partition(":")
            if not sep:
                wrapped, owner = owner, ""
            try:
                raw = crypto.b64decode(wrapped)
            except ValueError:
                continue
            if len(raw) not in (16, 32):
                continue  # RSA-wrapped keys of incoming shares are not handled
            if owner == self.user_handle and self.master_key is not None:
                return None, raw
            share = self.share_keys.get(owner)
            if share is not None and fallback is None:
                fallback = (share, raw)
            elif not owner and self.master_key is not None and fallback is None:
                fallback = (None, raw)
        return fallback

    def decrypt(self, raw_nodes: Iterable[Mapping[str, Any]]) -> Iterator[Node]:
        """Nodes from ``f``/``t``/``p`` objects; ones whose key or attributes do not decrypt are skipped.

        Keys wrapped with the master key are unwrapped together (one ECB pass over all of them).
        """
        pending: list[tuple[Mapping[str, Any], bytes | None, bytes]] = []
        own = f"{self.user_handle}:" if self.master_key is not None and self.user_handle else None
        for raw in raw_nodes:
            kind = int(raw.get("t", -1))
            if kind in (ROOT, VAULT, RUBBISH):
                yield Node(str(raw["h"]), "", kind, "", -1, int(raw.get("ts", 0)), b"", "", None)
                continue
            if kind not in (FILE, FOLDER):
                continue
            k = raw.get("k", "")
            if own is not None and isinstance(k, str) and k.startswith(own) and "/" not in k:
                # the usual case, a key of our own under the master key: what _pick would find
                try:
                    wrapped = crypto.b64decode(k[len(own) :])
                except ValueError:
                    wrapped = b""
                if len(wrapped) in (16, 32):
                    pending.append((raw, None, wrapped))
                    continue
            picked = self._pick(str(k))
            if picked is None:
                log.debug("node %s: no usable key; skipped", raw.get("h"))
                continue
            pending.append((raw, picked[0], picked[1]))
        if not pending:
            return
        by_master = [wrapped for _, unwrap, wrapped in pending if unwrap is None]
        if by_master and self.master_key is not None:
            ecb = Cipher(algorithms.AES(self.master_key), modes.ECB()).decryptor()
            flat = ecb.update(b"".join(by_master))
            pos = 0
            for i, (raw, unwrap, wrapped) in enumerate(pending):
                if unwrap is None:  # from here on an entry with unwrap None holds its unwrapped key
                    pending[i] = (raw, None, flat[pos : pos + len(wrapped)])
                    pos += len(wrapped)
        if len(pending) < _PARALLEL_MIN:
            yield from _build(pending)
            return
        # Half of a big tree is built in a forked child on the other CPU, if one can be had (see ``forked``).
        half = len(pending) // 2
        child = forked.start(lambda: [node.row() for node in _build(pending[half:])])
        try:
            yield from _build(pending[:half] if child is not None else pending)
            if child is None:
                return
            rows = child.result()
        finally:
            if child is not None:
                child.close()
        if rows is None:
            log.debug("building nodes in a second process failed; building them here")
            yield from _build(pending[half:])
        else:
            yield from (Node(*row) for row in rows)


#: below this many nodes a fork costs more than it saves (it takes a few ms; a node ~20 µs)
_PARALLEL_MIN = 20_000


def _build(pending: list[tuple[Mapping[str, Any], bytes | None, bytes]]) -> Iterator[Node]:
    """The nodes of ``Keyring.decrypt``'s work list: (raw node, key to unwrap with or None, wrapped key or,
    with None, the key already unwrapped)."""
    # One loop body per node, no helpers beyond the crypto: a 100,000-node tree runs it 100,000 times.
    decrypt_attrs = crypto.decrypt_attributes
    fold = crypto.fold_key
    for raw, unwrap, wrapped in pending:
        key = wrapped if unwrap is None else crypto.aes_ecb_decrypt(unwrap, wrapped)
        kind = int(raw["t"])
        if (kind == FILE) != (len(key) == 32):
            log.debug("node %s: key length does not fit its type; skipped", raw.get("h"))
            continue
        attrs = raw.get("a", "")
        if not isinstance(attrs, str):
            attrs = str(attrs)
        try:
            decoded = decrypt_attrs(attrs, fold(key))
        except crypto.CryptoError:
            log.debug("node %s: attributes do not decrypt; skipped", raw.get("h"))
            continue
        name, mtime = attributes_of(decoded)
        yield Node(
            str(raw["h"]),
            str(raw.get("p") or ""),
            kind,
            name,
            int(raw.get("s", -1)) if kind == FILE else -1,
            int(raw.get("ts", 0)),
            key,
            attrs,
            mtime,
        )


def decrypt_attributes(attrs: str, node_key: bytes) -> dict[str, Any]:
    """``crypto.decrypt_attributes`` with the node key folded first (a file key is 32 bytes)."""
    return crypto.decrypt_attributes(attrs, crypto.fold_key(node_key))


class NodeTree:
    """The decrypted tree of an account (or of a public folder link) at sequence number ``sn``.

    ``root`` is the Cloud Drive (or the link's top folder), ``rubbish`` the Rubbish Bin. Not thread-safe:
    the owner serialises access.
    """

    def __init__(self, sn: str = "") -> None:
        self.sn = sn
        self.nodes: dict[str, Node] = {}
        self.children: dict[str, dict[str, list[str]]] = {}
        self.root = ""
        self.rubbish = ""
        #: handles added or changed / removed since the last save (``tree_cache``)
        self.dirty: set[str] = set()
        self.removed: set[str] = set()
        self._detached: set[str] = set()

    # -- building --------------------------------------------------------------------------------------------

    def add(self, node: Node) -> None:
        """Insert ``node``, or replace the node of that handle (keeping its children: a move's ``t`` half)."""
        old = self.nodes.get(node.handle)
        if old is not None:
            self._unlink(old)
        parent = self.nodes.get(node.parent)
        if node.parent and parent is not None and parent.type == FILE:
            # an old version hanging under its file: not part of any listing
            if old is not None:
                self.remove(node.handle)
            return
        self.nodes[node.handle] = node
        self._link(node)
        self.dirty.add(node.handle)
        self.removed.discard(node.handle)
        self._note_root(node)

    def _note_root(self, node: Node) -> None:
        if node.type == ROOT and not self.root:
            self.root = node.handle
        elif node.type == RUBBISH:
            self.rubbish = node.handle

    def add_all(self, nodes: Iterable[Node]) -> None:
        for node in nodes:
            self.add(node)

    def restore(self, nodes: Iterable[Node]) -> None:
        """Fill an empty tree from the cache: no versions can be among the nodes, nothing becomes dirty."""
        by_handle, children = self.nodes, self.children
        for node in nodes:  # _link and _note_root inlined, no setdefault defaults: once per cached node
            handle, parent = node.handle, node.parent
            by_handle[handle] = node
            if parent:
                siblings = children.get(parent)
                if siblings is None:
                    children[parent] = {node.engine_name: [handle]}
                    continue
                same = siblings.get(node.engine_name)
                if same is None:
                    siblings[node.engine_name] = [handle]
                else:
                    same.append(handle)
            elif node.type in (ROOT, RUBBISH):
                self._note_root(node)

    def _link(self, node: Node) -> None:
        if node.parent:
            self.children.setdefault(node.parent, {}).setdefault(node.engine_name, []).append(node.handle)

    def _unlink(self, node: Node) -> None:
        siblings = self.children.get(node.parent)
        if siblings is None:
            return
        same = siblings.get(node.engine_name)
        if same is not None and node.handle in same:
            same.remove(node.handle)
            if not same:
                del siblings[node.engine_name]
            if not siblings:
                del self.children[node.parent]

    def remove(self, handle: str) -> None:
        """Drop a node and its whole subtree; a missing handle is a no-op (replayed packets)."""
        node = self.nodes.get(handle)
        if node is None:
            return
        self._unlink(node)
        stack = [handle]
        while stack:
            current = stack.pop()
            if self.nodes.pop(current, None) is None:
                continue
            self.dirty.discard(current)
            self.removed.add(current)
            for handles in self.children.pop(current, {}).values():
                stack.extend(handles)

    def detach(self, handle: str) -> None:
        """The first half of a move (``d`` with ``m:1``): unlink, keep the subtree for the ``t`` half."""
        node = self.nodes.get(handle)
        if node is not None:
            self._unlink(node)
            self._detached.add(handle)

    def update(self, handle: str, **changes: Any) -> Node | None:
        """Change fields of a node in place (re-indexing it when its name or parent changes)."""
        node = self.nodes.get(handle)
        if node is None:
            return None
        self._unlink(node)
        for name, value in changes.items():
            setattr(node, name, value)
        if "name" in changes:
            node.engine_name = names.to_engine(node.name)
        self._link(node)
        self.dirty.add(handle)
        return node

    def set_attrs(self, handle: str, attrs: str) -> Node | None:
        """New encrypted attributes for a node (a rename or new mtime, ours or another client's)."""
        node = self.nodes.get(handle)
        if node is None or not node.key:
            return None
        try:
            name, mtime = attributes_of(decrypt_attributes(attrs, node.key))
        except crypto.CryptoError:
            log.debug("node %s: new attributes do not decrypt; kept the old ones", handle)
            return node
        return self.update(handle, name=name, mtime=mtime, attrs=attrs)

    def apply_packets(self, packets: Iterable[Mapping[str, Any]], keyring: Keyring) -> int:
        """Apply ``sc`` action packets in order; returns how many changed the tree.

        ``t`` adds (or re-adds, after a move's ``d``) nodes, ``u`` changes attributes, ``d`` removes a
        subtree unless it is the first half of a move (``m:1``). Other packet types (shares, contacts, links,
        user attributes) do not change what listings show.
        """
        changed = 0
        for packet in packets:
            kind = packet.get("a")
            if kind == "t":
                body = packet.get("t")
                if isinstance(body, Mapping):
                    self.add_all(keyring.decrypt(body.get("f") or []))
                    changed += 1
            elif kind == "u":
                handle = str(packet.get("n", ""))
                if "at" in packet:
                    self.set_attrs(handle, str(packet["at"]))
                    changed += 1
            elif kind == "d":
                handle = str(packet.get("n", ""))
                if packet.get("m"):
                    self.detach(handle)
                else:
                    self.remove(handle)
                changed += 1
        self._drop_detached()
        return changed

    def _drop_detached(self) -> None:
        """Nodes a move's ``d`` unlinked but no ``t`` re-attached: the server no longer shows them to us."""
        detached, self._detached = self._detached, set()
        for handle in detached:
            node = self.nodes.get(handle)
            if node is not None and not self._linked(node):
                self.remove(handle)

    def _linked(self, node: Node) -> bool:
        return node.handle in self.children.get(node.parent, {}).get(node.engine_name, ())

    # -- lookups ---------------------------------------------------------------------------------------------

    def get(self, handle: str) -> Node | None:
        return self.nodes.get(handle)

    def named(self, parent: str, engine_name: str) -> list[Node]:
        """The children of ``parent`` called ``engine_name`` (several when MEGA holds duplicates)."""
        handles = self.children.get(parent, {}).get(engine_name, ())
        return [self.nodes[h] for h in handles]

    def children_of(self, parent: str) -> list[Node]:
        nodes = self.nodes
        return [nodes[h] for same in self.children.get(parent, {}).values() for h in same]

    def has_children(self, parent: str) -> bool:
        return bool(self.children.get(parent))

    def engine_path(self, handle: str, top: str) -> str | None:
        """The '/'-joined engine names from ``top`` (exclusive) down to ``handle``; None if not below it."""
        parts: list[str] = []
        current = self.nodes.get(handle)
        while current is not None and current.handle != top:
            parts.append(current.engine_name)
            current = self.nodes.get(current.parent) if current.parent else None
        if current is None:
            return None
        parts.reverse()
        return "/".join(parts)

    def __len__(self) -> int:
        return len(self.nodes)


def parse_f(answer: Mapping[str, Any], keyring: Keyring) -> NodeTree:
    """The tree from an ``f`` answer: owner share keys first (nodes of exported folders may need them)."""
    keyring.add_owner_keys(answer.get("ok0") or answer.get("ok") or [])
    tree = NodeTree(str(answer.get("sn", "")))
    tree.add_all(keyring.decrypt(answer.get("f") or []))
    if not tree.root:
        # a folder link: its top node is the folder whose parent is not in the answer
        for node in tree.nodes.values():
            if node.type == FOLDER and node.parent not in tree.nodes:
                tree.root = node.handle
                break
    return tree
