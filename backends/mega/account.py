"""One logged-in MEGA account: its session, its node tree, and the commands that change it.

Every backend of one remote in a run shares this object (``MegaBackend.with_root``), so the tree is fetched
(or loaded from the cache and caught up through ``sc``) once per run, and every change a command makes is
applied to the tree from the command's answer at once: later lookups in the same run see it without waiting
for the action packet. The packets of our own changes arrive at the next catch-up and are applied again,
which changes nothing (``nodes`` applies them idempotently).

Opening is lazy: building a backend costs nothing; the first operation logs in (or resumes the cached
session) and loads the tree. All tree access holds ``lock``; HTTP requests for bytes run outside it.

With ``link`` set the account is a public link instead: no login, the tree from ``public_tree``, and every
command that would change something refused with ReadOnly before it is sent.

Exported folders: MEGA's apps share a folder to the pseudo-user ``EXP`` with a share key and give the key of
every node below it wrapped with that key (``cr``); every later command that puts nodes below such a folder
(``p``, ``m``) carries their keys the same way, or a visitor of the link would not be able to open them.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from backends.errors import AuthError, BackendError, ConfigError, NotFound, ReadOnly

from . import crypto
from .api import MegaApi
from .errors import SequenceTooOld, translate
from .fingerprint import fingerprint
from .links import PublicLink, parse_link
from .nodes import FILE, FOLDER, Keyring, Node, NodeTree, decrypt_attributes, parse_f
from .public_tree import link_tree
from .session import Credentials, Session, SessionCache, logout, open_session
from .transfer import Downloaded, Transfers, Uploaded
from .tree_cache import TreeCache

__all__ = ["AccountSettings", "MegaAccount"]

log = logging.getLogger(__name__)

#: ``sc`` polls in one catch-up before the tree is fetched anew instead (a long-idle cache).
_MAX_CATCH_UP_POLLS = 200


@dataclass(frozen=True)
class AccountSettings:
    """What the account needs from the remote's options (the backend builds it)."""

    api_url: str
    email: str
    password: str
    mfa: str | None
    state_dir: str
    use_https: bool = False
    parallel: int = 4
    verify: bool | str = True
    #: a public file or folder link: read it without logging in
    link: str = ""
    #: asks for a two-factor code when MEGA wants one and ``mfa`` is None (None: nobody can answer)
    ask_mfa: Callable[[str], str] | None = field(default=None, compare=False, repr=False)
    #: log every API request and answer, secrets hidden
    debug: bool = False


