"""`frontdesk run` as a real process against the fake Bot API: serves, and stops cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.conftest import seed_contracts
from tests.e2e.harness import press
from tests.fakes.plugin import STAFF_CHAT_ID, TOKEN

ROOT = Path(__file__).resolve().parents[2]
CLIENT = 6301


async def test_run_serves_a_client_and_stops_gracefully_on_sigterm(
        fake_api: FakeBotAPI, sqlite_url: str, tmp_path: Path) -> None:
    await seed_contracts(sqlite_url)
    env = {**os.environ, "BOT_TOKEN": TOKEN, "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
           "DATABASE_URL": sqlite_url, "TELEGRAM_API_URL": fake_api.base_url,
           "PYTHONPATH": str(ROOT)}
    env.pop("FRONTDESK_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        fake_api.add_user(CLIENT, "Dana", language_code="en")
        fake_api.user_sends(CLIENT, "/start")
        # the process imports aiogram first: tens of seconds on a loaded machine
        greeting = await fake_api.wait_for_bot_message(CLIENT, contains="Hello", timeout=120)
        press(fake_api, CLIENT, greeting, "New request")
        await fake_api.wait_for_bot_message(CLIENT, contains="contract number")
        assert fake_api.commands({"type": "all_private_chats"})  # menus were registered
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), timeout=30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, stderr.decode()
    assert b"Traceback" not in stderr
    assert TOKEN.encode() not in stderr  # the token never reaches the log
