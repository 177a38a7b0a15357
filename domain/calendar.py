"""The business calendar: the SLA clock that only runs while the desk is open.

A `BusinessCalendar` answers four questions about a `CalendarSpec`: is the desk open at an
instant, when does it next open, how much business time lies between two instants, and which
instant is a given amount of business time (or a `Span` of working days and time) after a
start (a deadline).

How it works
------------
Every local date of the calendar's zone has at most one open interval, turned into real instants
(integer microseconds since the Unix epoch, UTC) with `zoneinfo`. So an office open 9-18 local
is 9 real hours even on a DST day, while a window that spans the jump (00:00-24:00 local on a
23-hour day) is 23 real hours. The intervals of a range of days are kept in a table with running
totals, so the business time from the start of the table up to any instant, ``F(t)``, is one
binary search away. Then ``elapsed(s, e) = F(e) - F(s)`` and ``add(s, a)`` is the first instant
where ``F`` reaches ``F(s) + a``: both are O(log days), whatever the amount. The table grows (in
either direction) on demand, a year or more at a time.

Conventions
-----------
* Every argument must be an aware datetime (a naive one raises ValueError); every result is in
  UTC (``tzinfo=datetime.UTC``).
* A working window is half-open ``[open, close)``: the desk is open at the opening instant and
  closed at the closing instant. A closing time of 00:00 means midnight at the end of the day
  (24:00), so ``(time(0), time(0))`` is the whole day.
* ``add(start, 0)`` is the next opening at or after ``start`` (the clock starts there); an
  amount that ends exactly at a closing time returns that closing instant, not the next
  morning.
* A date in ``holidays`` is closed, even if it is also listed in ``short_days``; a date in
  ``short_days`` otherwise uses those hours instead of its weekday's (a shortened pre-holiday
  day or a working Saturday). With ``always_open`` the clock is real elapsed time, 24x7, and
  ``hours``, ``holidays`` and ``short_days`` are ignored.
* Local times that do not exist or occur twice (DST changes) are read with ``fold=0`` and
  normalised through UTC, the `datetime` rule: an ambiguous time is its first occurrence, and a
  time inside a spring-forward gap uses the offset before the change, so an opening at 02:30 on
  a day when clocks jump 02:00 -> 03:00 becomes 03:30 new local time. A day's window is then
  clipped to that local day; a window that becomes empty this way leaves the day closed.
* Days of a `Span` count working days (SPEC §4): from the clock's start (the next opening),
  the deadline is the same local time of day on the N-th working day after it (a day with a
  window, a short day included; holidays and days off are skipped), or that day's closing if
  it closes earlier (a short day), or its opening if it opens later. A deadline that falls
  exactly at a day's opening is given as the closing of the working day before (the same
  business instant, the convention above). So `1d` from Tue 14:00 is Wed 14:00, from Fri 14:00
  it is Mon 14:00, and from a start before the office opens on Wed it is Wed's closing. A week
  counts as many working days as the calendar's week has. On a 24x7 calendar a day is 24 hours
  and a week 7 days. The `Span`'s time is then added as business time.
* A calendar that can never be open (no working weekday and not ``always_open``) is rejected by
  `from_spec`; if no opening is found within 3 years, the search raises ValueError instead of
  looping forever.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.durations import Span
from domain.policy import CalendarSpec

__all__ = ["BusinessCalendar"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
_ZERO = timedelta(0)
_MIDNIGHT = time(0)
_CHUNK_DAYS = 366  # the table grows by at least this many days at a time
_GIVE_UP_DAYS = 3 * 366  # no opening within this many days -> ValueError
_WEEKDAYS = range(7)
_FIRST_DAY = date.min.toordinal() + 1  # the table keeps a day of margin from date.min/max
_LAST_DAY = date.max.toordinal() - 1

Window = tuple[time, time]


def _to_us(moment: datetime, name: str) -> int:
    """Microseconds since the epoch of an aware datetime; ValueError if it is naive."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got naive {moment!r}")
    return (moment - _EPOCH) // _US


def _from_us(us: int) -> datetime:
    """The UTC datetime of a count of microseconds since the epoch."""
    return _EPOCH + timedelta(microseconds=us)


