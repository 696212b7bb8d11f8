"""Run one pure computation in a forked child, so a single-threaded command can use a second CPU.

Why a fork and not a pool: the child inherits the data it works on (the parsed ``f`` answer of a whole
account), so nothing has to be sent to it, and it costs milliseconds to start where a fresh interpreter
costs a third of a second. Why only from a process with one thread: a fork copies only the calling thread,
and a lock another thread held at that moment stays held in the child forever. Anything else (no ``fork``
on this platform, a failed fork, a child that dies or answers garbage) gives None, and the caller does the
work itself: this is only ever a speed-up.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["Forked", "fork_available", "start"]


def fork_available() -> bool:
    """Whether a fork is safe here: Linux (elsewhere system libraries may not survive one), one thread."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


class Forked:
    """A child computing a ``marshal``-able value; ``result`` waits for it."""

    def __init__(self, pid: int, reader: int) -> None:
        self._pid = pid
        self._reader = reader
        self._done = False

    def result(self) -> Any | None:
        """The child's value, or None if it failed in any way (only a child that exits 0 wrote it whole)."""
        if self._done:
            return None
        chunks: list[bytes] = []
        try:
            while chunk := os.read(self._reader, 1 << 20):
                chunks.append(chunk)
        except OSError:
            chunks = []
        self._done = True
        os.close(self._reader)
        try:
            _, status = os.waitpid(self._pid, 0)
        except OSError:
            return None
        if os.waitstatus_to_exitcode(status) != 0 or not chunks:
            return None
        try:
            return marshal.loads(b"".join(chunks))
        except (ValueError, EOFError, TypeError):
            return None

    def close(self) -> None:
        """Give up on the child (the caller failed before asking for the result): killed and reaped."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(OSError):
            os.close(self._reader)
        with contextlib.suppress(OSError):
            os.kill(self._pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(self._pid, 0)


def start(work: Callable[[], Any]) -> Forked | None:
    """``work()`` running in a forked child, or None when no child could be started (see the module)."""
    if not fork_available():
        return None
    try:
        reader, writer = os.pipe()
    except OSError:
        return None
    try:
        pid = os.fork()
    except OSError:
        os.close(reader)
        os.close(writer)
        return None
    if pid == 0:  # the child: compute, hand the value over, and leave without any of the parent's cleanup
        status = 1
        try:
            os.close(reader)
            data = memoryview(marshal.dumps(work()))
            while data:
                data = data[os.write(writer, data) :]
            status = 0
        except BaseException:  # whatever happened, the parent does the work itself
            pass
        finally:
            os._exit(status)
    os.close(writer)
    return Forked(pid, reader)
