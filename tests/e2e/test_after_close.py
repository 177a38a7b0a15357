"""What a client meets after a ticket is resolved or closed: coming back, reopening, the topic."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.flows import (
    CLIENT,
    Opened,
    answer_to,
    asked,
    bot_says_in_topic,
    card_shows,
    opened,
    press_on_card,
    topic_closed,
    topic_of,
)
from tests.e2e.harness import MovableClock, RunningDesk, press
from tests.fakes.plugin import STAFF_CHAT_ID


def labels(message: dict[str, Any]) -> list[str]:
    """The labels of a message's inline buttons."""
    return [button["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", [])
            for button in row]


async def test_still_a_problem_on_a_resolved_ticket_leaves_its_open_topic_alone(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket = await opened(fake_api)
    press_on_card(fake_api, ticket, "Resolved")
    question = await fake_api.wait_for_bot_message(CLIENT, contains="Does everything work")

    await answer_to(fake_api, press(fake_api, CLIENT, question, "still a problem"))

    await card_shows(fake_api, ticket, "Status: Reopened")
    await bot_says_in_topic(fake_api, ticket, "is reopened")
    await topic_closed(fake_api, ticket, closed=False)
    # The topic was never closed: Telegram would refuse to reopen it (TOPIC_NOT_MODIFIED).
    assert [call for call in fake_api.calls if call.method == "reopenForumTopic"] == []

    press_on_card(fake_api, ticket, "Close")
    await topic_closed(fake_api, ticket)
    fake_api.user_sends(CLIENT, f"#{ticket.number} it is back")
    await bot_says_in_topic(fake_api, ticket, "it is back")
    await topic_closed(fake_api, ticket, closed=False)  # a closed topic is reopened
    assert [call.ok for call in fake_api.calls if call.method == "reopenForumTopic"] == [True]
    assert fake_api.topic(STAFF_CHAT_ID, ticket.thread)["closed"] is False


# --- a message after the close (SPEC §3: no client message is ever dropped) --------------------

ASK = {"en": "Request #{n} (Login fails) is closed. Reopen it with your message, or start a new "
             "request?",
       "ru": "Обращение #{n} (Login fails) закрыто. Открыть его снова с вашим сообщением или "
             "создать новое обращение?"}
REOPEN_LABEL = {"en": "🔄 Reopen #{n}", "ru": "🔄 Открыть снова #{n}"}
NEW_LABEL = {"en": "📝 New request", "ru": "📝 Новое обращение"}
REOPENED = {"en": "🔄 Request #{n} is reopened; your message is with the support team.",
            "ru": "🔄 Обращение #{n} снова открыто; ваше сообщение передано в поддержку."}
COME_BACK = {"en": "If the problem comes back within 7 days, reply to this message or just "
                   "write here: the request reopens.",
             "ru": "Если проблема вернётся в течение 7 дней, ответьте на это сообщение или "
                   "просто напишите сюда — обращение откроется снова."}


async def closed_ticket(api: FakeBotAPI, language: str) -> tuple[Opened, dict[str, Any]]:
    """Carol's request, closed by an agent; she reads the bot in `language`. Return the ticket
    and the closing notice."""
    ticket = await opened(api)
    if language != "en":
        api.user_sends(CLIENT, "/lang")
        choice = await api.wait_for_bot_message(CLIENT, contains="Choose your language")
        press(api, CLIENT, choice, "Русский")
        await api.wait_for(lambda: "Русский ✅" in (api.message(
            CLIENT, choice["message_id"]) or {}).get("text", ""), description="the choice")
    press_on_card(api, ticket, "Close")
    await topic_closed(api, ticket)
    notice = await api.wait_for_bot_message(CLIENT, contains=f"#{ticket.number}")
    return ticket, notice


async def description_prompt(api: FakeBotAPI) -> dict[str, Any]:
    """Carol goes through a new request's first steps; return the description prompt."""
    confirm = await api.wait_for_bot_message(CLIENT, contains="Is this request about")
    press(api, CLIENT, confirm, "Yes")
    kinds = await asked(api, CLIENT, "What kind of request")
    press(api, CLIENT, kinds, "Failure")
    urgencies = await asked(api, CLIENT, "How urgent")
    press(api, CLIENT, urgencies, "High")
    await api.wait_for_bot_message(CLIENT, contains="subject")
    api.user_sends(CLIENT, "Login fails again")
    return await api.wait_for_bot_message(CLIENT, contains="Describe the problem")


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_a_plain_message_after_the_close_is_kept_and_can_reopen_the_request(
        fake_api: FakeBotAPI, desk: RunningDesk, language: str) -> None:
    ticket, notice = await closed_ticket(fake_api, language)
    n = ticket.number
    assert COME_BACK[language] in notice["text"]  # the closing notice says how to come back

    fake_api.user_sends(CLIENT, "It broke again this morning.")

    question = await fake_api.wait_for_bot_message(CLIENT, contains=f"#{n} (Login fails)")
    assert question["text"] == ASK[language].format(n=n)
    assert labels(question) == [REOPEN_LABEL[language].format(n=n), NEW_LABEL[language]]
    assert not [m for m in fake_api.bot_messages(STAFF_CHAT_ID, ticket.thread)
                if "broke again" in m.get("text", "")]  # waits for the client's choice

    press(fake_api, CLIENT, question, REOPEN_LABEL[language].format(n=n))

    copy = await bot_says_in_topic(fake_api, ticket, "It broke again this morning.")
    assert copy["text"] == "It broke again this morning."
    await card_shows(fake_api, ticket, "Status: Reopened")
    await topic_closed(fake_api, ticket, closed=False)
    await fake_api.wait_for(lambda: (fake_api.message(CLIENT, question["message_id"]) or {})
                            .get("text") == REOPENED[language].format(n=n),
                            description="the question edited to say the request reopened")
    assert "reply_markup" not in fake_api.message(CLIENT, question["message_id"])


async def test_a_plain_message_after_the_close_can_start_a_new_request_with_it(
        fake_api: FakeBotAPI, desk: RunningDesk) -> None:
    ticket, _notice = await closed_ticket(fake_api, "en")
    fake_api.user_sends(CLIENT, "It broke again this morning.")
    question = await fake_api.wait_for_bot_message(CLIENT, contains="start a new request?")

    press(fake_api, CLIENT, question, "New request")

    prompt = await description_prompt(fake_api)
    assert prompt["text"].startswith("Already in the description: 1 message you wrote.")
    press(fake_api, CLIENT, prompt, "Done")  # nothing more to add
    summary = await fake_api.wait_for_bot_message(CLIENT, contains="Your request")
    assert "It broke again this morning." in summary["text"]
    press(fake_api, CLIENT, summary, "Confirm")
    await fake_api.wait_for_bot_message(CLIENT, contains=f"registered as #{ticket.number + 1}")
    thread = await topic_of(fake_api, ticket.number + 1)
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="It broke again this morning.",
                                        thread_id=thread)
    assert fake_api.topic(STAFF_CHAT_ID, ticket.thread)["closed"]  # the old one stays closed


