"""Delivery under faults: a burst of 1 000 messages from 100 clients arrives exactly once, in order
per topic, within Telegram's limits — through 429 storms, 5xx, slow answers and timeouts, a
deleted topic, a client who blocked the bot, a SIGKILL of the bot and a database restart.

Telegram's limits are scaled down (the bot's intervals and the fake's windows by the same
factor), so that a minute of the staff group's budget passes in 0.6 s.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from bot.pacing import SendLimits
from domain.policy import default_policy
from playground.telegram.bot_api import FakeBotAPI, RateLimits
from storage.engine import make_engine, make_sessionmaker
from storage.models import OutboxRow
from storage.uow import UnitOfWorkFactory
from tests.e2e.bot_process import BotProcess
from tests.e2e.burst import (
    BURST_TEXT,
    Desked,
    GroupWatch,
    duplicates,
    seed_tickets,
    send_burst,
)
from tests.e2e.harness import MovableClock, RunningDesk
from tests.fakes.plugin import ALICE_ID, STAFF_CHAT_ID, make_bot

SCALE = 0.01
LIMITS = SendLimits().scaled(SCALE)
CLIENTS = range(7001, 7101)  # 100 clients
PER_CLIENT = 10  # 1 000 messages
ARRIVAL = 60.0  # seconds a whole burst may take to arrive


@pytest.fixture
def clock() -> MovableClock:
    """The desk's clock."""
    return MovableClock()


@pytest.fixture
async def start_desk(fake_api: FakeBotAPI, clock: MovableClock
                     ) -> AsyncIterator[Callable[..., Awaitable[RunningDesk]]]:
    """Start a desk in this process with the scaled limits (stopped at the end)."""
    started: list[RunningDesk] = []

    async def start(database_url: str) -> RunningDesk:
        desk = await RunningDesk(fake_api, database_url, default_policy(), clock,
                                 limits=LIMITS).start()
        started.append(desk)
        return desk

    try:
        yield start
    finally:
        for desk in started:
            await desk.stop()


async def busy(api: FakeBotAPI, database_url: str, clock: MovableClock,
               users: range = CLIENTS) -> list[Desked]:
    """The clients with their open tickets and topics; the fake counts the scaled limits."""
    seeded = await seed_tickets(api, database_url, default_policy(), clock, users)
    api.set_rate_limits(RateLimits(scale=SCALE))
    return seeded


