"""Benchmark of the relay: Frontdesk against a bare aiogram echo bot, on one fake Bot API server.

Run from the repository root: `python bench/bench_relay.py [MESSAGES] [--group-scale S]`
(defaults 1000 and 0.05). The fake Bot API server (tests/fakes) runs in this process, a fresh
one for each bot; each bot runs as a process of its own, polling it, so that its memory and its
processor time are its own:

  * `echo`: a bare aiogram bot answering every message with sendMessage — the floor of what
    any bot costs on this machine;
  * `relay, SQLite` and `relay, PostgreSQL` (when a server answers at
    FRONTDESK_TEST_POSTGRES_URL or 127.0.0.1:5432): `frontdesk run`, 100 clients with open
    tickets and topics; each client message is stored, then copied into the ticket's topic.

For each bot, two loads:

  * a burst: MESSAGES messages from 100 clients at once, no sending limits (the relay's pacing
    scaled down to nothing): messages per second from the first update to the last send;
  * below the limits: 300 messages, one every 40 ms, with Telegram's limits scaled 100 times
    faster (the staff group takes one message per 31.5 ms): the latency from the update's
    creation to the send reaching the fake (p50, p99), after a warm-up of one message per
    client (the relay is restarted for this load: its first message to each ticket opens
    database connections and fills caches).

RSS is the bot process's peak resident memory (VmHWM). Then the group's budget: with the limits
on (scaled by S), 300 client messages from 60 tickets spread over one scaled minute, the fake
refusing with 429 whatever goes over Telegram's limits; when is the last one in the group (in
scaled minutes), are they in order, and how many 429 came back.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scheduler import postgres_answers, postgres_database, sqlite_database  # noqa: E402

from domain.policy import default_policy  # noqa: E402
from tests.e2e.bot_process import BotProcess  # noqa: E402
from tests.e2e.burst import BURST_TEXT, seed_tickets  # noqa: E402
from tests.e2e.harness import MovableClock  # noqa: E402
from tests.fakes.bot_api import FakeBotAPI, RateLimits  # noqa: E402
from tests.fakes.plugin import TOKEN, populate_staff  # noqa: E402

CLIENTS = 100
PACED = 300  # messages of the latency load
PACED_EVERY = 0.040  # seconds between them
PACED_SCALE = 0.01  # Telegram's limits 100 times faster during the latency load
NO_LIMITS_SCALE = 1e-4
GROUP_TICKETS = 60
GROUP_MESSAGES = 300
TARGET_LATENCY_MS = 50.0


@dataclass
class Sends:
    """What the bots sent, read from the fake's calls as they come (only new calls are read)."""

    api: FakeBotAPI
    created: dict[str, float] = field(default_factory=dict)  # text: when its update was made
    sources: dict[tuple[int, int], str] = field(default_factory=dict)  # (chat, message): text
    arrived: dict[str, float] = field(default_factory=dict)  # text: first send carrying it
    order: dict[int, list[str]] = field(default_factory=dict)  # sender: its texts, as sent
    sends: int = 0
    _seen: int = 0

    def user_sends(self, user: int, text: str) -> None:
        """A client writes `text` (its creation time is noted)."""
        message = self.api.user_sends(user, text)
        self.created[text] = time.monotonic()
        self.sources[(user, message["message_id"])] = text

    def refresh(self) -> Sends:
        """Read the calls made since the last look."""
        calls = self.api.calls
        for call in calls[self._seen:]:
            if not call.ok or call.method not in ("sendMessage", "copyMessage"):
                continue
            if call.method == "copyMessage":
                found = [self.sources.get((call.params["from_chat_id"],
                                           call.params["message_id"]), "")]
            else:
                found = [match.group(0) for match in BURST_TEXT.finditer(call.params["text"])]
            found = [text for text in found if text in self.created]
            self.sends += bool(found)
            for text in found:
                self.arrived.setdefault(text, call.at)
                self.order.setdefault(int(text[1:text.index("-")]), []).append(text)
        self._seen = len(calls)
        return self

    def complete(self) -> bool:
        """Whether every text written has been sent on."""
        return len(self.refresh().arrived) >= len(self.created)

    def latencies_ms(self) -> list[float]:
        """Update made → sent on, per text."""
        return [(self.arrived[text] - made) * 1000 for text, made in self.created.items()]