def _check_window(window: Window, where: str) -> Window:
    """Validate an (open, close) pair of naive times; a close of 00:00 means 24:00."""
    try:
        opening, closing = window
    except (TypeError, ValueError):
        raise ValueError(f"{where}: expected a pair (open, close), got {window!r}") from None
    if not isinstance(opening, time) or not isinstance(closing, time):
        raise ValueError(f"{where}: open and close must be datetime.time, got {window!r}")
    if opening.tzinfo is not None or closing.tzinfo is not None:
        raise ValueError(f"{where}: working hours are local times, without tzinfo")
    if closing != _MIDNIGHT and closing <= opening:
        raise ValueError(
            f"{where}: closing {closing} must be after opening {opening} "
            "(00:00 means midnight at the end of the day; overnight windows are not supported)"
        )
    return opening, closing


@dataclass(frozen=True, slots=True)
class _Table:
    """The open intervals of the local days ``first .. first + len(opens) - 1``.

    All instants are microseconds since the epoch. ``cum[i]`` is the business time of the days
    before day ``i`` (relative to an arbitrary origin, so the table can grow to the left) and
    ``ends[i] = cum[i] + closes[i] - opens[i]``. A closed day has ``opens[i] == closes[i]``.
    ``lo`` and ``hi`` are the instants where the first day begins and after the last one ends.
    Tables are immutable: growing one builds a new one, swapped in with a single assignment.
    """

    first: int
    lo: int
    hi: int
    opens: list[int]
    closes: list[int]
    cum: list[int]
    ends: list[int]


