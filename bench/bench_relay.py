"""Benchmark of the relay: Frontdesk against a bare aiogram echo bot, on one fake Bot API server.

Run from the repository root:
`python bench/bench_relay.py [MESSAGES] [--rounds R] [--group-scale S] [--baseline DIR]`
(defaults 1000, 5 and 0.05). The fake Bot API server (playground/telegram) runs in this process,
a fresh one for each bot; each bot runs as a process of its own, polling it, so that its memory
and its processor time are its own:

  * `echo`: a bare aiogram bot answering every message with sendMessage — the floor of what
    any bot costs on this machine;
  * `relay, SQLite` and `relay, PostgreSQL` (when a server answers at
    FRONTDESK_TEST_POSTGRES_URL or 127.0.0.1:5432): `frontdesk run`, clients with open tickets
    and topics; each client message is stored, then copied into the ticket's topic.

Why rounds: this VM's processor speed varies by up to 3× over minutes (contention on the host:
the same pure-Python loop took 0.22 s, then 0.62 s a minute later), so an echo run compared
with a relay run made a minute later measures the host, not the bots. So all the bots are
started first and kept running, and the burst is measured in R interleaved rounds: in each
round echo, then each relay (they take turns at going first), each from idle (1 s after the
last burst ended), after a warm-up burst each that is not counted (a fresh relay opens its
connections and prepares its statements). A relay's figure is the median over the rounds of
its rate divided by the echo bot's rate of the same round: a ratio of two runs seconds apart,
which the host's drift hardly moves.

The loads:

  * a burst: MESSAGES messages from 100 clients at once (fresh clients each round: the relay's
    flood guard refuses more than 20 messages a minute from one client), no sending limits (the
    relay's pacing scaled down to nothing): messages per second from the first update to the
    last send; the table gives the median over the rounds, the sends of the last round;
  * after the rounds, for each bot alone, below the limits: 300 messages, one every 40 ms, with
    Telegram's limits scaled 100 times faster (the staff group takes one message per 31.5 ms):
    the latency from the update's creation to the send reaching the fake (p50, p99), after a
    warm-up of one message per client (the relay is restarted for this load: its first message
    to each ticket opens database connections and fills caches; the clients are the first
    round's, whom the restarted relay's flood guard has not seen).

With `--baseline DIR` (another checkout of Frontdesk, e.g. a git worktree of an older commit,
its catalogs compiled), that checkout's relay runs too, on SQLite and on PostgreSQL, in the same
interleaved rounds (rows named after DIR): a process of this interpreter with its working
directory and PYTHONPATH set to DIR, so that the before/after table comes from one run. The
option may be given more than once (a step at a time, in one run). Its database is
made by this checkout's code (same schema: the bench says so when the heads differ).

RSS is the bot process's peak resident memory (VmHWM): the echo bot's over the whole run, the
relay's over the load below the limits. Then the group's budget: with the limits on (scaled by
S), 300 client messages from 60 tickets spread over one scaled minute, the fake refusing with
429 whatever goes over Telegram's limits; when is the last one in the group (in scaled
minutes), are they in order, and how many 429 came back.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_scheduler import postgres_answers, postgres_database, sqlite_database  # noqa: E402

from domain.policy import default_policy  # noqa: E402
from playground.telegram.bot_api import FakeBotAPI, RateLimits  # noqa: E402
from tests.e2e.bot_process import BotProcess  # noqa: E402
from tests.e2e.burst import BURST_TEXT, seed_tickets  # noqa: E402
from tests.e2e.harness import MovableClock  # noqa: E402
from tests.fakes.plugin import TOKEN, populate_staff  # noqa: E402

CLIENTS = 100
IDLE_PAUSE = 1.0  # seconds between the end of one burst and the start of the next
PACED = 300  # messages of the latency load
PACED_EVERY = 0.040  # seconds between them
PACED_SCALE = 0.01  # Telegram's limits 100 times faster during the latency load
NO_LIMITS_SCALE = 1e-4
GROUP_TICKETS = 60
GROUP_MESSAGES = 300
TARGET_LATENCY_MS = 50.0
TARGET_RATIO = 0.35  # the floor of issue #19: more than five times Telegram's per-bot limit


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
    rates: list[float] = field(default_factory=list)  # burst msg/s, one per round
    ratios: list[float] = field(default_factory=list)  # rate / the echo bot's, same round
    burst_sends: int = 0  # of the last round
    p50: float = 0.0
    p99: float = 0.0
    paced_violations: int = 0
    rss_mb: float = 0.0

    @property
    def rate(self) -> float:
        """The median burst rate over the rounds."""
        return statistics.median(self.rates)

    @property
    def ratio(self) -> float:
        """The median of the per-round ratios to the echo bot's rate."""
        return statistics.median(self.ratios)


