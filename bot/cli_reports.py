"""`frontdesk report` (the figures as CSV, JSON or a table) and `frontdesk client forget`."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import date, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.policy_file import load_policy
from bot.settings import load_config_path
from domain.clock import SystemClock
from domain.contracts import spreadsheet_cell
from domain.policy import Policy
from domain.privacy import Erasure, refreshed_cards
from domain.reports import BadPeriod, Figures, Report, compile_report, parse_period
from handlers.texts import numbers
from handlers.texts_reports import duration, percent
from storage.uow import UnitOfWorkFactory

COMMANDS = ("report", "client")
EXIT_DATA = 1
COLUMNS = (
    "slice", "key", "label", "opened", "closed", "declined", "reopened",
    "first_response_median_s", "first_response_p90_s", "first_responses",
    "resolution_median_s", "resolution_p90_s", "resolutions",
    "first_response_met", "first_response_due", "first_response_pct",
    "resolution_met", "resolution_due", "resolution_pct", "sla_pct", "csat", "ratings",
    "deflected",
)


def add_commands(commands: Any) -> None:
    """Add `report` and `client` to the `frontdesk` subcommands."""
    report = commands.add_parser(
        "report", help="the figures of a period (CSV, JSON or a table) on stdout",
        description="Tickets opened/closed/reopened, first response and resolution times "
                    "(business time), SLA compliance, CSAT — the figures of /stats.")
    report.add_argument("--from", dest="first", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="the first day (staff time zone; default: this month's first)")
    report.add_argument("--to", dest="last", type=date.fromisoformat, metavar="YYYY-MM-DD",
                        help="the last day, included (default: this month's last)")
    report.add_argument("--format", choices=("csv", "json", "table"), default="table")
    report.add_argument("--by", choices=("agent", "queue", "day"),
                        help="one row per agent, queue or day (default: the desk as a whole)")
    client = commands.add_parser("client", help="clients' personal data")
    actions = client.add_subparsers(dest="client_command", required=True, metavar="ACTION")
    forget = actions.add_parser(
        "forget", help="erase a client's personal data and message texts",
        description="Erase the name, username, Telegram account, remembered contract and the "
                    "texts of the client's requests, events and rating comments. The figures "
                    "stay. The client is named by their Telegram user id, or by a ticket.")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("telegram_id", nargs="?", type=int, metavar="ID",
                     help="the client's Telegram user id")
    who.add_argument("--ticket", type=int, metavar="NUMBER",
                     help="find the client by one of their tickets instead")
    forget.add_argument("--yes", action="store_true", help="do not ask for confirmation")


async def dispatch(args: argparse.Namespace,
                   open_database: Callable[[], AbstractAsyncContextManager[UnitOfWorkFactory]]
                   ) -> int:
    """Run `report` or `client forget` on the database `open_database` opens."""
    path, explicit = load_config_path(os.environ)
    policy = load_policy(path, explicit=explicit)
    async with open_database() as uow_factory:
        if args.command == "report":
            return await _report(args, policy, uow_factory)
        return await _forget(args, uow_factory)


# -- report -----------------------------------------------------------------------------------

async def _report(args: argparse.Namespace, policy: Policy,
                  uow_factory: UnitOfWorkFactory) -> int:
    now = SystemClock().now()
    today = now.astimezone(ZoneInfo(policy.staff_timezone)).date()
    month = parse_period("month", today, policy.staff_timezone)  # the default: this month
    first, last = args.first or month.first, args.last or month.last
    try:
        period = parse_period(f"{first}..{last}", first, policy.staff_timezone)
    except BadPeriod:
        print("frontdesk: --to must not be before --from, and a report spans at most three "
              "years", file=sys.stderr)
        return EXIT_DATA
    async with uow_factory() as uow:
        report = await compile_report(uow.reports, policy, period, now)
    rows = report_rows(report, args.by)
    writers: dict[str, Callable[[Report, list[dict[str, Any]], TextIO], None]] = {
        "csv": write_csv, "json": write_json, "table": write_table}
    writers[args.format](report, rows, sys.stdout)
    return 0


def figure_row(slice_name: str, key: str, label: str, figures: Figures,
               deflected: int | None) -> dict[str, Any]:
    """One slice's figures as flat, machine-readable values (durations in seconds)."""
    return {
        "slice": slice_name, "key": key, "label": label, "opened": figures.opened,
        "closed": figures.closed, "declined": figures.declined, "reopened": figures.reopened,
        "first_response_median_s": _seconds(figures.first_response_median),
        "first_response_p90_s": _seconds(figures.first_response_p90),
        "first_responses": figures.first_responses,
        "resolution_median_s": _seconds(figures.resolution_median),
        "resolution_p90_s": _seconds(figures.resolution_p90),
        "resolutions": figures.resolutions,
        "first_response_met": figures.first_response_met,
        "first_response_due": figures.first_response_due,
        "first_response_pct": _round(figures.first_response_compliance),
        "resolution_met": figures.resolution_met, "resolution_due": figures.resolution_due,
        "resolution_pct": _round(figures.resolution_compliance),
        "sla_pct": _round(figures.compliance), "csat": _round(figures.csat, 2),
        "ratings": figures.ratings, "deflected": deflected,
    }


