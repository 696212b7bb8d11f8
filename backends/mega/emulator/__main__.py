"""``python -m backends.mega.emulator``: the same as ``syncer mega-emulator``."""

import sys

from backends.mega.emulator.cli import main

raise SystemExit(main(sys.argv[1:]))