@dataclass
class Figures:
    """One bot's row of the table."""

    name: str
    rate: float = 0.0
    burst_sends: int = 0
    p50: float = 0.0
    p99: float = 0.0
    paced_violations: int = 0
    rss_mb: float = 0.0


class EchoProcess:
    """The bare aiogram echo bot, in a process of its own."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start polling the fake."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--echo-bot", self.api.base_url,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)

    async def stop(self) -> None:
        """SIGTERM (aiogram stops polling) and wait."""
        assert self.process is not None
        self.process.terminate()
        await self.process.wait()


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def run_loads(api: FakeBotAPI, bot: Any, name: str, users: Sequence[int],
                    messages: int) -> Figures:
    """The burst, then the load below the limits, against one running bot."""
    figures = Figures(name)
    await bot.start()
    try:
        await api.wait_for(lambda: api.long_polls_waiting > 0, timeout=30,
                           description=f"{name} to start polling")
        burst = Sends(api)
        start = time.monotonic()
        for number in range(messages // len(users)):
            for user in users:
                burst.user_sends(user, f"c{user}-m{number:04d}")
        await api.wait_for(burst.complete, timeout=300, description=f"{name}: the burst")
        figures.rate = len(burst.created) / (max(burst.arrived.values()) - start)
        figures.burst_sends = burst.sends
        if name != "echo":  # the relay paces itself: from now on, by limits 100× faster
            await bot.stop()
            bot.env["TELEGRAM_RATE_SCALE"] = str(PACED_SCALE)
            await bot.start()
            await api.wait_for(lambda: api.long_polls_waiting > 0, timeout=30)
        api.set_rate_limits(RateLimits(scale=PACED_SCALE))
        warm = Sends(api)  # one message per client first: connections, caches (not measured)
        for user in users:
            warm.user_sends(user, f"c{user}-m{8000:04d}")
            await asyncio.sleep(PACED_EVERY)
        await api.wait_for(warm.complete, timeout=60, description=f"{name}: the warm-up")
        paced = Sends(api)
        for number in range(PACED):
            user = users[number % len(users)]
            paced.user_sends(user, f"c{user}-m{9000 + number:04d}")
            await asyncio.sleep(PACED_EVERY)
        await api.wait_for(paced.complete, timeout=60, description=f"{name}: the paced load")
        latencies = sorted(paced.latencies_ms())
        figures.p50 = statistics.median(latencies)
        figures.p99 = latencies[int(len(latencies) * 0.99) - 1]
        figures.paced_violations = len(api.limit_violations)
        api.set_rate_limits(None)
        assert bot.process is not None
        figures.rss_mb = peak_rss_mb(bot.process.pid)
    finally:
        await bot.stop()
    return figures


async def relay_figures(api: FakeBotAPI, database_url: str, name: str, first_user: int,
                        messages: int) -> Figures:
    """Frontdesk's relay on one database."""
    users = list(range(first_user, first_user + CLIENTS))
    await seed_tickets(api, database_url, default_policy(), MovableClock(), users)
    bot = BotProcess(api, database_url, TELEGRAM_RATE_SCALE=str(NO_LIMITS_SCALE))
    return await run_loads(api, bot, name, users, messages)


