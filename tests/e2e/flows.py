"""Whole flows the end-to-end tests share: a client files a request, the staff find its topic."""

from __future__ import annotations

import re
import weakref
from dataclasses import dataclass, field
from typing import Any

from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.harness import press
from tests.fakes.plugin import ALICE_ID, STAFF_CHAT_ID

CLIENT = 5001  # Carol (@carol)
OTHER_CLIENT = 5002  # Dave (@dave)
NAMES = {CLIENT: ("Carol", "carol"), OTHER_CLIENT: ("Dave", "dave")}


async def open_ticket(api: FakeBotAPI, user: int, subject: str = "Login fails",
                      contract: str = "C-100", *, urgency: str = "High",
                      description: str = "The login page says error 500") -> tuple[int, int]:
    """The client goes through the whole intake; return (ticket number, topic thread id).

    A user the fake does not know yet is added as an English-speaking client. A contract
    the bot remembers is confirmed; another one is given instead.
    """
    if user not in api.world.users:
        api.add_user(user, f"Client {user}", username=f"client{user}", language_code="en")
    await to_the_subject(api, user, contract, urgency=urgency)
    api.user_sends(user, subject)
    prompt = await api.wait_for_bot_message(user, contains="press Done")
    await received(api, api.user_sends(user, description))
    press(api, user, prompt, "Done")
    summary = await api.wait_for_bot_message(user, contains="Your request")
    press(api, user, summary, "Confirm")
    ack = await api.wait_for_bot_message(user, contains="registered as #")
    found = re.search(r"registered as #(\d+)", ack["text"])
    assert found is not None, ack["text"]
    number = int(found.group(1))
    thread = await topic_of(api, number)
    # An agent sees the topic with its card: the card is posted after the topic is on record,
    # so a command sent now finds its ticket (a test is quicker than any agent).
    await card_of(api, thread)
    return number, thread


async def to_the_subject(api: FakeBotAPI, user: int, contract: str = "C-100", *,
                         urgency: str = "High") -> None:
    """An English-speaking client starts a request (/new) and answers up to the subject
    prompt: the contract (a remembered one confirmed, another one given instead), a failure,
    the urgency."""
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
    press(api, user, await asked(api, user, "What kind of request"), "Failure")
    press(api, user, await asked(api, user, "How urgent"), urgency)
    await api.wait_for_bot_message(user, contains="subject")


_ASKED: weakref.WeakKeyDictionary[FakeBotAPI, set[tuple[int, int, str]]] = (
    weakref.WeakKeyDictionary())


async def asked(api: FakeBotAPI, chat_id: int, contains: str) -> dict[str, Any]:
    """The bot's question that now shows `contains` with its buttons: a new message, or an
    earlier prompt of the intake edited to ask the next thing. Like `wait_for_bot_message`,
    a message is returned once for one question."""
    seen = _ASKED.setdefault(api, set())

    def current() -> dict[str, Any] | None:
        for message in api.bot_messages(chat_id):
            key = (chat_id, message["message_id"], contains)
            if (key not in seen and contains in message.get("text", "")
                    and message.get("reply_markup")):
                seen.add(key)
                return message
        return None

    question: dict[str, Any] = await api.wait_for(current, description=f"asked {contains!r}")
    return question


async def received(api: FakeBotAPI, message: dict[str, Any]) -> list[dict[str, Any]]:
    """Wait until the bot marks a person's message as received with a reaction; return it."""
    chat_id, message_id = message["chat"]["id"], message["message_id"]
    reactions: list[dict[str, Any]] = await api.wait_for(
        lambda: api.reactions(chat_id, message_id) or None,
        description=f"a reaction on message {message_id}")
    return reactions


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


@dataclass
class Person:
    """A person at the fake Telegram who counts what they do."""

    api: FakeBotAPI
    user: int
    actions: int = 0
    log: list[str] = field(default_factory=list)

    def sends(self, text: str | None = None, **kwargs: Any) -> dict[str, Any]:
        """Send a message (a text, or a photo with `photo=True`)."""
        self.actions += 1
        return self.api.user_sends(self.user, text, **kwargs)

    def sends_album(self, photos: int, **kwargs: Any) -> list[dict[str, Any]]:
        """Send an album of `photos` photos (one action)."""
        self.actions += 1
        return self.api.user_sends_album(self.user, photos, **kwargs)

    def taps(self, message: dict[str, Any], action: str, value: str | None = None) -> str:
        """Press the button of `message` whose callback does `action` (any language)."""
        self.actions += 1
        for row in message["reply_markup"]["inline_keyboard"]:
            for button in row:
                parts = button.get("callback_data", "").split(":")
                if parts[1] == action and (value is None or value in parts[2:]):
                    chat = message["chat"]["id"]
                    return self.api.user_presses(self.user, chat, message["message_id"],
                                                 button["callback_data"])
        raise AssertionError(f"no {action} button on {message.get('text')!r}")


