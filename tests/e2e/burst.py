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
from storage.engine import make_engine, make_sessionmaker, upgrade
from storage.models import OutboxRow
from storage.uow import UnitOfWorkFactory
from tests.fakes.bot_api import FakeBotAPI
from tests.fakes.plugin import STAFF_CHAT_ID

TOKEN = re.compile(r"\bc(\d+)-m(\d+)\b")


@dataclass(frozen=True)
class Desked:
    """A client of the burst: Telegram user id, ticket number and the topic's thread id."""

    user: int
    ticket: int
    thread: int | None


async def seed_tickets(api: FakeBotAPI, database_url: str, policy: Policy, clock: Clock,
                       users: Iterable[int], *, topics: bool = True,
                       chat_id: int = STAFF_CHAT_ID) -> list[Desked]:
    """Every user becomes a client with one open ticket (with its topic unless `topics`)."""
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
                ticket = await desk.register(uow, client, draft, notify_client=False)
                thread = None
                if topics:
                    name = f"#{ticket.number} · Burst {user}"
                    thread = api.create_topic(chat_id, name)
                    await uow.topics.store(ticket.number, chat_id, thread, None, name)
                seeded.append(Desked(user, ticket.number, thread))
            if topics:  # the cards of the registration: the topics are there already
                await uow.session.execute(update(OutboxRow).values(state="sent"))
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


def tokens_in(api: FakeBotAPI, chat_id: int, thread_id: int | None = None) -> list[str]:
    """The burst texts in a chat (or topic) in the order people see them; a coalesced
    message gives each of its parts."""
    found = []
    for message in api.bot_messages(chat_id, thread_id):
        body = message.get("text", message.get("caption", ""))
        found += [match.group(0) for match in TOKEN.finditer(body)]
    return found


def relayed(api: FakeBotAPI, clients: Sequence[Desked],
            chat_id: int = STAFF_CHAT_ID) -> dict[int, list[str]]:
    """What arrived in each client's topic (by the ticket's live topic, or all topics)."""
    by_user: dict[int, list[str]] = {client.user: [] for client in clients}
    for token in tokens_in(api, chat_id):
        user = int(TOKEN.fullmatch(token).group(1))  # type: ignore[union-attr]
        if user in by_user:
            by_user[user].append(token)
    return by_user


def all_arrived(api: FakeBotAPI, clients: Sequence[Desked], expected: dict[int, list[str]],
                chat_id: int = STAFF_CHAT_ID) -> bool:
    """Whether at least every expected text is in the staff group."""
    count = sum(len(texts) for texts in expected.values())
    return len(tokens_in(api, chat_id)) >= count and all(
        set(expected[user]) <= set(got) for user, got in relayed(api, clients, chat_id).items())
