"""Who is asking and how to answer them: the per-request facts every command handler receives."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Caller", "FolderLink", "Urls"]


@dataclass(frozen=True)
class FolderLink:
    """A public folder link a request works under (``n=<public handle>``): read-only access to one subtree."""

    public_handle: str
    root: str  # the exported folder's node handle
    owner: str


@dataclass(frozen=True)
class Urls:
    """Builds the URLs handed out to this request's client.

    ``api`` is the base the client reached (ends with '/'); transfer URLs use ``transfer_plain`` (http://)
    unless the command asked for ``ssl=2`` and ``transfer_tls`` exists (the server has a certificate).
    """

    api: str
    transfer_plain: str
    transfer_tls: str | None = None

    def transfer_base(self, ssl: object) -> str:
        if ssl == 2 and self.transfer_tls is not None:
            return self.transfer_tls
        return self.transfer_plain

    def upload(self, upload_id: str, ssl: object = None) -> str:
        return f"{self.transfer_base(ssl)}ul/{upload_id}"

    def download(self, token: str, ssl: object = None) -> str:
        return f"{self.transfer_base(ssl)}dl/{token}"

    def wait(self, token: str) -> str:
        return f"{self.api}wait/{token}"


@dataclass(frozen=True)
class Caller:
    """The client of one request: its account and session (None before login), or the folder link it uses."""

    urls: Urls
    user: str | None = None
    sid: str | None = None
    link: FolderLink | None = None
