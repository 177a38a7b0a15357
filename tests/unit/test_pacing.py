"""The pacer: spacing per chat from the real previous send, turns by priority, 429 holds."""

from __future__ import annotations

import asyncio
import time

from bot.pacing import Pacer, SendLimits

GROUP = -100123
PERSON = 42
LIMITS = SendLimits(private_interval=0.02, group_interval=0.04, global_interval=0.0, margin=0)


async def test_sends_to_one_chat_are_spaced_by_its_interval_and_other_chats_do_not_wait(
) -> None:
    pacer = Pacer(LIMITS)
    sent: list[tuple[int, float]] = []

    async def send(chat_id: int) -> None:
        await pacer.wait(chat_id)
        sent.append((chat_id, time.monotonic()))

    await asyncio.gather(*(send(GROUP) for _ in range(4)), send(PERSON))

    group = [at for chat, at in sent if chat == GROUP]
    assert all(later - earlier >= 0.04 for earlier, later in zip(group, group[1:],
                                                                  strict=False))
    assert sent[1][0] == PERSON  # the person's chat did not queue behind the group


async def test_a_late_send_pushes_the_next_one_back() -> None:
    pacer = Pacer(LIMITS)
    await pacer.wait(GROUP)
    await asyncio.sleep(0.03)  # the previous send left late, in the middle of the interval
    await pacer.wait(GROUP)
    sent_at = time.monotonic()
    await pacer.wait(GROUP)
    assert time.monotonic() - sent_at >= 0.04  # a full interval after the late one


async def test_the_chat_goes_to_the_waiter_with_the_highest_priority_then() -> None:
    pacer = Pacer(LIMITS)
    order: list[str] = []
    waiting = {"few": 1.0, "many": 5.0}

    async def lane(name: str) -> None:
        async with pacer.turn(GROUP, lambda: waiting[name]):
            await pacer.wait(GROUP)
            order.append(name)

    async with pacer.turn(GROUP):  # the chat is busy while both lanes ask
        first = asyncio.create_task(lane("few"))
        second = asyncio.create_task(lane("many"))
        await asyncio.sleep(0.01)
    await asyncio.gather(first, second)
    assert order == ["many", "few"]


async def test_the_holder_of_a_turn_sends_every_part_of_its_item_before_the_next_lane(
) -> None:
    pacer = Pacer(LIMITS)
    order: list[str] = []

    async def item(name: str, parts: int) -> None:
        async with pacer.turn(GROUP):
            for part in range(parts):
                await pacer.wait(GROUP)
                order.append(f"{name}{part}")

    await asyncio.gather(item("a", 3), item("b", 1))
    assert order == ["a0", "a1", "a2", "b0"]


async def test_telegrams_retry_after_keeps_the_chat_quiet_and_shows_as_a_backlog() -> None:
    pacer = Pacer(LIMITS)
    await pacer.wait(PERSON)
    pacer.hold(PERSON, 0.1)
    assert pacer.backlog(PERSON) > 0.05
    held_at = time.monotonic()
    await pacer.wait(PERSON)
    assert time.monotonic() - held_at >= 0.09


async def test_the_bots_thirty_first_send_waits_a_window_after_the_first_was_answered(
) -> None:
    # 30 sends a window of 30 ms; the first ones are answered late (a slow Telegram, or one
    # that read them late): they may all have arrived just then, so the 31st waits a whole
    # window after that answer, not after the first was let through.
    pacer = Pacer(SendLimits(private_interval=0.0, group_interval=0.0, global_interval=0.001,
                             margin=0, jitter=0))
    answered: list[float] = []

    async def send(chat_id: int, answer_after: float) -> float:
        await pacer.wait(chat_id)
        let_through = time.monotonic()
        await asyncio.sleep(answer_after)
        answered.append(time.monotonic())
        pacer.landed()
        return let_through

    let_through = sorted(await asyncio.gather(*(send(PERSON + n, 0.1) for n in range(31))))
    assert let_through[29] - let_through[0] < 0.09  # thirty spaced by the interval alone
    assert let_through[30] >= min(answered) + 0.03


async def test_a_send_never_answered_counts_as_arrived_after_a_while() -> None:
    pacer = Pacer(SendLimits(private_interval=0.0, group_interval=0.0, global_interval=0.001,
                             margin=0, jitter=0))
    for n in range(30):
        await pacer.wait(PERSON + n)  # let through, never answered (the send was dropped)
    started = time.monotonic()
    await asyncio.wait_for(pacer.wait(PERSON + 30), timeout=3)
    assert 0.9 <= time.monotonic() - started < 2.0


# A group's minute scaled to 0.3 s and its second to 10 ms: 19 messages in any 0.3 s.
GROUP_LIMITS = SendLimits(private_interval=0.01, group_interval=0.01, global_interval=0.0,
                          jitter=0, group_window=0.3, group_burst=19)


def most_in_a_window(times: list[float], window: float) -> int:
    """The most sends any sliding window of `window` seconds holds."""
    return max(sum(1 for other in times if at <= other < at + window) for at in times)


async def test_a_quiet_group_takes_a_short_burst_then_an_even_pace_within_its_minute(
) -> None:
    # A minute of 1 s: five at the chat's 10 ms, then one every 1/19 s, 19 in any second.
    limits = SendLimits(private_interval=0.01, group_interval=0.01, global_interval=0.0,
                        jitter=0, group_window=1.0, group_burst=5)
    pacer = Pacer(limits)
    sent: list[float] = []
    for _ in range(24):
        await pacer.wait(GROUP)
        sent.append(time.monotonic())
        pacer.landed()

    gaps = [later - earlier for earlier, later in zip(sent, sent[1:], strict=False)]
    assert all(gap >= 0.01 for gap in gaps)
    assert sent[4] - sent[0] < 0.2  # the burst: five at the chat's spacing
    assert all(gap >= 1.0 / 19 for gap in gaps[4:])  # then evenly
    assert sent[19] - sent[0] >= 1.0  # and never 20 in the minute
    assert most_in_a_window(sent, 1.0) <= 19


async def test_an_album_takes_one_place_in_a_groups_window_per_message() -> None:
    pacer = Pacer(GROUP_LIMITS)
    await pacer.wait(GROUP, 10)
    pacer.landed()
    answered = time.monotonic()
    await pacer.wait(GROUP, 10)  # 20 would not fit in the minute
    assert time.monotonic() - answered >= 0.29


async def test_a_groups_window_counts_from_the_answer() -> None:
    pacer = Pacer(GROUP_LIMITS)
    answered: list[float] = []

    async def send() -> float:
        await pacer.wait(GROUP)
        let_through = time.monotonic()
        await asyncio.sleep(0.1)  # Telegram answers late: the send may have arrived just then
        answered.append(time.monotonic())
        pacer.landed()
        return let_through

    let_through = sorted(await asyncio.gather(*(send() for _ in range(20))))
    assert let_through[18] - let_through[0] < 0.3
    assert let_through[19] >= min(answered) + 0.3
