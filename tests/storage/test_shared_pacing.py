"""With Redis, bot processes keep one budget per staff group: a burst in one process is spent
for the others, and any minute holds at most 19 of the group's messages."""

from __future__ import annotations

import asyncio
import random
import time

import pytest
from redis.asyncio import Redis

from bot.pacing import Pacer, SendLimits
from bot.shared_pacing import SharedSlots
from tests import services

pytestmark = pytest.mark.redis
GROUP = -100123
# A group's minute scaled to 0.3 s and its second to 10 ms.
LIMITS = SendLimits(private_interval=0.01, group_interval=0.01, global_interval=0.0,
                    jitter=0, group_window=0.3, group_burst=19)


async def test_two_processes_share_a_groups_burst_and_minute() -> None:
    redis = Redis.from_url(services.redis_url_or_skip())
    bot_id = random.randrange(10**9)  # a budget of this test's own
    pacers = [Pacer(LIMITS, shared=SharedSlots(redis, bot_id)) for _ in range(2)]
    sent: list[float] = []

    async def send(pacer: Pacer, messages: int) -> None:
        await pacer.wait(GROUP, messages)
        sent.extend([time.monotonic()] * messages)
        await pacer.answered()

    try:
        await asyncio.gather(*(send(pacer, 1) for pacer in pacers for _ in range(12)),
                             send(pacers[0], 5))
    finally:
        await redis.aclose()

    first_window = [at for at in sent if at < sent[0] + 0.3]
    assert 14 <= len(first_window) <= 19  # a burst, shared: not 19 for each process
    assert max(sum(1 for other in sent if at <= other < at + 0.3) for at in sent) <= 19


async def test_two_processes_share_a_groups_short_burst_and_then_its_even_pace() -> None:
    redis = Redis.from_url(services.redis_url_or_skip())
    limits = SendLimits(private_interval=0.01, group_interval=0.01, global_interval=0.0,
                        jitter=0, group_window=1.0, group_burst=3)
    bot_id = random.randrange(10**9)
    pacers = [Pacer(limits, shared=SharedSlots(redis, bot_id)) for _ in range(2)]
    sent: list[float] = []

    async def send(pacer: Pacer) -> None:
        await pacer.wait(GROUP)
        sent.append(time.monotonic())
        await pacer.answered()

    try:
        await asyncio.gather(*(send(pacer) for pacer in pacers for _ in range(4)))
    finally:
        await redis.aclose()

    sent.sort()
    gaps = [later - earlier for earlier, later in zip(sent, sent[1:], strict=False)]
    assert sent[2] - sent[0] < 0.2  # three at the chat's spacing, whichever process
    assert all(gap >= 1.0 / 19 - 0.01 for gap in gaps[2:])  # then evenly, both together
