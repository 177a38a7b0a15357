"""What a hostile or unlucky person does that a real Telegram client would not offer: presses
with forged data, presses on messages deleted since; and what the bot must never do then."""

from __future__ import annotations

import copy
import logging
import secrets
from typing import Any

import pytest

from playground.telegram.bot_api import FakeBotAPI
from playground.telegram.bot_api_world import CallbackQueryRecord


def forged_press(api: FakeBotAPI, user_id: int, message: dict[str, Any], data: str) -> str:
    """`user_id` presses a button with `data` on `message` (as it was, even deleted since);
    return the callback query id."""
    query_id = str(secrets.randbelow(9 * 10**18) + 10**18)
    chat_id = message["chat"]["id"]
    query = {"id": query_id, "from": api.world.user(user_id), "message": copy.deepcopy(message),
             "chat_instance": str(abs(chat_id)), "data": data}
    api.world.callback_queries[query_id] = CallbackQueryRecord(
        query_id, user_id, chat_id, message["message_id"], data)
    api.world.queue_update("callback_query", query)
    api._changed()  # wake the bot's long poll
    return query_id


def refused_calls(api: FakeBotAPI) -> list[str]:
    """The Bot API calls Telegram refused, as `method: description`."""
    return [f"{call.method}: {call.error}" for call in api.calls if call.error is not None]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Log records that carry a traceback or say something went wrong."""
    return [record.getMessage() for record in caplog.records
            if record.exc_info is not None or record.levelno >= logging.ERROR]


async def answered(api: FakeBotAPI, query_id: str) -> dict[str, Any]:
    """Wait until the bot answered the press (an empty answer too); return the answer."""
    record = api.world.callback_queries[query_id]
    await api.wait_for(lambda: record.answer is not None, description="the answer to the press")
    return dict(record.answer or {})