class MegaAccount:
    """The shared state of one MEGA remote in one run."""

    def __init__(self, settings: AccountSettings) -> None:
        self.settings = settings
        self.lock = threading.RLock()
        #: held while folders are created, so concurrent writers do not create the same folder twice
        self.mkdir_lock = threading.Lock()
        self._opened = False
        self._open_lock = threading.Lock()
        self.api = MegaApi(settings.api_url, verify=settings.verify, debug=settings.debug)
        self.session: Session | None = None
        self.keyring = Keyring()
        self._tree: NodeTree | None = None
        self._sessions = SessionCache(settings.state_dir)
        self._cache: TreeCache | None = None
        self._transfers: Transfers | None = None
        self._changed = False
        #: handles of nodes ``encoding: raw`` skipped (and warned about once)
        self.raw_skipped: set[str] = set()
        self._closed = False
        self.link: PublicLink | None = parse_link(settings.link) if settings.link else None
        # go-mega's habit: a random id on commands, echoed in their packets
        self._client_id = secrets.token_urlsafe(8)[:10]

    # -- opening and closing ---------------------------------------------------------------------------------

    def open(self) -> None:
        """Log in (or resume) and have the tree; idempotent, thread-safe."""
        if self._opened:
            return
        with self._open_lock:
            if self._opened:
                return
            if self.link is not None:
                self._tree = link_tree(self.api, self.link)
                self._opened = True
                return
            if not self.settings.email:
                raise ConfigError("MEGA remote needs 'user' (the account's e-mail)")
            creds = Credentials(self.settings.email, self.settings.password, self.settings.mfa)
            self.session = open_session(self.api, creds, self._sessions, ask_mfa=self.settings.ask_mfa)
            self.keyring = Keyring(self.session.master_key, self.session.user_handle)
            self._cache = TreeCache(self.settings.state_dir, self.settings.api_url, self.session.user_handle)
            self._tree = self._load_tree()
            self._opened = True

    def _writable(self) -> None:
        if self.link is not None:
            raise ReadOnly()

    @property
    def tree(self) -> NodeTree:
        self.open()
        assert self._tree is not None
        return self._tree

    @property
    def transfers(self) -> Transfers:
        self.open()
        with self._open_lock:
            if self._transfers is None:
                self._transfers = Transfers(
                    self.api, parallel=self.settings.parallel, verify=self.settings.verify
                )
            return self._transfers

    def _load_tree(self) -> NodeTree:
        assert self._cache is not None
        cached = self._cache.load()
        if cached is not None:
            self.keyring.share_keys.update(self._cache.share_keys)
            try:
                self._catch_up(cached)
                log.debug("MEGA tree from cache: %d nodes at sn %s", len(cached), cached.sn)
                return cached
            except SequenceTooOld:
                log.info("MEGA tree cache too old to catch up; fetching the tree again")
        return self._fetch()

    def _fetch(self) -> NodeTree:
        started = time.monotonic()
        answer = self.api.call({"a": "f", "c": 1, "r": 1})
        if not isinstance(answer, Mapping):
            raise BackendError("malformed answer from MEGA to 'f'")
        tree = parse_f(answer, self.keyring)
        if not tree.root:
            raise BackendError("MEGA sent a tree without a Cloud Drive")
        log.debug("MEGA tree fetched: %d nodes in %.2fs", len(tree), time.monotonic() - started)
        assert self._cache is not None
        self._cache.save(tree, share_keys=self.keyring.share_keys)
        return tree

    def _catch_up(self, tree: NodeTree) -> None:
        """Apply every action packet after ``tree.sn``; raises SequenceTooOld when ``sn`` is too old."""
        for _ in range(_MAX_CATCH_UP_POLLS):
            answer = self.api.sc_poll(tree.sn)
            packets = answer.get("a")
            if packets:
                with self.lock:
                    tree.apply_packets(packets, self.keyring)
                    tree.sn = str(answer.get("sn", tree.sn))
                continue
            tree.sn = str(answer.get("sn", tree.sn))
            return
        raise SequenceTooOld()

    def close(self) -> None:
        """Save the tree (caught up first when this run changed it, so the next run starts current).
        Idempotent: a second call finds the connection closed and nothing left to save."""
        if self._closed:
            return
        self._closed = True
        if self._transfers is not None:
            self._transfers.close()
            self._transfers = None
        if self._opened and self._tree is not None and self._cache is not None:
            try:
                if self._changed:
                    self._catch_up(self._tree)
                self._cache.save(self._tree, share_keys=self.keyring.share_keys)
            except SequenceTooOld:
                self._cache.forget()
            except BackendError as exc:
                log.debug("MEGA tree cache not brought up to date at close: %s", exc)
                self._cache.save(self._tree, share_keys=self.keyring.share_keys)
        self.api.close()

    def logout(self) -> None:
        """End the session on MEGA and forget it and the cached tree (``syncer mega logout``)."""
        creds = Credentials(self.settings.email, self.settings.password, self.settings.mfa)
        session = self._sessions.load(self.settings.api_url, creds.email)
        if session is None:
            raise AuthError(f"no cached MEGA session for {creds.email}: nothing to log out")
        self.api.sid = session.sid
        TreeCache(self.settings.state_dir, self.settings.api_url, session.user_handle).forget()
        logout(self.api, session, self._sessions)

    # -- commands --------------------------------------------------------------------------------------------

    def _call(self, command: dict[str, Any]) -> Any:
        """A command on the logged-in session (opening the account first)."""
        self.open()
        return self.api.call(command)

    def wait_for_changes(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for action packets and apply them to the tree; True if any came.
        Packets for this client's own changes count too (they change nothing, being applied already)."""
        tree = self.tree
        answer = self.api.wait_for_packets(tree.sn, timeout)
        packets = answer.get("a")
        with self.lock:
            if packets:
                tree.apply_packets(packets, self.keyring)
            tree.sn = str(answer.get("sn", tree.sn))
        return bool(packets)

    def _command(self, command: dict[str, Any]) -> Any:
        """A command that changes the account."""
        self._writable()
        self.open()
        command.setdefault("i", self._client_id)
        self._changed = True
        return self.api.call(command)

    def _added(self, answer: Any) -> list[Node]:
        """Apply the nodes of a ``p`` answer to the tree; returns them in the answer's order."""
        raw = answer.get("f") if isinstance(answer, Mapping) else None
        if not isinstance(raw, list):
            raise BackendError("malformed answer from MEGA to 'p'")
        nodes = list(self.keyring.decrypt(raw))
        if len(nodes) != len(raw):
            raise BackendError("MEGA answered 'p' with nodes this client cannot decrypt")
        with self.lock:
            self.tree.add_all(nodes)
        return nodes

    def _wrap(self, key: bytes) -> str:
        assert self.session is not None
        return crypto.b64encode(crypto.aes_ecb_encrypt(self.session.master_key, key))

    def make_folders(self, parent: str, names: Sequence[str]) -> list[Node]:
        """Create a chain of nested folders ``names`` under ``parent`` in one ``p``; returns them in order."""
        self._writable()
        entries = []
        keys = []
        for index, name in enumerate(names):
            key = os.urandom(16)
            keys.append(key)
            entry: dict[str, Any] = {
                "h": f"xxxxxx{index:02d}",
                "t": FOLDER,
                "a": crypto.encrypt_attributes({"n": name}, key),
                "k": self._wrap(key),
            }
            if index:
                entry["p"] = f"xxxxxx{index - 1:02d}"
            entries.append(entry)
        command = {"a": "p", "t": parent, "n": entries}
        self._add_share_keys(command, parent, [(e["h"], k) for e, k in zip(entries, keys, strict=True)])
        return self._added(self._command(command))

    def attach_upload(
        self, parent: str, name: str, uploaded: Uploaded, mtime: int, replaces: Node | None
    ) -> Node:
        """Turn a finished upload into a file node (the old file, if any, becomes a version of it)."""
        attrs = {"n": name, "c": fingerprint(uploaded.crc, mtime)}
        return self._put_file(parent, uploaded.token, uploaded.key.pack(), attrs, replaces)

    def _put_file(
        self, parent: str, source: str, key: bytes, attrs: Mapping[str, Any], replaces: Node | None
    ) -> Node:
        """``p`` of one file node from ``source`` (an upload token or a node to copy)."""
        self._writable()
        entry: dict[str, Any] = {
            "h": source,
            "t": FILE,
            "a": crypto.encrypt_attributes(attrs, crypto.fold_key(key)),
            "k": self._wrap(key),
        }
        if replaces is not None:
            entry["ov"] = replaces.handle
        command = {"a": "p", "t": parent, "n": [entry]}
        self._add_share_keys(command, parent, [(source, key)])
        (node,) = self._added(self._command(command))
        if replaces is not None:
            with self.lock:
                self.tree.remove(replaces.handle)  # now a version under the new node
        return node

    def copy_node(self, source: Node, parent: str, name: str, replaces: Node | None) -> Node:
        """A server-side copy of a file under ``parent`` named ``name`` (same key, so same content)."""
        attrs = decrypt_attributes(source.attrs, source.key)
        attrs["n"] = name
        attrs.pop("rr", None)
        return self._put_file(parent, source.handle, source.key, attrs, replaces)

    def set_attributes(self, node: Node, changes: Mapping[str, Any]) -> Node:
        """Merge ``changes`` into a node's attributes (None removes one) and store them with ``a``."""
        attrs = decrypt_attributes(node.attrs, node.key)
        for name, value in changes.items():
            if value is None:
                attrs.pop(name, None)
            else:
                attrs[name] = value
        encrypted = crypto.encrypt_attributes(attrs, crypto.fold_key(node.key))
        self._command({"a": "a", "n": node.handle, "at": encrypted})
        with self.lock:
            updated = self.tree.set_attrs(node.handle, encrypted)
        if updated is None:
            raise NotFound(path=node.name)
        return updated

    def move_node(self, node: Node, parent: str) -> None:
        command: dict[str, Any] = {"a": "m", "n": node.handle, "t": parent}
        with self.lock:
            moved = [(n.handle, n.key) for n in self._subtree(node)]
        self._add_share_keys(command, parent, moved)
        self._command(command)
        with self.lock:
            self.tree.update(node.handle, parent=parent)

    def destroy(self, node: Node) -> None:
        """Delete for good (``d``): the node, its subtree and its versions."""
        self._command({"a": "d", "n": node.handle})
        with self.lock:
            self.tree.remove(node.handle)

    def upload_url(self, size: int) -> str:
        self._writable()
        command: dict[str, Any] = {"a": "u", "s": size}
        if self.settings.use_https:
            command["ssl"] = 2
        answer = self._call(command)
        if not isinstance(answer, Mapping) or not isinstance(answer.get("p"), str):
            raise BackendError("malformed answer from MEGA to 'u'")
        return str(answer["p"])

    def download_url(self, handle: str) -> Downloaded:
        command: dict[str, Any] = {"a": "g", "g": 1, "n": handle}
        if self.link is not None and self.link.kind == "file":
            command = {"a": "g", "g": 1, "p": self.link.handle}
        if self.settings.use_https:
            command["ssl"] = 2
        answer = self._call(command)
        if isinstance(answer, Mapping) and isinstance(answer.get("e"), int) and answer["e"] < 0:
            raise translate(answer["e"], "g")  # e.g. over the transfer quota, with the URL still given
        if not isinstance(answer, Mapping) or not isinstance(answer.get("g"), str):
            raise BackendError("malformed answer from MEGA to 'g'")
        return Downloaded(str(answer["g"]), int(answer.get("s", 0)))

    def quota(self) -> dict[str, Any]:
        answer = self._call({"a": "uq", "strg": 1, "xfer": 1})
        if not isinstance(answer, dict):
            raise BackendError("malformed answer from MEGA to 'uq'")
        return answer

    # -- public links ----------------------------------------------------------------------------------------

    def export(self, node: Node) -> str:
        """The public link of ``node`` (made if it has none; the same URL again if it has one).

        A folder is shared to ``EXP`` first, as MEGA's apps do, unless it already is: its share key is the
        key in the link, so keeping the one it has keeps earlier links working.
        """
        self._writable()
        self.open()
        if node.type == FILE:
            return PublicLink("file", self._link_handle(node), node.key).url()
        with self.lock:
            share_key = self.keyring.share_keys.get(node.handle)
        if share_key is None:
            share_key = os.urandom(16)
            self._share_to_exp(node, share_key)
        return PublicLink("folder", self._link_handle(node), share_key).url()

    def unexport(self, node: Node) -> None:
        """End ``node``'s public link; no error when it has none."""
        try:
            self._command({"a": "l", "n": node.handle, "d": 1})
        except NotFound:
            log.debug("node %s had no public link", node.handle)

    def _link_handle(self, node: Node) -> str:
        answer = self._command({"a": "l", "n": node.handle})
        if not isinstance(answer, str) or not answer:
            raise BackendError("malformed answer from MEGA to 'l'")
        return answer

    def _share_to_exp(self, folder: Node, share_key: bytes) -> None:
        assert self.session is not None
        with self.lock:
            covered = [(n.handle, n.key) for n in self._subtree(folder)]
        handle_auth = crypto.aes_ecb_encrypt(self.session.master_key, (folder.handle * 2).encode("ascii"))
        command: dict[str, Any] = {
            "a": "s2",
            "n": folder.handle,
            "s": [{"u": "EXP", "r": 0}],
            "ok": self._wrap(share_key),
            "ha": crypto.b64encode(handle_auth),
            "cr": _share_keys_element({folder.handle: share_key}, covered),
        }
        self._command(command)
        with self.lock:
            self.keyring.share_keys[folder.handle] = share_key

    def _subtree(self, top: Node) -> list[Node]:
        """``top`` and every node below it (callers hold ``lock``)."""
        found, stack = [], [top]
        while stack:
            node = stack.pop()
            found.append(node)
            stack.extend(self.tree.children_of(node.handle))
        return found

    def _add_share_keys(
        self, command: dict[str, Any], parent: str, nodes: Sequence[tuple[str, bytes]]
    ) -> None:
        """Add ``cr`` to a command putting ``nodes`` (handle as the command names it, key) under ``parent``,
        when ``parent`` is inside folders this account shares."""
        if not self.keyring.share_keys or self.link is not None:
            return
        shares: dict[str, bytes] = {}
        with self.lock:
            current = self.tree.get(parent)
            while current is not None:
                key = self.keyring.share_keys.get(current.handle)
                if key is not None:
                    shares[current.handle] = key
                current = self.tree.get(current.parent) if current.parent else None
        if shares:
            command["cr"] = _share_keys_element(shares, nodes)


def _share_keys_element(shares: Mapping[str, bytes], nodes: Sequence[tuple[str, bytes]]) -> list[Any]:
    """MEGA's ``cr``: [share handles], [node handles], then (share index, node index, node key wrapped with
    that share's key) for every pair."""
    triples: list[Any] = []
    for share_index, share_key in enumerate(shares.values()):
        for node_index, (_, key) in enumerate(nodes):
            triples += [share_index, node_index, crypto.b64encode(crypto.aes_ecb_encrypt(share_key, key))]
    return [list(shares), [handle for handle, _ in nodes], triples]
