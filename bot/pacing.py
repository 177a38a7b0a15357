"""Telegram's sending limits, kept before each call (per chat, per group, per bot)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass

_CURRENT_CHAT: ContextVar[int | None] = ContextVar("pacer_current_chat", default=None)


@dataclass(frozen=True)
class SendLimits:
    """Minimum spacing of sends: 1/s per private chat, 20/min per group, 30/s per bot."""

    private_interval: float = 1.0
    group_interval: float = 3.0
    global_interval: float = 1 / 30

    def scaled(self, factor: float) -> SendLimits:
        """The same limits with every interval multiplied by `factor` (tests run faster)."""
        return SendLimits(self.private_interval * factor, self.group_interval * factor,
                          self.global_interval * factor)


class Pacer:
    """Reserves the next free slot for a chat and waits for it; order of reservation is kept."""

    def __init__(self, limits: SendLimits,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.monotonic = monotonic
        self._next_chat: dict[int, float] = {}
        self._next_global = 0.0

    def reserve(self, chat_id: int) -> float:
        """Book the earliest slot for `chat_id`; return how long to wait for it."""
        now = self.monotonic()
        interval = self.limits.group_interval if chat_id < 0 else self.limits.private_interval
        slot = max(now, self._next_chat.get(chat_id, 0.0), self._next_global)
        self._next_chat[chat_id] = slot + interval
        self._next_global = slot + self.limits.global_interval
        return slot - now

    async def wait(self, chat_id: int) -> None:
        """Wait until a message may go to `chat_id`."""
        _CURRENT_CHAT.set(chat_id)
        delay = self.reserve(chat_id)
        if delay > 0:
            await asyncio.sleep(delay)

    def backlog(self, chat_id: int) -> float:
        """Seconds until the chat's next free slot (how far its queue is backed up)."""
        return max(0.0, self._next_chat.get(chat_id, 0.0) - self.monotonic())

    def hold_current(self, seconds: float) -> None:
        """Telegram said wait (429) to the chat this task last sent to."""
        chat_id = _CURRENT_CHAT.get()
        if chat_id is not None:
            self.hold(chat_id, seconds)

    def hold(self, chat_id: int, seconds: float) -> None:
        """Telegram said wait (429): nothing goes to this chat for `seconds`."""
        until = self.monotonic() + seconds
        self._next_chat[chat_id] = max(self._next_chat.get(chat_id, 0.0), until)
