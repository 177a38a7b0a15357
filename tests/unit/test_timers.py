"""Which timers are kept: each alert once per deadline, and no breach lost (`reconcile`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from domain.policy import default_policy
from domain.tickets import Ticket
from domain.timers import (
    FIRST_RESPONSE_BREACH,
    FIRST_RESPONSE_WARNING,
    SILENT_DAY,
    UNASSIGNED,
    TimerState,
    desired_timers,
    reconcile,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


def test_new_due_time_gives_a_waiting_timer() -> None:
    assert reconcile({}, {FIRST_RESPONSE_BREACH: NOW + MINUTE}, NOW) == {
        FIRST_RESPONSE_BREACH: TimerState(NOW + MINUTE)}


def test_waiting_timer_follows_its_due_time_even_into_the_past() -> None:
    # A higher priority brings the deadline before now: the breach is announced at once.
    kept = reconcile({FIRST_RESPONSE_BREACH: TimerState(NOW + MINUTE)},
                     {FIRST_RESPONSE_BREACH: NOW - MINUTE}, NOW)
    assert kept == {FIRST_RESPONSE_BREACH: TimerState(NOW - MINUTE)}


def test_waiting_timer_no_longer_needed_is_dropped() -> None:
    stored = {FIRST_RESPONSE_WARNING: TimerState(NOW + MINUTE), UNASSIGNED: TimerState(NOW)}
    assert reconcile(stored, {FIRST_RESPONSE_WARNING: None, UNASSIGNED: None}, NOW) == {
        FIRST_RESPONSE_WARNING: None, UNASSIGNED: None}


def test_breach_already_due_stays_until_the_tick_announces_it() -> None:
    # The agent answered (or paused the ticket) after the deadline, before the tick came.
    due = TimerState(NOW - MINUTE)
    assert reconcile({FIRST_RESPONSE_BREACH: due}, {FIRST_RESPONSE_BREACH: None}, NOW) == {
        FIRST_RESPONSE_BREACH: due}


def test_warning_already_due_but_no_longer_needed_is_dropped() -> None:
    kept = reconcile({FIRST_RESPONSE_WARNING: TimerState(NOW - MINUTE)},
                     {FIRST_RESPONSE_WARNING: None}, NOW)
    assert kept == {FIRST_RESPONSE_WARNING: None}


def test_fired_timer_is_remembered_while_the_clock_stops() -> None:
    fired = TimerState(NOW - 2 * MINUTE, NOW - MINUTE)
    assert reconcile({FIRST_RESPONSE_BREACH: fired}, {FIRST_RESPONSE_BREACH: None}, NOW) == {
        FIRST_RESPONSE_BREACH: fired}


def test_fired_timer_moved_to_a_time_already_past_does_not_fire_again() -> None:
    # Breached, then waited: the deadline moves by the wait but has passed all the same.
    fired = TimerState(NOW - 10 * MINUTE, NOW - 9 * MINUTE)
    kept = reconcile({FIRST_RESPONSE_BREACH: fired}, {FIRST_RESPONSE_BREACH: NOW - MINUTE}, NOW)
    assert kept == {FIRST_RESPONSE_BREACH: fired}


def test_fired_timer_moved_to_a_time_ahead_fires_again_then() -> None:
    fired = TimerState(NOW - 10 * MINUTE, NOW - 9 * MINUTE)
    kept = reconcile({FIRST_RESPONSE_WARNING: fired}, {FIRST_RESPONSE_WARNING: NOW + MINUTE},
                     NOW)
    assert kept == {FIRST_RESPONSE_WARNING: TimerState(NOW + MINUTE)}


def test_fired_timer_with_the_same_due_time_stays_fired() -> None:
    fired = TimerState(NOW - MINUTE, NOW - MINUTE)
    assert reconcile({UNASSIGNED: fired}, {UNASSIGNED: NOW - MINUTE}, NOW) == {UNASSIGNED: fired}


def test_a_day_without_an_agents_answer_comes_due_until_the_first_answer() -> None:
    """After a day with no answer the client is offered the supervisor (SPEC §11)."""
    ticket = Ticket(number=1001, client_id=7, subject="Login fails", request_type="bug",
                    queue="support", priority="high", sla_level="standard", created_at=NOW)
    assert desired_timers(default_policy(), ticket)[SILENT_DAY] == NOW + timedelta(days=1)
    ticket.first_response_at = NOW + MINUTE
    assert desired_timers(default_policy(), ticket)[SILENT_DAY] is None