async def newest_question(api: FakeBotAPI, chat_id: int, action: str) -> dict[str, Any]:
    """The bot's message in the chat that now offers a button doing `action`."""

    def offered() -> dict[str, Any] | None:
        for message in reversed(api.bot_messages(chat_id)):
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if any(button.get("callback_data", "").split(":")[1] == action
                   for row in rows for button in row):
                return message
        return None

    found: dict[str, Any] = await api.wait_for(offered, description=f"a {action} button")
    return found


async def to_the_description(api: FakeBotAPI, person: Person, subject: str) -> dict[str, Any]:
    """From /start, the person files a failure of high priority on contract C-100 with the
    buttons (any language) and writes `subject`; return the description prompt (its Done)."""
    chat = person.user
    person.sends("/start")
    person.taps(await newest_question(api, chat, "new"), "new")
    await api.wait_for(lambda: len(api.bot_messages(chat)) >= 2)
    person.sends("C-100")
    person.taps(await newest_question(api, chat, "type"), "type", "bug")
    person.taps(await newest_question(api, chat, "prio"), "prio", "high")
    await api.wait_for(lambda: len(api.bot_messages(chat)) >= 4)
    person.sends(subject)
    return await newest_question(api, chat, "done")


# --- a ticket seen from the staff group --------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """A ticket a test opened: its number, its topic and its card's message id."""

    number: int
    thread: int
    card_id: int


async def opened(api: FakeBotAPI, user: int = CLIENT, subject: str = "Login fails",
                 contract: str = "C-100") -> Opened:
    """A client (Carol unless told) files a request; wait for its topic and card."""
    if user not in api.world.users and user in NAMES:
        api.add_user(user, NAMES[user][0], username=NAMES[user][1], language_code="en")
    number, thread = await open_ticket(api, user, subject=subject, contract=contract)
    card = await card_of(api, thread)
    return Opened(number, thread, card["message_id"])


def card_text(api: FakeBotAPI, ticket: Opened) -> str:
    """The card's text as it is now."""
    card = api.message(STAFF_CHAT_ID, ticket.card_id)
    assert card is not None
    return str(card["text"])


async def card_shows(api: FakeBotAPI, ticket: Opened, *words: str) -> str:
    """Wait until the card (the same message, edited in place) shows every word."""
    def current() -> str | None:
        text = card_text(api, ticket)
        return text if all(word in text for word in words) else None

    text: str = await api.wait_for(current, description=f"the card of #{ticket.number} to "
                                                        f"show {words}")
    return text


async def topic_named(api: FakeBotAPI, ticket: Opened, start: str) -> dict[str, Any]:
    """Wait until the ticket's topic is named starting with `start`."""
    def current() -> dict[str, Any] | None:
        topic = api.topic(STAFF_CHAT_ID, ticket.thread)
        return topic if topic["name"].startswith(start) else None

    topic: dict[str, Any] = await api.wait_for(current, description=f"topic named {start!r}")
    return topic


async def topic_closed(api: FakeBotAPI, ticket: Opened, closed: bool = True) -> None:
    """Wait until the ticket's topic is closed (or open again)."""
    await api.wait_for(lambda: api.topic(STAFF_CHAT_ID, ticket.thread)["closed"] is closed,
                       description=f"the topic of #{ticket.number} closed={closed}")


def press_on_card(api: FakeBotAPI, ticket: Opened, label: str, user: int = ALICE_ID) -> str:
    """An agent presses a button of the ticket's card."""
    return api.user_presses(user, STAFF_CHAT_ID, ticket.card_id, button=label)


async def answer_to(api: FakeBotAPI, query_id: str) -> dict[str, Any]:
    """The bot's answer to a button press."""
    answer: dict[str, Any] = await api.wait_for(lambda: api.callback_answer(query_id),
                                                description="the answer to the press")
    return answer


def in_topic(api: FakeBotAPI, ticket: Opened, text: str, user: int = ALICE_ID) -> None:
    """An agent writes in the ticket's topic (a command, a note or a reply)."""
    api.user_sends(user, text, chat_id=STAFF_CHAT_ID, thread_id=ticket.thread)


async def bot_says_in_topic(api: FakeBotAPI, ticket: Opened, contains: str) -> dict[str, Any]:
    """Wait for the bot's next message in the topic containing `contains`."""
    return await api.wait_for_bot_message(STAFF_CHAT_ID, contains=contains,
                                          thread_id=ticket.thread)
