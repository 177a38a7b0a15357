"""The playground's stand-in Telegram keeps Telegram's flood limits as Telegram does."""

from __future__ import annotations

import pytest
from aiogram.exceptions import TelegramRetryAfter

from playground.clock import PlaygroundClock
from playground.desk import STAFF_CHAT_ID, make_telegram
from tests.fakes.plugin import make_bot


async def test_the_staff_group_refuses_a_21st_message_in_a_minute_with_429() -> None:
    api = make_telegram(PlaygroundClock())
    await api.start()
    bot = make_bot(api)
    try:
        for number in range(20):
            await bot.send_message(STAFF_CHAT_ID, f"message {number + 1}")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(STAFF_CHAT_ID, "message 21")
    finally:
        await bot.session.close()
        await api.stop()

    assert caught.value.retry_after > 0
    assert len(api.bot_messages(STAFF_CHAT_ID)) == 20
