"""The SLA clock end to end: warnings, breaches in General, the stopped clock, catch-up, /sla.

The desk runs with second-scale targets from a test `frontdesk.toml` (every level 24×7, so the
figures do not depend on the hour the tests run at) and a clock the tests move forward.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.policy_file import policy_from_toml
from bot.scheduler import Scheduler
from domain.policy import Policy
from domain.tickets import Ticket
from playground.telegram.bot_api import FakeBotAPI
from playground.telegram.bot_api_world import GENERAL
from storage.models import OutboxRow
from tests.e2e import flows
from tests.e2e.harness import DeskFactory, MovableClock, RunningDesk, press
from tests.fakes.plugin import ALICE_ID, STAFF_CHAT_ID

TEST_TOML = f"""
[desk]
supervisors = [{ALICE_ID}]
escalation_warn_at = 0.8
unassigned_after = "10m"

[sla.levels.premium]
title = "Premium"
calendar = "24x7"

[sla.levels.premium.targets]
critical = {{ first_response = "60s", resolution = "300s" }}
high = {{ first_response = "120s", resolution = "600s" }}
normal = {{ first_response = "240s", resolution = "1200s" }}
low = {{ first_response = "480s", resolution = "2400s" }}
special = {{ first_response = "30s", resolution = "120s" }}

[sla.levels.standard]
title = "Standard"
calendar = "24x7"

[sla.levels.standard.targets]
critical = {{ first_response = "50s", resolution = "500s" }}
high = {{ first_response = "100s", resolution = "1000s" }}
normal = {{ first_response = "200s", resolution = "2000s" }}
low = {{ first_response = "400s", resolution = "4000s" }}

[sla.levels.basic]
title = "Basic"
calendar = "24x7"

[sla.levels.basic.targets]
critical = {{ first_response = "100s", resolution = "1000s" }}
high = {{ first_response = "200s", resolution = "2000s" }}
normal = {{ first_response = "400s", resolution = "4000s" }}
low = {{ first_response = "800s", resolution = "8000s" }}
"""

# Standard · High (contract C-100): first response 100 s (warning at 80 s), resolution 1000 s.
FIRST_RESPONSE = timedelta(seconds=100)
BREACHED = "SLA breached"
WARNED = "SLA warning"


def sla_policy() -> Policy:
    """The desk's policy from the test frontdesk.toml."""
    return policy_from_toml(tomllib.loads(TEST_TOML), source="test frontdesk.toml")


@pytest.fixture
async def desk(make_desk: DeskFactory) -> RunningDesk:
    """A running desk with second-scale SLA targets (SQLite) and the test contracts."""
    return await make_desk(sla_policy())


@dataclass(frozen=True)
class Opened:
    """A ticket a test opened: its number, its topic and its card."""

    number: int
    thread_id: int
    card_id: int


async def open_ticket(api: FakeBotAPI, client_id: int, *, contract: str = "C-100",
                      urgency: str = "High", subject: str = "Login fails") -> Opened:
    """A new client files a request through the whole intake; wait for its topic and card."""
    number, thread_id = await flows.open_ticket(api, client_id, subject, contract,
                                                urgency=urgency)
    card = await flows.card_of(api, thread_id)
    assert f"#{number}" in card["text"]
    return Opened(number, thread_id, card["message_id"])


async def ticket_of(desk: RunningDesk, number: int) -> Ticket:
    """The ticket as the database has it now."""
    assert desk.app is not None
    async with desk.app.uow_factory() as uow:
        ticket = await uow.tickets.get(number)
    assert ticket is not None
    return ticket


async def ticks(desk: RunningDesk, count: int = 3) -> None:
    """Wait until the running scheduler has finished `count` more ticks."""
    assert desk.app is not None
    scheduler: Scheduler = desk.app.scheduler
    counter = getattr(scheduler, "_test_ticks", None)
    if counter is None:
        counter = _TickCounter(scheduler)
        scheduler._test_ticks = counter  # type: ignore[attr-defined]
    await counter.wait(count)


class _TickCounter:
    """Counts the ticks of a scheduler (wraps its `tick`) so tests can wait for them."""

    def __init__(self, scheduler: Scheduler) -> None:
        self.done = 0
        self.changed = asyncio.Condition()
        original = scheduler.tick

        async def counted() -> int:
            fired = await original()
            async with self.changed:
                self.done += 1
                self.changed.notify_all()
            return fired

        scheduler.tick = counted  # type: ignore[method-assign]

    async def wait(self, count: int) -> None:
        async with self.changed:
            target = self.done + count
            await asyncio.wait_for(self.changed.wait_for(lambda: self.done >= target), 10)