class BusinessCalendar:
    """Business time of a `CalendarSpec`: open/closed, next opening, elapsed time, deadlines."""

    __slots__ = ("_closed", "_short", "_table", "_weekly", "spec", "zone")

    def __init__(self, spec: CalendarSpec) -> None:
        """Validate `spec` (ValueError if it is malformed or never open); prefer `from_spec`."""
        try:
            self.zone = ZoneInfo(spec.timezone)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown time zone {spec.timezone!r}") from error
        self.spec = spec
        weekly: list[Window | None] = [None] * 7
        for day, window in spec.hours.items():
            if day not in _WEEKDAYS:
                raise ValueError(f"hours: weekday must be 0 (Monday) .. 6 (Sunday), got {day!r}")
            weekly[day] = _check_window(window, f"hours[{day}]")
        self._weekly: tuple[Window | None, ...] = tuple(weekly)
        self._short: dict[date, Window] = {
            day: _check_window(window, f"short_days[{day}]")
            for day, window in spec.short_days.items()
        }
        self._closed: frozenset[date] = frozenset(spec.holidays)
        if not spec.always_open and all(window is None for window in weekly):
            raise ValueError("the calendar is never open: no working hours and not always_open")
        self._table: _Table | None = None

    @classmethod
    def from_spec(cls, spec: CalendarSpec) -> BusinessCalendar:
        """The calendar of `spec`, shared per spec (ValueError if malformed or never open)."""
        try:
            hash(spec)
        except TypeError:  # e.g. holidays given as a set: build one, uncached
            return cls(spec)
        return _cached(cls, spec)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        kind = "24x7" if self.spec.always_open else "office hours"
        return f"<BusinessCalendar {kind} {self.spec.timezone}>"

    # -- public API ---------------------------------------------------------------------------

    def is_open(self, at: datetime) -> bool:
        """Whether the desk is open at the instant `at` (windows are half-open [open, close))."""
        t = _to_us(at, "at")
        if self.spec.always_open:
            return True
        table = self._covering(t, t)
        i = bisect_right(table.opens, t) - 1
        return i >= 0 and t < table.closes[i]

    def next_opening(self, at: datetime) -> datetime:
        """The first open instant at or after `at` (`at` itself, in UTC, if open then)."""
        return self.add(at, timedelta(0))

    def add(self, start: datetime, amount: timedelta | Span) -> datetime:
        """The deadline: the instant `amount` of business time after `start`, in UTC.

        The clock starts at the next opening at or after `start`, so `add(start, 0)` is
        `next_opening(start)`. An amount that runs out exactly at a closing time gives that
        closing instant. A `Span` counts its days as working days, then its time as business
        time (see the module's conventions). A negative amount raises ValueError.
        """
        if isinstance(amount, Span):
            days = amount.days + amount.weeks * self._days_a_week()
            if days < 0 or amount.time < _ZERO:
                raise ValueError(f"amount must not be negative, got {amount!r}")
            if not days:
                return self.add(start, amount.time)
            due = self._add_days(start, days)
            return self.add(due, amount.time) if amount.time else due
        if amount < _ZERO:
            raise ValueError(f"amount must not be negative, got {amount!r}")
        if self.spec.always_open:  # real elapsed time: arithmetic in UTC, not wall-clock
            if start.tzinfo is None or start.utcoffset() is None:
                raise ValueError(f"start must be a timezone-aware datetime, got naive {start!r}")
            return start.astimezone(UTC) + amount
        s = _to_us(start, "start")
        a = amount // _US
        table = self._covering(s, s)
        i = bisect_right(table.opens, s) - 1
        if i < 0:
            base = table.cum[0]
        else:
            close = table.closes[i]
            base = table.cum[i] + (s if s < close else close) - table.opens[i]
        target = base + a
        ends = table.ends
        while True:
            j = bisect_left(ends, target) if a else bisect_right(ends, target)
            if j < len(ends):
                return _from_us(table.opens[j] + target - table.cum[j])
            table = self._grow_forward(table, target, strict=not a)
            ends = table.ends

    def elapsed(self, start: datetime, end: datetime) -> timedelta:
        """The business time in [start, end); zero if `end` is not after `start`."""
        s = _to_us(start, "start")
        e = _to_us(end, "end")
        if e <= s:
            return timedelta(0)
        if self.spec.always_open:
            return timedelta(microseconds=e - s)
        table = self._covering(s, e)
        return timedelta(microseconds=self._business(table, e) - self._business(table, s))

    # -- working days -------------------------------------------------------------------------

    def _days_a_week(self) -> int:
        """How many days of a week count: all seven on 24x7, else the weekdays with hours."""
        if self.spec.always_open:
            return 7
        return sum(1 for window in self._weekly if window is not None)

    def _add_days(self, start: datetime, days: int) -> datetime:
        """The instant `days` working days after the clock starts (see the conventions)."""
        if self.spec.always_open:
            return self.add(start, timedelta(days=days))
        s = _to_us(self.next_opening(start), "start")
        wall = _from_us(s).astimezone(self.zone).time()
        table = self._covering(s, s)
        i = bisect_right(table.opens, s) - 1
        previous, counted, idle = i, 0, 0
        while True:
            i += 1
            if i == len(table.opens):
                table = self._join(table, self._right_of(
                    table, min(table.first + i + _CHUNK_DAYS, _LAST_DAY)))
                self._table = table
            if table.closes[i] == table.opens[i]:  # a day off
                idle += 1
                if idle >= _GIVE_UP_DAYS:
                    raise ValueError("the calendar is not open at all within 3 years")
                continue
            idle = 0
            counted += 1
            if counted == days:
                break
            previous = i
        moment = datetime.combine(date.fromordinal(table.first + i), wall,
                                  tzinfo=self.zone).replace(fold=0)
        due = min(max((moment - _EPOCH) // _US, table.opens[i]), table.closes[i])
        if due == table.opens[i]:
            due = table.closes[previous]
        return _from_us(due)

    # -- the table ----------------------------------------------------------------------------

    @staticmethod
    def _business(table: _Table, t: int) -> int:
        """F(t): the business time from the table's origin up to the instant `t`."""
        i = bisect_right(table.opens, t) - 1
        if i < 0:
            return table.cum[0]
        close = table.closes[i]
        return table.cum[i] + (t if t < close else close) - table.opens[i]

    def _covering(self, first: int, last: int) -> _Table:
        """The table, grown if needed so that it covers the instants `first` .. `last`."""
        table = self._table
        if table is not None and table.lo <= first and last < table.hi:
            return table
        lo_day = max(self._local_ordinal(first) - 1, _FIRST_DAY)
        hi_day = min(self._local_ordinal(last) + 2, _LAST_DAY)
        if table is None:
            table = self._build(max(lo_day - _CHUNK_DAYS // 2, _FIRST_DAY),
                                min(hi_day + _CHUNK_DAYS, _LAST_DAY), 0)
        else:
            if lo_day < table.first:
                left = self._left_of(table, max(lo_day - _CHUNK_DAYS, _FIRST_DAY))
                table = self._join(left, table)
            if hi_day > table.first + len(table.opens):
                table = self._join(table, self._right_of(table, min(hi_day + _CHUNK_DAYS,
                                                                    _LAST_DAY)))
        self._table = table
        return table

    def _grow_forward(self, table: _Table, target: int, strict: bool) -> _Table:
        """Grow the table forward until a day's running total reaches `target` (exceeds it if
        `strict`); ValueError if the calendar stays closed for 3 years in a row."""
        idle_days = 0
        while table.ends[-1] < target or (strict and table.ends[-1] == target):
            stop = table.first + len(table.opens)
            if stop >= _LAST_DAY:
                raise OverflowError("the deadline falls after the year 9999")
            before = table.ends[-1]
            table = self._join(table, self._right_of(table, min(stop + _CHUNK_DAYS, _LAST_DAY)))
            if table.ends[-1] != before:
                idle_days = 0
            else:
                idle_days += _CHUNK_DAYS
                if idle_days >= _GIVE_UP_DAYS:
                    raise ValueError("the calendar is not open at all within 3 years")
        self._table = table
        return table

    def _local_ordinal(self, t: int) -> int:
        """The ordinal of the local date of the instant `t`."""
        return _from_us(t).astimezone(self.zone).toordinal()

    def _left_of(self, table: _Table, from_day: int) -> _Table:
        """The days `from_day` .. just before the table, with totals ending where it starts."""
        part = self._build(from_day, table.first, 0)
        shift = table.cum[0] - part.ends[-1] if part.ends else 0
        return _Table(part.first, part.lo, part.hi, part.opens, part.closes,
                      [c + shift for c in part.cum], [c + shift for c in part.ends])

    def _right_of(self, table: _Table, to_day: int) -> _Table:
        """The days right after the table up to `to_day` (excluded), totals continuing it."""
        return self._build(table.first + len(table.opens), to_day, table.ends[-1])

    @staticmethod
    def _join(left: _Table, right: _Table) -> _Table:
        """Two adjacent tables as one."""
        return _Table(left.first, left.lo, right.hi, left.opens + right.opens,
                      left.closes + right.closes, left.cum + right.cum, left.ends + right.ends)

    def _build(self, first: int, stop: int, origin: int) -> _Table:
        """The table of the local days `first` .. `stop - 1`, running totals from `origin`."""
        zone = self.zone
        weekly = self._weekly
        short = self._short
        closed = self._closed
        opens: list[int] = []
        closes: list[int] = []
        cum: list[int] = []
        ends: list[int] = []
        total = origin

        def local(day: date, at: time) -> int:
            moment = datetime.combine(day, at, tzinfo=zone).replace(fold=0)
            return (moment - _EPOCH) // _US

        day = date.fromordinal(first)
        begin = local(day, _MIDNIGHT)
        lo = begin
        for ordinal in range(first, stop):
            day = date.fromordinal(ordinal)
            after = date.fromordinal(ordinal + 1)
            end = local(after, _MIDNIGHT)
            if day in closed:
                window = None
            elif day in short:
                window = short[day]
            else:
                window = weekly[day.weekday()]
            if window is None:
                opening = closing = begin
            else:
                opening = local(day, window[0])
                closing = end if window[1] == _MIDNIGHT else local(day, window[1])
                # clip to the local day, and drop a window emptied by a DST gap
                opening = min(max(opening, begin), end)
                closing = min(max(closing, opening), end)
            opens.append(opening)
            closes.append(closing)
            cum.append(total)
            total += closing - opening
            ends.append(total)
            begin = end
        return _Table(first, lo, begin, opens, closes, cum, ends)


@lru_cache(maxsize=256)
def _cached(cls: type[BusinessCalendar], spec: CalendarSpec) -> BusinessCalendar:
    """One calendar per distinct spec (its table of days is reused across calls)."""
    return cls(spec)