async def half_a_burst_under_way(api: FakeBotAPI, database_url: str, clock: MovableClock,
                                 start_desk: Callable[..., Awaitable[RunningDesk]],
                                 relayed: int) -> tuple[list[Desked], GroupWatch,
                                                        dict[int, list[str]]]:
    """A running desk, its clients, the first half of the burst sent and `relayed` texts of
    it in the group; returns the clients, the watch on the group and what they sent."""
    seeded = await busy(api, database_url, clock)
    await start_desk(database_url)
    watch = GroupWatch(api)
    expected = send_burst(api, [client.user for client in seeded], PER_CLIENT // 2)
    await api.wait_for(lambda: watch.refresh().count >= relayed, timeout=ARRIVAL)
    return seeded, watch, expected


def assert_exactly_once_in_order(got: dict[int, list[str]],
                                 expected: dict[int, list[str]]) -> None:
    """Every text arrived once, and each client's in the order they were sent."""
    lost = {user: sorted(set(texts) - set(got[user])) for user, texts in expected.items()
            if set(texts) - set(got[user])}
    assert not lost, f"lost: {lost}"
    assert not duplicates(got), f"arrived twice: {duplicates(got)}"
    disordered = [user for user, texts in expected.items() if got[user] != texts]
    assert not disordered, f"out of order for {disordered[:3]}: {got[disordered[0]][:20]}"


def group_sends(api: FakeBotAPI) -> int:
    """Messages the bot posted in the staff group."""
    return sum(1 for call in api.sent() if call.params.get("chat_id") == STAFF_CHAT_ID)


# --- Telegram says no -----------------------------------------------------------------------

async def test_429_storm_is_waited_out_as_telegram_asks_and_nothing_is_lost(
        fake_api: FakeBotAPI, sqlite_url: str, clock: MovableClock,
        start_desk: Callable[..., Awaitable[RunningDesk]]) -> None:
    seeded = await busy(fake_api, sqlite_url, clock)
    # Telegram is stricter than documented (10 a minute in the group), and says so with 429.
    fake_api.set_rate_limits(RateLimits(group_per_minute=10, scale=SCALE, mode="enforce"))
    fake_api.fail_next("copyMessage", 429, retry_after=1, times=3)
    await start_desk(sqlite_url)

    expected = send_burst(fake_api, [client.user for client in seeded], PER_CLIENT)
    watch = GroupWatch(fake_api)
    await fake_api.wait_for(lambda: watch.has_all(expected), timeout=ARRIVAL)

    assert_exactly_once_in_order(watch.relayed(expected), expected)
    refused = [call for call in fake_api.calls if call.error and call.error.code == 429]
    assert len(refused) >= 5, "no storm happened"
    for no in refused:
        chat = no.params.get("chat_id")
        too_early = [call for call in fake_api.calls if call.params.get("chat_id") == chat
                     and no.at < call.at < no.at + (no.error.retry_after or 0) - 0.01]
        assert not too_early, f"sent during retry_after: {too_early[:2]}"


async def test_server_errors_are_retried_until_everything_is_delivered_once(
        fake_api: FakeBotAPI, sqlite_url: str, clock: MovableClock,
        start_desk: Callable[..., Awaitable[RunningDesk]]) -> None:
    seeded, watch, expected = await half_a_burst_under_way(
        fake_api, sqlite_url, clock, start_desk, relayed=100)
    users = [client.user for client in seeded]
    fake_api.set_server_error(500)  # everything, getUpdates included, for a while
    await asyncio.sleep(1.0)
    fake_api.set_server_error(None)
    fake_api.fail_next("copyMessage", 502, times=5)
    fake_api.fail_next("sendMessage", 500, times=5)
    more = send_burst(fake_api, users, PER_CLIENT // 2, first=PER_CLIENT // 2)
    for user, texts in more.items():
        expected[user] += texts
    await fake_api.wait_for(lambda: watch.has_all(expected), timeout=ARRIVAL)

    assert_exactly_once_in_order(watch.relayed(expected), expected)
    assert sum(1 for call in fake_api.calls if call.error and call.error.code >= 500) > 10
    assert fake_api.limit_violations == []


async def test_slow_answers_keep_order_and_timeouts_lose_nothing(
        fake_api: FakeBotAPI, sqlite_url: str, clock: MovableClock,
        start_desk: Callable[..., Awaitable[RunningDesk]]) -> None:
    seeded = await busy(fake_api, sqlite_url, clock)
    desk = await start_desk(sqlite_url)
    assert desk.app is not None
    desk.app.sender.delivery.bot.session.timeout = 1.0  # the sender gives up after 1 s
    users = [client.user for client in seeded]
    watch = GroupWatch(fake_api)

    # Slow: every answer takes 50 ms (more than a scaled interval). Nothing is sent twice.
    fake_api.set_latency(0.05)
    expected = send_burst(fake_api, users, PER_CLIENT // 2)
    await fake_api.wait_for(lambda: watch.has_all(expected), timeout=ARRIVAL)
    assert_exactly_once_in_order(watch.relayed(expected), expected)

    # Timeouts: for a while answers come later than the bot waits, and connections break
    # after Telegram did the work. The bot cannot know those messages were posted: they go
    # again; every other one goes once.
    fake_api.set_latency(0.0)
    more = send_burst(fake_api, users, PER_CLIENT // 2, first=PER_CLIENT // 2)
    await fake_api.wait_for(lambda: watch.refresh().count >= 520, timeout=ARRIVAL)
    slow_from = time.monotonic()
    fake_api.set_latency(1.5)
    fake_api.drop_connection_next("*", times=5, after_processing=True)
    await asyncio.sleep(1.2)
    fake_api.set_latency(0.0)
    slow_to = time.monotonic()
    for user, texts in more.items():
        expected[user] += texts
    await fake_api.wait_for(lambda: watch.has_all(expected), timeout=ARRIVAL)
    await asyncio.sleep(0.5)  # anything sent twice would show now

    got = watch.relayed(expected)
    unheard = {token for call in fake_api.calls
               if call.dropped or slow_from <= call.at <= slow_to
               for token in tokens_of_call(fake_api, call)}
    extra = duplicates(got)
    print(f"\ntimeouts: {len(unheard)} texts went out unheard, {len(extra)} arrived twice")
    assert set(extra) <= unheard, "sent twice although the bot knew it was sent"
    assert {user: list(dict.fromkeys(texts)) for user, texts in got.items()} == expected
    assert fake_api.limit_violations == []


def tokens_of_call(api: FakeBotAPI, call: Any) -> list[str]:
    """The burst texts a successful send of the bot posted."""
    if call.error is not None or call.method not in ("sendMessage", "copyMessage"):
        return []
    chat = api.world.chats[call.params["chat_id"]]
    message = chat.messages.get(call.result["message_id"]) or chat.deleted.get(
        call.result["message_id"], {})
    return [match.group(0) for match in BURST_TEXT.finditer(message.get("text", ""))]


async def test_a_client_who_blocked_the_bot_is_reported_once_and_the_others_get_theirs(
        fake_api: FakeBotAPI, sqlite_url: str, clock: MovableClock) -> None:
    # The bot in a process of its own: in this one, the fake's clock would count the replies
    # as they reach a loop busy with the bot, in bunches that no pacing can space.
    seeded = await busy(fake_api, sqlite_url, clock, range(7001, 7041))
    bot = BotProcess(fake_api, sqlite_url, TELEGRAM_RATE_SCALE=str(SCALE))
    await bot.start()
    try:
        await _blocked_client_scenario(fake_api, seeded)
    finally:
        await bot.stop()


async def _blocked_client_scenario(fake_api: FakeBotAPI, seeded: list[Desked]) -> None:
    blocked = seeded[7]
    fake_api.block_bot(blocked.user)

    replies: dict[int, list[str]] = {client.user: [] for client in seeded}
    for number in range(3):
        for client in seeded:
            text = f"answer {number} for c{client.user}"
            fake_api.user_sends(ALICE_ID, text, chat_id=STAFF_CHAT_ID, thread_id=client.thread)
            replies[client.user].append(text)

    def delivered() -> bool:
        return all(fake_api.bot_message_count(client.user) >= 3 for client in seeded
                   if client is not blocked)

    def reports() -> list[dict[str, Any]]:
        return [message for message in fake_api.bot_messages(STAFF_CHAT_ID, blocked.thread)
                if "blocked the bot" in message.get("text", "")]

    await fake_api.wait_for(delivered, timeout=ARRIVAL)
    notices = await fake_api.wait_for(lambda: len(reports()) >= 3 and reports(),
                                      timeout=ARRIVAL)
    for client in seeded:
        if client is blocked:
            continue
        got = [message["text"].split(":\n", 1)[-1]
               for message in fake_api.bot_messages(client.user)]
        assert got == replies[client.user]
    assert len(notices) == 3  # one per undeliverable reply, each tried once
    tried = [call for call in fake_api.calls if call.params.get("chat_id") == blocked.user
             and call.method in ("sendMessage", "copyMessage")]
    assert len(tried) == 3, tried
    assert fake_api.limit_violations == []


# --- topics -------------------------------------------------------------------------------

async def test_deleted_topics_are_opened_again_and_the_burst_goes_on_there(
        fake_api: FakeBotAPI, sqlite_url: str, clock: MovableClock,
        start_desk: Callable[..., Awaitable[RunningDesk]]) -> None:
    seeded, watch, expected = await half_a_burst_under_way(
        fake_api, sqlite_url, clock, start_desk, relayed=200)
    users = [client.user for client in seeded]
    doomed = seeded[::10]
    watch.refresh()  # what the staff saw in those topics before they deleted them
    staff = make_bot(fake_api)
    try:
        for client in doomed:
            await staff.delete_forum_topic(STAFF_CHAT_ID, client.thread or 0)
    finally:
        await staff.session.close()
    more = send_burst(fake_api, users, PER_CLIENT // 2, first=PER_CLIENT // 2)
    for user, texts in more.items():
        expected[user] += texts
    await fake_api.wait_for(lambda: watch.has_all(expected), timeout=ARRIVAL)

    assert_exactly_once_in_order(watch.relayed(expected), expected)
    live = [topic for topic in fake_api.topics(STAFF_CHAT_ID) if not topic["deleted"]]
    for client in doomed:
        again = [topic for topic in live if f"#{client.ticket} " in topic["name"]]
        assert len(again) == 1, f"#{client.ticket}: {again}"
        late = [token for token in more[client.user]
                if watch.threads[token] == {again[0]["thread_id"]}]
        assert late, "nothing went into the new topic"
    assert len(live) == len(seeded)
    assert fake_api.limit_violations == []


async def test_two_deliveries_racing_for_a_new_tickets_topic_open_it_once(
        fake_api: FakeBotAPI, sqlite_url: str, clock: MovableClock,
        start_desk: Callable[..., Awaitable[RunningDesk]]) -> None:
    users = range(7001, 7004)
    for user in users:  # they block the bot before it acknowledges their new requests
        fake_api.add_user(user, f"Client {user}", language_code="en")
        fake_api.block_bot(user)
    seeded = await seed_tickets(fake_api, sqlite_url, default_policy(), clock, users,
                                topics=False, notify=True)
    fake_api.set_rate_limits(RateLimits(scale=SCALE))
    fake_api.set_latency(0.5, method="createForumTopic")  # a wide window for the race
    await start_desk(sqlite_url)

    def reported() -> bool:
        return sum("blocked the bot" in message.get("text", "")
                   for message in fake_api.bot_messages(STAFF_CHAT_ID)) >= len(seeded)

    await fake_api.wait_for(reported, timeout=ARRIVAL)
    topics = fake_api.topics(STAFF_CHAT_ID)
    for client in seeded:
        mine = [topic for topic in topics if f"#{client.ticket} " in topic["name"]]
        assert len(mine) == 1, mine
        texts = [message.get("text", "") for message in
                 fake_api.bot_messages(STAFF_CHAT_ID, mine[0]["thread_id"])]
        assert any("blocked the bot" in text for text in texts)  # the report, in its topic
        assert any(f"#{client.ticket}" in text for text in texts)  # and the card
    assert len(fake_api.sent("createForumTopic")) == len(seeded)


async def test_a_burst_of_start_from_500_new_accounts_opens_no_topic(
        fake_api: FakeBotAPI, sqlite_url: str, clock: MovableClock,
        start_desk: Callable[..., Awaitable[RunningDesk]]) -> None:
    fake_api.set_rate_limits(RateLimits(scale=SCALE))
    await start_desk(sqlite_url)
    users = range(9001, 9501)
    for user in users:
        fake_api.add_user(user, f"Newcomer {user}", language_code="en")
        fake_api.user_sends(user, "/start")

    await fake_api.wait_for(lambda: all(fake_api.bot_messages(user) for user in users),
                            timeout=ARRIVAL)
    assert all(len(fake_api.bot_messages(user)) == 1 for user in users)
    assert fake_api.topics(STAFF_CHAT_ID) == []
    assert fake_api.sent("createForumTopic") == []
    assert fake_api.messages(STAFF_CHAT_ID) == []
    assert fake_api.limit_violations == []


# --- the bot dies -------------------------------------------------------------------------

async def pending_texts(database_url: str) -> set[str]:
    """The burst texts of the outbox items not (known to be) sent."""
    engine = make_engine(database_url)
    try:
        async with UnitOfWorkFactory(make_sessionmaker(engine))() as uow:
            payloads = (await uow.session.execute(
                select(OutboxRow.payload).where(OutboxRow.state == "pending"))).scalars()
            return {json.loads(payload)["data"].get("source", {}).get("html", "")
                    for payload in payloads}
    finally:
        await engine.dispose()


async def test_sigkill_mid_burst_loses_nothing_and_resends_only_what_was_in_flight(
        fake_api: FakeBotAPI, tmp_path: Path, clock: MovableClock) -> None:
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'desk.sqlite3'}"
    seeded = await busy(fake_api, database_url, clock)
    users = [client.user for client in seeded]
    bot = BotProcess(fake_api, database_url, TELEGRAM_RATE_SCALE=str(SCALE))
    watch = GroupWatch(fake_api)
    in_flight: set[str] = set()  # posted by Telegram, not yet marked sent, at a kill
    report = []
    await bot.start()
    try:
        expected = send_burst(fake_api, users, PER_CLIENT)
        for relayed in (30, 500):  # once while updates are coming in, once while sending
            await fake_api.wait_for(lambda relayed=relayed: watch.refresh().count >= relayed,
                                    timeout=ARRIVAL)
            await bot.kill()
            # A request the bot sent just before it died may still be on the fake's desk:
            # Telegram would finish it too. Let it, before looking at what arrived.
            await asyncio.sleep(0.2)
            watch.refresh()
            arrived = {token for texts in watch.by_user.values() for token in texts}
            posted_unmarked = arrived & await pending_texts(database_url)
            in_flight |= posted_unmarked
            report.append(f"killed after {len(watch.distinct)} relayed: "
                          f"{len(fake_api.pending_updates())} updates unconfirmed, "
                          f"{len(posted_unmarked)} texts posted but not marked sent")
            await bot.start()
        await fake_api.wait_for(lambda: watch.has_all(expected), timeout=ARRIVAL)
        await asyncio.sleep(0.5)  # anything sent twice would show now
    finally:
        await bot.stop()

    got = watch.relayed(expected)
    extra = duplicates(got)
    print("\nSIGKILL: " + "; ".join(report) + f"; {len(extra)} texts arrived twice")
    assert set(extra) <= in_flight, "sent twice although marked as sent"
    assert {user: list(dict.fromkeys(texts)) for user, texts in got.items()} == expected
    assert fake_api.limit_violations == []


# --- the database goes away ---------------------------------------------------------------

class FlakyProxy:
    """A TCP proxy in front of PostgreSQL that the test can 'restart': every connection is
    cut and new ones are refused for a while, as when the server restarts."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        """Listen (on the same port as before, if there was one)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def restart(self, down_for: float) -> None:
        """Cut everything, refuse connections for `down_for` seconds, then listen again."""
        assert self._server is not None
        self._server.close()
        for writer in list(self._pipes):
            writer.transport.abort()
        await self._server.wait_closed()
        await asyncio.sleep(down_for)
        await self.start()

    async def stop(self) -> None:
        """Stop for good."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._pipes):
            writer.transport.abort()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._pipes |= {writer, up_writer}
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer),
                             return_exceptions=True)
        self._pipes -= {writer, up_writer}

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_a_database_restart_mid_burst_loses_nothing_and_doubles_nothing(
        fake_api: FakeBotAPI, database_url: str, clock: MovableClock,
        start_desk: Callable[..., Awaitable[RunningDesk]]) -> None:
    seeded = await busy(fake_api, database_url, clock)
    real = make_url(database_url)
    proxy = FlakyProxy(real.host or "127.0.0.1", real.port or 5432)
    await proxy.start()
    desk = await start_desk(real.set(host="127.0.0.1", port=proxy.port)
                            .render_as_string(hide_password=False))
    try:
        users = [client.user for client in seeded]
        watch = GroupWatch(fake_api)
        expected = send_burst(fake_api, users, PER_CLIENT)
        await fake_api.wait_for(lambda: watch.refresh().count >= 200, timeout=ARRIVAL)
        await proxy.restart(down_for=2.0)
        await fake_api.wait_for(lambda: watch.refresh().count >= 600, timeout=ARRIVAL)
        await proxy.restart(down_for=0.5)
        await fake_api.wait_for(lambda: watch.has_all(expected), timeout=ARRIVAL)
        await asyncio.sleep(0.5)  # anything sent twice would show now
    finally:
        await desk.stop()
        await proxy.stop()

    assert_exactly_once_in_order(watch.relayed(expected), expected)
    assert fake_api.limit_violations == []
