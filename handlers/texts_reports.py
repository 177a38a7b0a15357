"""Texts of `/stats`: the period's figures as compact tables (HTML <pre>, escaped), in the staff's
language; days and the period in the staff time zone."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n import ngettext

from domain.policy import Policy
from domain.reports import NOBODY, BadPeriod, Figures, Period, Report, Slice
from domain.tickets import Status
from handlers.texts import status_title
from handlers.times import zone_name

MAX_ROWS = 12  # agents or queues listed; the rest are summed up in one line
NAME_WIDTH = 14


def local_today(now: datetime, zone: str) -> date:
    """Today in the staff time zone."""
    return now.astimezone(ZoneInfo(zone)).date()


def bad_period(error: BadPeriod) -> str:
    """What to say about a period that is not understood."""
    return _("I do not understand the period “{text}”. Use today, week, month, a month like "
             "2026-10, a day like 2026-10-05 or days like 2026-10-01..2026-10-15.").format(
        text=escape(str(error)))


def period_title(period: Period) -> str:
    """`2026-10-01 – 2026-10-31`, or one day."""
    if period.first == period.last:
        return period.first.isoformat()
    return f"{period.first.isoformat()} – {period.last.isoformat()}"


def duration(value: timedelta | None) -> str:
    """A business duration at a glance: `45m`, `3h10m`, `2d4h` (— when there is none)."""
    if value is None:
        return "—"
    minutes = round(value.total_seconds() / 60)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes:02d}m" if minutes else f"{hours}h"
    return f"{minutes}m"


def percent(value: float | None) -> str:
    """A share in whole percent (— when nothing was due)."""
    return "—" if value is None else f"{value:.0f}%"


def csat(figures: Figures) -> str:
    """The average rating with one decimal (— without ratings)."""
    return "—" if figures.csat is None else f"{figures.csat:.1f}"


def stats_text(report: Report, policy: Policy, lang: str) -> str:
    """The whole `/stats` answer: summary, then per agent and per queue."""
    parts = ["📊 <b>" + _("Figures for {period}").format(period=period_title(report.period))
             + f"</b> ({escape(zone_name(report.period.zone, report.period.start))})",
             _pre(_summary(report))]
    if report.by_agent:
        parts += ["<b>" + _("By agent") + "</b>",
                  _pre(_table([(_agent_label(piece), piece.figures)
                               for piece in report.by_agent]))]
    if report.by_queue:
        parts += ["<b>" + _("By queue") + "</b>",
                  _pre(_table([(_queue_label(policy, piece.key, lang), piece.figures)
                               for piece in report.by_queue]))]
    parts.append(_("Times are business time of each ticket's SLA level, waiting for the "
                   "client or a third party excluded."))
    return "\n".join(parts)


def _pre(lines: Sequence[str]) -> str:
    return "<pre>" + escape("\n".join(lines)) + "</pre>"


def _summary(report: Report) -> list[str]:
    total = report.total
    rows = [
        (_("Opened:"), str(total.opened)),
        (_("Closed:"), str(total.closed)),
        (_("Reopened:"), str(total.reopened)),
        (_("Declined:"), str(total.declined)),
        (_("Solved by the FAQ:"), str(report.deflected)),
        (_("First response:"), _medians(total.first_response_median,
                                        total.first_response_p90, total.first_responses)),
        (_("Resolution:"), _medians(total.resolution_median, total.resolution_p90,
                                    total.resolutions)),
        (_("SLA, first response:"), _("{share} met ({met} of {due})").format(
            share=percent(total.first_response_compliance), met=total.first_response_met,
            due=total.first_response_due)),
        (_("SLA, resolution:"), _("{share} met ({met} of {due})").format(
            share=percent(total.resolution_compliance), met=total.resolution_met,
            due=total.resolution_due)),
        (_("CSAT:"), ngettext("{average} ({count} rating)", "{average} ({count} ratings)",
                              total.ratings).format(average=csat(total), count=total.ratings)),
    ]
    backlog = ", ".join(f"{status_title(Status(status))} {count}"
                        for status, count in report.backlog.items()) or "0"
    rows.append((_("Open at the end:"), backlog))
    width = max(len(label) for label, _value in rows)
    return [f"{label.ljust(width)}  {value}" for label, value in rows]


def _medians(median: timedelta | None, p90: timedelta | None, count: int) -> str:
    """A median and 90th percentile, with how many tickets they are of."""
    return ngettext("median {median}, 90% {p90} ({count} ticket)",
                    "median {median}, 90% {p90} ({count} tickets)", count).format(
        median=duration(median), p90=duration(p90), count=count)


def _table(rows: list[tuple[str, Figures]]) -> list[str]:
    """One line per agent or queue: closed, medians, SLA compliance, CSAT."""
    header = ["", _("opened"), _("closed"), _("1st resp."), _("resol."), "SLA", "CSAT"]
    shown = rows[:MAX_ROWS]
    lines = [[_short(label), str(figures.opened), str(figures.closed),
              duration(figures.first_response_median), duration(figures.resolution_median),
              percent(figures.compliance), csat(figures)] for label, figures in shown]
    widths = [max(len(row[column]) for row in [header, *lines]) for column in range(len(header))]
    text = [_line(header, widths), *(_line(row, widths) for row in lines)]
    if len(rows) > MAX_ROWS:
        more = len(rows) - MAX_ROWS
        text.append(ngettext("… and {count} more row (frontdesk report has them all)",
                             "… and {count} more rows (frontdesk report has them all)",
                             more).format(count=more))
    return text


def _line(cells: list[str], widths: list[int]) -> str:
    first = cells[0].ljust(widths[0])
    rest = (cell.rjust(width) for cell, width in zip(cells[1:], widths[1:], strict=True))
    return " ".join([first, *rest]).rstrip()


def _short(name: str) -> str:
    return name if len(name) <= NAME_WIDTH else name[: NAME_WIDTH - 1] + "…"


def _agent_label(piece: Slice) -> str:
    return _("unassigned") if piece.key == NOBODY else piece.label


def _queue_label(policy: Policy, key: str, lang: str) -> str:
    try:
        return policy.queue(key).title.get(lang)
    except KeyError:
        return key
