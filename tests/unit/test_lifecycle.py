"""The ticket lifecycle as a state machine: every allowed and every refused move, by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import IllegalTransition
from domain.tickets import Actor, Status, Ticket

S = Status
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
AGENT = Actor("agent", 1001, "Alice")
CLIENT = Actor("client", 7, "Bob")

WORK = {S.IN_PROGRESS, S.WAITING_CLIENT, S.WAITING_THIRD_PARTY, S.SECOND_LINE, S.RESOLVED,
        S.CLOSED, S.DECLINED}
# Written out by hand from SPEC §3, not derived from the code's table.
ALLOWED = {
    S.NEW: WORK,
    S.IN_PROGRESS: WORK - {S.IN_PROGRESS},
    S.WAITING_CLIENT: WORK - {S.WAITING_CLIENT},
    S.WAITING_THIRD_PARTY: WORK - {S.WAITING_THIRD_PARTY},
    S.SECOND_LINE: WORK - {S.SECOND_LINE},
    S.RESOLVED: {S.CLOSED, S.REOPENED, S.IN_PROGRESS},
    S.CLOSED: {S.REOPENED},
    S.DECLINED: {S.REOPENED},  # SPEC §11: the card offers Reopen on a declined ticket
    S.REOPENED: WORK,
}
PAIRS = [(old, new) for old in Status for new in Status]


def ticket_in(status: Status) -> Ticket:
    ticket = Ticket(number=1001, client_id=7, subject="Login fails", request_type="bug",
                    queue="support", priority="high", sla_level="standard", created_at=T0)
    ticket.status = status
    return ticket


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if p[1] in ALLOWED[p[0]]],
                         ids=lambda s: s.value)
def test_allowed_move_changes_status_and_records_who_when_from_to(old: Status,
                                                                  new: Status) -> None:
    ticket = ticket_in(old)
    event = ticket.move(new, AGENT, T0 + timedelta(minutes=5))
    assert ticket.status is new
    assert (event.kind, event.old, event.new, event.actor, event.at) == (
        "status", old.value, new.value, AGENT, T0 + timedelta(minutes=5))


@pytest.mark.parametrize(("old", "new"), [p for p in PAIRS if p[1] not in ALLOWED[p[0]]],
                         ids=lambda s: s.value)
def test_refused_move_raises_and_changes_nothing(old: Status, new: Status) -> None:
    ticket = ticket_in(old)
    with pytest.raises(IllegalTransition):
        ticket.move(new, AGENT, T0)
    assert ticket.status is old
    assert ticket.events == []


def test_waiting_stops_the_clock_and_records_the_time_spent() -> None:
    ticket = ticket_in(S.IN_PROGRESS)
    ticket.move(S.WAITING_CLIENT, AGENT, T0)
    assert ticket.paused_since == T0
    ticket.move(S.WAITING_THIRD_PARTY, AGENT, T0 + timedelta(hours=1))
    assert ticket.paused_since == T0  # still waiting: the pause goes on
    ticket.move(S.IN_PROGRESS, AGENT, T0 + timedelta(hours=3))
    assert ticket.paused_since is None
    assert ticket.paused_total == timedelta(hours=3)


def test_taking_a_new_ticket_assigns_it_and_starts_work() -> None:
    ticket = ticket_in(S.NEW)
    events = ticket.take(AGENT, T0)
    assert ticket.status is S.IN_PROGRESS and ticket.assignee_name == "Alice"
    assert [e.kind for e in events] == ["assigned", "status"]


def test_first_agent_reply_is_the_first_response_and_starts_work() -> None:
    ticket = ticket_in(S.NEW)
    ticket.agent_replied(AGENT, T0)
    ticket.agent_replied(AGENT, T0 + timedelta(minutes=9))
    assert ticket.first_response_at == T0
    assert ticket.status is S.IN_PROGRESS


def test_client_message_while_waiting_for_client_moves_back_to_in_progress() -> None:
    ticket = ticket_in(S.WAITING_CLIENT)
    ticket.paused_since = T0
    events = ticket.client_wrote(CLIENT, T0 + timedelta(hours=2))
    assert ticket.status is S.IN_PROGRESS
    assert events[0].actor == CLIENT
    assert ticket.last_client_message_at == T0 + timedelta(hours=2)


def test_client_message_in_other_statuses_changes_no_status() -> None:
    for status in (S.NEW, S.IN_PROGRESS, S.WAITING_THIRD_PARTY, S.SECOND_LINE):
        ticket = ticket_in(status)
        assert ticket.client_wrote(CLIENT, T0) == []
        assert ticket.status is status


def test_reopening_clears_the_close() -> None:
    ticket = ticket_in(S.RESOLVED)
    ticket.move(S.CLOSED, AGENT, T0)
    assert ticket.closed_at == T0
    ticket.move(S.REOPENED, CLIENT, T0 + timedelta(days=1))
    assert ticket.closed_at is None and ticket.resolved_at is None


def test_a_reopened_ticket_does_not_count_the_time_it_was_closed() -> None:
    ticket = ticket_in(S.IN_PROGRESS)
    ticket.move(S.RESOLVED, AGENT, T0)
    ticket.move(S.CLOSED, CLIENT, T0 + timedelta(hours=1))
    ticket.move(S.REOPENED, CLIENT, T0 + timedelta(days=2))
    assert ticket.paused_since is None
    assert ticket.paused_total == timedelta(days=2)
