"""MEGA's API error codes as the emulator answers them, and its picks where the protocol notes leave a choice.

Where the protocol notes mark a code **UNCONFIRMED** (section 14), the constant below names the case, so a
different observation of the real service changes one line here.
"""

from __future__ import annotations

__all__ = [
    "CIRCULAR_MOVE",
    "EACCESS",
    "EAGAIN",
    "EARGS",
    "EBLOCKED",
    "ECIRCULAR",
    "EEXIST",
    "EEXPIRED",
    "EINCOMPLETE",
    "EINTERNAL",
    "EKEY",
    "EMFAREQUIRED",
    "ENOENT",
    "EOVERQUOTA",
    "ERANGE",
    "ERATELIMIT",
    "ESID",
    "ETOOMANY",
    "GET_FOLDER",
    "MALFORMED_BATCH",
    "MOVE_INTO_FILE",
    "OK",
    "PUT_INTO_FILE",
    "STALE_SN",
    "TOKEN_REUSED",
    "UNKNOWN_COMMAND",
    "UNKNOWN_TOKEN",
    "WRITE_THROUGH_LINK",
    "CommandError",
]

OK = 0
EINTERNAL = -1
EARGS = -2
EAGAIN = -3
ERATELIMIT = -4
ETOOMANY = -6
ERANGE = -7
EEXPIRED = -8
ENOENT = -9
ECIRCULAR = -10
EACCESS = -11
EEXIST = -12
EINCOMPLETE = -13
EKEY = -14
ESID = -15
EBLOCKED = -16
EOVERQUOTA = -17
EMFAREQUIRED = -26

# -- choices for the UNCONFIRMED cases (section 14 item 8) ---------------------------------------------------
#: A /cs body that is not a JSON array of command objects (answered bare).
MALFORMED_BATCH = EARGS
#: A command name the emulator does not implement (answered in its slot).
UNKNOWN_COMMAND = EARGS
#: ``p`` with a completion token this user never received.
UNKNOWN_TOKEN = ENOENT
#: ``p`` with a completion token that already made a node.
TOKEN_REUSED = EACCESS
#: ``p`` whose target is a file; ``m`` whose target is a file.
PUT_INTO_FILE = EACCESS
MOVE_INTO_FILE = EACCESS
#: ``m`` into the node itself or its own subtree.
CIRCULAR_MOVE = ECIRCULAR
#: ``g`` on a folder.
GET_FOLDER = ENOENT
#: An ``sc`` poll with an sn the emulator never issued or no longer keeps (the client must reload with ``f``).
STALE_SN = ETOOMANY
#: A write command sent under ``n=`` (a folder link is read-only here).
WRITE_THROUGH_LINK = EACCESS


class CommandError(Exception):
    """Raised by a command handler: one negative code in the command's slot (nothing it did stays)."""

    def __init__(self, code: int, reason: str = "") -> None:
        super().__init__(f"{code} {reason}".strip())
        self.code = code
        self.reason = reason
