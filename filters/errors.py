"""The one error the filters package raises."""

from __future__ import annotations

__all__ = ["FilterError"]


class FilterError(ValueError):
    """A filter rule, ignore file or option value that cannot be used.

    A ValueError so option parsing can treat it like any other bad value; the message is one line and
    names what was wrong (the pattern, or the file and line), because it is shown to the user as is.
    """
