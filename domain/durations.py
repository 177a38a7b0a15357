"""Durations written the way operators write them: `45s`, `30m`, `4h`, `2d`, `1d12h`.

Most settings are plain lengths of time (`parse_duration`). SLA targets are `Span`s
(`parse_span`): their days and weeks stay whole, because on a working-hours calendar a day is a
working day, not 24 hours of the clock (SPEC §4).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Span:
    """An SLA target as written: whole weeks and days, then hours, minutes and seconds.

    `BusinessCalendar.add` counts the days as working days on a working-hours calendar (a week
    as the calendar's working days of a week), and as 24 hours on a 24×7 calendar; the time is
    business time either way.
    """

    days: int = 0
    time: timedelta = timedelta(0)
    weeks: int = 0

    @property
    def nominal(self) -> timedelta:
        """The span as plain time (a day as 24 h): to compare two spans roughly."""
        return timedelta(days=self.days + 7 * self.weeks) + self.time

    def __str__(self) -> str:
        text = (f"{self.weeks}w" if self.weeks else "") + (f"{self.days}d" if self.days else "")
        if self.time or not text:
            text += format_duration(self.time)
        return text


def parse_span(text: str) -> Span:
    """Parse an SLA target: `4h`, `3d`, `1w`, `1d12h` (ValueError otherwise)."""
    parse_duration(text)  # the same notation, checked once
    weeks = days = 0
    time = timedelta(0)
    for match in _PART.finditer(text.strip().lower().replace(" ", "")):
        count, unit = int(match.group(1)), match.group(2)
        if unit == "w":
            weeks += count
        elif unit == "d":
            days += count
        else:
            time += timedelta(seconds=count * _UNITS[unit])
    return Span(days, time, weeks)


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
