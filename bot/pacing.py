"""Telegram's sending limits, kept before each call: the part no library does.

aiolimiter spaces the sends: a leaky bucket of capacity one per chat (Telegram's one message a
second to a chat, a group's burst included) and one for the bot (30 a second), each counted
from the moment the previous send really went out. What aiolimiter cannot do is left here:

- **A group's 20 messages a minute as a sliding window.** A quiet staff group takes a short
  burst (a new ticket's topic, card, description and screenshot a second apart); one that had
  `group_burst` messages in the last minute is paced evenly (19 a minute, so that each send
  carries what came meanwhile), and no minute ever holds more than 19. A leaky bucket cannot
  give both: one of capacity b that refills at r a minute lets b + r messages into a minute.
- **Windows counted from answers.** Sends let through a few milliseconds apart can reach
  Telegram together (a busy event loop, new connections, a server reading them late); a send
  may go only once the one a window's count before it was *answered* a whole window ago (the
  bot's 30 a second, a group's 20 a minute). A request arrives before it is answered, so
  Telegram's sliding count never holds one too many. An album counts once per message.
- **Turns.** One task at a time sends to a chat; who goes next is decided when the chat becomes
  free (the outbox weighs how much a lane has waiting and for how long), and the holder sends
  every part of its item before the next one.
- **Telegram's 429**: the chat is held as long as Telegram asks, and the call made again.
- **Several processes**: `bot.shared_pacing.SharedSlots` keeps the same spacing, holds and
  group windows in Redis, so that no process bursts into a budget another one spent.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType
from aiolimiter import AsyncLimiter

TURN_LEAD = 0.05  # seconds before its chat is due that a turn begins
GROUP_WINDOW_SENDS = 20  # a group takes 20 messages a minute
BOT_WINDOW_SENDS = 30  # the bot sends 30 messages a second
FLIGHT_CAP = 1.0  # seconds after which a send not yet answered counts as arrived
_CURRENT_CHAT: ContextVar[int | None] = ContextVar("pacer_current_chat", default=None)


@dataclass(frozen=True)
class SendLimits:
    """Telegram's limits: 1/s per chat, 20 a minute per group, 30/s per bot.

    `margin` is added to every interval as a share of it, and taken off a group's minute
    (5%: 19 messages a minute rather than 20), so that jitter never makes one send too many.
    """

    private_interval: float = 1.0  # between two sends to a private chat
    group_interval: float = 1.0  # between two sends to a group (a burst's pace)
    global_interval: float = 1 / 30
    margin: float = 0.05
    # Seconds by which one send may reach Telegram later than planned relative to the next
    # ones (the event loop, the connection pool, the network), spread over each window's
    # sends. At Telegram's scale it costs a third of a millisecond a send; it is what keeps
    # the limits when the tests scale a second down to 10 ms.
    jitter: float = 0.010
    group_window: float = 60.0  # Telegram's window for a group's GROUP_WINDOW_SENDS
    group_burst: int = 5  # messages a quiet group takes at the chat's spacing

    def scaled(self, factor: float) -> SendLimits:
        """The same limits with every interval multiplied by `factor` (tests run faster); the
        jitter is the machine's, not Telegram's: it stays."""
        return SendLimits(self.private_interval * factor, self.group_interval * factor,
                          self.global_interval * factor, self.margin, self.jitter,
                          self.group_window * factor, self.group_burst)

    def spacing(self, chat_id: int) -> float:
        """The least time between two sends to this chat (groups have negative ids). A
        group's limit is its minute's 20, kept by its window: the jitter is spread over it."""
        if chat_id < 0:
            return self._spaced(self.group_interval, GROUP_WINDOW_SENDS)
        return self._spaced(self.private_interval, 1)

    def group_sends(self) -> int:
        """Sends a group's window may hold."""
        return math.floor(GROUP_WINDOW_SENDS * (1 - self.margin))

    def interval(self, chat_id: int) -> float:
        """The spacing of sends to this chat when it is busy: a group's minute shared by the
        sends it holds, or the chat's spacing if that is longer."""
        if chat_id < 0 and self.group_window > 0:
            return max(self.spacing(chat_id), self.group_window / self.group_sends())
        return self.spacing(chat_id)

    def bot_interval(self) -> float:
        """The spacing of any two sends of the bot."""
        return self._spaced(self.global_interval, BOT_WINDOW_SENDS)

    def bot_window(self) -> float:
        """Telegram's window for the bot's overall limit (BOT_WINDOW_SENDS sends in it)."""
        return self.global_interval * BOT_WINDOW_SENDS * (1 + self.margin)

    def _spaced(self, interval: float, window_sends: int) -> float:
        if interval <= 0:
            return 0.0
        return interval * (1 + self.margin) + self.jitter / window_sends


