"""SLA arithmetic: deadlines from targets in business time, the stopped clock, warnings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.calendar import BusinessCalendar
from domain.durations import Span
from domain.policy import Policy, SlaTarget
from domain.tickets import Ticket


@dataclass(frozen=True)
class Deadlines:
    """When the first response and the resolution are due."""

    first_response: datetime
    resolution: datetime


def _calendar_and_target(policy: Policy, sla_level: str, priority: str,
                         special: bool) -> tuple[BusinessCalendar, SlaTarget]:
    level = policy.sla_level(sla_level)
    return BusinessCalendar.from_spec(level.calendar), level.target_for(priority, special)


def deadlines_for(policy: Policy, sla_level: str, priority: str, special: bool,
                  start: datetime, paused: timedelta = timedelta(0)) -> Deadlines:
    """The deadlines of a ticket opened at `start` that has waited `paused` business time:
    the targets (days as working days), then the waiting added as business time."""
    calendar, target = _calendar_and_target(policy, sla_level, priority, special)
    return Deadlines(_due(calendar, start, target.first_response, paused),
                     _due(calendar, start, target.resolution, paused))


def _due(calendar: BusinessCalendar, start: datetime, target: Span,
         paused: timedelta) -> datetime:
    due = calendar.add(start, target)
    return calendar.add(due, paused) if paused else due


def calendar_of(policy: Policy, ticket: Ticket) -> BusinessCalendar:
    """The business calendar that runs this ticket's clock."""
    return BusinessCalendar.from_spec(policy.sla_level(ticket.sla_level).calendar)


def recompute(policy: Policy, ticket: Ticket) -> None:
    """Set the ticket's open deadlines from its targets and the time it spent waiting."""
    due = deadlines_for(policy, ticket.sla_level, ticket.priority, ticket.special,
                        ticket.created_at, ticket.paused_business)
    if ticket.first_response_at is None:
        ticket.first_response_due = due.first_response
    ticket.resolution_due = due.resolution


def resume_clock(policy: Policy, ticket: Ticket, paused_at: datetime,
                 resumed_at: datetime) -> None:
    """The clock runs again: count the business time spent waiting and move the deadlines."""
    waited = calendar_of(policy, ticket).elapsed(paused_at, resumed_at)
    # Whole seconds, as storage keeps them: a deadline computed from the fraction would move
    # (and its timer fire again) the next time the deadlines are computed from the stored value.
    ticket.paused_business += timedelta(seconds=int(waited.total_seconds()))
    recompute(policy, ticket)


def warning_at(policy: Policy, ticket: Ticket, which: str) -> datetime:
    """When a warning is due: the configured share of the target (`first_response` or
    `resolution`) has passed in business time."""
    calendar, target = _calendar_and_target(policy, ticket.sla_level, ticket.priority,
                                            ticket.special)
    span = target.first_response if which == "first_response" else target.resolution
    # the share of the business time the target gives (its days are working days)
    amount = calendar.elapsed(ticket.created_at, calendar.add(ticket.created_at, span))
    return calendar.add(ticket.created_at, amount * policy.warn_at + ticket.paused_business)


@dataclass(frozen=True)
class NextDeadline:
    """The next deadline of an open ticket whose clock runs: its first response until it is
    given (it never falls after the resolution), then its resolution."""

    number: int
    subject: str
    who: str
    which: str  # "first_response" | "resolution"
    due: datetime
