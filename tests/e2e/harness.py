"""Runs the real dispatcher, outbox sender and scheduler against the fake Bot API server."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import App, build_app, serve
from bot.pacing import SendLimits
from bot.settings import Settings
from domain.policy import Policy
from playground.telegram.bot_api import FakeBotAPI
from tests.fakes.plugin import STAFF_CHAT_ID, TOKEN

NO_LIMITS = SendLimits(0.0, 0.0, 0.0, group_window=0.0)
PROCESS_START = 120.0  # seconds: a new bot process imports aiogram first, slow on a busy machine


def free_port() -> int:
    """A TCP port nobody listens on now (on the loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class MovableClock:
    """Real time plus an offset the test can move forward (timers stay real)."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        """The shifted current time, aware UTC."""
        return datetime.now(UTC) + self.offset

    def advance(self, delta: timedelta) -> None:
        """Jump forward."""
        self.offset += delta


class RunningDesk:
    """One bot process: polling, outbox sender and scheduler as tasks on this loop."""

    def __init__(self, api: FakeBotAPI, database_url: str, policy: Policy,
                 clock: MovableClock, limits: SendLimits = NO_LIMITS,
                 staff_chat_id: int = STAFF_CHAT_ID) -> None:
        self.api = api
        self.settings = Settings(bot_token=TOKEN, staff_chat_id=staff_chat_id,
                                 database_url=database_url, telegram_api_url=api.base_url)
        self.policy = policy
        self.clock = clock
        self.limits = limits
        self.app: App | None = None
        self._stack: AsyncExitStack | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []

    async def start(self) -> RunningDesk:
        """Start polling, the sender and the scheduler."""
        self._stack = AsyncExitStack()
        self.app = await self._stack.enter_async_context(
            build_app(self.settings, self.policy, clock=self.clock, limits=self.limits))
        self.app.scheduler.interval = 0.05
        self._stop = asyncio.Event()
        self._tasks = [asyncio.create_task(serve(self.app, self._stop, polling_timeout=1))]
        return self

    async def stop(self) -> None:
        """Stop gracefully: polling ends, the outbox drains, everything closes."""
        if self.app is None or self._stack is None:
            return
        self._stop.set()
        await asyncio.gather(*self._tasks)
        await self._stack.aclose()
        self.app = None

    async def restart(self) -> None:
        """Stop and start again on the same database (a restart of the bot)."""
        await self.stop()
        await self.start()


DeskFactory = Callable[..., Awaitable[RunningDesk]]  # the `make_desk` fixture


def test_policy(base: Policy, **changes: Any) -> Policy:
    """The default policy with some fields changed."""
    return replace(base, **changes)


test_policy.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test to collect


def press(api: FakeBotAPI, user_id: int, message: dict[str, Any], label: str) -> str:
    """Press the button whose label contains `label` on a bot message."""
    return api.user_presses(user_id, message["chat"]["id"], message["message_id"], button=label)
