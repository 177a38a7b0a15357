"""The business calendar (SLA clock): hand-checked tables, DST, validation and properties."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import BusinessCalendar
from domain.durations import Span
from domain.policy import CalendarSpec

MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")
US = timedelta(microseconds=1)


def hours(days: range, opening: time, closing: time) -> Mapping[int, tuple[time, time]]:
    """The same working window on each of `days` (0 = Monday)."""
    return MappingProxyType(dict.fromkeys(days, (opening, closing)))


def new_year_holidays(years: range) -> frozenset[date]:
    """Dec 31 and Jan 1-8 around each new year of `years`."""
    days: set[date] = set()
    for year in years:
        days.add(date(year - 1, 12, 31))
        days.update(date(year, 1, day) for day in range(1, 9))
    return frozenset(days)


def short_dec_30(years: range) -> dict[date, tuple[time, time]]:
    """Dec 30 of each year shortened to 9-17."""
    return {date(year - 1, 12, 30): (time(9), time(17)) for year in years}


OFFICE = hours(range(5), time(9), time(18))
YEARS = range(2023, 2030)

ALWAYS_UTC = CalendarSpec()
MOSCOW = CalendarSpec("Europe/Moscow", always_open=False, hours=OFFICE)
MOSCOW_HOLIDAYS = CalendarSpec("Europe/Moscow", always_open=False, hours=OFFICE,
                               holidays=new_year_holidays(YEARS),
                               short_days=MappingProxyType(short_dec_30(YEARS)))
BERLIN_OFFICE = CalendarSpec("Europe/Berlin", always_open=False, hours=OFFICE)
BERLIN_HOLIDAYS = CalendarSpec(
    "Europe/Berlin", always_open=False, hours=OFFICE, holidays=new_year_holidays(YEARS),
    short_days=MappingProxyType({**short_dec_30(YEARS), date(2026, 3, 28): (time(10), time(14))}),
)
NEW_YORK_OFFICE = CalendarSpec("America/New_York", always_open=False, hours=OFFICE)
# windows that touch the DST changes themselves: whole days, and openings inside the gap/overlap
BERLIN_WHOLE_DAYS = CalendarSpec("Europe/Berlin", always_open=False,
                                 hours=hours(range(7), time(0), time(0)))
NEW_YORK_NIGHT = CalendarSpec("America/New_York", always_open=False,
                              hours=hours(range(7), time(1, 30), time(2, 30)))
ALWAYS_BERLIN = CalendarSpec("Europe/Berlin")

CALENDARS = {
    "24x7 UTC": ALWAYS_UTC,
    "24x7 Berlin": ALWAYS_BERLIN,
    "Moscow 9-18": MOSCOW,
    "Moscow 9-18 + holidays": MOSCOW_HOLIDAYS,
    "Berlin 9-18": BERLIN_OFFICE,
    "Berlin 9-18 + holidays": BERLIN_HOLIDAYS,
    "New York 9-18": NEW_YORK_OFFICE,
    "Berlin 00-24 daily": BERLIN_WHOLE_DAYS,
    "New York 01:30-02:30 daily": NEW_YORK_NIGHT,
}
# calendars whose windows never touch a DST change: a naive minute-by-minute oracle is exact
ORACLE_CALENDARS = ["Moscow 9-18", "Moscow 9-18 + holidays", "Berlin 9-18 + holidays",
                    "New York 9-18", "24x7 Berlin"]

ZONES = st.sampled_from([UTC, MSK, BERLIN, NEW_YORK, TOKYO])
# aware starts in several zones, including imaginary (DST gap) and fold=1 local times
STARTS = st.datetimes(min_value=datetime(2024, 1, 1),  # noqa: DTZ001 (hypothesis wants naive)
                      max_value=datetime(2027, 12, 31),  # noqa: DTZ001
                      timezones=ZONES)
AMOUNTS = st.integers(min_value=0, max_value=60 * 24 * 60).map(lambda m: timedelta(minutes=m))
FINE_AMOUNTS = st.integers(min_value=0, max_value=60 * 86_400 * 1_000_000).map(
    lambda us: timedelta(microseconds=us))
PROPERTY = settings(deadline=None, max_examples=200)


def cal(name: str) -> BusinessCalendar:
    """The calendar of a named spec."""
    return BusinessCalendar.from_spec(CALENDARS[name])


def local(zone: ZoneInfo, *args: int) -> datetime:
    """A local datetime in `zone`."""
    return datetime(*args, tzinfo=zone)  # type: ignore[misc]


def utc(moment: datetime) -> datetime:
    """The instant in UTC: datetimes in different zones compare unequal when one of them is
    imaginary or has fold=1 (PEP 495), so the properties compare instants in UTC."""
    return moment.astimezone(UTC)


def at_boundary(calendar: BusinessCalendar, moment: datetime) -> bool:
    """Open at `moment`, or exactly at a closing instant (open just before it)."""
    return calendar.is_open(moment) or calendar.is_open(moment - US)


# -- hand-checked tables ---------------------------------------------------------------------

@pytest.mark.parametrize(("start", "amount", "expected"), [
    # 2026-01-09 is a Friday
    (datetime(2026, 1, 9, 17, tzinfo=UTC), timedelta(hours=4), (2026, 1, 9, 21)),
    (datetime(2026, 1, 10, 3, tzinfo=MSK), timedelta(days=2), (2026, 1, 12, 0)),
    (datetime(2026, 1, 9, 17, tzinfo=UTC), timedelta(0), (2026, 1, 9, 17)),
])
def test_always_open_is_plain_time(start: datetime, amount: timedelta,
                                   expected: tuple[int, ...]) -> None:
    """24x7: the deadline is just start + amount, in UTC."""
    result = cal("24x7 UTC").add(start, amount)
    assert result == local(UTC, *expected)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(("start", "amount", "expected"), [
    # Fri 2026-01-16 17:00 MSK + 4h: 1h on Friday, 3h on Monday
    ((2026, 1, 16, 17), timedelta(hours=4), (2026, 1, 19, 12)),
    # Sat 10:00 + 1h: the clock starts on Monday at 09:00
    ((2026, 1, 17, 10), timedelta(hours=1), (2026, 1, 19, 10)),
    # before opening: 08:00 + 30m = 09:30
    ((2026, 1, 14, 8), timedelta(minutes=30), (2026, 1, 14, 9, 30)),
    # exactly at closing (Wed 18:00): closed, so + 1h = Thu 10:00
    ((2026, 1, 14, 18), timedelta(hours=1), (2026, 1, 15, 10)),
    # Fri 18:00 + 1h = Mon 10:00
    ((2026, 1, 16, 18), timedelta(hours=1), (2026, 1, 19, 10)),
    # an amount that ends at closing returns the closing instant, not the next morning
    ((2026, 1, 14, 17), timedelta(hours=1), (2026, 1, 14, 18)),
    ((2026, 1, 14, 9), timedelta(hours=9), (2026, 1, 14, 18)),
    # a whole working week: Mon 09:00 + 45h = Fri 18:00
    ((2026, 1, 12, 9), timedelta(hours=45), (2026, 1, 16, 18)),
    ((2026, 1, 12, 9), timedelta(hours=45, microseconds=1), (2026, 1, 19, 9, 0, 0, 1)),
    # zero amount: the next opening
    ((2026, 1, 17, 10), timedelta(0), (2026, 1, 19, 9)),
    ((2026, 1, 14, 12), timedelta(0), (2026, 1, 14, 12)),
])
def test_moscow_office(start: tuple[int, ...], amount: timedelta,
                       expected: tuple[int, ...]) -> None:
    """Mon-Fri 9-18 in Moscow (UTC+3 all year), checked by hand."""
    result = cal("Moscow 9-18").add(local(MSK, *start), amount)
    assert result == local(MSK, *expected)
    assert result.tzinfo is UTC


@pytest.mark.parametrize(("start", "span", "expected"), [
    # 2026-12-08 is a Tuesday: 1d is the same time on the next working day
    ((2026, 12, 8, 14), Span(days=1), (2026, 12, 9, 14)),
    # Fri 14:00 + 1d: the weekend does not count
    ((2026, 12, 11, 14), Span(days=1), (2026, 12, 14, 14)),
    # Mon evening + 3d: the clock starts Tue 09:00; three working days end Thu at closing
    ((2026, 12, 7, 19), Span(days=3), (2026, 12, 10, 18)),
    # before opening: the clock starts at 09:00, one working day ends at 18:00
    ((2026, 12, 9, 7), Span(days=1), (2026, 12, 9, 18)),
    # a week is the calendar's five working days
    ((2026, 12, 8, 14), Span(weeks=1), (2026, 12, 15, 14)),
    ((2026, 12, 8, 14), Span(days=5), (2026, 12, 15, 14)),
    # days first, then the hours as business time: Wed 14:00 + 5h = Thu 10:00
    ((2026, 12, 8, 14), Span(days=1, time=timedelta(hours=5)), (2026, 12, 10, 10)),
    # no days: plain business time, as before
    ((2026, 12, 8, 14), Span(time=timedelta(hours=5)), (2026, 12, 9, 10)),
])
def test_days_of_a_span_are_working_days(start: tuple[int, ...], span: Span,
                                        expected: tuple[int, ...]) -> None:
    """SPEC §4: on a working-hours calendar `Nd` counts N working days, not N×24 hours."""
    assert cal("Moscow 9-18").add(local(MSK, *start), span) == local(MSK, *expected)


def test_working_days_skip_holidays_and_end_early_on_a_short_day() -> None:
    """Holidays are not working days; a short day is one, ending at its own closing."""
    calendar = cal("Moscow 9-18 + holidays")
    one_day = Span(days=1)
    # Tue Dec 29 17:30 + 1d: Wed Dec 30 closes at 17:00 (shortened)
    assert calendar.add(local(MSK, 2026, 12, 29, 17, 30), one_day) == local(
        MSK, 2026, 12, 30, 17)
    assert calendar.add(local(MSK, 2026, 12, 29, 10), one_day) == local(MSK, 2026, 12, 30, 10)
    # Wed Dec 30 12:00 + 1d: Dec 31 - Jan 8 off, Jan 9-10 a weekend: Mon Jan 11 12:00
    assert calendar.add(local(MSK, 2026, 12, 30, 12), one_day) == local(MSK, 2027, 1, 11, 12)
    # a short working Saturday counts, and a time after its closing ends at its closing
    saturday = cal("Berlin 9-18 + holidays")
    assert saturday.add(local(BERLIN, 2026, 3, 27, 11), one_day) == local(
        BERLIN, 2026, 3, 28, 11)
    assert saturday.add(local(BERLIN, 2026, 3, 27, 16), one_day) == local(
        BERLIN, 2026, 3, 28, 14)


def test_on_24x7_a_day_is_24_hours() -> None:
    start = local(MSK, 2026, 12, 11, 14)
    for name in ("24x7 UTC", "24x7 Berlin"):
        assert cal(name).add(start, Span(days=1)) == utc(start) + timedelta(days=1)
        assert cal(name).add(start, Span(weeks=1, time=timedelta(hours=2))) == utc(
            start) + timedelta(days=7, hours=2)


def test_new_year_holidays() -> None:
    """Wed 2026-12-30 (shortened to 9-17) 16:00 + 2h: 1h that day, then Dec 31 - Jan 8 are
    holidays and Jan 9-10 2027 a weekend, so the second hour is Mon Jan 11, 09:00-10:00."""
    assert date(2026, 12, 30).weekday() == 2
    assert date(2027, 1, 11).weekday() == 0
    calendar = cal("Moscow 9-18 + holidays")
    assert calendar.add(local(MSK, 2026, 12, 30, 16), timedelta(hours=2)) == local(
        MSK, 2027, 1, 11, 10)
    assert calendar.add(local(MSK, 2026, 12, 30, 16), timedelta(hours=1)) == local(
        MSK, 2026, 12, 30, 17)
    assert not calendar.is_open(local(MSK, 2026, 12, 30, 17))
    assert calendar.is_open(local(MSK, 2026, 12, 30, 16, 59))
    assert not calendar.is_open(local(MSK, 2027, 1, 4, 12))  # a Monday, but a holiday
    assert calendar.next_opening(local(MSK, 2026, 12, 31, 12)) == local(MSK, 2027, 1, 11, 9)
    # Dec 29 09:00 .. Jan 12 09:00: 9h + 8h + 9h (Jan 11)
    assert calendar.elapsed(local(MSK, 2026, 12, 29, 9), local(MSK, 2027, 1, 12, 9)) == timedelta(
        hours=26)


def test_short_day_can_be_a_working_saturday_and_holidays_win() -> None:
    """A short day on a weekend opens it; a date both a holiday and a short day is closed."""
    saturday = date(2026, 3, 28)
    assert saturday.weekday() == 5
    calendar = cal("Berlin 9-18 + holidays")
    assert calendar.is_open(local(BERLIN, 2026, 3, 28, 10))
    assert not calendar.is_open(local(BERLIN, 2026, 3, 28, 14))
    # Fri 2026-03-27 17:00 + 2h: 1h Friday, 1h Saturday 10-11
    assert calendar.add(local(BERLIN, 2026, 3, 27, 17), timedelta(hours=2)) == local(
        BERLIN, 2026, 3, 28, 11)
    both = CalendarSpec("UTC", always_open=False, hours=OFFICE,
                        holidays=frozenset({date(2026, 1, 14)}),
                        short_days={date(2026, 1, 14): (time(9), time(12))})
    assert not BusinessCalendar.from_spec(both).is_open(datetime(2026, 1, 14, 10, tzinfo=UTC))


def test_holidays_are_ignored_when_always_open() -> None:
    """24x7 means 24x7."""
    spec = CalendarSpec("UTC", always_open=True, holidays=frozenset({date(2026, 1, 1)}))
    calendar = BusinessCalendar.from_spec(spec)
    start = datetime(2025, 12, 31, 12, tzinfo=UTC)
    assert calendar.is_open(datetime(2026, 1, 1, 12, tzinfo=UTC))
    assert calendar.add(start, timedelta(days=1)) == start + timedelta(days=1)


def test_inputs_in_any_zone_give_utc() -> None:
    """The same instant written in different zones gives the same UTC deadline."""
    calendar = cal("Moscow 9-18")
    in_msk = local(MSK, 2026, 1, 14, 17)
    in_tokyo = in_msk.astimezone(TOKYO)
    assert calendar.add(in_tokyo, timedelta(hours=3)) == calendar.add(in_msk, timedelta(hours=3))
    assert calendar.add(in_tokyo, timedelta(hours=3)) == datetime(2026, 1, 15, 8, tzinfo=UTC)


# -- DST -------------------------------------------------------------------------------------

def test_always_open_counts_real_time_across_spring_forward() -> None:
    """Berlin 24x7 from 2026-03-29 00:00 local (a 23-hour day) + 24h = 03-30 01:00 local."""
    result = cal("24x7 Berlin").add(local(BERLIN, 2026, 3, 29), timedelta(hours=24))
    assert result == local(BERLIN, 2026, 3, 30, 1)
    assert result.astimezone(BERLIN).hour == 1


def test_elapsed_across_autumn_change() -> None:
    """Sunday 2026-10-25 in Berlin lasts 25 real hours; an office day stays 9 hours."""
    assert date(2026, 10, 25).weekday() == 6
    day = (local(BERLIN, 2026, 10, 25), local(BERLIN, 2026, 10, 26))
    assert cal("24x7 Berlin").elapsed(*day) == timedelta(hours=25)
    assert cal("Berlin 00-24 daily").elapsed(*day) == timedelta(hours=25)
    week = (local(BERLIN, 2026, 10, 19), local(BERLIN, 2026, 11, 2))
    assert cal("Berlin 9-18").elapsed(*week) == timedelta(hours=90)
    assert cal("24x7 Berlin").elapsed(*week) == timedelta(days=14, hours=1)


def test_whole_day_window_on_spring_forward_is_23_hours() -> None:
    """00:00-24:00 local on 2026-03-29 in Berlin is 23 real hours."""
    calendar = cal("Berlin 00-24 daily")
    day = (local(BERLIN, 2026, 3, 29), local(BERLIN, 2026, 3, 30))
    assert calendar.elapsed(*day) == timedelta(hours=23)
    assert calendar.add(day[0], timedelta(hours=23)) == day[1]
    assert calendar.is_open(local(BERLIN, 2026, 3, 29, 23, 59))


def test_new_york_office_day_on_spring_forward_is_9_hours() -> None:
    """New York, 2026-03-08 (clocks jump 02:00 -> 03:00): 9-18 is still 9 hours."""
    assert date(2026, 3, 8).weekday() == 6
    every_day = CalendarSpec("America/New_York", always_open=False,
                             hours=hours(range(7), time(9), time(18)))
    calendar = BusinessCalendar.from_spec(every_day)
    start = local(NEW_YORK, 2026, 3, 8)
    assert calendar.elapsed(start, local(NEW_YORK, 2026, 3, 9)) == timedelta(hours=9)
    assert calendar.next_opening(start) == datetime(2026, 3, 8, 13, tzinfo=UTC)  # 09:00 EDT
    assert calendar.add(start, timedelta(hours=9)) == datetime(2026, 3, 8, 22, tzinfo=UTC)
    # the Mon-Fri office across the change: Fri 09:00 EST .. Mon 18:00 EDT is 18 hours
    assert cal("New York 9-18").elapsed(local(NEW_YORK, 2026, 3, 6, 9),
                                        local(NEW_YORK, 2026, 3, 9, 18)) == timedelta(hours=18)


def test_opening_inside_the_spring_forward_gap() -> None:
    """An opening at 02:30 on a day without 02:30 is read with fold=0 (the offset before the
    change): it becomes 03:30 new local time. New York 01:30-02:30 on 2026-03-08 becomes
    01:30 EST .. 03:30 EDT, which is one real hour."""
    calendar = cal("New York 01:30-02:30 daily")
    day = (local(NEW_YORK, 2026, 3, 8), local(NEW_YORK, 2026, 3, 9))
    assert calendar.elapsed(*day) == timedelta(hours=1)
    assert calendar.next_opening(day[0]) == datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    assert calendar.add(day[0], timedelta(hours=1)) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    gap_opening = CalendarSpec("Europe/Berlin", always_open=False,
                               hours={6: (time(2, 30), time(10))})
    sunday = BusinessCalendar.from_spec(gap_opening)
    assert sunday.next_opening(local(BERLIN, 2026, 3, 29)) == local(BERLIN, 2026, 3, 29, 3, 30)
    assert not sunday.is_open(local(BERLIN, 2026, 3, 29, 3, 15))
    assert sunday.elapsed(local(BERLIN, 2026, 3, 29), local(BERLIN, 2026, 3, 30)) == timedelta(
        hours=6, minutes=30)


def test_opening_inside_the_autumn_overlap() -> None:
    """An ambiguous 02:30 (it happens twice on 2026-10-25 in Berlin) is its first occurrence,
    in summer time; New York 01:30-02:30 on its autumn day (2026-11-01) lasts two hours."""
    overlap_opening = CalendarSpec("Europe/Berlin", always_open=False,
                                   hours={6: (time(2, 30), time(12))})
    sunday = BusinessCalendar.from_spec(overlap_opening)
    assert sunday.next_opening(local(BERLIN, 2026, 10, 25)) == datetime(
        2026, 10, 25, 0, 30, tzinfo=UTC)
    assert sunday.elapsed(local(BERLIN, 2026, 10, 25), local(BERLIN, 2026, 10, 26)) == timedelta(
        hours=10, minutes=30)
    night = cal("New York 01:30-02:30 daily")
    day = (local(NEW_YORK, 2026, 11, 1), local(NEW_YORK, 2026, 11, 2))
    assert night.elapsed(*day) == timedelta(hours=2)


# -- validation ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["24x7 UTC", "Moscow 9-18"])
def test_naive_datetimes_are_rejected(name: str) -> None:
    """Every method wants aware datetimes."""
    calendar = cal(name)
    naive = datetime(2026, 1, 14, 12)  # noqa: DTZ001
    aware = naive.replace(tzinfo=UTC)
    with pytest.raises(ValueError, match="aware"):
        calendar.add(naive, timedelta(hours=1))
    with pytest.raises(ValueError, match="aware"):
        calendar.elapsed(naive, aware)
    with pytest.raises(ValueError, match="aware"):
        calendar.elapsed(aware, naive)
    with pytest.raises(ValueError, match="aware"):
        calendar.is_open(naive)
    with pytest.raises(ValueError, match="aware"):
        calendar.next_opening(naive)


def test_negative_amount_is_rejected() -> None:
    """A deadline before its start makes no sense."""
    with pytest.raises(ValueError, match="negative"):
        cal("Moscow 9-18").add(datetime(2026, 1, 14, tzinfo=UTC), timedelta(seconds=-1))


@pytest.mark.parametrize("spec", [
    CalendarSpec("Europe/Moscow", always_open=False),
    CalendarSpec("UTC", always_open=False, holidays=frozenset({date(2026, 1, 1)}),
                 short_days={date(2026, 1, 2): (time(9), time(18))}),
])
def test_never_open_calendar_is_rejected(spec: CalendarSpec) -> None:
    """No working weekday and not 24x7: from_spec refuses it."""
    with pytest.raises(ValueError, match="never open"):
        BusinessCalendar.from_spec(spec)


@pytest.mark.parametrize("spec", [
    CalendarSpec("Mars/Olympus", always_open=False, hours=OFFICE),
    CalendarSpec("UTC", always_open=False, hours={7: (time(9), time(18))}),
    CalendarSpec("UTC", always_open=False, hours={0: (time(18), time(9))}),
    CalendarSpec("UTC", always_open=False, hours={0: (time(9), time(9))}),
    CalendarSpec("UTC", always_open=False, hours={0: (time(9),)}),  # type: ignore[dict-item]
    CalendarSpec("UTC", always_open=False, hours=OFFICE,
                 short_days={date(2026, 1, 1): (time(17), time(9))}),
])
def test_malformed_specs_are_rejected(spec: CalendarSpec) -> None:
    """Unknown zones, bad weekdays and backwards windows raise ValueError."""
    with pytest.raises(ValueError):
        BusinessCalendar.from_spec(spec)


def test_gives_up_after_three_closed_years() -> None:
    """Holidays covering six years: the search stops instead of looping."""
    first = date(2026, 1, 1)
    closed = frozenset(first + timedelta(days=n) for n in range(6 * 366))
    calendar = BusinessCalendar.from_spec(
        CalendarSpec("UTC", always_open=False, hours=OFFICE, holidays=closed))
    with pytest.raises(ValueError, match="3 years"):
        calendar.next_opening(datetime(2026, 1, 1, tzinfo=UTC))


def test_from_spec_is_cached_and_midnight_closing_means_end_of_day() -> None:
    """Equal specs share one calendar (an unhashable spec still works, uncached); a closing
    time of 00:00 means the end of the day."""
    assert BusinessCalendar.from_spec(MOSCOW) is BusinessCalendar.from_spec(
        CalendarSpec("Europe/Moscow", always_open=False, hours=dict(OFFICE)))
    unhashable = CalendarSpec("UTC", always_open=False, hours=OFFICE,
                              holidays={date(2026, 1, 14)})  # type: ignore[arg-type]
    wednesday = datetime(2026, 1, 14, 12, tzinfo=UTC)
    assert not BusinessCalendar.from_spec(unhashable).is_open(wednesday)
    evening = BusinessCalendar.from_spec(
        CalendarSpec("UTC", always_open=False, hours={0: (time(20), time(0))}))
    monday = datetime(2026, 1, 12, 20, tzinfo=UTC)
    assert evening.add(monday, timedelta(hours=4)) == datetime(2026, 1, 13, tzinfo=UTC)
    assert evening.add(monday, timedelta(hours=5)) == datetime(2026, 1, 19, 21, tzinfo=UTC)


def test_far_dates_grow_the_table_both_ways() -> None:
    """Queries far before and after the first one still work (the table grows)."""
    calendar = BusinessCalendar(MOSCOW_HOLIDAYS)  # a fresh, uncached table
    assert calendar.is_open(local(MSK, 2026, 1, 14, 12))
    assert calendar.next_opening(local(MSK, 2000, 1, 1)) == local(MSK, 2000, 1, 3, 9)
    assert calendar.next_opening(local(MSK, 2090, 1, 1)) == local(MSK, 2090, 1, 2, 9)
    # 2030-01-07 is a Monday; 1000 weeks of 45h later is again a Monday at 09:00 + 45h
    start = local(MSK, 2030, 1, 7, 9)
    assert calendar.add(start, timedelta(hours=45 * 1000)) == local(MSK, 2049, 3, 5, 18)
    assert calendar.elapsed(local(MSK, 2000, 1, 3), local(MSK, 2000, 1, 10)) == timedelta(
        hours=45)


# -- properties ------------------------------------------------------------------------------

@pytest.mark.parametrize("name", CALENDARS)
@PROPERTY
@given(start=STARTS, amount=AMOUNTS)
def test_elapsed_inverts_add(name: str, start: datetime, amount: timedelta) -> None:
    """elapsed(s, add(s, n)) == n, and the deadline is open or a closing instant, in UTC."""
    calendar = cal(name)
    deadline = calendar.add(start, amount)
    assert deadline.tzinfo is UTC
    assert deadline >= utc(start)
    assert calendar.elapsed(start, deadline) == amount
    assert at_boundary(calendar, deadline)


@pytest.mark.parametrize("name", CALENDARS)
@PROPERTY
@given(start=STARTS, amount=FINE_AMOUNTS)
def test_elapsed_inverts_add_to_the_microsecond(name: str, start: datetime,
                                                amount: timedelta) -> None:
    """The same, with amounts and starts that are not whole minutes."""
    calendar = cal(name)
    assert calendar.elapsed(start, calendar.add(start, amount)) == amount


@pytest.mark.parametrize("name", CALENDARS)
@PROPERTY
@given(start=STARTS, amounts=st.tuples(AMOUNTS, AMOUNTS))
def test_add_is_monotonic_in_the_amount(name: str, start: datetime,
                                        amounts: tuple[timedelta, timedelta]) -> None:
    """More business time never gives an earlier deadline."""
    calendar = cal(name)
    small, big = sorted(amounts)
    assert calendar.add(start, small) <= calendar.add(start, big)
    if small < big:
        assert calendar.add(start, small) < calendar.add(start, big)


@pytest.mark.parametrize("name", CALENDARS)
@PROPERTY
@given(starts=st.tuples(STARTS, STARTS), amount=AMOUNTS)
def test_add_is_monotonic_in_the_start(name: str, starts: tuple[datetime, datetime],
                                       amount: timedelta) -> None:
    """A later start never gives an earlier deadline."""
    calendar = cal(name)
    early, late = sorted(starts, key=utc)
    assert calendar.add(early, amount) <= calendar.add(late, amount)


@pytest.mark.parametrize("name", CALENDARS)
@PROPERTY
@given(start=STARTS, amount=AMOUNTS)
def test_clock_starts_at_the_next_opening(name: str, start: datetime, amount: timedelta) -> None:
    """add(s, 0) is the next opening; a closed start behaves as if made at that opening."""
    calendar = cal(name)
    opening = calendar.next_opening(start)
    assert calendar.add(start, timedelta(0)) == opening
    assert calendar.is_open(opening)
    assert opening >= utc(start)
    assert calendar.elapsed(start, opening) == timedelta(0)
    if calendar.is_open(start):
        assert opening == utc(start)
    else:
        assert opening > utc(start)
        assert calendar.add(start, amount) == calendar.add(opening, amount)


@pytest.mark.parametrize("name", CALENDARS)
@PROPERTY
@given(moments=st.tuples(STARTS, STARTS, STARTS))
def test_elapsed_is_additive(name: str, moments: tuple[datetime, datetime, datetime]) -> None:
    """elapsed(a, c) == elapsed(a, b) + elapsed(b, c) for a <= b <= c; never above real time."""
    calendar = cal(name)
    a, b, c = sorted(moments, key=utc)
    assert calendar.elapsed(a, c) == calendar.elapsed(a, b) + calendar.elapsed(b, c)
    assert timedelta(0) <= calendar.elapsed(a, c) <= utc(c) - utc(a)
    assert calendar.elapsed(c, a) == timedelta(0)


SPAN_DAYS = st.integers(min_value=1, max_value=25)
UNIFORM_CALENDARS = ["24x7 UTC", "24x7 Berlin", "Moscow 9-18", "Berlin 9-18", "New York 9-18"]


@pytest.mark.parametrize("name", CALENDARS)
@PROPERTY
@given(start=STARTS, days=SPAN_DAYS)
def test_working_days_end_at_a_boundary_and_grow_with_the_count(name: str, start: datetime,
                                                                 days: int) -> None:
    """A deadline in working days is open or a closing instant, after the clock's start, and
    one more day is always later."""
    calendar = cal(name)
    deadline = calendar.add(start, Span(days=days))
    assert deadline.tzinfo is UTC
    assert deadline > calendar.next_opening(start)
    assert at_boundary(calendar, deadline)
    assert calendar.add(start, Span(days=days + 1)) > deadline


@pytest.mark.parametrize("name", UNIFORM_CALENDARS)
@PROPERTY
@given(start=STARTS, days=SPAN_DAYS)
def test_working_days_compose(name: str, start: datetime, days: int) -> None:
    """Where every working day has the same hours, n + 1 days are n days and then one; on a
    9-18 office each working day is 9 business hours."""
    calendar = cal(name)
    deadline = calendar.add(start, Span(days=days))
    assert calendar.add(start, Span(days=days + 1)) == calendar.add(deadline, Span(days=1))
    per_day = timedelta(hours=24 if CALENDARS[name].always_open else 9)
    assert calendar.elapsed(start, deadline) == days * per_day


def oracle_working_days(spec: CalendarSpec, opening: datetime, days: int) -> datetime:
    """The deadline `days` working days after the clock's start `opening`, the naive way:
    walk the local dates after it and take the same time of day on the last one counted."""
    if spec.always_open:
        return opening + timedelta(days=days)
    zone = ZoneInfo(spec.timezone)
    started = opening.astimezone(zone)
    day, previous, counted = started.date(), started.date(), 0

    def window(of: date) -> tuple[time, time] | None:
        if of in spec.holidays:
            return None
        return spec.short_days.get(of, spec.hours.get(of.weekday()))

    while counted < days:
        if counted:
            previous = day
        day += timedelta(days=1)
        while window(day) is None:
            day += timedelta(days=1)
        counted += 1
    opens, closes = window(day)  # type: ignore[misc]
    wall = min(max(started.time(), opens), closes)
    if wall == opens:
        return datetime.combine(previous, window(previous)[1], tzinfo=zone)  # type: ignore[index]
    return datetime.combine(day, wall, tzinfo=zone)


@pytest.mark.parametrize("name", ORACLE_CALENDARS)
@PROPERTY
@given(start=STARTS, days=SPAN_DAYS)
def test_working_days_match_a_day_by_day_oracle(name: str, start: datetime, days: int) -> None:
    """For calendars whose windows avoid DST changes, a naive walk over the local dates."""
    calendar = cal(name)
    expected = oracle_working_days(CALENDARS[name], calendar.next_opening(start), days)
    assert calendar.add(start, Span(days=days)) == utc(expected)


def oracle_minutes(spec: CalendarSpec, start: datetime, minutes: int) -> Iterator[bool]:
    """Whether the desk is open in each of the `minutes` minutes after `start`, decided the
    naive way: convert each minute to local time and look at that date's window."""
    zone = ZoneInfo(spec.timezone)
    for n in range(minutes):
        moment = (start + timedelta(minutes=n)).astimezone(zone)
        if spec.always_open:
            yield True
            continue
        day = moment.date()
        if day in spec.holidays:
            yield False
            continue
        window = spec.short_days.get(day, spec.hours.get(day.weekday()))
        yield window is not None and window[0] <= moment.time() < window[1]


@pytest.mark.parametrize("name", ORACLE_CALENDARS)
@settings(deadline=None, max_examples=60)
@given(start=STARTS.map(lambda s: s.astimezone(UTC).replace(second=0, microsecond=0)),
       minutes=st.integers(min_value=0, max_value=4 * 24 * 60))
def test_matches_a_minute_by_minute_oracle(name: str, start: datetime, minutes: int) -> None:
    """For calendars whose windows avoid DST changes, elapsed() and is_open() agree with a
    naive minute-by-minute walk in local time."""
    calendar = cal(name)
    opened = list(oracle_minutes(CALENDARS[name], start, minutes))
    assert calendar.elapsed(start, start + timedelta(minutes=minutes)) == timedelta(
        minutes=sum(opened))
    for n in range(0, minutes, 97):
        assert calendar.is_open(start + timedelta(minutes=n)) == opened[n]
    if sum(opened):
        first = opened.index(True)
        assert calendar.next_opening(start) == start + timedelta(minutes=first)