def general(api: FakeBotAPI, *words: str) -> list[dict[str, Any]]:
    """The bot's messages in the General topic that contain every word."""
    return [message for message in api.bot_messages(STAFF_CHAT_ID, GENERAL)
            if all(word in message.get("text", "") for word in words)]


def in_topic(api: FakeBotAPI, opened: Opened, *words: str) -> list[dict[str, Any]]:
    """The bot's messages in a ticket's topic that contain every word."""
    return [message for message in api.bot_messages(STAFF_CHAT_ID, opened.thread_id)
            if all(word in message.get("text", "") for word in words)]


def mentioned(message: dict[str, Any]) -> set[int]:
    """Who a message mentions (and so notifies) by user id."""
    return {entity["user"]["id"] for entity in message.get("entities", ())
            if entity["type"] == "text_mention"}


async def card_shows(api: FakeBotAPI, opened: Opened, *words: str) -> str:
    """Wait until the ticket's card (edited in place) shows every word; return its text."""
    def current() -> str | None:
        card = api.message(STAFF_CHAT_ID, opened.card_id)
        text = card.get("text", "") if card else ""
        return text if all(word in text for word in words) else None

    text: str = await api.wait_for(current, description=f"the card of #{opened.number} "
                                                        f"to show {words}")
    return text


async def pending_outbox(desk: RunningDesk) -> int:
    """How many deliveries are still waiting to be sent."""
    assert desk.app is not None
    async with desk.app.uow_factory() as uow:
        result = await uow.session.execute(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.state == "pending"))
        return int(result.scalar_one())


async def breach_first_response(api: FakeBotAPI, desk: RunningDesk, clock: MovableClock,
                                opened: Opened) -> dict[str, Any]:
    """Move the clock past the first-response deadline; return the breach message."""
    clock.advance(FIRST_RESPONSE + timedelta(seconds=1))
    return await api.wait_for_bot_message(STAFF_CHAT_ID, contains=f"{BREACHED}: the first "
                                          f"response of #{opened.number}", thread_id=GENERAL)


# --- escalation -----------------------------------------------------------------------------

