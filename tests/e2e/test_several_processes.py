"""Two bot processes on one PostgreSQL database, with the conversation state in Redis, behind
one webhook (a round-robin reverse proxy): they share a burst with no message lost or relayed
twice, and the scheduler runs in one of them at a time, passing to the other when it stops."""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import select

from bot.app import App
from domain.policy import default_policy
from domain.timers import UNASSIGNED
from playground.telegram.bot_api import FakeBotAPI, RateLimits
from storage.models import LeaseRow
from tests import services
from tests.e2e.bot_process import BotProcess
from tests.e2e.burst import Desked, GroupWatch, duplicates, seed_tickets, send_burst
from tests.e2e.harness import MovableClock, RunningDesk

pytestmark = [pytest.mark.postgres, pytest.mark.redis]
SECRET = "several-processes-secret"
CLIENTS = range(8001, 8041)
LEASE = timedelta(seconds=1)
SCALE = 0.01  # Telegram's limits, 100 times faster


def free_port() -> int:
    """A TCP port nobody listens on now (on the loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RoundRobinProxy:
    """The reverse proxy in front of the bot processes: each request to the next one; one
    that does not answer is skipped (as nginx does with a dead upstream)."""

    def __init__(self, backends: list[str]) -> None:
        self.backends = backends
        self.port = free_port()
        self.served: dict[str, int] = dict.fromkeys(backends, 0)
        self._turn = itertools.cycle(range(len(backends)))
        self._runner: web.AppRunner | None = None
        self._client: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        """The public webhook URL (what WEBHOOK_URL says)."""
        return f"http://127.0.0.1:{self.port}/tg"

    async def start(self) -> None:
        """Listen."""
        app = web.Application()
        app.router.add_post("/tg", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self._client = aiohttp.ClientSession()

    async def stop(self) -> None:
        """Stop listening."""
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        assert self._client is not None
        body = await request.read()
        headers = {name: value for name, value in request.headers.items()
                   if name.lower() in ("content-type", "x-telegram-bot-api-secret-token")}
        for _ in self.backends:
            backend = self.backends[next(self._turn)]
            try:
                async with self._client.post(backend, data=body, headers=headers) as answer:
                    self.served[backend] += 1
                    return web.Response(status=answer.status, body=await answer.read(),
                                        content_type=answer.content_type)
            except aiohttp.ClientConnectionError:
                continue
        return web.Response(status=502, text="Bad Gateway")


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_two_processes_share_a_burst_without_losing_or_doubling_a_message(
        fake_api: FakeBotAPI, database_url: str, tmp_path: Path) -> None:
    redis_url = services.redis_url_or_skip()
    await seed_tickets(fake_api, database_url, default_policy(), MovableClock(), CLIENTS)
    ports = [free_port(), free_port()]
    proxy = RoundRobinProxy([f"http://127.0.0.1:{port}/tg" for port in ports])
    await proxy.start()
    bots = [BotProcess(fake_api, database_url, tmp_path / f"bot{port}.log",
                       WEBHOOK_URL=proxy.url, WEBHOOK_SECRET=SECRET,
                       WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port), REDIS_URL=redis_url,
                       TELEGRAM_RATE_SCALE=str(SCALE))
            for port in ports]
    watch = GroupWatch(fake_api)
    fake_api.set_rate_limits(RateLimits(scale=SCALE))
    try:
        for bot in bots:
            await bot.start()
        expected = send_burst(fake_api, list(CLIENTS), 10)
        await fake_api.wait_for(lambda: watch.has_all(expected), timeout=60)
        await asyncio.sleep(0.5)  # anything relayed twice would show now
    finally:
        for bot in bots:
            await bot.stop()
        await proxy.stop()

    got = watch.relayed(expected)
    assert not duplicates(got)
    assert got == expected  # in order too: Telegram's fake posts one update at a time
    assert min(proxy.served.values()) >= 150, proxy.served  # both took their share
    assert fake_api.limit_violations == []  # the two kept one budget, through Redis


@pytest.fixture
async def two_schedulers(fake_api: FakeBotAPI, database_url: str
                         ) -> AsyncIterator[tuple[list[RunningDesk], list[Desked]]]:
    """Two desks in this process on one PostgreSQL database, with a short scheduler lease."""
    clock = MovableClock()
    seeded = await seed_tickets(fake_api, database_url, default_policy(), clock, CLIENTS)
    desks = [await RunningDesk(fake_api, database_url, default_policy(), clock).start()
             for _ in range(2)]
    for desk in desks:
        assert desk.app is not None
        desk.app.scheduler.lease_for = LEASE
    try:
        yield desks, seeded
    finally:
        for desk in desks:
            await desk.stop()


def app_of(desk: RunningDesk) -> App:
    """The running desk's application."""
    assert desk.app is not None
    return desk.app


