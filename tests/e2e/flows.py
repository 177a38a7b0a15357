"""Whole flows the end-to-end tests share: a client files a request, the staff find its topic."""

from __future__ import annotations

import re
from typing import Any

from tests.e2e.harness import press
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.plugin import STAFF_CHAT_ID


async def open_ticket(api: FakeBotAPI, user: int, subject: str = "Login fails",
                      contract: str = "C-100", *, urgency: str = "High",
                      description: str = "The login page says error 500") -> tuple[int, int]:
    """The client goes through the whole intake; return (ticket number, topic thread id).

    A user the fake does not know yet is added as an English-speaking client. A contract
    the bot remembers is confirmed; another one is given instead.
    """
    if user not in api.world.users:
        api.add_user(user, f"Client {user}", username=f"client{user}", language_code="en")
    api.user_sends(user, "/new")
    question = await api.wait_for_bot_message(user, contains="contract")
    if "Is this request about contract" not in question["text"]:
        api.user_sends(user, contract)
    elif contract in question["text"]:
        press(api, user, question, "Yes")
    else:
        press(api, user, question, "Another contract")
        await api.wait_for_bot_message(user, contains="contract number")
        api.user_sends(user, contract)
    kinds = await api.wait_for_bot_message(user, contains="What kind of request")
    press(api, user, kinds, "Failure")
    urgencies = await api.wait_for_bot_message(user, contains="How urgent")
    press(api, user, urgencies, urgency)
    await api.wait_for_bot_message(user, contains="subject")
    api.user_sends(user, subject)
    prompt = await api.wait_for_bot_message(user, contains="Describe the problem")
    api.user_sends(user, description)
    await api.wait_for_bot_message(user, contains="Added (1)")
    press(api, user, prompt, "Done")
    summary = await api.wait_for_bot_message(user, contains="Your request")
    press(api, user, summary, "Confirm")
    ack = await api.wait_for_bot_message(user, contains="registered as #")
    found = re.search(r"registered as #(\d+)", ack["text"])
    assert found is not None, ack["text"]
    number = int(found.group(1))
    return number, await topic_of(api, number)


async def topic_of(api: FakeBotAPI, number: int, chat_id: int = STAFF_CHAT_ID) -> int:
    """The thread id of the ticket's live topic, once it exists."""

    def live() -> int | None:
        for topic in api.topics(chat_id):
            if f"#{number} " in topic["name"] and not topic["deleted"]:
                return int(topic["thread_id"])
        return None

    thread: int = await api.wait_for(live, description=f"the topic of #{number}")
    return thread


async def card_of(api: FakeBotAPI, thread_id: int,
                  chat_id: int = STAFF_CHAT_ID) -> dict[str, Any]:
    """The ticket card: the bot's first message in the topic, as it is now."""

    def first() -> dict[str, Any] | None:
        messages = api.bot_messages(chat_id, thread_id)
        return messages[0] if messages and "reply_markup" in messages[0] else None

    card: dict[str, Any] = await api.wait_for(first, description=f"the card in {thread_id}")
    return card