async def test_warning_in_the_topic_at_80_percent_of_the_first_response_target(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    opened = await open_ticket(fake_api, 5101)
    ticket = await ticket_of(desk, opened.number)

    clock.advance(timedelta(seconds=85))
    warning = await fake_api.wait_for_bot_message(
        STAFF_CHAT_ID, contains=WARNED, thread_id=opened.thread_id)

    assert f"first response of #{opened.number}" in warning["text"]
    assert f"{ticket.first_response_due:%H:%M} UTC" in warning["text"]
    assert general(fake_api, BREACHED) == []  # 85 of 100 s: warned, not breached


async def test_breach_is_announced_in_general_to_the_supervisors_and_on_the_card(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    opened = await open_ticket(fake_api, 5102, subject="Invoices <b>lost</b> & more")

    breach = await breach_first_response(fake_api, desk, clock, opened)

    assert "Invoices <b>lost</b> & more" in breach["text"]  # escaped, shown literally
    assert ALICE_ID in mentioned(breach)
    await card_shows(fake_api, opened, "First response due", "BREACHED")
    history = await _history(desk, opened.number)
    assert [event.detail for event in history if event.kind == "breach"] == ["first_response"]


async def test_special_request_alerts_the_whole_staff_in_general_at_once(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    opened = await open_ticket(fake_api, 5103, contract="C-200", urgency="Special request",
                               subject="Production is down")

    alert = await fake_api.wait_for_bot_message(
        STAFF_CHAT_ID, contains=f"Special request #{opened.number}", thread_id=GENERAL)

    assert "Production is down" in alert["text"] and "Globex" in alert["text"]
    assert ALICE_ID in mentioned(alert)
    # A pin with notification is how a bot reaches every member of a group at once.
    await fake_api.wait_for(lambda: alert["message_id"] in fake_api.pinned(STAFF_CHAT_ID),
                            description="the special request pinned in the staff group")
    pin = fake_api.sent("pinChatMessage")[-1]
    assert not pin.params.get("disable_notification")
    ticket = await ticket_of(desk, opened.number)
    assert ticket.special
    assert ticket.first_response_due == ticket.created_at + timedelta(seconds=30)


async def test_ticket_nobody_takes_is_escalated_and_a_taken_one_is_not(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    left = await open_ticket(fake_api, 5104, subject="Nobody looks at me")
    taken = await open_ticket(fake_api, 5105, subject="Alice has this")
    card = fake_api.message(STAFF_CHAT_ID, taken.card_id)
    assert card is not None
    press(fake_api, ALICE_ID, card, "Take")
    await card_shows(fake_api, taken, "Assignee: Alice")

    clock.advance(timedelta(minutes=10, seconds=1))
    escalation = await fake_api.wait_for_bot_message(
        STAFF_CHAT_ID, contains=f"#{left.number} (", thread_id=GENERAL,
        predicate=lambda message: "no assignee" in message["text"])
    await ticks(desk)

    assert ALICE_ID in mentioned(escalation)
    assert general(fake_api, "no assignee", f"#{taken.number} ") == []
    assert len(general(fake_api, "no assignee")) == 1


# --- the stopped clock ----------------------------------------------------------------------

async def test_clock_stops_while_waiting_for_the_client_and_deadlines_move_by_the_wait(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    client = 5106
    opened = await open_ticket(fake_api, client)
    before = await ticket_of(desk, opened.number)
    card = fake_api.message(STAFF_CHAT_ID, opened.card_id)
    assert card is not None
    press(fake_api, ALICE_ID, card, "Waiting for client")
    await card_shows(fake_api, opened, "Status: Waiting for client")

    clock.advance(timedelta(seconds=500))  # past both 80 % and 100 % of the first response
    await ticks(desk)
    assert in_topic(fake_api, opened, WARNED) == [] and general(fake_api, BREACHED) == []

    fake_api.user_sends(client, "Here is the log you asked for.")
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="Here is the log",
                                        thread_id=opened.thread_id)
    await card_shows(fake_api, opened, "Status: In progress")
    after = await ticket_of(desk, opened.number)

    waited = after.paused_business
    assert timedelta(seconds=500) <= waited < timedelta(seconds=530)
    assert after.paused_since is None and after.paused_total == waited
    assert after.first_response_due == before.created_at + FIRST_RESPONSE + waited
    assert after.resolution_due == before.created_at + timedelta(seconds=1000) + waited
    await card_shows(fake_api, opened, f"{after.first_response_due:%H:%M} UTC")
    moves = [(event.old, event.new) for event in await _history(desk, opened.number)
             if event.kind == "status"]
    assert moves == [("new", "waiting_client"), ("waiting_client", "in_progress")]

    # The clock runs again from where it stopped: 85 more seconds reach the warning ...
    clock.advance(timedelta(seconds=85))
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains=WARNED,
                                        thread_id=opened.thread_id)
    assert general(fake_api, BREACHED) == []
    # ... and 16 more the breach, once.
    clock.advance(timedelta(seconds=16))
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains=BREACHED, thread_id=GENERAL)
    await ticks(desk)
    assert len(general(fake_api, BREACHED, f"#{opened.number} ")) == 1


async def test_breach_before_a_wait_is_not_announced_again_when_the_clock_restarts(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    client = 5107
    opened = await open_ticket(fake_api, client)
    await breach_first_response(fake_api, desk, clock, opened)
    card = fake_api.message(STAFF_CHAT_ID, opened.card_id)
    assert card is not None
    press(fake_api, ALICE_ID, card, "Waiting for client")
    await card_shows(fake_api, opened, "Status: Waiting for client")

    clock.advance(timedelta(seconds=60))
    fake_api.user_sends(client, "Back again.")
    await card_shows(fake_api, opened, "Status: In progress")
    await ticks(desk, 5)

    assert len(general(fake_api, BREACHED, f"#{opened.number} ")) == 1
    assert len(in_topic(fake_api, opened, WARNED, "first response")) == 1


# --- exactly once ---------------------------------------------------------------------------

async def test_deadline_passed_while_the_bot_was_down_is_announced_on_start_once(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    opened = await open_ticket(fake_api, 5108)
    await desk.stop()

    clock.advance(timedelta(seconds=150))
    await desk.start()

    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains=WARNED,
                                        thread_id=opened.thread_id)
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains=BREACHED, thread_id=GENERAL)
    await card_shows(fake_api, opened, "BREACHED")
    await ticks(desk, 5)
    assert len(general(fake_api, BREACHED, f"#{opened.number} ")) == 1
    assert len(in_topic(fake_api, opened, WARNED)) == 1


async def test_no_alert_is_repeated_after_many_ticks_and_a_restart(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    opened = await open_ticket(fake_api, 5109)
    await breach_first_response(fake_api, desk, clock, opened)
    await ticks(desk, 5)

    await desk.restart()
    await ticks(desk, 5)
    assert await pending_outbox(desk) == 0

    assert len(general(fake_api, BREACHED, f"#{opened.number} ")) == 1
    assert len(in_topic(fake_api, opened, WARNED, "first response")) == 1
    history = await _history(desk, opened.number)
    assert len([event for event in history if event.kind == "breach"]) == 1


async def test_alert_that_fails_stays_due_and_does_not_hold_back_the_others(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    broken = await open_ticket(fake_api, 5113, subject="Breaks the scheduler")
    healthy = await open_ticket(fake_api, 5114, subject="Fine")
    assert desk.app is not None
    scheduler = desk.app.scheduler
    fire = scheduler.desk.fire

    async def failing(uow: Any, ticket: Ticket, kind: str) -> None:
        if ticket.number == broken.number:
            raise RuntimeError("a bad ticket")
        await fire(uow, ticket, kind)

    scheduler.desk.fire = failing  # type: ignore[method-assign]
    clock.advance(FIRST_RESPONSE + timedelta(seconds=1))
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains=f"#{healthy.number} (",
                                        thread_id=GENERAL)
    await ticks(desk)
    assert general(fake_api, BREACHED, f"#{broken.number} ") == []

    scheduler.desk.fire = fire  # type: ignore[method-assign]
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains=f"#{broken.number} (",
                                        thread_id=GENERAL)
    await ticks(desk)
    assert len(general(fake_api, BREACHED, f"#{broken.number} ")) == 1
    assert len(general(fake_api, BREACHED, f"#{healthy.number} ")) == 1


# --- /sla -----------------------------------------------------------------------------------

async def test_sla_command_lists_the_next_deadlines_nearest_first_with_overdue_marked(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    standard = await open_ticket(fake_api, 5110, subject="Reports are slow")
    premium = await open_ticket(fake_api, 5111, contract="C-200", urgency="Critical",
                                subject="Checkout <fails>")
    parked = await open_ticket(fake_api, 5112, subject="Waiting on the client")
    card = fake_api.message(STAFF_CHAT_ID, parked.card_id)
    assert card is not None
    press(fake_api, ALICE_ID, card, "Waiting for client")
    await card_shows(fake_api, parked, "Status: Waiting for client")

    fake_api.user_sends(ALICE_ID, "/sla", chat_id=STAFF_CHAT_ID)
    listing = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="SLA deadlines",
                                                  thread_id=GENERAL)
    lines = _ticket_lines(listing["text"])
    assert [number for number, _ in lines] == [premium.number, standard.number]
    premium_ticket = await ticket_of(desk, premium.number)
    assert "Checkout <fails>" in lines[0][1] and "first response" in lines[0][1]
    assert f"{premium_ticket.first_response_due:%H:%M} UTC" in lines[0][1]
    assert "overdue" not in listing["text"]

    clock.advance(timedelta(seconds=61))  # the premium ticket's first response is late
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains=f"#{premium.number} ",
                                        thread_id=GENERAL,
                                        predicate=lambda message: BREACHED in message["text"])
    fake_api.user_sends(ALICE_ID, "We are looking into it.", chat_id=STAFF_CHAT_ID,
                        thread_id=standard.thread_id)  # the standard one gets its answer
    await fake_api.wait_for_bot_message(5110, contains="We are looking into it")

    fake_api.user_sends(ALICE_ID, "/sla", chat_id=STAFF_CHAT_ID)
    listing = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="SLA deadlines",
                                                  thread_id=GENERAL)
    lines = _ticket_lines(listing["text"])
    assert [number for number, _ in lines] == [premium.number, standard.number]
    assert "overdue" in lines[0][1] and "first response" in lines[0][1]
    assert "overdue" not in lines[1][1] and "resolution" in lines[1][1]


async def test_sla_command_with_nothing_running_says_so(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    fake_api.user_sends(ALICE_ID, "/sla", chat_id=STAFF_CHAT_ID)
    reply = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, thread_id=GENERAL)
    assert "No open ticket" in reply["text"]


def _ticket_lines(text: str) -> list[tuple[int, str]]:
    """(number, line) for each ticket line of a /sla listing, in order."""
    found = []
    for line in text.splitlines():
        match = re.search(r"#(\d+)", line)
        if match:
            found.append((int(match.group(1)), line))
    return found


async def _history(desk: RunningDesk, number: int) -> list[Any]:
    assert desk.app is not None
    async with desk.app.uow_factory() as uow:
        return await uow.tickets.history(number)