class CheckoutProcess(BotProcess):
    """`frontdesk run` from another checkout of Frontdesk (`--baseline DIR`), with this
    interpreter: DIR comes first on the module path, before this checkout's install."""

    def __init__(self, checkout: Path, api: FakeBotAPI, database_url: str,
                 **settings: str) -> None:
        super().__init__(api, database_url, **settings)
        self.checkout = checkout
        self.env["PYTHONPATH"] = str(checkout)

    async def start(self) -> None:
        """Start the other checkout's bot."""
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot.cli", "run", cwd=self.checkout, env=self.env,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)


def relay_process(api: FakeBotAPI, database_url: str, scale: float,
                  checkout: Path | None) -> BotProcess:
    """This checkout's relay, or that of `checkout`, with Telegram's limits scaled."""
    if checkout is None:
        return BotProcess(api, database_url, TELEGRAM_RATE_SCALE=str(scale))
    return CheckoutProcess(checkout, api, database_url, TELEGRAM_RATE_SCALE=str(scale))


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
        """SIGTERM (aiogram stops polling) and wait; nothing if it is not running."""
        if self.process is not None and self.process.returncode is None:
            self.process.terminate()
            await self.process.wait()


@dataclass
class Contender:
    """One bot of the comparison, on a fake server of its own, running through the rounds."""

    figures: Figures
    api: FakeBotAPI
    bot: EchoProcess | BotProcess
    first_user: int

    def users(self, round_: int) -> list[int]:
        """The clients of one round: fresh ones each round (the relay's flood guard)."""
        first = self.first_user + round_ * CLIENTS
        return list(range(first, first + CLIENTS))


def peak_rss_mb(pid: int) -> float:
    """The peak resident memory of a process (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def polling(api: FakeBotAPI, name: str) -> None:
    """Wait until the bot is polling the fake."""
    await api.wait_for(lambda: api.long_polls_waiting > 0, timeout=30,
                       description=f"{name} to start polling")


async def start_echo(stack: AsyncExitStack, rounds: int, first_user: int) -> Contender:
    """The echo bot, started, with all the rounds' clients (stopped when `stack` closes)."""
    api = await stack.enter_async_context(fake_server())
    contender = Contender(Figures("echo"), api, EchoProcess(api), first_user)
    for user in range(first_user, first_user + (rounds + 1) * CLIENTS):  # + the warm-up's
        api.add_user(user, f"Echo {user}", language_code="en")
    stack.push_async_callback(contender.bot.stop)
    await contender.bot.start()
    return contender


async def start_relay(stack: AsyncExitStack, name: str,
                      database: AbstractAsyncContextManager[str], rounds: int,
                      first_user: int, checkout: Path | None = None) -> Contender:
    """Frontdesk's relay on one database (this checkout's, or that of `checkout`), started,
    all the rounds' clients with a ticket and its topic (stopped, the database dropped, when
    `stack` closes)."""
    api = await stack.enter_async_context(fake_server())
    database_url = await stack.enter_async_context(database)
    users = range(first_user, first_user + (rounds + 1) * CLIENTS)  # + the warm-up's
    await seed_tickets(api, database_url, default_policy(), MovableClock(), users)
    bot = relay_process(api, database_url, NO_LIMITS_SCALE, checkout)
    stack.push_async_callback(bot.stop)
    await bot.start()
    return Contender(Figures(name), api, bot, first_user)


