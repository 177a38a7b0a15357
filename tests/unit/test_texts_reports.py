"""The `/stats` texts: compact tables in <pre>, escaped, in English and Russian."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from html import unescape

import pytest

from bot.i18n import make_i18n
from domain.policy import default_policy
from domain.reports import Slice
from handlers.texts_reports import MAX_ROWS, duration, stats_text
from tests.unit.test_reports import week_report


def render(lang: str, **changes: object) -> str:
    i18n = make_i18n()
    report = replace(week_report(), **changes)
    with i18n.context(), i18n.use_locale(lang):
        return stats_text(report, default_policy(), lang)


@pytest.mark.parametrize(("minutes", "text"), [
    (0, "0m"), (45, "45m"), (60, "1h"), (190, "3h10m"), (24 * 60, "1d"), (52 * 60 + 5, "2d4h")])
def test_durations_at_a_glance(minutes: int, text: str) -> None:
    assert duration(timedelta(minutes=minutes)) == text
    assert duration(None) == "—"


def test_the_summary_and_the_tables_in_english() -> None:
    text = render("en")
    assert text.startswith("📊 <b>Figures for 2026-10-05 – 2026-10-11</b> (Moscow time)")
    blocks = [unescape(block) for block in re.findall(r"<pre>(.*?)</pre>", text, re.S)]
    summary, agents, queues = blocks
    assert "Opened:               5" in summary
    assert "First response:       median 1h, 90% 2h (3 tickets)" in summary
    assert "Resolution:           median 1d20h, 90% 3d12h (2 tickets)" in summary
    assert "SLA, first response:  75% met (3 of 4)" in summary
    assert "CSAT:                 3.5 (2 ratings)" in summary
    assert "Open at the end:      New 1, In progress 1, Waiting for client 1, Reopened 1" \
        in summary
    assert agents.splitlines()[0].split() == ["opened", "closed", "1st", "resp.", "resol.",
                                              "SLA", "CSAT"]
    assert agents.splitlines()[1].split() == ["Alice", "2", "1", "1h30m", "4h", "75%", "5.0"]
    assert agents.splitlines()[3].split()[0] == "unassigned"
    assert queues.splitlines()[1].split()[0] == "Development"


def test_names_are_escaped_and_long_lists_cut() -> None:
    report = week_report()
    agents = tuple(Slice(str(n), f"<b>Agent {n:02d}</b>", report.total) for n in range(20))
    text = render("en", by_agent=agents)
    assert "<b>Agent" not in text.split("By agent")[1]
    assert "&lt;b&gt;Agent 00" in text
    assert f"… and {20 - MAX_ROWS} more rows (frontdesk report has them all)" in text


def test_in_russian() -> None:
    text = render("ru")
    assert "Статистика за 2026-10-05 – 2026-10-11" in text
    assert "По исполнителям" in text and "По очередям" in text
    assert "медиана 1h, 90% 2h (3 заявки)" in text and "75% в срок (3 из 4)" in text
    assert "не назначено" in text
