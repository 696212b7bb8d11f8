"""Worker threads pulling from one queue: the engine's pool for per-file work (transfers, deletes, checks)."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import TypeVar

__all__ = ["run_parallel"]

T = TypeVar("T")


def run_parallel(items: list[T], work: Callable[[T], object], *, workers: int) -> None:
    """``work`` on every item from ``workers`` threads pulling from one queue.

    Lighter than an executor's future per item, which costs as much as copying a small file on a local disk.
    An exception that escapes ``work`` (a bug: backend errors are handled inside) stops the others and is
    raised here.
    """
    queue = deque(items)
    failures: list[BaseException] = []

    def worker() -> None:
        while not failures:
            try:
                item = queue.popleft()
            except IndexError:
                return
            try:
                work(item)
            except BaseException as exc:
                failures.append(exc)
                return

    threads = [
        threading.Thread(target=worker, name=f"syncer-transfer-{n}") for n in range(max(1, workers) - 1)
    ]
    for thread in threads:
        thread.start()
    worker()  # the calling thread works too
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]
