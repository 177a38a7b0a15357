"""Telegram's flood limits for the fake Bot API: counted for assertions, or enforced with 429.

Telegram asks bots to send at most about one message per second to a private chat, 20 per
minute to a group and 30 per second overall. :class:`RateLimiter` keeps sliding windows of the
bot's sends and either records a :class:`LimitViolation` for each send over a limit ("count")
or refuses the send with ``429 Too Many Requests: retry after N`` ("enforce").
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["count", "enforce"]


@dataclass(frozen=True)
class RateLimits:
    """Flood limits; ``scale`` multiplies every window (0.1 checks 1 s limits over 0.1 s)."""

    per_chat_per_second: float = 1.0
    group_per_minute: int = 20
    global_per_second: int = 30
    scale: float = 1.0
    mode: Mode = "count"


@dataclass(frozen=True)
class LimitViolation:
    """A send that went over a limit (in "count" mode)."""

    kind: Literal["private_per_second", "group_per_minute", "global_per_second"]
    chat_id: int
    method: str
    count: int
    limit: int
    window_seconds: float


@dataclass
class _Window:
    limit: int
    seconds: float
    times: deque[float] = field(default_factory=deque)

    def prune(self, now: float) -> None:
        while self.times and self.times[0] <= now - self.seconds:
            self.times.popleft()

    def wait_needed(self, now: float, count: int) -> float:
        """Seconds until ``count`` more sends fit in the window (0 if they fit now)."""
        self.prune(now)
        excess = len(self.times) + count - self.limit
        if excess <= 0:
            return 0.0
        if excess > len(self.times):
            return self.seconds
        return self.times[excess - 1] + self.seconds - now


class RateLimiter:
    """Sliding windows of the bot's sends: per private chat, per group and global."""

    def __init__(self, limits: RateLimits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self.violations: list[LimitViolation] = []
        per_chat = limits.per_chat_per_second
        self._private_limit = max(1, math.floor(per_chat)) if per_chat >= 1 else 1
        self._private_seconds = (1.0 if per_chat >= 1 else 1.0 / per_chat) * limits.scale
        self._global = _Window(limits.global_per_second, 1.0 * limits.scale)
        self._chats: dict[int, _Window] = {}

    def _chat_window(self, chat_id: int, *, private: bool) -> _Window:
        window = self._chats.get(chat_id)
        if window is None:
            if private:
                window = _Window(self._private_limit, self._private_seconds)
            else:
                window = _Window(self.limits.group_per_minute, 60.0 * self.limits.scale)
            self._chats[chat_id] = window
        return window

    def retry_after(self, chat_id: int, *, private: bool, count: int) -> int | None:
        """For "enforce": seconds to wait before these sends are allowed, or None if now."""
        now = self.clock()
        chat_count = 1 if private else count
        wait = max(
            self._chat_window(chat_id, private=private).wait_needed(now, chat_count),
            self._global.wait_needed(now, count),
        )
        return max(1, math.ceil(wait)) if wait > 0 else None

    def record(self, chat_id: int, method: str, *, private: bool, count: int) -> None:
        """Register sends; in "count" mode note every limit they go over.

        An album counts as one send towards the per-chat limit of a private chat (Telegram
        does not throttle a single album there) and as one send per item elsewhere.
        """
        now = self.clock()
        chat_window = self._chat_window(chat_id, private=private)
        chat_window.prune(now)
        self._global.prune(now)
        chat_window.times.extend([now] * (1 if private else count))
        self._global.times.extend([now] * count)
        if self.limits.mode != "count":
            return
        kind = "private_per_second" if private else "group_per_minute"
        if len(chat_window.times) > chat_window.limit:
            self.violations.append(
                LimitViolation(
                    kind,
                    chat_id,
                    method,
                    len(chat_window.times),
                    chat_window.limit,
                    chat_window.seconds,
                )
            )
        if len(self._global.times) > self._global.limit:
            self.violations.append(
                LimitViolation(
                    "global_per_second",
                    chat_id,
                    method,
                    len(self._global.times),
                    self._global.limit,
                    self._global.seconds,
                )
            )