async def burst(api: FakeBotAPI, name: str, users: Sequence[int],
                messages: int) -> tuple[float, int]:
    """MESSAGES messages from `users` at once: messages per second from the first update made
    to the last send seen, and the number of sends."""
    sends = Sends(api)
    start = time.monotonic()
    for number in range(messages // len(users)):
        for user in users:
            sends.user_sends(user, f"c{user}-m{number:04d}")
    await api.wait_for(sends.complete, timeout=300, description=f"{name}: the burst")
    return len(sends.created) / (max(sends.arrived.values()) - start), sends.sends


async def paced(api: FakeBotAPI, name: str, users: Sequence[int]) -> tuple[float, float, int]:
    """The load below the limits (Telegram's scaled by PACED_SCALE), after a warm-up of one
    message per client: p50 and p99 latency (ms) and the sends over a limit."""
    api.set_rate_limits(RateLimits(scale=PACED_SCALE))
    try:
        warm = Sends(api)  # one message per client first: connections, caches (not measured)
        for user in users:
            warm.user_sends(user, f"c{user}-m{8000:04d}")
            await asyncio.sleep(PACED_EVERY)
        await api.wait_for(warm.complete, timeout=60, description=f"{name}: the warm-up")
        load = Sends(api)
        for number in range(PACED):
            user = users[number % len(users)]
            load.user_sends(user, f"c{user}-m{9000 + number:04d}")
            await asyncio.sleep(PACED_EVERY)
        await api.wait_for(load.complete, timeout=60, description=f"{name}: the paced load")
        violations = len(api.limit_violations)
    finally:
        api.set_rate_limits(None)
    latencies = sorted(load.latencies_ms())
    return statistics.median(latencies), latencies[int(len(latencies) * 0.99) - 1], violations


async def rounds_of_bursts(contenders: Sequence[Contender], rounds: int, messages: int) -> None:
    """The interleaved rounds: each bot's burst in turn, each from idle; a relay's ratio to
    the echo bot (`contenders[0]`) taken within the round."""
    for contender in contenders:
        await polling(contender.api, contender.figures.name)
    for contender in contenders:  # not measured: a fresh relay opens connections, prepares
        await burst(contender.api, f"{contender.figures.name}, warm-up",
                    contender.users(rounds), messages)
    echo = contenders[0].figures
    relays = list(contenders[1:])
    for round_ in range(rounds):
        # the relays take turns at going first after the echo bot (a later place in the round
        # is not the same machine: it showed in runs of one code as two relays)
        turn = round_ % len(relays) if relays else 0
        for contender in [contenders[0], *relays[turn:], *relays[:turn]]:
            await asyncio.sleep(IDLE_PAUSE)
            figures = contender.figures
            rate, figures.burst_sends = await burst(
                contender.api, f"{figures.name}, round {round_ + 1}",
                contender.users(round_), messages)
            figures.rates.append(rate)
        for contender in contenders[1:]:
            contender.figures.ratios.append(contender.figures.rates[-1] / echo.rates[-1])


async def latency_figures(contender: Contender) -> None:
    """The load below the limits and the peak RSS of one bot, then the bot stopped. The relay
    is restarted first, its pacing by limits 100× faster; the clients are the first round's
    (a fresh relay's flood guard has not seen them; the echo bot has none)."""
    bot, figures = contender.bot, contender.figures
    try:
        if isinstance(bot, BotProcess):
            await bot.stop()
            bot.env["TELEGRAM_RATE_SCALE"] = str(PACED_SCALE)
            await bot.start()
        await polling(contender.api, figures.name)
        figures.p50, figures.p99, figures.paced_violations = await paced(
            contender.api, figures.name, contender.users(0))
        assert bot.process is not None
        figures.rss_mb = peak_rss_mb(bot.process.pid)
    finally:
        await bot.stop()


async def group_budget(api: FakeBotAPI, database_url: str, scale: float,
                       first_user: int, checkout: Path | None = None) -> dict[str, Any]:
    """300 messages from 60 tickets in one scaled minute, the group limit on (429 enforced)."""
    users = list(range(first_user, first_user + GROUP_TICKETS))
    await seed_tickets(api, database_url, default_policy(), MovableClock(), users)
    rng = random.Random(7)  # the same spread in every run
    schedule = sorted((rng.uniform(0, 60 * scale), user)
                      for user in users for _ in range(GROUP_MESSAGES // GROUP_TICKETS))
    bot = relay_process(api, database_url, scale, checkout)
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


async def main(messages: int, rounds: int, group_scale: float,
               baselines: Sequence[Path] = (), bursts_only: bool = False) -> int:
    """Run everything and print the tables."""
    postgres = await postgres_answers()
    if not postgres:
        print("(no PostgreSQL server answers: its rows are left out)")
    async with AsyncExitStack() as stack:
        contenders = [await start_echo(stack, rounds, 20_001)]
        checkouts: list[tuple[str, Path | None]] = [("relay", None)]
        checkouts += [(baseline.name, baseline) for baseline in baselines]
        for offset, (kind, checkout) in enumerate(checkouts):
            first = 30_001 + offset * 20_000
            contenders.append(await start_relay(stack, f"{kind}, SQLite", sqlite_database(),
                                                rounds, first, checkout))
            if postgres:
                contenders.append(await start_relay(stack, f"{kind}, PostgreSQL",
                                                    postgres_database(), rounds,
                                                    first + 10_000, checkout))
        await rounds_of_bursts(contenders, rounds, messages)
        if bursts_only:
            print_rounds([contender.figures for contender in contenders], messages)
            return 0
        for contender in contenders[1:]:  # restarted for the latency load: none idles meanwhile
            await contender.bot.stop()
        for contender in contenders:
            await latency_figures(contender)
    rows = [contender.figures for contender in contenders]
    budgets = {}
    for kind, checkout in checkouts:
        async with fake_server() as api, sqlite_database() as url:
            budgets[kind] = await group_budget(api, url, group_scale, 90_001, checkout)
    print_rounds(rows, messages)
    print_table(rows, messages)
    for kind, budget in budgets.items():
        print(f"\n{kind}: staff group budget (limits scaled ×{group_scale}, 429 when over): "
              f"{budget['messages']} messages from {GROUP_TICKETS} tickets in one minute were "
              f"all in the group after {budget['minutes']:.2f} minutes (target 4) in "
              f"{budget['sends']} messages, in order: {budget['in_order']}, 429 answers: "
              f"{budget['429']}")
    ours = [row for row in rows[1:] if row.name.startswith("relay")]
    relays_ok = all(row.ratio >= TARGET_RATIO and row.p99 < TARGET_LATENCY_MS for row in ours)
    budget = budgets["relay"]
    group_ok = budget["minutes"] <= 4 and budget["in_order"] and budget["429"] == 0
    print("targets:", "met" if relays_ok and group_ok else "NOT met")
    return 0 if relays_ok and group_ok else 1


def print_rounds(rows: list[Figures], messages: int) -> None:
    """The burst rates of each round, and each relay's ratio to the echo bot in that round."""
    print(f"\nbursts of {messages} messages from {CLIENTS} clients at once (no limits), "
          f"msg/s, in {len(rows[0].rates)} interleaved rounds:")
    names = [row.name.removeprefix("relay, ").replace("PostgreSQL", "PG")[-14:] for row in rows]
    header = (f"{'round':>5} " + " ".join(f"{name:>10}" for name in names) + " "
              + " ".join(f"{name + ' / echo':>17}" for name in names[1:]))
    print(header)
    print("-" * len(header))
    for round_ in range(len(rows[0].rates)):
        print(f"{round_ + 1:>5} " + " ".join(f"{row.rates[round_]:>10.0f}" for row in rows)
              + " " + " ".join(f"{row.ratios[round_]:>17.0%}" for row in rows[1:]))
    print(f"{'med.':>5} " + " ".join(f"{row.rate:>10.0f}" for row in rows) + " "
          + " ".join(f"{row.ratio:>17.0%}" for row in rows[1:]))


def print_table(rows: list[Figures], messages: int) -> None:
    """The figures, one bot a row."""
    rounds = len(rows[0].rates)
    print(f"\n{messages} messages from {CLIENTS} clients at once (no limits; median of {rounds} "
          f"rounds); then {PACED}, one every {PACED_EVERY * 1000:.0f} ms, below Telegram's "
          f"limits (scaled ×{PACED_SCALE}).")
    header = (f"{'bot':<18} {'burst msg/s':>11} {'sends':>6} {'p50 ms':>7} {'p99 ms':>7} "
              f"{'over limit':>10} {'peak RSS MB':>11}")
    print(header)
    print("-" * len(header))
    for row in rows:
        print(f"{row.name:<18} {row.rate:>11.0f} {row.burst_sends:>6} {row.p50:>7.1f} "
              f"{row.p99:>7.1f} {row.paced_violations:>10} {row.rss_mb:>11.1f}")
    for row in rows[1:]:
        print(f"{row.name}: {row.ratio:.0%} of the echo bot's rate (median of {rounds} "
              f"interleaved rounds; target ≥ {TARGET_RATIO:.0%}), p99 {row.p99:.1f} ms "
              f"(target < {TARGET_LATENCY_MS:.0f})")


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
    arguments.add_argument("--rounds", type=int, default=5)
    arguments.add_argument("--group-scale", type=float, default=0.05)
    arguments.add_argument("--baseline", type=Path, metavar="DIR", action="append",
                           default=[], help="another checkout whose relay runs in the same "
                           "rounds (may be repeated)")
    arguments.add_argument("--bursts-only", action="store_true",
                           help="only the rounds of bursts (a quick comparison)")
    arguments.add_argument("--echo-bot", metavar="API_URL")
    parsed = arguments.parse_args()
    if parsed.echo_bot:
        asyncio.run(echo_bot(parsed.echo_bot))
    else:
        if parsed.rounds < 1:
            arguments.error("--rounds must be at least 1")
        if not CLIENTS <= parsed.messages <= CLIENTS * default_policy().flood_limit:
            arguments.error(f"MESSAGES must lie between {CLIENTS} and "
                            f"{CLIENTS * default_policy().flood_limit} (each client sends "
                            f"at most the flood guard's {default_policy().flood_limit})")
        for baseline in parsed.baseline:
            versions = "storage/migrations/versions/*.py"
            if ({path.name for path in baseline.resolve().glob(versions)}
                    != {path.name for path in Path(__file__).resolve().parents[1].glob(versions)}):
                print(f"(the migrations of {baseline} differ from these: its databases "
                      f"are made by this checkout's)")
            if not (baseline / "bot" / "cli.py").is_file():
                arguments.error(f"{baseline} is not a checkout of Frontdesk")
            if not list(baseline.glob("locales/*/LC_MESSAGES/messages.mo")):
                arguments.error(f"compile the catalogs of {baseline} first: pybabel "
                                f"compile -d {baseline / 'locales'} -D messages")
        raise SystemExit(asyncio.run(main(parsed.messages, parsed.rounds, parsed.group_scale,
                                          [baseline.resolve() for baseline in parsed.baseline],
                                          parsed.bursts_only)))