async def group_budget(api: FakeBotAPI, database_url: str, scale: float,
                       first_user: int) -> dict[str, Any]:
    """300 messages from 60 tickets in one scaled minute, the group limit on (429 enforced)."""
    users = list(range(first_user, first_user + GROUP_TICKETS))
    await seed_tickets(api, database_url, default_policy(), MovableClock(), users)
    rng = random.Random(7)  # the same spread in every run
    schedule = sorted((rng.uniform(0, 60 * scale), user)
                      for user in users for _ in range(GROUP_MESSAGES // GROUP_TICKETS))
    bot = BotProcess(api, database_url, TELEGRAM_RATE_SCALE=str(scale))
    api.set_rate_limits(RateLimits(scale=scale, mode="enforce"))
    calls_before = len(api.calls)
    sends = Sends(api)
    await bot.start()
    try:
        await api.wait_for(lambda: api.long_polls_waiting > 0, timeout=30)
        start = time.monotonic()
        counters = dict.fromkeys(users, 0)
        for at, user in schedule:
            await asyncio.sleep(max(0.0, start + at - time.monotonic()))
            sends.user_sends(user, f"c{user}-m{counters[user]:04d}")
            counters[user] += 1
        await api.wait_for(sends.complete, timeout=600 * scale + 60,
                           description="the group burst")
        finished = max(sends.arrived.values()) - start
    finally:
        await bot.stop()
        api.set_rate_limits(None)
    in_order = all(texts == sorted(texts) for texts in sends.order.values())
    refused = sum(1 for call in api.calls[calls_before:] if call.error
                  and call.error.code == 429)
    return {"minutes": finished / scale / 60, "in_order": in_order, "429": refused,
            "sends": sends.sends, "messages": len(sends.created)}


@asynccontextmanager
async def fake_server() -> AsyncIterator[FakeBotAPI]:
    """A fresh fake Bot API (with the staff group) for one bot: no bot pays for the chats
    another one filled."""
    api = FakeBotAPI(TOKEN)
    populate_staff(api)
    await api.start()
    try:
        yield api
    finally:
        await api.stop()


async def main(messages: int, group_scale: float) -> int:
    """Run everything and print the table."""
    rows: list[Figures] = []
    async with fake_server() as api:
        echo_users = list(range(20_001, 20_001 + CLIENTS))
        for user in echo_users:
            api.add_user(user, f"Echo {user}", language_code="en")
        rows.append(await run_loads(api, EchoProcess(api), "echo", echo_users, messages))
    async with fake_server() as api, sqlite_database() as url:
        rows.append(await relay_figures(api, url, "relay, SQLite", 30_001, messages))
    if await postgres_answers():
        async with fake_server() as api, postgres_database() as url:
            rows.append(await relay_figures(api, url, "relay, PostgreSQL", 40_001, messages))
    else:
        print("(no PostgreSQL server answers: its row is left out)")
    async with fake_server() as api, sqlite_database() as url:
        budget = await group_budget(api, url, group_scale, 50_001)
    print_table(rows, messages)
    echo_rate = rows[0].rate
    print(f"\nstaff group budget (limits scaled ×{group_scale}, 429 when over): "
          f"{budget['messages']} messages from {GROUP_TICKETS} tickets in one minute were all "
          f"in the group after {budget['minutes']:.2f} minutes (target 4) in "
          f"{budget['sends']} messages, in order: {budget['in_order']}, 429 answers: "
          f"{budget['429']}")
    relays_ok = all(row.rate >= echo_rate / 2 and row.p99 < TARGET_LATENCY_MS
                    for row in rows[1:])
    group_ok = budget["minutes"] <= 4 and budget["in_order"] and budget["429"] == 0
    print("targets:", "met" if relays_ok and group_ok else "NOT met")
    return 0 if relays_ok and group_ok else 1


def print_table(rows: list[Figures], messages: int) -> None:
    """The figures, one bot a row."""
    print(f"\n{messages} messages from {CLIENTS} clients at once (no limits); then {PACED}, "
          f"one every {PACED_EVERY * 1000:.0f} ms, below Telegram's limits (scaled "
          f"×{PACED_SCALE}).")
    header = (f"{'bot':<18} {'burst msg/s':>11} {'sends':>6} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'over limit':>10} {'peak RSS MB':>11}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row.name:<18} {row.rate:>11.0f} {row.burst_sends:>6} {row.p50:>7.1f} "
              f"{row.p99:>7.1f} {row.paced_violations:>10} {row.rss_mb:>11.1f}")
    for row in rows[1:]:
        print(f"{row.name}: {row.rate / rows[0].rate:.0%} of the echo bot's rate "
              f"(target ≥ 50%), p99 {row.p99:.1f} ms (target < {TARGET_LATENCY_MS:.0f})")


async def echo_bot(api_url: str) -> None:
    """The bare aiogram echo bot (run as `bench_relay.py --echo-bot URL`)."""
    from aiogram import Bot, Dispatcher
    from aiogram.client.session.aiohttp import AiohttpSession
    from aiogram.client.telegram import TelegramAPIServer
    from aiogram.types import Message

    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(api_url)))
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    await dispatcher.start_polling(bot, polling_timeout=10)


if __name__ == "__main__":
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("messages", nargs="?", type=int, default=1000)
    arguments.add_argument("--group-scale", type=float, default=0.05)
    arguments.add_argument("--echo-bot", metavar="API_URL")
    parsed = arguments.parse_args()
    if parsed.echo_bot:
        asyncio.run(echo_bot(parsed.echo_bot))
    else:
        raise SystemExit(asyncio.run(main(parsed.messages, parsed.group_scale)))
