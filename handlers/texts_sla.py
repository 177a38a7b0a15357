"""Texts of the SLA overview (`/sla`), in the staff's language and time zone (HTML, escaped)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from html import escape

from aiogram.utils.i18n import gettext as _

from domain.durations import format_duration
from domain.sla import NextDeadline
from handlers.texts import when


def next_deadlines(deadlines: Sequence[NextDeadline], timezone: str, now: datetime) -> str:
    """What breaches next: one line per ticket, nearest first, the overdue ones marked."""
    if not deadlines:
        return _("No open ticket has a running SLA clock.")
    lines = ["⏱ <b>" + _("Next SLA deadlines") + "</b>"]
    for deadline in deadlines:
        which = (_("first response") if deadline.which == "first_response"
                 else _("resolution"))
        due = when(deadline.due, timezone, now)
        if deadline.due <= now:
            mark, state = "🔥", _("{which} was due {due}, overdue by {late}").format(
                which=which, due=due, late=_minutes(now - deadline.due))
        else:
            mark, state = "•", _("{which} due {due}, in {left}").format(
                which=which, due=due, left=_minutes(deadline.due - now))
        lines.append(f"{mark} <b>#{deadline.number}</b> · {escape(_short(deadline.who, 40))}: "
                     f"{escape(_short(deadline.subject, 60))} — {state}")
    return "\n".join(lines)


def _short(text: str, limit: int) -> str:
    """Cut to `limit` characters, so that a full listing stays within one message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _minutes(delta: timedelta) -> str:
    """A span as the staff read it at a glance: `1d2h5m`, seconds only under a minute."""
    seconds = int(delta.total_seconds())
    if seconds >= 60:
        seconds -= seconds % 60
    return format_duration(timedelta(seconds=seconds))