@dataclass
class _Flight:
    """A send let through, until its answer came (`landed`: the monotonic time then)."""

    granted: float
    landed: asyncio.Future[float]
    shared: tuple[int, str, int] | None = None  # in Redis: (group, its entry, messages)

    def arrived_by(self) -> float:
        """When the send reached Telegram at the latest (as far as we know now)."""
        cap = self.granted + FLIGHT_CAP
        return min(self.landed.result(), cap) if self.landed.done() else cap


@dataclass
class _AnsweredWindow:
    """At most `sends` messages in any `seconds`, counted from when they were answered; once
    it holds `burst` of them (when given), a send waits `steady` after the previous one."""

    sends: int
    seconds: float
    burst: int = 0
    steady: float = 0.0
    flights: deque[_Flight] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self.flights = deque(maxlen=max(self.sends, 1))

    def record(self, flight: _Flight, messages: int) -> None:
        """A send of `messages` messages went out."""
        if self.seconds > 0:
            self.flights.extend([flight] * messages)

    def _oldest(self, messages: int) -> _Flight | None:
        """The send that must have left the window before `messages` more fit in it."""
        excess = len(self.flights) + min(messages, self.sends) - self.sends
        if self.seconds <= 0 or excess <= 0:
            return None
        return self.flights[excess - 1]

    def due(self, messages: int = 1) -> float:
        """When `messages` more may go (in the past if they may now)."""
        oldest = self._oldest(messages)
        full = float("-inf") if oldest is None else oldest.arrived_by() + self.seconds
        return max(full, self._steady_due())

    def _steady_due(self) -> float:
        if not self.burst or not self.flights:
            return float("-inf")
        since = time.monotonic() - self.seconds
        held = sum(1 for flight in self.flights if flight.arrived_by() > since)
        return self.flights[-1].granted + self.steady if held >= self.burst else float("-inf")

    async def wait(self, messages: int = 1) -> bool:
        """Wait until `messages` more may go; whether anything was waited for."""
        waited = False
        while (delay := self.due(messages) - time.monotonic()) > 0:
            waited = True
            oldest = self._oldest(messages)
            if oldest is not None and not oldest.landed.done():
                # its answer may bring the moment forward
                await asyncio.wait({oldest.landed}, timeout=delay)
            else:
                await asyncio.sleep(delay)
        return waited


_CURRENT_FLIGHT: ContextVar[_Flight | None] = ContextVar("pacer_current_flight", default=None)


@dataclass
class _Waiter:
    task: asyncio.Task[Any] | None
    priority: Callable[[], float]
    order: int
    given: asyncio.Future[None]


