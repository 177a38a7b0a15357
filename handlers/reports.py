"""`/stats [period]` in the staff group: the period's figures as text and as a chart."""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import CommandObject
from aiogram.types import BufferedInputFile, Message
from aiogram.utils.i18n import gettext as _

from domain.desk import Desk
from domain.reports import BadPeriod, Report, fetch_rows, parse_period, report_from
from handlers import charts, texts_reports
from handlers.filters import Command, StaffChat
from handlers.ports import HandlerUnitOfWork


async def stats(message: Message, command: CommandObject, uow: HandlerUnitOfWork,
                desk: Desk) -> None:
    """/stats [today|week|month|2026-10|2026-10-01..2026-10-15]: figures and a chart."""
    policy, now = desk.policy, desk.clock.now()
    zone = policy.staff_timezone
    try:
        period = parse_period(command.args, texts_reports.local_today(now, zone), zone)
    except BadPeriod as error:
        await message.reply(texts_reports.bad_period(error))
        return
    rows = await fetch_rows(uow.reports, period)
    # the arithmetic and the drawing are CPU work: off the event loop, other chats go on
    report = await asyncio.to_thread(report_from, rows, policy, period, now)
    await message.reply(texts_reports.stats_text(report, policy, policy.staff_language))
    png = await asyncio.to_thread(charts.stats_chart, report, _chart_labels(report))
    await message.reply_photo(BufferedInputFile(png, filename="stats.png"),
                              caption=_("Tickets opened and closed each day, and the share of "
                                        "SLA targets met each day."))


def _chart_labels(report: Report) -> charts.ChartLabels:
    return charts.ChartLabels(
        title=_("Figures for {period}").format(
            period=texts_reports.period_title(report.period)),
        opened=_("opened"), closed=_("closed"), tickets=_("tickets"),
        first_response=_("first response"), resolution=_("resolution"),
        compliance=_("SLA met"))


def make_router() -> Router:
    """A fresh router of this module for each dispatcher."""
    router = Router(name="reports")
    router.message.filter(StaffChat())
    router.message.register(stats, Command("stats"))
    return router
