"""What the ``debug`` option logs of each API request and answer: their shape, never their secrets.

MEGA commands and answers carry secrets in many fields (the login hash ``uh``, wrapped keys ``k``/``privk``,
the session in ``csid``/``tsid``, the 2FA code ``mfa``, encrypted attributes, capability URLs). Naming the
dangerous fields would miss the next one added, so this is an allow-list: every key is shown, but a value
only when its key is one that carries nothing secret (command names, handles, sizes, flags, sequence
numbers) and it is short; anything else shows as ``<N chars>`` or ``<...>``. Long lists are cut.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["summary"]

#: Keys whose short values say what happened without giving anything away.
_SHOWN = frozenset(
    {"a", "c", "e", "g", "h", "i", "m", "n", "p", "r", "s", "sn", "ssl", "st", "t", "ts", "u", "v", "x"}
)
#: Longer than this, even an allowed string is hidden (handles are 8 or 11 characters, URLs much longer).
_MAX_SHOWN = 16
_MAX_ITEMS = 3
_MAX_DEPTH = 4


def summary(value: Any) -> str:
    """``value`` (a request batch or an answer) as one line of JSON with the secrets replaced."""
    return json.dumps(_redact(value, None, 0), separators=(",", ":"), ensure_ascii=False)


def _redact(value: Any, key: str | None, depth: int) -> Any:
    if isinstance(value, dict):
        if depth >= _MAX_DEPTH:
            return f"<{len(value)} keys>"
        return {str(k): _redact(v, str(k), depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        if depth >= _MAX_DEPTH:
            return f"<{len(value)} items>"
        shown = [_redact(item, key, depth + 1) for item in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            shown.append(f"<{len(value) - _MAX_ITEMS} more>")
        return shown
    if value is None or isinstance(value, bool):
        return value
    allowed = key is None or key in _SHOWN
    if isinstance(value, int | float):
        return value if allowed else "<number>"
    text = str(value)
    if allowed and len(text) <= _MAX_SHOWN:
        return text
    return f"<{len(text)} chars>"