class Shared(Protocol):
    """The slots this process shares with the other bot processes (through Redis:
    `bot.shared_pacing.SharedSlots`)."""

    async def take_slot(self, chat_id: int, limits: SendLimits, messages: int,
                        answer: bool = False) -> tuple[int, str, int] | None:
        """Wait for the chat's next slot everywhere and take it (see SharedSlots)."""

    async def landed(self, chat_id: int, entry: str, messages: int) -> None:
        """A send into a group was answered."""

    async def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said wait: every process waits."""


class Pacer:
    """Lets sends through one at a time per chat, within the limits.

    Who goes next to a busy chat is decided when the chat becomes free: the waiter whose
    `priority` is highest then (the outbox weighs how much a lane has waiting and for how
    long), the earliest to ask among equals. A task holding a chat's turn (`turn`) sends as
    many messages as its item needs, each spaced by the limits, before the next one goes.
    """

    def __init__(self, limits: SendLimits, shared: Shared | None = None) -> None:
        self.limits = limits
        self.shared = shared  # the other processes' sends too (several bot processes)
        self._spacing: dict[int, AsyncLimiter] = {}
        bot_interval = limits.bot_interval()
        self._bot = AsyncLimiter(1, bot_interval) if bot_interval > 0 else None
        self._bot_window = _AnsweredWindow(BOT_WINDOW_SENDS, limits.bot_window())
        self._group_windows: dict[int, _AnsweredWindow] = {}
        self._held: dict[int, float] = {}  # Telegram said: nothing to this chat before then
        self._holders: dict[int, asyncio.Task[Any] | None] = {}
        self._waiters: dict[int, list[_Waiter]] = {}
        self._asked = 0

    @asynccontextmanager
    async def turn(self, chat_id: int,
                   priority: Callable[[], float] = lambda: 0.0) -> AsyncIterator[None]:
        """Hold the chat's turn (waiting for it, for a hold and for room in its window)."""
        task = asyncio.current_task()
        if self._holders.get(chat_id) is task:  # already ours: the sends of one item
            yield
            return
        await self._acquire(chat_id, priority)
        try:
            # Until a little before the chat is due: what the holder does before sending
            # (claiming its item, reading the topic) then overlaps the wait, and claims
            # everything that came while the chat was busy.
            lead = min(self.limits.spacing(chat_id) / 2, TURN_LEAD)
            while (delay := self._due(chat_id) - lead - time.monotonic()) > 0:
                await asyncio.sleep(delay)
            yield
        finally:
            self._release(chat_id)

    async def wait(self, chat_id: int, messages: int = 1) -> None:
        """Wait until `messages` messages (an album has several) may go to `chat_id` in one
        call; the caller sends right after."""
        _CURRENT_CHAT.set(chat_id)
        async with self.turn(chat_id, lambda: float("inf")):
            window = self._group_window(chat_id)
            while (delay := self._held.get(chat_id, 0.0) - time.monotonic()) > 0 or (
                    window is not None and await window.wait(messages)):
                if delay > 0:
                    await asyncio.sleep(delay)
            spacing = self._limiter(chat_id)
            if spacing is not None:
                await spacing.acquire()
            await self._bot_turn(messages)
            member = None
            if self.shared is not None:
                member = await self.shared.take_slot(chat_id, self.limits, messages)
            self._take_off(chat_id, messages, member)

    async def wait_turn_of_bot(self, chat_id: int) -> None:
        """For an answer outside the outbox (a handler replying to a person): only the bot's
        overall budget is waited for; the chat's spacing and window then count this send."""
        await self._bot_turn(1)
        if self.shared is not None:
            await self.shared.take_slot(chat_id, self.limits, 1, answer=True)
        spacing = self._limiter(chat_id)
        if spacing is not None and spacing.has_capacity():
            await spacing.acquire()  # has room: returns at once
        self._take_off(chat_id, 1, None)

    async def _bot_turn(self, messages: int) -> None:
        """Wait for the bot's spacing and for room in its window of answers."""
        while True:
            if self._bot is not None:
                await self._bot.acquire()
            if not await self._bot_window.wait(messages):
                return  # room now, with nothing awaited since it was seen

    def _take_off(self, chat_id: int, messages: int, shared: tuple[int, str, int] | None
                  ) -> None:
        """A send to `chat_id` goes now (its answer is awaited by `landed`)."""
        flight = _Flight(time.monotonic(), asyncio.get_running_loop().create_future(), shared)
        self._bot_window.record(flight, messages)
        window = self._group_window(chat_id)
        if window is not None:
            window.record(flight, messages)
        _CURRENT_FLIGHT.set(flight)

    def landed(self) -> None:
        """The send this task was let through for was answered (or failed)."""
        flight = _CURRENT_FLIGHT.get()
        if flight is not None and not flight.landed.done():
            flight.landed.set_result(time.monotonic())
        _CURRENT_FLIGHT.set(None)

    async def answered(self) -> None:
        """`landed`, and told to the other processes (for a group's window)."""
        flight = _CURRENT_FLIGHT.get()
        self.landed()
        if flight is not None and flight.shared is not None and self.shared is not None:
            await self.shared.landed(*flight.shared)

    def _limiter(self, chat_id: int) -> AsyncLimiter | None:
        spacing = self.limits.spacing(chat_id)
        if spacing <= 0:
            return None
        limiter = self._spacing.get(chat_id)
        if limiter is None:
            if len(self._spacing) > 10_000:  # those with room are as good as new ones
                self._spacing = {chat: each for chat, each in self._spacing.items()
                                 if not each.has_capacity()}
            limiter = self._spacing[chat_id] = AsyncLimiter(1, spacing)
        return limiter

    def _group_window(self, chat_id: int) -> _AnsweredWindow | None:
        if chat_id >= 0 or self.limits.group_window <= 0:
            return None
        window = self._group_windows.get(chat_id)
        if window is None:
            window = self._group_windows[chat_id] = _AnsweredWindow(
                self.limits.group_sends(), self.limits.group_window, self.limits.group_burst,
                self.limits.interval(chat_id))
        return window

    async def _acquire(self, chat_id: int, priority: Callable[[], float]) -> None:
        task = asyncio.current_task()
        if chat_id not in self._holders:
            self._holders[chat_id] = task
            return
        self._asked += 1
        waiter = _Waiter(task, priority, self._asked,
                         asyncio.get_running_loop().create_future())
        self._waiters.setdefault(chat_id, []).append(waiter)
        try:
            await waiter.given
        except asyncio.CancelledError:
            if waiter.given.done() and not waiter.given.cancelled():
                self._release(chat_id)  # it had been given to us already: pass it on
            else:
                self._waiters[chat_id].remove(waiter)
            raise

    def _release(self, chat_id: int) -> None:
        """The holder is done: the chat goes to the waiter with the highest priority now."""
        waiters = self._waiters.get(chat_id)
        if not waiters:
            self._waiters.pop(chat_id, None)
            self._holders.pop(chat_id, None)
            return
        chosen = max(waiters, key=lambda waiter: (waiter.priority(), -waiter.order))
        waiters.remove(chosen)
        self._holders[chat_id] = chosen.task
        chosen.given.set_result(None)

    def _due(self, chat_id: int) -> float:
        """When the chat may take a message, but for its spacing (a second at most)."""
        window = self._group_window(chat_id)
        return max(self._held.get(chat_id, float("-inf")),
                   float("-inf") if window is None else window.due())

    def backlog(self, chat_id: int) -> float:
        """Seconds until the chat could take one more message (how far its queue is backed
        up): the turns of those waiting for it, one interval each, and then that one."""
        ahead = len(self._waiters.get(chat_id, ())) * self.limits.interval(chat_id)
        spacing = self._spacing.get(chat_id)
        spaced = 0.0 if spacing is None or spacing.has_capacity() else spacing.time_period
        return max(self._due(chat_id) - time.monotonic(), spaced, 0.0) + ahead

    def hold_current(self, seconds: float) -> None:
        """Telegram said wait (429) to the chat this task last sent to."""
        chat_id = _CURRENT_CHAT.get()
        if chat_id is not None:
            self.hold(chat_id, seconds)

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said wait (429): nothing goes to this chat for `seconds`."""
        until = time.monotonic() + seconds
        self._held[chat_id] = max(self._held.get(chat_id, float("-inf")), until)


class RetryAfterMiddleware(BaseRequestMiddleware):
    """A call answered 429 waits as long as Telegram asks, and for the chat's turn, and is
    made again — the same call, so a message of several parts is never sent twice in part."""

    def __init__(self, pacer: Pacer, attempts: int = 5) -> None:
        self.pacer = pacer
        self.attempts = attempts
        self.held = 0  # 429 answers seen

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        for attempt in range(self.attempts):
            try:
                response = await make_request(bot, method)
            except TelegramRetryAfter as error:
                await self.pacer.answered()
                self.held += 1
                if not isinstance(chat_id, int) or attempt == self.attempts - 1:
                    raise
                self.pacer.hold(chat_id, float(error.retry_after))
                if self.pacer.shared is not None:
                    await self.pacer.shared.hold(chat_id, float(error.retry_after))
                await self.pacer.wait(chat_id, messages_in(method))
                continue
            except BaseException:
                await self.pacer.answered()
                raise
            await self.pacer.answered()
            return response
        raise AssertionError("unreachable")  # pragma: no cover


_NOT_A_MESSAGE = frozenset({"sendChatAction"})
_COPIES = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})


def sends_a_message(method: TelegramMethod[TelegramType]) -> bool:
    """Whether the call posts a message (what Telegram's limits count)."""
    name = method.__api_method__
    return name in _COPIES or (name.startswith("send") and name not in _NOT_A_MESSAGE)


def messages_in(method: TelegramMethod[TelegramType]) -> int:
    """How many messages the call posts (an album: one per item)."""
    items = getattr(method, "message_ids", None) or getattr(method, "media", None)
    return len(items) if isinstance(items, list) else 1


class AnswerPacingMiddleware(BaseRequestMiddleware):
    """Answers the handlers send directly keep the bot's overall budget (30/s), which they
    share with the outbox; the outbox then spaces its next send to that chat after them."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        chat_id = getattr(method, "chat_id", None)
        if isinstance(chat_id, int) and sends_a_message(method):
            await self.pacer.wait_turn_of_bot(chat_id)
        return await make_request(bot, method)
