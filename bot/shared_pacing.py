"""A bot's sending limits kept across its processes, in Redis (see bot.pacing)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from itertools import count as counter
from typing import Any

from bot.pacing import FLIGHT_CAP, SendLimits

log = logging.getLogger(__name__)


class SharedSlots:
    """The sends of every bot process, kept in Redis: a send takes its chat's slot (and the
    bot's) only if the spacing since the last send of any process has passed, the chat is not
    held, and (a group) its window of answered sends has room — and, once the window holds
    `group_burst` messages, the group's even spacing has passed.

    Times are Redis's own clock, so the processes' clocks need not agree. A group's window is
    a sorted set of its messages, each scored as arrived FLIGHT_CAP after it was let through
    until its answer brings the time forward (`landed`). When Redis does not answer, each
    process goes on with its own pacing (and says so in the log).
    """

    # KEYS: the chat's last send, the bot's last send, the chat's hold, the chat's window.
    # ARGV: the chat's spacing, the bot's spacing, the window (ms; 0: none), the messages
    # it may hold, the messages of this send, this send's entry, FLIGHT_CAP (ms), the
    # messages after which the window paces evenly, and its even spacing (ms).
    # Returns ms to wait, 0 when taken.
    _TAKE = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
    local due = math.max(tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1]),
                         tonumber(redis.call('GET', KEYS[2]) or '0') + tonumber(ARGV[2]),
                         tonumber(redis.call('GET', KEYS[3]) or '0'))
    local window = tonumber(ARGV[3])
    local messages = tonumber(ARGV[5])
    if window > 0 then
        redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now - window)
        local held = redis.call('ZCARD', KEYS[4])
        if tonumber(ARGV[8]) > 0 and held >= tonumber(ARGV[8]) then
            due = math.max(due, tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[9]))
        end
        local excess = held + messages - tonumber(ARGV[4])
        if excess > 0 then
            local oldest = redis.call('ZRANGE', KEYS[4], excess - 1, excess - 1, 'WITHSCORES')
            due = math.max(due, tonumber(oldest[2]) + window)
        end
    end
    if due > now then return tostring(due - now) end
    local keep = math.floor(math.max(tonumber(ARGV[1]), tonumber(ARGV[2])) + 60000)
    redis.call('SET', KEYS[1], tostring(now), 'PX', keep)
    redis.call('SET', KEYS[2], tostring(now), 'PX', keep)
    if window > 0 then
        for i = 1, messages do
            redis.call('ZADD', KEYS[4], now + tonumber(ARGV[7]), ARGV[6] .. ':' .. i)
        end
        redis.call('PEXPIRE', KEYS[4], math.floor(window + tonumber(ARGV[7]) + 60000))
    end
    return '0'
    """
    # KEYS: the chat's window. ARGV: the send's entry, its messages.
    _LANDED = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
    for i = 1, tonumber(ARGV[2]) do
        local member = ARGV[1] .. ':' .. i
        local score = redis.call('ZSCORE', KEYS[1], member)
        if score and now < tonumber(score) then redis.call('ZADD', KEYS[1], now, member) end
    end
    return 1
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
        self._landed = redis.register_script(self._LANDED)
        self._hold = redis.register_script(self._HOLD)
        self._process = uuid.uuid4().hex[:12]  # this process's sends in a group's window
        self._sends = counter()
        self._warned = False

    async def take_slot(self, chat_id: int, limits: SendLimits, messages: int,
                        answer: bool = False) -> tuple[int, str, int] | None:
        """Wait until the chat's next slot is free everywhere, and take it; the group's
        window entry of the send, if it has one (for `landed`). An `answer` to a person
        waits for the bot's spacing only."""
        window = limits.group_window if chat_id < 0 and not answer else 0.0
        spacing = 0.0 if answer else limits.spacing(chat_id)
        messages = min(messages, limits.group_sends())
        entry = f"{self._process}:{next(self._sends)}"
        keys = [f"{self.prefix}:chat:{chat_id}", f"{self.prefix}:bot",
                f"{self.prefix}:held:{chat_id}", f"{self.prefix}:window:{chat_id}"]
        args = [spacing * 1000, limits.bot_interval() * 1000, window * 1000,
                limits.group_sends(), messages, entry, FLIGHT_CAP * 1000, limits.group_burst,
                limits.interval(chat_id) * 1000]
        while True:
            try:
                wait_ms = float(await self._take(keys=keys, args=args))
            except Exception as error:  # Redis is away: this process paces on its own
                self._say_once(error)
                return None
            if wait_ms <= 0:
                return (chat_id, entry, messages) if window > 0 else None
            await asyncio.sleep(wait_ms / 1000)

    async def landed(self, chat_id: int, entry: str, messages: int) -> None:
        """A send into a group was answered: it arrived by now."""
        try:
            await self._landed(keys=[f"{self.prefix}:window:{chat_id}"],
                               args=[entry, messages])
        except Exception as error:
            self._say_once(error)

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
