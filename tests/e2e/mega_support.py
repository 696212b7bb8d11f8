"""What the MEGA end-to-end tests share: an account on the emulator set up as remote ``emu:`` of the test's
runner (its password in ``${MEGA_PASS}``, never on a command line), and reading listings back."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from .conftest import Runner

SECOND = 10**9


@dataclass
class Mega:
    """An account on a running emulator, and a runner whose default config has it as remote ``emu:``."""

    emulator: Any
    run: Runner
    password: str
    email: str = ""


def mega_remote(emulator: Any, run: Runner, prefix: str = "e2e") -> Mega:
    """A new account on ``emulator``, written into ``run``'s default config as ``emu:``."""
    email = f"{prefix}-{secrets.token_hex(5)}@example.com"
    password = secrets.token_urlsafe(12)
    emulator.add_account(email, password)
    run.default_config.parent.mkdir(parents=True, exist_ok=True)
    run.default_config.write_text(
        f"remotes:\n  emu:\n    type: mega\n    user: {email}\n    pass: ${{MEGA_PASS}}\n"
        f"    api_url: {emulator.api_url}\n"
    )
    run.env["MEGA_PASS"] = password
    return Mega(emulator, run, password, email)


def lsjson(run: Runner, spec: str) -> dict[str, dict[str, Any]]:
    done = run("lsjson", "-R", spec)
    assert done.returncode == 0, done.stderr
    return {item["Path"]: item for item in json.loads(done.stdout)}


def mtime_ns_of(item: dict[str, Any]) -> int:
    import datetime as dt

    stamp = dt.datetime.fromisoformat(item["ModTime"].replace("Z", "+00:00"))
    return int(stamp.timestamp()) * SECOND + stamp.microsecond * 1000
