"""One logged-in MEGA account: its session, its node tree, and the commands that change it.

Every backend of one remote in a run shares this object (``MegaBackend.with_root``), so the tree is fetched
(or loaded from the cache and caught up through ``sc``) once per run, and every change a command makes is
applied to the tree from the command's answer at once: later lookups in the same run see it without waiting
for the action packet. The packets of our own changes arrive at the next catch-up and are applied again,
which changes nothing (``nodes`` applies them idempotently).

Opening is lazy: building a backend costs nothing; the first operation logs in (or resumes the cached
session) and loads the tree. All tree access holds ``lock``; HTTP requests for bytes run outside it.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backends.errors import AuthError, BackendError, ConfigError, NotFound

from . import crypto
from .api import MegaApi
from .errors import SequenceTooOld, translate
from .fingerprint import fingerprint
from .nodes import FILE, FOLDER, Keyring, Node, NodeTree, decrypt_attributes, parse_f
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


class MegaAccount:
    """The shared state of one MEGA remote in one run."""

    def __init__(self, settings: AccountSettings) -> None:
        self.settings = settings
        self.lock = threading.RLock()
        #: held while folders are created, so concurrent writers do not create the same folder twice
        self.mkdir_lock = threading.Lock()
        self._opened = False
        self._open_lock = threading.Lock()
        self.api = MegaApi(settings.api_url, verify=settings.verify)
        self.session: Session | None = None
        self.keyring = Keyring()
        self._tree: NodeTree | None = None
        self._sessions = SessionCache(settings.state_dir)
        self._cache: TreeCache | None = None
        self._transfers: Transfers | None = None
        self._changed = False
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
            if not self.settings.email:
                raise ConfigError("MEGA remote needs 'user' (the account's e-mail)")
            creds = Credentials(self.settings.email, self.settings.password, self.settings.mfa)
            self.session = open_session(self.api, creds, self._sessions)
            self.keyring = Keyring(self.session.master_key, self.session.user_handle)
            self._cache = TreeCache(self.settings.state_dir, self.settings.api_url, self.session.user_handle)
            self._tree = self._load_tree()
            self._opened = True

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
        self._cache.save(tree, full=True)
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
        """Save the tree (caught up first when this run changed it, so the next run starts current)."""
        if self._transfers is not None:
            self._transfers.close()
            self._transfers = None
        if self._opened and self._tree is not None and self._cache is not None:
            try:
                if self._changed:
                    self._catch_up(self._tree)
                self._cache.save(self._tree)
            except SequenceTooOld:
                self._cache.forget()
            except BackendError as exc:
                log.debug("MEGA tree cache not brought up to date at close: %s", exc)
                self._cache.save(self._tree)
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

    def _command(self, command: dict[str, Any]) -> Any:
        """A command that changes the account."""
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
        entries = []
        for index, name in enumerate(names):
            key = os.urandom(16)
            entry: dict[str, Any] = {
                "h": f"xxxxxx{index:02d}",
                "t": FOLDER,
                "a": crypto.encrypt_attributes({"n": name}, key),
                "k": self._wrap(key),
            }
            if index:
                entry["p"] = f"xxxxxx{index - 1:02d}"
            entries.append(entry)
        return self._added(self._command({"a": "p", "t": parent, "n": entries}))

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
        entry: dict[str, Any] = {
            "h": source,
            "t": FILE,
            "a": crypto.encrypt_attributes(attrs, crypto.fold_key(key)),
            "k": self._wrap(key),
        }
        if replaces is not None:
            entry["ov"] = replaces.handle
        (node,) = self._added(self._command({"a": "p", "t": parent, "n": [entry]}))
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
        self._command({"a": "m", "n": node.handle, "t": parent})
        with self.lock:
            self.tree.update(node.handle, parent=parent)

    def destroy(self, node: Node) -> None:
        """Delete for good (``d``): the node, its subtree and its versions."""
        self._command({"a": "d", "n": node.handle})
        with self.lock:
            self.tree.remove(node.handle)

    def upload_url(self, size: int) -> str:
        command: dict[str, Any] = {"a": "u", "s": size}
        if self.settings.use_https:
            command["ssl"] = 2
        answer = self._call(command)
        if not isinstance(answer, Mapping) or not isinstance(answer.get("p"), str):
            raise BackendError("malformed answer from MEGA to 'u'")
        return str(answer["p"])

    def download_url(self, handle: str) -> Downloaded:
        command: dict[str, Any] = {"a": "g", "g": 1, "n": handle}
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
