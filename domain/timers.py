"""Which timers a ticket needs now (SLA warnings and breaches, unassigned, auto-close)."""

from __future__ import annotations

from datetime import datetime

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

KINDS = (FIRST_RESPONSE_WARNING, FIRST_RESPONSE_BREACH, RESOLUTION_WARNING, RESOLUTION_BREACH,
         UNASSIGNED, AUTOCLOSE_REMINDER, AUTOCLOSE)


def desired_timers(policy: Policy, ticket: Ticket) -> dict[str, datetime | None]:
    """Every timer kind with its due time, or None where the ticket needs none."""
    timers: dict[str, datetime | None] = dict.fromkeys(KINDS)
    status = ticket.status
    if not status.is_open:
        return timers
    running = not status.stops_clock and status is not Status.RESOLVED
    if running and ticket.first_response_at is None:
        timers[FIRST_RESPONSE_WARNING] = warning_at(policy, ticket, "first_response")
        timers[FIRST_RESPONSE_BREACH] = ticket.first_response_due
    if running:
        timers[RESOLUTION_WARNING] = warning_at(policy, ticket, "resolution")
        timers[RESOLUTION_BREACH] = ticket.resolution_due
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
