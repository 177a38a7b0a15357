"""pytest fixtures around the fake Bot API (registered in tests/conftest.py).

``fake_api`` is a started :class:`FakeBotAPI` with the staff forum supergroup and two agents;
tests add clients with ``fake_api.add_user(...)``. Any call that breaks the Bot API spec fails
the test at teardown. ``fake_bot`` is an aiogram ``Bot`` pointed at it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from playground.telegram.bot_api import DEFAULT_BOT_USERNAME, DEFAULT_TOKEN, FakeBotAPI

TOKEN = DEFAULT_TOKEN
BOT_ID = int(TOKEN.split(":", 1)[0])
BOT_USERNAME = DEFAULT_BOT_USERNAME
STAFF_CHAT_ID = -1001000000001
STAFF_TITLE = "Frontdesk Staff"
ALICE_ID = 1001  # administrator of the staff group, @alice
BOB_ID = 1002  # member of the staff group


def populate_staff(server: FakeBotAPI) -> None:
    """Add the agents and the staff forum supergroup (the bot is an administrator)."""
    server.add_user(ALICE_ID, "Alice", username="alice", last_name="Agent")
    server.add_user(BOB_ID, "Bob", last_name="Agent")
    server.add_group(
        STAFF_CHAT_ID, STAFF_TITLE, is_forum=True, member_ids=[BOB_ID], admin_ids=[ALICE_ID]
    )


def make_bot(server: FakeBotAPI, **kwargs: Any) -> Bot:
    """An aiogram Bot that talks to ``server``; close it with ``await bot.session.close()``."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(server.base_url))
    return Bot(server.token, session=session, **kwargs)


def violations_report(server: FakeBotAPI) -> str:
    """A readable list of the spec violations recorded by ``server``."""
    lines = [f"the bot broke the Bot API spec {len(server.violations)} time(s):"]
    lines += [f"  - {violation}" for violation in server.violations]
    return "\n".join(lines)


@pytest_asyncio.fixture
async def fake_api() -> AsyncIterator[FakeBotAPI]:
    """A started fake Bot API with the staff group; fails the test on spec violations."""
    server = FakeBotAPI(TOKEN)
    populate_staff(server)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
    if server.violations:
        pytest.fail(violations_report(server), pytrace=False)


@pytest_asyncio.fixture
async def fake_bot(fake_api: FakeBotAPI) -> AsyncIterator[Bot]:
    """An aiogram Bot connected to ``fake_api`` (its session is closed afterwards)."""
    bot = make_bot(fake_api)
    try:
        yield bot
    finally:
        await bot.session.close()