async def lease_holder(desk: RunningDesk) -> str:
    """Who holds the scheduler lease now ("" if nobody)."""
    app = app_of(desk)
    async with app.uow_factory() as uow:
        lease = (await uow.session.execute(
            select(LeaseRow.holder, LeaseRow.expires_at)
            .where(LeaseRow.name == "scheduler"))).first()
    return "" if lease is None or lease.expires_at <= app.clock.now() else lease.holder


async def wait_for_holder(desks: list[RunningDesk], wanted: Callable[[str], bool]) -> str:
    """Wait (up to 10 s) until the lease's holder is one `wanted` accepts."""
    for _ in range(200):
        holder = await lease_holder(desks[0])
        if wanted(holder):
            return holder
        await asyncio.sleep(0.05)
    raise AssertionError("the scheduler lease never went where it should")


async def unassigned_soon(desk: RunningDesk, tickets: list[Desked]) -> None:
    """The tickets' "nobody took it" alert comes due in a moment (no other timer is left)."""
    app = app_of(desk)
    async with app.uow_factory() as uow:
        now = app.clock.now()
        for ticket in tickets:
            await uow.timers.set_all(ticket.ticket,
                                     {UNASSIGNED: now + timedelta(milliseconds=300)}, now)
        await uow.commit()


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_the_scheduler_runs_in_one_process_and_passes_over_when_it_stops(
        fake_api: FakeBotAPI, two_schedulers: tuple[list[RunningDesk], list[Desked]]) -> None:
    desks, tickets = two_schedulers
    holder = await wait_for_holder(desks, bool)
    running = next(desk for desk in desks if app_of(desk).scheduler.holder == holder)
    other = next(desk for desk in desks if desk is not running)

    await unassigned_soon(running, tickets[:20])
    await fake_api.wait_for(lambda: app_of(running).scheduler.fired >= 20, timeout=10,
                            description="the holder to fire the timers")
    assert app_of(other).scheduler.fired == 0

    # The holder hangs (alive, but it no longer renews the lease): once the lease has run
    # out, the other one takes over.
    frozen = asyncio.Event()

    async def hang() -> bool:
        await frozen.wait()
        return False

    app_of(running).scheduler.holds_lease = hang  # type: ignore[method-assign]
    fired = app_of(running).scheduler.fired
    await wait_for_holder(desks, lambda holder: holder == app_of(other).scheduler.holder)
    await unassigned_soon(other, tickets[20:])
    await fake_api.wait_for(lambda: app_of(other).scheduler.fired >= 20, timeout=10,
                            description="the other one to fire the timers")
    assert app_of(running).scheduler.fired == fired

    # A graceful stop hands the lease over at once, without waiting for it to run out.
    del app_of(running).scheduler.holds_lease
    frozen.set()
    await other.stop()
    await wait_for_holder(desks[:1] if desks[0] is running else desks[1:],
                          lambda holder: holder == app_of(running).scheduler.holder)
