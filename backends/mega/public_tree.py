"""The tree a public link shows, read without logging in (``shared/mega-protocol.md`` 5.3 and 10.4).

A folder link is listed with ``f`` under ``n=<public handle>``: its nodes' keys come wrapped with the link's
share key, filed under the folder's node handle, which only the answer reveals (the node whose parent is not
in it). A file link is one ``g`` with ``p``: its size and attributes, decrypted with the key in the link.

A link to one file (or a folder link pointing at a file inside it) opens as a folder holding just that file,
so ``ls``, ``cat`` and ``copy`` treat it the way they treat a folder, and the file keeps its own name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backends.errors import AuthError, BackendError, DirNotFound, NotFound

from . import crypto
from .api import MegaApi
from .links import PublicLink
from .nodes import FILE, FOLDER, Keyring, Node, NodeTree, attributes_of, parse_f

__all__ = ["VIEW_ROOT", "link_tree"]

#: The handle of the folder a file link is shown in; never a MEGA handle (those are 8 base64 characters).
VIEW_ROOT = "@link"


def link_tree(api: MegaApi, link: PublicLink) -> NodeTree:
    """The tree behind ``link``. Raises DirNotFound / NotFound for a dead link (removed, or never made),
    AuthError when the key in the link does not open what it points to."""
    if link.kind == "file":
        return _file_link(api, link)
    api.folder = link.handle
    try:
        answer = api.call({"a": "f", "c": 1, "r": 1})
    except NotFound:
        raise DirNotFound(f"{link.public_part()}: no such folder link (removed, or never made)") from None
    if not isinstance(answer, Mapping) or not isinstance(answer.get("f"), list):
        raise BackendError("malformed answer from MEGA to 'f' on a folder link")
    raw: list[Any] = [n for n in answer["f"] if isinstance(n, Mapping)]
    handles = {str(n.get("h")) for n in raw}
    top = next((str(n.get("h")) for n in raw if str(n.get("p") or "") not in handles), None)
    if top is None:
        raise DirNotFound(f"{link.public_part()}: the folder link shows nothing")
    tree = parse_f(answer, Keyring(share_keys={top: link.key}))
    if tree.get(top) is None:
        raise AuthError(f"{link.public_part()}: the key in the link does not open the folder")
    tree.root = top
    if link.inner is None:
        return tree
    inner = tree.get(link.inner)
    if inner is None:
        raise NotFound(f"{link.public_part()}: nothing with that handle inside the folder link")
    if inner.type == FILE:
        return _one_file(inner)
    tree.root = inner.handle
    return tree


def _file_link(api: MegaApi, link: PublicLink) -> NodeTree:
    try:
        answer = api.call({"a": "g", "p": link.handle})
    except NotFound:
        raise NotFound(f"{link.public_part()}: no such file link (removed, or never made)") from None
    if not isinstance(answer, Mapping) or not isinstance(answer.get("at"), str):
        raise BackendError("malformed answer from MEGA to 'g' on a file link")
    try:
        name, mtime = attributes_of(crypto.decrypt_attributes(answer["at"], crypto.fold_key(link.key)))
    except crypto.CryptoError:
        raise AuthError(f"{link.public_part()}: the key in the link does not open the file") from None
    size = answer.get("s")
    node = Node(
        link.handle,
        VIEW_ROOT,
        FILE,
        name,
        size if isinstance(size, int) else -1,
        int(answer.get("ts", 0) or 0),
        link.key,
        str(answer["at"]),
        mtime,
    )
    return _one_file(node)


def _one_file(node: Node) -> NodeTree:
    """A tree of one folder (``VIEW_ROOT``) holding ``node``."""
    tree = NodeTree()
    tree.add(Node(VIEW_ROOT, "", FOLDER, "", -1, node.ts, b"", "", None))
    tree.add(Node.from_row((node.handle, VIEW_ROOT, *node.row()[2:])))
    tree.root = VIEW_ROOT
    return tree
