"""Deadlines and times as people read them: working days, the reader's zone, relative days."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from domain.policy import default_policy
from tests.e2e.flows import card_shows, opened
from tests.e2e.harness import DeskFactory, MovableClock, test_policy
from tests.fakes.bot_api import FakeBotAPI

MSK = ZoneInfo("Europe/Moscow")


def set_clock(clock: MovableClock, moment: datetime) -> None:
    """Move the desk's clock to `moment` (timers stay real)."""
    clock.advance(moment - clock.now())


async def test_high_ticket_opened_monday_evening_is_due_in_three_working_days(
        fake_api: FakeBotAPI, make_desk: DeskFactory, clock: MovableClock) -> None:
    # The standard level works Mon-Fri 9-18 Moscow time; a High ticket: first response 2h,
    # resolution 3d. Opened on Monday 2026-12-14 at 19:00, its clock starts on Tuesday at 9.
    set_clock(clock, datetime(2026, 12, 14, 19, tzinfo=MSK))
    await make_desk(test_policy(default_policy(), staff_timezone="Europe/Moscow"))

    ticket = await opened(fake_api)

    card = await card_shows(fake_api, ticket, "Resolution due:")
    assert "First response due: 2026-12-15 11:00" in card
    # three working days: Tue, Wed, Thu (not 72 working hours, eight days later)
    assert "Resolution due: 2026-12-17 18:00" in card