def report_rows(report: Report, by: str | None) -> list[dict[str, Any]]:
    """The rows of `--by` (or the one row of the whole desk)."""
    if by == "agent":
        return [figure_row("agent", piece.key, piece.label, piece.figures, None)
                for piece in report.by_agent]
    if by == "queue":
        return [figure_row("queue", piece.key, piece.label, piece.figures, None)
                for piece in report.by_queue]
    if by == "day":
        return [figure_row("day", day.isoformat(), day.isoformat(), figures,
                           report.deflected_by_day.get(day, 0))
                for day, figures in report.by_day]
    return [figure_row("total", "", "all", report.total, report.deflected)]


def write_csv(report: Report, rows: list[dict[str, Any]], out: TextIO) -> None:
    """A header and one line per row; empty cells where there is no value."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else
                         spreadsheet_cell(value) if isinstance(value, str) else value
                         for key, value in row.items()})


def write_json(report: Report, rows: list[dict[str, Any]], out: TextIO) -> None:
    """The period, the whole desk, the backlog at the end and the rows, as one object."""
    period = report.period
    document = {
        "period": {"from": period.first.isoformat(), "to": period.last.isoformat(),
                   "timezone": period.zone},
        "total": figure_row("total", "", "all", report.total, report.deflected),
        "backlog": report.backlog, "rows": rows,
    }
    json.dump(document, out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_table(report: Report, rows: list[dict[str, Any]], out: TextIO) -> None:
    """The rows aligned for people: counts, medians, SLA compliance, CSAT."""
    period = report.period
    out.write(f"Figures {period.first} .. {period.last} ({period.zone})\n")
    header = ("", "opened", "closed", "reopened", "declined", "1st resp", "resolution",
              "SLA met", "CSAT")
    lines = [header, *((str(row["label"] or "unassigned"), str(row["opened"]),
                        str(row["closed"]), str(row["reopened"]), str(row["declined"]),
                        _duration(row["first_response_median_s"]),
                        _duration(row["resolution_median_s"]), percent(row["sla_pct"]),
                        "—" if row["csat"] is None else f"{row['csat']:.2f}")
                       for row in rows)]
    widths = [max(len(line[column]) for line in lines) for column in range(len(header))]
    for line in lines:
        cells = [cell.rjust(width) for cell, width in zip(line[1:], widths[1:], strict=True)]
        out.write("  ".join([line[0].ljust(widths[0]), *cells]).rstrip() + "\n")
    if report.backlog:
        out.write("open at the end: " + ", ".join(f"{status} {count}" for status, count
                                                  in report.backlog.items()) + "\n")


def _seconds(value: Any) -> int | None:
    return None if value is None else round(value.total_seconds())


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def _duration(seconds: int | None) -> str:
    return duration(None if seconds is None else timedelta(seconds=seconds))


# -- client forget ----------------------------------------------------------------------------

async def _forget(args: argparse.Namespace, uow_factory: UnitOfWorkFactory) -> int:
    async with uow_factory() as uow:
        if args.ticket is not None:
            client_id = await uow.privacy.by_ticket(args.ticket)
            missing = f"there is no ticket #{args.ticket}"
        else:
            client_id = await uow.privacy.by_telegram(args.telegram_id)
            missing = f"no client has the Telegram id {args.telegram_id}"
        if client_id is None:
            print(f"frontdesk: {missing}", file=sys.stderr)
            return EXIT_DATA
        client = await uow.clients.get(client_id)
        found = await uow.privacy.preview(client_id)
    assert client is not None and found is not None
    print(f"Client {client_id}: {client.name or '(no name)'}"
          + (f" @{client.username}" if client.username else "")
          + (f", forgotten already on {found.forgotten_before:%Y-%m-%d}"
             if found.forgotten_before else ""))
    print(f"  tickets: {numbers(found.tickets) or 'none'}"
          + (f" (open: {numbers(found.open_tickets)})" if found.open_tickets else ""))
    if not args.yes and not _confirmed():
        print("frontdesk: nothing was erased")
        return EXIT_DATA
    now = SystemClock().now()
    async with uow_factory() as uow:
        erasure = await uow.privacy.forget(client_id, now)
        assert erasure is not None
        for card in refreshed_cards(erasure):
            await uow.outbox.put(card, now)
        await uow.commit()
    _print_erasure(erasure)
    return 0


def _confirmed() -> bool:
    if not sys.stdin.isatty():
        print("frontdesk: not a terminal — add --yes to erase without asking", file=sys.stderr)
        return False
    return input("Erase this client's personal data and texts? [y/N] ").strip().lower() in (
        "y", "yes")


def _print_erasure(erasure: Erasure) -> None:
    print(f"frontdesk: client {erasure.client_id} is forgotten; erased:")
    print("  the name, username, Telegram account, remembered contract and time zone")
    print(f"  subjects and descriptions of {erasure.ticket_texts} ticket(s)"
          + (f": {numbers(erasure.tickets)}" if erasure.tickets else ""))
    print(f"  texts of {erasure.event_texts} event(s), {erasure.comments} rating comment(s), "
          f"{erasure.deliveries} delivered message(s)")
    print(f"  {erasure.links} message pair(s) and {erasure.states} conversation state(s)")
    print("kept: the tickets' numbers, times, statuses and scores (the figures)")
    if erasure.open_tickets:
        print(f"still open, no longer answerable — close them: {numbers(erasure.open_tickets)}")


