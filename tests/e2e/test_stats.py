"""`/stats` in the staff group and `/forget` in the client's chat, end to end."""

from __future__ import annotations

import struct
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from domain.policy import default_policy
from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.flows import (
    CLIENT,
    card_shows,
    open_ticket,
    opened,
    press_on_card,
)
from tests.e2e.harness import DeskFactory, RunningDesk, press, test_policy
from tests.fakes.plugin import ALICE_ID, STAFF_CHAT_ID

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def edited_to(api: FakeBotAPI, message: dict[str, Any], words: str) -> None:
    """Wait until the bot edited `message` to say `words`."""
    def edited() -> bool:
        now = api.message(message["chat"]["id"], message["message_id"])
        return now is not None and words in now.get("text", "")

    await api.wait_for(edited, description=f"the message edited to {words!r}")


async def test_stats_answers_with_a_table_and_a_png_chart(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Take")
    await card_shows(fake_api, ticket, "Alice")
    fake_api.user_sends(ALICE_ID, "Looking into it", chat_id=STAFF_CHAT_ID,
                        thread_id=ticket.thread)
    await fake_api.wait_for_bot_message(CLIENT, contains="Looking into it")
    fake_api.user_sends(ALICE_ID, "/stats today", chat_id=STAFF_CHAT_ID)
    text = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="Figures for")
    # the staff zone defaults to the zone of the desk's calendars: Moscow
    today = datetime.now(ZoneInfo("Europe/Moscow")).date().isoformat()
    body = text["text"]
    assert f"Figures for {today}" in body
    lines = body.splitlines()
    assert any(line.split() == ["Opened:", "1"] for line in lines), body
    assert any(line.startswith("First response:") and "(1 ticket)" in line for line in lines), body
    assert "By agent" in body and "Alice" in body and "By queue" in body
    assert any(entity["type"] == "pre" for entity in text.get("entities", []))
    chart = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="each day")
    # the caption says what the chart shows, not a claim that the targets were met
    assert chart["caption"] == ("Tickets opened and closed each day, and the share of SLA "
                                "targets met each day.")
    png = fake_api.file_content(chart["photo"][-1]["file_id"])
    assert png.startswith(PNG_SIGNATURE)
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (1080, 1200)  # tall, for a phone held upright


RESOLVED_THIS_WEEK = {
    "en": ("SLA, first response:", "100% met (1 of 1)", "SLA, resolution:",
           "100% met (1 of 1)", "(Moscow time)"),
    "ru": ("SLA, первый ответ:", "100% в срок (1 из 1)", "SLA, решение:",
           "100% в срок (1 из 1)", "(МСК)"),
}


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_stats_week_counts_a_ticket_resolved_this_week_though_due_later(
        fake_api: FakeBotAPI, make_desk: DeskFactory, language: str) -> None:
    await make_desk(test_policy(default_policy(), staff_language=language))
    _number, thread = await open_ticket(fake_api, CLIENT, urgency="Low")  # resolution: 10d
    fake_api.user_sends(ALICE_ID, "Fixed: clear the cache", chat_id=STAFF_CHAT_ID,
                        thread_id=thread)
    await fake_api.wait_for_bot_message(CLIENT, contains="clear the cache")
    fake_api.user_sends(ALICE_ID, "/status resolved", chat_id=STAFF_CHAT_ID, thread_id=thread)
    await fake_api.wait_for_bot_message(CLIENT, contains="Does everything work")

    fake_api.user_sends(ALICE_ID, "/stats week", chat_id=STAFF_CHAT_ID)

    first_label, first, resolution_label, resolution, zone = RESOLVED_THIS_WEEK[language]
    text = (await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="📊"))["text"]
    lines = text.splitlines()
    assert zone in lines[0]
    assert any(line.startswith(first_label) and line.endswith(first) for line in lines), text
    assert any(line.startswith(resolution_label) and line.endswith(resolution)
               for line in lines), text


async def test_stats_explains_a_period_it_does_not_understand(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    fake_api.user_sends(ALICE_ID, "/stats last-tuesday", chat_id=STAFF_CHAT_ID)
    answer = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="I do not understand")
    assert "last-tuesday" in answer["text"] and "2026-10-01..2026-10-15" in answer["text"]
    assert not fake_api.sent("sendPhoto")


@pytest.mark.parametrize("notice_refused_once", [False, True])
async def test_forget_erases_the_client_after_the_button_and_tells_the_staff(
        fake_api: FakeBotAPI, desk: RunningDesk, notice_refused_once: bool) -> None:
    ticket = await opened(fake_api)
    await card_shows(fake_api, ticket, "Carol", "Login fails")
    fake_api.user_sends(CLIENT, "/forget")
    question = await fake_api.wait_for_bot_message(CLIENT, contains="Erase your data?")
    assert f"#{ticket.number}" in question["text"]  # still open: no more answers
    if notice_refused_once:
        # The notice is recorded with the erasure and sent by the outbox: Telegram failing
        # it once neither undoes the erasure the client is told of nor loses the notice.
        fake_api.fail_next("sendMessage", 500, chat_id=STAFF_CHAT_ID)
    press(fake_api, CLIENT, question, "Yes")
    await edited_to(fake_api, question, "Done: your data is erased")
    notice = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="data erased")
    assert f"#{ticket.number}" in notice["text"] and "Carol" not in notice["text"]
    card = await card_shows(fake_api, ticket, f"#{ticket.number} · —")  # erased subject
    assert "Carol" not in card and "Login fails" not in card
    assert not any("went wrong" in answer.get("text", "")
                   for answer in fake_api.bot_messages(CLIENT))
    async with desk.app.uow_factory() as uow:  # type: ignore[union-attr]
        assert await uow.clients.by_telegram(CLIENT) is None  # erased, and it stayed so
    fake_api.user_sends(ALICE_ID, "Are you there?", chat_id=STAFF_CHAT_ID,
                        thread_id=ticket.thread)
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="Not delivered",
                                        thread_id=ticket.thread)


async def test_forget_can_be_called_off(fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    fake_api.add_user(CLIENT, "Carol", username="carol", language_code="en")
    fake_api.user_sends(CLIENT, "/forget")
    question = await fake_api.wait_for_bot_message(CLIENT, contains="Erase your data?")
    press(fake_api, CLIENT, question, "No")
    await edited_to(fake_api, question, "Nothing was erased")
    async with desk.app.uow_factory() as uow:  # type: ignore[union-attr]
        client = await uow.clients.by_telegram(CLIENT)
    assert client is not None and client.name == "Carol"
