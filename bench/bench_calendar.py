"""Benchmark of the SLA clock: a million deadlines (`BusinessCalendar.add`) per calendar.

Run from the repository root: `python bench/bench_calendar.py [N]` (N defaults to 1,000,000).
Starts are random instants of 2026, amounts random between 15 minutes and 10 days; the same
inputs go through plain `start + amount` datetime arithmetic as the baseline of the run.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from types import MappingProxyType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from domain.calendar import BusinessCalendar  # noqa: E402
from domain.policy import WORKDAYS_9_18, CalendarSpec  # noqa: E402

TARGET_SECONDS = 5.0


def moscow_office_with_holidays() -> CalendarSpec:
    """Mon-Fri 9-18 Moscow, Dec 31 + Jan 1-8 off, Dec 30 shortened to 9-17 (2025-2028)."""
    holidays = {date(year, 12, 31) for year in range(2025, 2028)}
    holidays |= {date(year, 1, day) for year in range(2026, 2029) for day in range(1, 9)}
    short = {date(year, 12, 30): (clock(9), clock(17)) for year in range(2025, 2028)}
    return CalendarSpec("Europe/Moscow", always_open=False, hours=WORKDAYS_9_18,
                        holidays=frozenset(holidays), short_days=MappingProxyType(short))


def inputs(n: int, seed: int = 2026) -> list[tuple[datetime, timedelta]]:
    """`n` (start, amount) pairs: starts uniform over 2026 (UTC, to the second), amounts
    uniform between 15 minutes and 10 days (to the minute)."""
    rng = random.Random(seed)
    year_start = datetime(2026, 1, 1, tzinfo=UTC)
    year_seconds = 365 * 86_400
    return [
        (year_start + timedelta(seconds=rng.randrange(year_seconds)),
         timedelta(minutes=rng.randint(15, 10 * 24 * 60)))
        for _ in range(n)
    ]


def timed(step: Callable[[datetime, timedelta], datetime],
          pairs: list[tuple[datetime, timedelta]]) -> float:
    """Seconds taken to call `step` on every pair."""
    began = time.perf_counter()
    for start, amount in pairs:
        step(start, amount)
    return time.perf_counter() - began


def plain(start: datetime, amount: timedelta) -> datetime:
    """The baseline: ordinary datetime arithmetic, as a function call like `add`."""
    return start + amount


def main() -> None:
    """Build the inputs, time every calendar and the baseline, print the table."""
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    pairs = inputs(n)
    calendars = {
        "Moscow 9-18 + holidays": BusinessCalendar.from_spec(moscow_office_with_holidays()),
        "24x7 UTC": BusinessCalendar.from_spec(CalendarSpec()),
    }
    for calendar in calendars.values():  # warm-up: builds the table of days once
        calendar.add(pairs[0][0], pairs[0][1])
    baseline = timed(plain, pairs)
    rows = [("baseline start + amount", baseline)]
    rows += [(name, timed(calendar.add, pairs)) for name, calendar in calendars.items()]

    print(f"{'calendar':<26}{'n':>11}{'seconds':>10}{'µs/call':>10}{'× baseline':>12}")
    for name, seconds in rows:
        print(f"{name:<26}{n:>11,}{seconds:>10.3f}{seconds / n * 1e6:>10.3f}"
              f"{seconds / baseline:>12.1f}")
    worst = max(seconds for _, seconds in rows[1:]) * 1_000_000 / n
    verdict = "met" if worst < TARGET_SECONDS else "MISSED"
    print(f"target: 1M deadlines under {TARGET_SECONDS:.0f} s per calendar -> {verdict} "
          f"(slowest: {worst:.2f} s per million)")


if __name__ == "__main__":
    main()
