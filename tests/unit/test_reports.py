"""Report arithmetic on a prepared week of history, every figure computed by hand."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.calendar import BusinessCalendar
from domain.policy import CalendarSpec
from domain.reports import (
    BadPeriod,
    Period,
    RatingFacts,
    Report,
    StatusChange,
    TicketFacts,
    build_report,
    measure,
    parse_period,
)
from domain.tickets import TRANSITIONS, Status

MSK = ZoneInfo("Europe/Moscow")
ALWAYS = BusinessCalendar.from_spec(CalendarSpec())
OFFICE = BusinessCalendar.from_spec(CalendarSpec(
    "Europe/Moscow", always_open=False,
    hours=MappingProxyType(dict.fromkeys(range(5), (time(9), time(18))))))
CALENDARS = {"premium": ALWAYS, "standard": OFFICE}
ALICE, BOB = 1, 2
H = timedelta(hours=1)
WEEK = Period(date(2026, 10, 5), date(2026, 10, 11), "Europe/Moscow")  # Monday .. Sunday
NOW = datetime(2026, 10, 14, 12, 0, tzinfo=MSK)


def msk(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    """An instant given in Moscow time (UTC+3), October 2026 unless told."""
    return datetime(2026, month, day, hour, minute, tzinfo=MSK)


def moves(*steps: tuple[datetime, str]) -> tuple[StatusChange, ...]:
    """Status changes from `new` through the given (moment, status) steps."""
    changes, old = [], "new"
    for at, new in steps:
        changes.append(StatusChange(at, old, new))
        old = new
    return tuple(changes)


def ticket(number: int, sla: str, queue: str, agent: int | None, created: datetime,
           *steps: tuple[datetime, str], first_response: datetime | None = None,
           fr_due: datetime | None = None, res_due: datetime | None = None) -> TicketFacts:
    """A ticket of the prepared history."""
    names = {ALICE: "Alice", BOB: "Bob"}
    return TicketFacts(number, queue, sla, agent, names.get(agent) if agent else None,
                       created, first_response, fr_due, res_due, moves(*steps))


# The history (Moscow time). Comments give each ticket's hand-computed figures.
T1 = ticket(  # office hours; FR 1 h; resolution 11 h - 7 h waiting = 4 h, both targets met
    1, "standard", "support", ALICE, msk(5, 10),
    (msk(5, 11), "in_progress"), (msk(5, 12), "waiting_client"), (msk(6, 10), "in_progress"),
    (msk(6, 12), "resolved"), (msk(7, 9, 30), "closed"),
    first_response=msk(5, 11), fr_due=msk(5, 12), res_due=msk(8, 12))
T2 = ticket(  # 24x7, opened the day before; closed 3 times, reopened twice; final resolution
    # Fri 10:00 = 108 h after opening, minus 24 h waiting for a third party = 84 h; res. breached
    2, "premium", "support", BOB, msk(4, 22),
    (msk(4, 23), "in_progress"), (msk(6, 10), "resolved"), (msk(6, 11), "closed"),
    (msk(7, 10), "reopened"), (msk(7, 10, 30), "in_progress"),
    (msk(7, 11), "waiting_third_party"), (msk(8, 11), "in_progress"), (msk(8, 15), "closed"),
    (msk(9, 9), "reopened"), (msk(9, 9, 10), "in_progress"), (msk(9, 10), "resolved"),
    (msk(10, 10), "closed"),
    first_response=msk(4, 23), fr_due=msk(4, 23, 30), res_due=msk(7, 22))
T3 = ticket(  # unassigned, untouched; its first response is due after the period
    3, "standard", "development", None, msk(9, 17), fr_due=msk(12, 10), res_due=msk(20, 10))
T4 = ticket(  # FR 6 h - 4 h waiting for a third party = 2 h, exactly at its due time: met
    4, "standard", "support", ALICE, msk(8, 9),
    (msk(8, 9, 30), "in_progress"), (msk(8, 10), "waiting_third_party"),
    (msk(8, 14), "in_progress"), (msk(9, 10), "waiting_client"),
    first_response=msk(8, 15), fr_due=msk(8, 15), res_due=msk(20, 10))
T5 = ticket(  # declined without a reply after its FR due time: FR breached, no resolution
    5, "premium", "development", BOB, msk(7, 12), (msk(7, 12, 30), "declined"),
    fr_due=msk(7, 12, 15), res_due=msk(7, 16))
T6 = ticket(  # closed before the period, reopened in it after its resolution due: breached
    6, "standard", "support", ALICE, msk(1, 10),
    (msk(1, 10), "in_progress"), (msk(2, 10), "closed"), (msk(10, 10), "reopened"),
    first_response=msk(1, 10), fr_due=msk(1, 11), res_due=msk(6, 10))
T7 = ticket(  # FR 30 min, met; in progress at the period's end, closed after it
    7, "standard", "support", BOB, msk(9, 10),
    (msk(9, 10, 30), "in_progress"), (msk(13, 10), "closed"),
    first_response=msk(9, 10, 30), fr_due=msk(9, 11), res_due=msk(16, 10))
TICKETS = (T1, T2, T3, T4, T5, T6, T7)
RATINGS = (RatingFacts(msk(7, 10), 5, ALICE, "support"),
           RatingFacts(msk(10, 11), 2, BOB, "support"),
           RatingFacts(msk(2, 11), 4, ALICE, "support"))  # before the period
DEFLECTIONS = (msk(5, 12), msk(11, 23, 30), msk(12, 0, 30))  # the last is after the period


def week_report() -> Report:
    return build_report(WEEK, TICKETS, RATINGS, DEFLECTIONS, CALENDARS.__getitem__, NOW)


def test_counts_every_close_and_reopen_of_the_period() -> None:
    total = week_report().total
    assert (total.opened, total.closed, total.declined, total.reopened) == (5, 4, 1, 3)


def test_backlog_at_the_end_is_replayed_from_the_status_changes() -> None:
    report = week_report()
    assert report.backlog == {"in_progress": 1, "new": 1, "reopened": 1, "waiting_client": 1}
    open_at_start = 1  # T2 only: T6 was closed then
    total = report.total
    assert sum(report.backlog.values()) == (open_at_start + total.opened + total.reopened
                                            - total.closed - total.declined)


def test_first_response_and_resolution_times_are_business_time_without_waiting() -> None:
    total = week_report().total
    assert total.first_responses == 3  # T1 1 h, T4 2 h, T7 30 min
    assert total.first_response_median == 1 * H
    assert total.first_response_p90 == 2 * H
    assert total.resolutions == 2  # T1 4 h, T2 84 h (at its final close)
    assert total.resolution_median == 44 * H
    assert total.resolution_p90 == 84 * H


def test_sla_compliance_counts_targets_due_in_the_period() -> None:
    total = week_report().total
    assert (total.first_response_met, total.first_response_due) == (3, 4)  # T5 breached
    assert total.first_response_compliance == 75.0
    assert (total.resolution_met, total.resolution_due) == (1, 3)  # T2, T6 breached
    assert total.resolution_compliance == pytest.approx(100 / 3)
    assert total.compliance == pytest.approx(400 / 7)


def test_csat_and_deflections_count_in_the_period_only() -> None:
    report = week_report()
    assert (report.total.csat, report.total.ratings) == (3.5, 2)
    assert report.deflected == 2
    assert report.deflected_by_day == {date(2026, 10, 5): 1, date(2026, 10, 11): 1}


def test_per_agent() -> None:
    agents = {piece.label: piece.figures for piece in week_report().by_agent}
    assert list(agents) == ["Alice", "Bob", ""]  # the unassigned last
    alice, bob, nobody = agents["Alice"], agents["Bob"], agents[""]
    assert (alice.opened, alice.closed, alice.declined, alice.reopened) == (2, 1, 0, 1)
    assert alice.first_response_median == 1.5 * H and alice.resolution_median == 4 * H
    assert (alice.first_response_met, alice.first_response_due) == (2, 2)
    assert (alice.resolution_met, alice.resolution_due) == (1, 2)
    assert (alice.csat, alice.ratings) == (5.0, 1)
    assert (bob.opened, bob.closed, bob.declined, bob.reopened) == (2, 3, 1, 2)
    assert bob.first_response_median == 0.5 * H and bob.resolution_median == 84 * H
    assert (bob.first_response_met, bob.first_response_due) == (1, 2)
    assert (bob.resolution_met, bob.resolution_due) == (0, 1)
    assert (bob.csat, bob.ratings) == (2.0, 1)
    assert nobody.opened == 1 and nobody.first_response_due == 0


def test_per_queue() -> None:
    queues = {piece.key: piece.figures for piece in week_report().by_queue}
    support, development = queues["support"], queues["development"]
    assert (support.opened, support.closed, support.reopened) == (3, 4, 3)
    assert support.first_responses == 3 and support.resolutions == 2
    assert (support.first_response_met, support.first_response_due) == (3, 3)
    assert (support.resolution_met, support.resolution_due) == (1, 3)
    assert support.ratings == 2
    assert (development.opened, development.declined) == (2, 1)
    assert (development.first_response_met, development.first_response_due) == (0, 1)


def test_per_day_in_the_staff_time_zone() -> None:
    days = dict(week_report().by_day)
    assert list(days) == [date(2026, 10, day) for day in range(5, 12)]
    opened = [days[day].opened for day in days]
    closed = [days[day].closed for day in days]
    reopened = [days[day].reopened for day in days]
    assert opened == [1, 0, 1, 1, 2, 0, 0]
    assert closed == [0, 1, 1, 1, 0, 1, 0]
    assert reopened == [0, 0, 1, 0, 1, 1, 0]
    saturday = days[date(2026, 10, 10)]
    assert saturday.resolution_median == 84 * H and saturday.csat == 2.0
    # a target counts on the day of its outcome: T1 resolved on the 6th (due the 8th), met;
    # T6's resolution was due on the 6th and missed
    assert (days[date(2026, 10, 6)].resolution_met, days[date(2026, 10, 6)].resolution_due) \
        == (1, 2)
    assert days[date(2026, 10, 8)].resolution_due == 0


def test_a_target_met_counts_on_the_day_it_was_met_never_on_a_later_due_day() -> None:
    resolved_early = ticket(  # resolved on Friday the 9th, due only on the 20th
        8, "premium", "support", ALICE, msk(9, 9), (msk(9, 9, 5), "in_progress"),
        (msk(9, 11), "resolved"), first_response=msk(9, 9, 5), fr_due=msk(9, 9, 15),
        res_due=msk(20, 10))
    week = build_report(WEEK, (resolved_early,), (), (), CALENDARS.__getitem__, NOW)
    days = dict(week.by_day)
    assert (days[date(2026, 10, 9)].resolution_met, days[date(2026, 10, 9)].resolution_due) \
        == (1, 1)
    month = build_report(Period(date(2026, 10, 1), date(2026, 10, 31), "Europe/Moscow"),
                         (resolved_early,), (), (), CALENDARS.__getitem__, NOW)
    assert dict(month.by_day)[date(2026, 10, 20)].resolution_due == 0  # not on its due day


def test_a_reopened_ticket_counts_its_resolution_only_at_the_final_close() -> None:
    # the week before T2's final close: two closes, no resolution time yet
    early = Period(date(2026, 10, 5), date(2026, 10, 8), "Europe/Moscow")
    report = build_report(early, [T2], [], [], CALENDARS.__getitem__, NOW)
    assert (report.total.closed, report.total.reopened) == (2, 1)
    assert report.total.resolutions == 0
    assert report.backlog == {}  # closed on Thursday, reopened on Friday


def test_a_due_time_still_ahead_and_unmet_is_left_out() -> None:
    now = msk(12, 9)
    today = Period(date(2026, 10, 12), date(2026, 10, 12), "Europe/Moscow")
    report = build_report(today, [T3], [], [], CALENDARS.__getitem__, now)
    assert report.total.first_response_due == 0
    later = build_report(today, [T3], [], [], CALENDARS.__getitem__, msk(12, 11))
    assert (later.total.first_response_met, later.total.first_response_due) == (0, 1)


def test_measures_of_one_ticket() -> None:
    measures = measure(T2, ALWAYS)
    assert measures.first_response == 1 * H
    assert measures.resolved_at == msk(9, 10) and measures.resolution == 84 * H
    assert measures.final_close_at == msk(10, 10)
    assert measure(T5, ALWAYS).first_answer_at == msk(7, 12, 30)
    assert measure(T6, OFFICE).resolved_at is None  # reopened: not resolved now


def test_a_ticket_closed_without_resolving_is_resolved_at_the_close() -> None:
    facts = ticket(9, "premium", "support", ALICE, msk(5, 10), (msk(5, 11), "in_progress"),
                   (msk(5, 12), "resolved"), (msk(5, 13), "in_progress"), (msk(5, 15), "closed"))
    assert measure(facts, ALWAYS).resolution == 5 * H


@pytest.mark.parametrize(("text", "first", "last"), [
    ("today", date(2026, 10, 14), date(2026, 10, 14)),
    (None, date(2026, 10, 1), date(2026, 10, 31)),
    ("week", date(2026, 10, 12), date(2026, 10, 18)),
    ("Неделя", date(2026, 10, 12), date(2026, 10, 18)),
    ("month", date(2026, 10, 1), date(2026, 10, 31)),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ("2025", date(2025, 1, 1), date(2025, 12, 31)),
    ("2026-10-05", date(2026, 10, 5), date(2026, 10, 5)),
    ("2026-10-01..2026-10-15", date(2026, 10, 1), date(2026, 10, 15)),
])
def test_periods_people_type(text: str | None, first: date, last: date) -> None:
    period = parse_period(text, date(2026, 10, 14), "Europe/Moscow")
    assert (period.first, period.last) == (first, last)


@pytest.mark.parametrize("text", ["yesterday-ish", "2026-13", "2026-02-30", "10/2026",
                                  "2026-10-15..2026-10-01", "2020-01-01..2026-01-01"])
def test_bad_periods_are_refused(text: str) -> None:
    with pytest.raises(BadPeriod):
        parse_period(text, date(2026, 10, 14), "Europe/Moscow")


def test_a_period_runs_between_local_midnights() -> None:
    assert WEEK.start == datetime(2026, 10, 4, 21, tzinfo=UTC)
    assert WEEK.end == datetime(2026, 10, 11, 21, tzinfo=UTC)


@st.composite
def histories(draw: st.DrawFn) -> TicketFacts:
    """A ticket walked through allowed status changes at random hours of October 2026."""
    start = datetime(2026, 10, 1, tzinfo=UTC) + timedelta(hours=draw(st.integers(0, 700)))
    status, at, changes = Status.NEW, start, []
    for _ in range(draw(st.integers(0, 8))):
        allowed = sorted(TRANSITIONS[status])
        if not allowed:
            break
        wanted = draw(st.sampled_from(allowed))
        at += timedelta(hours=draw(st.integers(1, 72)))
        changes.append(StatusChange(at, status.value, wanted.value))
        status = wanted
    return TicketFacts(draw(st.integers(1, 10**6)), "support", "premium", None, None, start,
                       changes=tuple(changes))


@settings(max_examples=200, deadline=None)
@given(st.lists(histories(), max_size=8), st.integers(1, 25), st.integers(1, 20))
def test_open_at_end_is_open_at_start_plus_opened_and_reopened_minus_closed(
        tickets: list[TicketFacts], first: int, length: int) -> None:
    period = Period(date(2026, 10, first), date(2026, 10, first) + timedelta(days=length),
                    "UTC")
    report = build_report(period, tickets, [], [], lambda _: ALWAYS, NOW)
    at_start = sum(1 for facts in tickets
                   if (status := facts.status_at(period.start)) is not None
                   and status not in ("closed", "declined"))
    # a reopen from `resolved` ("still a problem") counts as a reopen but was open already
    from_resolved = sum(1 for facts in tickets for change in facts.changes
                        if period.holds(change.at) and change.new == "reopened"
                        and change.old == "resolved")
    total = report.total
    assert sum(report.backlog.values()) == (at_start + total.opened + total.reopened
                                            - from_resolved - total.closed - total.declined)
