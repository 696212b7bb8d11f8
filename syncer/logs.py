"""Logging as rclone users know it: levels DEBUG, INFO, NOTICE, ERROR; one line per event; optional JSON.

NOTICE is stdlib WARNING under rclone's name. Only the ``syncer`` and ``backends`` loggers are configured.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import TextIO

from .errors import UsageError

__all__ = ["LEVELS", "LOGGERS", "is_set_up", "set_level", "setup_logging"]

LOGGERS = ("syncer", "backends")
LEVELS = {"DEBUG": logging.DEBUG, "INFO": logging.INFO, "NOTICE": logging.WARNING, "ERROR": logging.ERROR}
_NAMES = {logging.WARNING: "NOTICE", logging.CRITICAL: "CRITICAL"}


def _level_name(record: logging.LogRecord) -> str:
    return _NAMES.get(record.levelno, record.levelname)


class TextFormatter(logging.Formatter):
    """``NOTICE: message``, with rclone's date prefix when writing to a file."""

    def __init__(self, *, with_time: bool) -> None:
        super().__init__()
        self.with_time = with_time

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_level_name(record):<6}: {record.getMessage()}"
        if self.with_time:
            line = time.strftime("%Y/%m/%d %H:%M:%S ", time.localtime(record.created)) + line
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


class JsonFormatter(logging.Formatter):
    """One JSON object per line (``--use-json-log``), with rclone's keys."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        payload = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(record.created)),
            "level": _level_name(record).lower(),
            "msg": record.getMessage(),
            "source": record.name,
        }
        if record.exc_info:
            payload["traceback"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False)


def _open_log_file(path: str) -> TextIO:
    """Append to ``path``, creating it 0600: logs may name private files. Raises UsageError."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise UsageError(f"cannot open log file {path}: {exc.strerror or exc}") from None
    return open(fd, "a", encoding="utf-8", errors="backslashreplace", buffering=1)


def setup_logging(level: int, *, log_file: str | None = None, json_log: bool = False) -> None:
    """Send the ``syncer`` and ``backends`` loggers to stderr (or ``log_file``) at ``level``."""
    if log_file:
        stream: TextIO = _open_log_file(log_file)
    else:
        stream = sys.stderr
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter() if json_log else TextFormatter(with_time=bool(log_file)))
    for name in LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(level)
        logger.propagate = False


def set_level(level: int) -> None:
    """Change the level once the config file's ``defaults.log_level`` is known."""
    for name in LOGGERS:
        logging.getLogger(name).setLevel(level)


def is_set_up() -> bool:
    """Whether ``setup_logging`` has run (errors before it go straight to stderr)."""
    return bool(logging.getLogger(LOGGERS[0]).handlers)
