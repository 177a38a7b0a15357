"""Which timers a ticket needs now (SLA warnings and breaches, unassigned, auto-close)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.policy import Policy
from domain.sla import warning_at
from domain.tickets import Status, Ticket

FIRST_RESPONSE_WARNING = "fr_warn"
FIRST_RESPONSE_BREACH = "fr_breach"
RESOLUTION_WARNING = "res_warn"
RESOLUTION_BREACH = "res_breach"
UNASSIGNED = "unassigned"
AUTOCLOSE_REMINDER = "remind"
AUTOCLOSE = "autoclose"
SILENT_DAY = "silent_day"  # a day without an agent's answer: the client may call the supervisor

KINDS = (FIRST_RESPONSE_WARNING, FIRST_RESPONSE_BREACH, RESOLUTION_WARNING, RESOLUTION_BREACH,
         UNASSIGNED, AUTOCLOSE_REMINDER, AUTOCLOSE, SILENT_DAY)
BREACHES = frozenset({FIRST_RESPONSE_BREACH, RESOLUTION_BREACH})


@dataclass(frozen=True)
class TimerState:
    """A stored timer: when it is due, and when it fired (None while it waits)."""

    due_at: datetime
    done_at: datetime | None = None


def clock_runs(status: Status) -> bool:
    """Whether a ticket's SLA deadlines run in this status (not waiting, resolved or closed)."""
    return status.is_open and not status.stops_clock and status is not Status.RESOLVED


def desired_timers(policy: Policy, ticket: Ticket) -> dict[str, datetime | None]:
    """Every timer kind with its due time, or None where the ticket needs none."""
    timers: dict[str, datetime | None] = dict.fromkeys(KINDS)
    status = ticket.status
    if not status.is_open:
        return timers
    running = clock_runs(status)
    if running and ticket.first_response_at is None:
        timers[FIRST_RESPONSE_WARNING] = warning_at(policy, ticket, "first_response")
        timers[FIRST_RESPONSE_BREACH] = ticket.first_response_due
    if running:
        timers[RESOLUTION_WARNING] = warning_at(policy, ticket, "resolution")
        timers[RESOLUTION_BREACH] = ticket.resolution_due
    if ticket.first_response_at is None:
        timers[SILENT_DAY] = ticket.created_at + timedelta(days=1)
    if ticket.assignee_id is None and status in (Status.NEW, Status.REOPENED):
        timers[UNASSIGNED] = ticket.created_at + policy.unassigned_after
    quiet_since = _waiting_since(ticket)
    if quiet_since is not None:
        timers[AUTOCLOSE_REMINDER] = quiet_since + policy.auto_close_after
        timers[AUTOCLOSE] = quiet_since + 2 * policy.auto_close_after
    return timers


def _waiting_since(ticket: Ticket) -> datetime | None:
    """Since when the desk waits for the client with no word from them (or None)."""
    if ticket.status is Status.WAITING_CLIENT:
        started = ticket.paused_since
    elif ticket.status is Status.RESOLVED:
        started = ticket.resolved_at
    else:
        return None
    if started is None:
        return None
    last = ticket.last_client_message_at
    return max(started, last) if last is not None else started


def reconcile(stored: Mapping[str, TimerState], wanted: Mapping[str, datetime | None],
              now: datetime) -> dict[str, TimerState | None]:
    """The timers to keep (None: drop) so that each alert goes out once and no breach is lost.

    A fired timer is kept, so the desk remembers it across a wait: it fires again only for a
    due time still ahead. A deadline that a wait or a new priority moved but that has passed
    anyway was announced already. A waiting breach that is already due stays even when the
    ticket stops needing it (the wait began, the late answer came before the tick): the breach
    happened, and the next tick announces it.
    """
    kept: dict[str, TimerState | None] = {}
    for kind in {*stored, *wanted}:
        old, due = stored.get(kind), wanted.get(kind)
        if old is None:
            kept[kind] = None if due is None else TimerState(due)
        elif old.done_at is not None:
            moved_ahead = due is not None and due != old.due_at and due > now
            kept[kind] = TimerState(due) if moved_ahead and due is not None else old
        elif due is None:
            kept[kind] = old if kind in BREACHES and old.due_at <= now else None
        else:
            kept[kind] = TimerState(due)
    return kept
