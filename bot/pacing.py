"""Telegram's sending limits, kept before each call (per chat, per group, per bot).

Sends to one chat are spaced by the chat's interval counted from the moment the previous send
really went out, not from when it was planned: a send that left late (a busy event loop, a
slow answer before it) pushes the next one back, so a sliding window like Telegram's never
holds one send too many. Every interval carries a small safety margin for the jitter between
our clock and the moment a request reaches Telegram.

The bot's overall limit (30 a second) is kept by what has *arrived*, too: a send may go only
once the send thirty before it was answered a whole window ago. Sends let through a few
milliseconds apart can reach Telegram together (a busy event loop, new connections, a busy
server reading them late), and a window counted from when they were let through would then
hold more than thirty; one counted from their answers cannot, since a request arrives before
it is answered.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import TelegramRetryAfter
from aiogram.methods import Response, TelegramMethod
from aiogram.methods.base import TelegramType

log = logging.getLogger(__name__)
TURN_LEAD = 0.05  # seconds before its chat is due that a turn begins
GROUP_WINDOW_SENDS = 20  # a group takes 20 messages a minute
BOT_WINDOW_SENDS = 30  # the bot sends 30 messages a second
FLIGHT_CAP = 1.0  # seconds after which a send not yet answered counts as arrived
_CURRENT_CHAT: ContextVar[int | None] = ContextVar("pacer_current_chat", default=None)


@dataclass(frozen=True)
class SendLimits:
    """Minimum spacing of sends: 1/s per private chat, 20/min per group, 30/s per bot.

    `margin` is added to every interval as a share of it (5%: 19 messages a minute to a
    group rather than 20), so that jitter never makes one send too many in Telegram's window.
    """

    private_interval: float = 1.0
    group_interval: float = 3.0
    global_interval: float = 1 / 30
    margin: float = 0.05
    # Seconds by which one send may reach Telegram later than planned relative to the next
    # ones (the event loop, the connection pool, the network), spread over each window's
    # sends: Telegram's sliding count then never holds one too many. At Telegram's scale it
    # costs a third of a millisecond a send; it is what keeps the limits when the tests scale
    # a second down to 10 ms and their fake Telegram shares the bot's event loop.
    jitter: float = 0.010

    def scaled(self, factor: float) -> SendLimits:
        """The same limits with every interval multiplied by `factor` (tests run faster); the
        jitter is the machine's, not Telegram's: it stays."""
        return SendLimits(self.private_interval * factor, self.group_interval * factor,
                          self.global_interval * factor, self.margin, self.jitter)

    def interval(self, chat_id: int) -> float:
        """The spacing of sends to this chat (groups and channels have negative ids)."""
        if chat_id < 0:
            return self._spaced(self.group_interval, GROUP_WINDOW_SENDS)
        return self._spaced(self.private_interval, 1)

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


_CURRENT_FLIGHT: ContextVar[_Flight | None] = ContextVar("pacer_current_flight", default=None)


@dataclass
class _Waiter:
    task: asyncio.Task[Any] | None
    priority: Callable[[], float]
    order: int
    given: asyncio.Future[None]


class Pacer:
    """Lets sends through one at a time per chat, spaced by the limits.

    Who goes next to a busy chat is decided when the chat becomes free: the waiter whose
    `priority` is highest then (the outbox weighs how much a lane has waiting and for how
    long), the earliest to ask among equals. A task holding a chat's turn (`turn`) sends as
    many messages as its item needs, each spaced by the interval, before the next one goes.
    """

    def __init__(self, limits: SendLimits,
                 monotonic: Callable[[], float] = time.monotonic,
                 shared: SharedSlots | None = None) -> None:
        self.limits = limits
        self.monotonic = monotonic
        self.shared = shared  # the other processes' sends too (several bot processes)
        self._last: dict[int, float] = {}  # when the chat's previous send went out
        self._held: dict[int, float] = {}  # Telegram said: nothing to this chat before then
        self._holders: dict[int, asyncio.Task[Any] | None] = {}
        self._waiters: dict[int, list[_Waiter]] = {}
        self._asked = 0
        self._last_global = float("-inf")
        self._flights: deque[_Flight] = deque()  # the bot's last BOT_WINDOW_SENDS sends

    @asynccontextmanager
    async def turn(self, chat_id: int,
                   priority: Callable[[], float] = lambda: 0.0) -> AsyncIterator[None]:
        """Hold the chat's turn (waiting for it and for the chat to be due)."""
        task = asyncio.current_task()
        if self._holders.get(chat_id) is task:  # already ours: the sends of one item
            yield
            return
        await self._acquire(chat_id, priority)
        try:
            # Until a little before the chat is due: what the holder does before sending
            # (claiming its item, reading the topic) then overlaps the wait instead of
            # adding to every interval.
            lead = min(self.limits.interval(chat_id) / 2, TURN_LEAD)
            while (delay := self._due(chat_id) - lead - self.monotonic()) > 0:
                await asyncio.sleep(delay)
            yield
        finally:
            self._release(chat_id)

    async def wait(self, chat_id: int) -> None:
        """Wait until a message may go to `chat_id`; the caller sends right after."""
        _CURRENT_CHAT.set(chat_id)
        async with self.turn(chat_id, lambda: float("inf")):
            while True:
                while (delay := self._due(chat_id) - self.monotonic()) > 0 or (
                        await self._wait_window()):
                    if delay > 0:
                        await asyncio.sleep(delay)
                if self.shared is None:
                    break
                delay = await self.shared.take(chat_id, self.limits.interval(chat_id),
                                               self.limits.bot_interval())
                if delay <= 0:
                    break
                await asyncio.sleep(delay)
            self._take_off(chat_id)

    async def _wait_window(self) -> bool:
        """Wait until the send BOT_WINDOW_SENDS before the next one arrived a window ago;
        whether anything was waited for (the other conditions are to be looked at again)."""
        if len(self._flights) < BOT_WINDOW_SENDS or self.limits.global_interval <= 0:
            return False
        oldest = self._flights[-BOT_WINDOW_SENDS]
        cap = oldest.granted + FLIGHT_CAP
        if not oldest.landed.done() and (flying := cap - self.monotonic()) > 0:
            await asyncio.wait({oldest.landed}, timeout=flying)
            return True
        landed = min(oldest.landed.result() if oldest.landed.done() else cap, cap)
        delay = landed + self.limits.bot_window() - self.monotonic()
        if delay <= 0:
            return False
        await asyncio.sleep(delay)
        return True

    def _take_off(self, chat_id: int) -> None:
        """A send to `chat_id` goes now (its answer is awaited by `landed`)."""
        now = self.monotonic()
        self._last[chat_id] = max(self._last.get(chat_id, float("-inf")), now)
        self._last_global = now
        flight = _Flight(now, asyncio.get_running_loop().create_future())
        self._flights.append(flight)
        if len(self._flights) > BOT_WINDOW_SENDS:
            self._flights.popleft()
        _CURRENT_FLIGHT.set(flight)

    def landed(self) -> None:
        """The send this task was let through for was answered (or failed)."""
        flight = _CURRENT_FLIGHT.get()
        if flight is not None and not flight.landed.done():
            flight.landed.set_result(self.monotonic())
        _CURRENT_FLIGHT.set(None)

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

    async def wait_turn_of_bot(self, chat_id: int) -> None:
        """For an answer outside the outbox (a handler replying to a person): only the bot's
        overall budget is waited for; the chat's interval then counts from this send."""
        while True:
            while (delay := self._last_global + self.limits.bot_interval()
                   - self.monotonic()) > 0 or await self._wait_window():
                if delay > 0:
                    await asyncio.sleep(delay)
            if self.shared is None:
                break
            delay = await self.shared.take(chat_id, 0.0, self.limits.bot_interval())
            if delay <= 0:
                break
            await asyncio.sleep(delay)
        self._take_off(chat_id)

    def _due(self, chat_id: int) -> float:
        return max(self._last.get(chat_id, float("-inf")) + self.limits.interval(chat_id),
                   self._held.get(chat_id, float("-inf")),
                   self._last_global + self.limits.bot_interval())

    def backlog(self, chat_id: int) -> float:
        """Seconds until the chat could take one more message (how far its queue is backed
        up): the turns of those waiting for it, one interval each, and then that one."""
        ahead = len(self._waiters.get(chat_id, ())) * self.limits.interval(chat_id)
        return max(0.0, self._due(chat_id) - self.monotonic()) + ahead

    def hold_current(self, seconds: float) -> None:
        """Telegram said wait (429) to the chat this task last sent to."""
        chat_id = _CURRENT_CHAT.get()
        if chat_id is not None:
            self.hold(chat_id, seconds)

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said wait (429): nothing goes to this chat for `seconds`."""
        until = self.monotonic() + seconds
        self._held[chat_id] = max(self._held.get(chat_id, float("-inf")), until)


class SharedSlots:
    """The sends of every bot process, kept in Redis: a send takes its chat's slot (and the
    bot's) only if the interval since the last send of any process has passed.

    Times are Redis's own clock, so the processes' clocks need not agree. When Redis does
    not answer, each process goes on with its own pacing (and says so in the log).
    """

    # KEYS: the chat's last send, the bot's last send, the chat's hold (all in ms).
    # ARGV: the chat's interval, the bot's interval (ms). Returns ms to wait, 0 when taken.
    _TAKE = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
    local due = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1]),
                         tonumber(redis.call('GET', KEYS[2]) or '0') + tonumber(ARGV[2]),
                         tonumber(redis.call('GET', KEYS[3]) or '0'))
    if due > now then return tostring(due - now) end
    local keep = math.floor(math.max(tonumber(ARGV[1]), tonumber(ARGV[2])) + 60000)
    redis.call('SET', KEYS[1], tostring(now), 'PX', keep)
    redis.call('SET', KEYS[2], tostring(now), 'PX', keep)
    return '0'
    """
    _HOLD = """
    local t = redis.call('TIME')
    local until_ms = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 + tonumber(ARGV[1])
    if until_ms > tonumber(redis.call('GET', KEYS[1]) or '0') then
        redis.call('SET', KEYS[1], tostring(until_ms), 'PX', math.floor(ARGV[1]) + 60000)
    end
    return 1
    """

    def __init__(self, redis: Any, bot_id: int) -> None:
        self.redis = redis
        self.prefix = f"frontdesk:pace:{bot_id}"
        self._take = redis.register_script(self._TAKE)
        self._hold = redis.register_script(self._HOLD)
        self._warned = False

    async def take(self, chat_id: int, interval: float, global_interval: float) -> float:
        """Take the chat's next slot if it is free everywhere; else seconds to wait."""
        keys = [f"{self.prefix}:chat:{chat_id}", f"{self.prefix}:bot",
                f"{self.prefix}:held:{chat_id}"]
        try:
            wait_ms = await self._take(keys=keys, args=[interval * 1000,
                                                        global_interval * 1000])
        except Exception as error:  # Redis is away: this process paces on its own
            self._say_once(error)
            return 0.0
        return float(wait_ms) / 1000

    async def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said wait (429) to one process: every process waits."""
        try:
            await self._hold(keys=[f"{self.prefix}:held:{chat_id}"], args=[seconds * 1000])
        except Exception as error:
            self._say_once(error)

    def _say_once(self, error: Exception) -> None:
        if not self._warned:
            self._warned = True
            log.warning("Redis does not answer (%s): pacing this process alone", error)


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
                self.pacer.landed()
                self.held += 1
                if not isinstance(chat_id, int) or attempt == self.attempts - 1:
                    raise
                self.pacer.hold(chat_id, float(error.retry_after))
                if self.pacer.shared is not None:
                    await self.pacer.shared.hold(chat_id, float(error.retry_after))
                await self.pacer.wait(chat_id)
                continue
            except BaseException:
                self.pacer.landed()
                raise
            self.pacer.landed()
            return response
        raise AssertionError("unreachable")  # pragma: no cover



_NOT_A_MESSAGE = frozenset({"sendChatAction"})
_COPIES = frozenset({"copyMessage", "copyMessages", "forwardMessage", "forwardMessages"})


def sends_a_message(method: TelegramMethod[TelegramType]) -> bool:
    """Whether the call posts a message (what Telegram's limits count)."""
    name = method.__api_method__
    return name in _COPIES or (name.startswith("send") and name not in _NOT_A_MESSAGE)


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
