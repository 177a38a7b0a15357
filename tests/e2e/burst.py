"""A busy desk for the delivery tests: many clients with open tickets, and bursts from them.

The tickets are made through the desk's own services on the database (no intake dialogue), and
their topics are made in the fake's staff group as a person would, so that a test of a burst
spends its time on the burst.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import update

from domain.clock import Clock
from domain.desk import Desk, Draft
from domain.policy import Policy
from playground.telegram.bot_api import FakeBotAPI
from storage.engine import make_engine, make_sessionmaker, upgrade
from storage.models import OutboxRow
from storage.uow import UnitOfWorkFactory
from tests.fakes.plugin import STAFF_CHAT_ID

BURST_TEXT = re.compile(r"\bc(\d+)-m(\d+)\b")


@dataclass(frozen=True)
class Desked:
    """A client of the burst: Telegram user id, ticket number and the topic's thread id."""

    user: int
    ticket: int
    thread: int | None


async def seed_tickets(api: FakeBotAPI, database_url: str, policy: Policy, clock: Clock,
                       users: Iterable[int], *, topics: bool = True, notify: bool = False,
                       chat_id: int = STAFF_CHAT_ID) -> list[Desked]:
    """Every user becomes a client with one open ticket, with its topic (or, without
    `topics`, with its card waiting in the outbox, and the acknowledgement if `notify`)."""
    engine = make_engine(database_url)
    desk = Desk(policy, clock)
    seeded = []
    try:
        await upgrade(engine)
        async with UnitOfWorkFactory(make_sessionmaker(engine))() as uow:
            for user in users:
                if user not in api.world.users:
                    api.add_user(user, f"Client {user}", username=f"client{user}",
                                 language_code="en")
                client = await uow.clients.ensure(user, f"Client {user}", f"client{user}", "en",
                                                  clock.now())
                draft = Draft(sla_level="standard", request_type="bug", priority="normal",
                              subject=f"Burst {user}")
                ticket = await desk.register(uow, client, draft, notify_client=notify)
                thread = None
                if topics:
                    name = f"#{ticket.number} · Burst {user}"
                    thread = api.create_topic(chat_id, name)
                    await uow.topics.store(ticket.number, chat_id, thread, None, name)
                seeded.append(Desked(user, ticket.number, thread))
            await uow.commit()  # the deliveries of the registrations go in with it
            if topics:  # the cards of the registration: the topics are there already
                lanes = [f"ticket:{client.ticket}" for client in seeded]
                await uow.session.execute(update(OutboxRow).where(OutboxRow.lane.in_(lanes))
                                          .values(state="sent"))
            await uow.commit()
    finally:
        await engine.dispose()
    return seeded


def send_burst(api: FakeBotAPI, users: Sequence[int], per_user: int,
               first: int = 0) -> dict[int, list[str]]:
    """Each user sends `per_user` texts, interleaved; return what each sent, in order."""
    sent: dict[int, list[str]] = {user: [] for user in users}
    for number in range(first, first + per_user):
        for user in users:
            text = f"c{user}-m{number:04d}"
            api.user_sends(user, text)
            sent[user].append(text)
    return sent


class GroupWatch:
    """The burst texts the bot has posted in a chat, deleted since or not, read as they come
    (cheap to re-read after every change: only new messages are looked at). A coalesced
    message gives each of its parts, in order."""

    def __init__(self, api: FakeBotAPI, chat_id: int = STAFF_CHAT_ID) -> None:
        self.api = api
        self.chat_id = chat_id
        self.by_user: dict[int, list[str]] = {}
        self.threads: dict[str, set[int | None]] = {}
        self.count = 0
        self.distinct: set[str] = set()
        self._last_id = 0

    def refresh(self) -> GroupWatch:
        """Read the messages posted since the last look."""
        chat = self.api.world.chats[self.chat_id]
        bot_id = self.api.bot_id
        for message_id in range(self._last_id + 1, chat.last_message_id + 1):
            message = chat.messages.get(message_id) or chat.deleted.get(message_id)
            if message is None or message.get("from", {}).get("id") != bot_id:
                continue
            body = message.get("text", message.get("caption", ""))
            for match in BURST_TEXT.finditer(body):
                self.by_user.setdefault(int(match.group(1)), []).append(match.group(0))
                self.threads.setdefault(match.group(0), set()).add(
                    message.get("message_thread_id"))
                self.distinct.add(match.group(0))
                self.count += 1
        self._last_id = chat.last_message_id
        return self

    def has_all(self, expected: dict[int, list[str]]) -> bool:
        """Whether every expected text has arrived (perhaps more than once)."""
        self.refresh()
        return len(self.distinct) >= sum(map(len, expected.values())) and all(
            set(texts) <= set(self.by_user.get(user, ())) for user, texts in expected.items())

    def relayed(self, users: Iterable[int]) -> dict[int, list[str]]:
        """What arrived from each of `users`, in order."""
        self.refresh()
        return {user: list(self.by_user.get(user, ())) for user in users}


def duplicates(got: dict[int, list[str]]) -> list[str]:
    """The texts that arrived more than once (each repetition once)."""
    extra = []
    for texts in got.values():
        seen: set[str] = set()
        for text in texts:
            if text in seen:
                extra.append(text)
            seen.add(text)
    return extra