@pytest.mark.parametrize("language", ["en", "ru"])
async def test_writing_the_number_reopens_the_request_and_the_client_is_told(
        fake_api: FakeBotAPI, desk: RunningDesk, language: str) -> None:
    ticket, _notice = await closed_ticket(fake_api, language)

    fake_api.user_sends(CLIENT, f"#{ticket.number} it fails again")

    told = await fake_api.wait_for_bot_message(CLIENT, contains="🔄")
    assert told["text"] == REOPENED[language].format(n=ticket.number)
    await bot_says_in_topic(fake_api, ticket, "it fails again")
    await card_shows(fake_api, ticket, "Status: Reopened")


async def test_a_plain_message_long_after_the_close_offers_a_new_request_that_keeps_it(
        fake_api: FakeBotAPI, desk: RunningDesk, clock: MovableClock) -> None:
    ticket, _notice = await closed_ticket(fake_api, "en")
    clock.advance(timedelta(days=8))  # past the 7-day reopen window

    fake_api.user_sends(CLIENT, "It broke again this morning.")

    offer = await fake_api.wait_for_bot_message(CLIENT, contains="too long ago")
    assert offer["text"] == (f"Request #{ticket.number} was closed too long ago to reopen. "
                             "Start a new request? Your message will be part of it.")
    assert labels(offer) == ["📝 New request"]
    press(fake_api, CLIENT, offer, "New request")
    prompt = await description_prompt(fake_api)
    assert prompt["text"].startswith("Already in the description: 1 message you wrote.")
