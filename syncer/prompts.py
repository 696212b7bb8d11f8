"""Asking the person at the terminal for a secret a backend needs mid-run (a MEGA two-factor code).

A prompt is offered only when someone can answer it: stdin is a terminal and ``CI`` is not set. Otherwise the
backend gets None and fails with a one-line error that says which flag to pass, instead of waiting forever
for input that never comes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping

from backends.errors import AuthError

__all__ = ["interactive", "terminal_prompt"]


def interactive(env: Mapping[str, str] | None = None) -> bool:
    """Whether a person can answer: stdin is a terminal and this is not a CI job (``CI=true``)."""
    env = os.environ if env is None else env
    if env.get("CI", "").strip().lower() in ("1", "true", "yes"):
        return False
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except ValueError:  # stdin closed
        return False


def _ask_hidden(question: str) -> str:
    """``question`` on the terminal, the answer read without echo (getpass)."""
    import getpass

    try:
        return getpass.getpass(question)
    except EOFError:
        raise AuthError("no answer was typed (end of input)") from None


def terminal_prompt(env: Mapping[str, str] | None = None) -> Callable[[str], str] | None:
    """A function asking the terminal for a hidden answer, or None when nobody can answer (see
    ``interactive``)."""
    return _ask_hidden if interactive(env) else None
