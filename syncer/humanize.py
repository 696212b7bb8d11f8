"""Numbers as rclone prints them: binary sizes ("2.938 KiB") and decimal counts ("1.235k")."""

from __future__ import annotations

__all__ = ["count_suffix", "size_suffix"]

_BINARY = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")
_DECIMAL = ("", "k", "M", "G", "T", "P", "E")


def _scaled(value: int, base: int, units: tuple[str, ...]) -> tuple[str, str]:
    scaled = float(value)
    unit = 0
    while scaled >= base and unit < len(units) - 1:
        scaled /= base
        unit += 1
    text = f"{scaled:.0f}" if scaled == int(scaled) else f"{scaled:.3f}"
    return text, units[unit]


def size_suffix(value: int) -> str:
    """A byte count with a binary unit: "0 B", "5 B", "1 MiB", "2.938 KiB"."""
    if value < 0:
        return "off"
    text, unit = _scaled(value, 1024, _BINARY)
    return f"{text} {unit}B"


def count_suffix(value: int) -> str:
    """A count with a decimal suffix: "889", "1.235k", "10k"."""
    text, unit = _scaled(value, 1000, _DECIMAL)
    return text + unit
