"""Durations written the way operators write them: `45s`, `30m`, `4h`, `2d`, `1d12h`."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+)\s*([smhdw])")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str) -> timedelta:
    """Parse `45s`, `30m`, `4h`, `2d`, `1w` or a sum like `1d12h`; raise ValueError otherwise."""
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ValueError("empty duration")
    pos = 0
    seconds = 0
    for match in _PART.finditer(cleaned):
        if match.start() != pos:
            break
        seconds += int(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(cleaned):
        raise ValueError(f"not a duration: {text!r} (expected e.g. 45s, 30m, 4h, 2d)")
    return timedelta(seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Write a duration back in the shortest of the same notation (`1d12h`)."""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "0s"
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)
