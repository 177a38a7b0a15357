"""SLA arithmetic: deadlines from targets, and moving them when the clock stops and restarts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.calendar import BusinessCalendar
from domain.policy import Policy
from domain.tickets import Ticket


@dataclass(frozen=True)
class Deadlines:
    """When the first response and the resolution are due."""

    first_response: datetime
    resolution: datetime


def deadlines_for(policy: Policy, sla_level: str, priority: str, special: bool,
                  start: datetime) -> Deadlines:
    """The deadlines of a ticket opened at `start` (business time of its SLA level)."""
    level = policy.sla_level(sla_level)
    target = level.target_for(priority, special)
    calendar = BusinessCalendar.from_spec(level.calendar)
    return Deadlines(calendar.add(start, target.first_response),
                     calendar.add(start, target.resolution))


def calendar_of(policy: Policy, ticket: Ticket) -> BusinessCalendar:
    """The business calendar that runs this ticket's clock."""
    return BusinessCalendar.from_spec(policy.sla_level(ticket.sla_level).calendar)


def resume_clock(policy: Policy, ticket: Ticket, paused_at: datetime,
                 resumed_at: datetime) -> None:
    """Push the ticket's open deadlines back by the business time it spent waiting."""
    calendar = calendar_of(policy, ticket)
    if ticket.first_response_at is None and ticket.first_response_due is not None:
        ticket.first_response_due = _shift(calendar, ticket.first_response_due, paused_at,
                                           resumed_at)
    if ticket.resolution_due is not None:
        ticket.resolution_due = _shift(calendar, ticket.resolution_due, paused_at, resumed_at)


def _shift(calendar: BusinessCalendar, due: datetime, paused_at: datetime,
           resumed_at: datetime) -> datetime:
    if due <= paused_at:
        return due  # already breached before the pause: waiting does not undo it
    left = calendar.elapsed(paused_at, due)
    return calendar.add(resumed_at, left)
