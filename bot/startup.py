"""A start that explains itself: Telegram is waited for with one line per try, a rejected token
stops the bot with one line, and a staff chat the bot cannot use is named with the fix."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User

from bot import checks
from domain.policy import Policy

log = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_PAUSE = 1.0  # seconds before the second try; doubled each time
LONGEST_PAUSE = 60.0

# What "Telegram does not answer" looks like: DNS, refused or reset connections, timeouts
# (aiogram wraps them all in TelegramNetworkError), and Telegram's own 5xx and 429.
UNREACHABLE = (TelegramNetworkError, TelegramServerError, TelegramRetryAfter)


async def until_telegram_answers(what: str, call: Callable[[], Awaitable[T]],
                                 stop: asyncio.Event) -> T | None:
    """`call()` until Telegram answers it, a line in the log for each failure; None if `stop`
    came first. A 401 is the token's fault, and stops the bot (TokenRejected)."""
    pause = FIRST_PAUSE
    while not stop.is_set():
        try:
            return await call()
        except TelegramUnauthorizedError:
            raise checks.TokenRejected() from None
        except UNREACHABLE as error:
            wait = max(pause, float(getattr(error, "retry_after", 0)))
            again = datetime.now(UTC) + timedelta(seconds=wait)
            log.warning("%s: Telegram does not answer (%s); next try in %.0f s, at %s UTC",
                        what, _reason(error), wait, again.strftime("%H:%M:%S"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)
            pause = min(pause * 2, LONGEST_PAUSE)
    return None


def _reason(error: Exception) -> str:
    message = getattr(error, "message", "") or str(error)
    return message.removeprefix("HTTP Client says - ")


async def wait_for_telegram(bot: Bot, stop: asyncio.Event) -> User | None:
    """The bot's account once Telegram answers getMe (None if stopped before)."""
    me = await until_telegram_answers("start", lambda: checks.who_am_i(bot), stop)
    if me is not None:
        log.info("connected to Telegram as @%s", me.username)
    return me


async def warn_about_staff_chats(bot: Bot, me: User, staff_chat_id: int,
                                 policy: Policy) -> None:
    """Log what is wrong with the staff chats (the bot goes on serving what it can)."""
    chats = {staff_chat_id: "the staff chat"}
    for queue in policy.queues:
        if queue.staff_chat_id and queue.staff_chat_id not in chats:
            chats[queue.staff_chat_id] = f"queue {queue.key}'s staff chat"
    administered = True
    try:
        for chat_id, name in chats.items():
            report = await checks.staff_chat(bot, me, chat_id, name)
            administered = administered and report.administered
            for finding in report.findings:
                if finding.mark is not checks.Mark.OK:
                    log.warning("%s", finding.line().removeprefix(f"{finding.mark} "))
    except UNREACHABLE as error:
        log.warning("the staff chats were not checked: Telegram does not answer (%s)",
                    _reason(error))
        return
    finding = checks.privacy(me, administered)
    if finding.mark is checks.Mark.FAIL:
        log.warning("%s", finding.line().removeprefix(f"{finding.mark} "))
