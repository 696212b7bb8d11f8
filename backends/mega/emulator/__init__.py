"""A local MEGA-compatible server: MEGA's real wire protocol and client-side crypto, with fault injection.

``Emulator(EmulatorSettings(data_dir=...)).start()`` returns the API URL; tests, ``make demo`` and
``syncer mega-emulator`` run against it. See ``service.py`` for the routes and ``shared/mega-protocol.md`` for
the protocol it implements.
"""

from backends.mega.emulator.service import AccountExists, Emulator
from backends.mega.emulator.settings import EmulatorSettings
from backends.mega.emulator.store import StoreLocked

__all__ = ["AccountExists", "Emulator", "EmulatorSettings", "StoreLocked"]
