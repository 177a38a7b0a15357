"""`frontdesk run` explains its start: a rejected token, an unreachable Telegram, a staff chat
the bot cannot use — each one line with the fix, never a traceback."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.harness import PROCESS_START, free_port
from tests.fakes.plugin import BOT_ID, STAFF_CHAT_ID, TOKEN, populate_staff

ROOT = Path(__file__).resolve().parents[2]
CLIENT = 6401


class Bot:
    """`frontdesk run` as a process whose log (stderr) the test reads line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.log: list[str] = []

    async def log_line(self, containing: str) -> str:
        """The next line of the log that contains `containing`."""
        assert self.process.stderr is not None
        async with asyncio.timeout(PROCESS_START):
            while True:
                raw = await self.process.stderr.readline()
                assert raw, f"the bot ended without logging {containing!r}:\n" + self.text()
                self.log.append(raw.decode())
                if containing in self.log[-1]:
                    return self.log[-1]

    async def stop(self) -> int:
        """SIGTERM; the exit status, the rest of the log read."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        return await self.finish()

    async def finish(self) -> int:
        """Wait for the end; the exit status, the rest of the log read."""
        _, stderr = await asyncio.wait_for(self.process.communicate(), PROCESS_START)
        self.log.append(stderr.decode())
        assert self.process.returncode is not None
        return self.process.returncode

    def text(self) -> str:
        """The log read so far."""
        return "".join(self.log)


@asynccontextmanager
async def frontdesk_run(api_url: str, database_url: str, cwd: Path,
                        token: str = TOKEN) -> AsyncIterator[Bot]:
    """`frontdesk run` against `api_url`; killed at the end if still running."""
    env = {**os.environ, "BOT_TOKEN": token, "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
           "DATABASE_URL": database_url, "TELEGRAM_API_URL": api_url,
           "PYTHONPATH": str(ROOT), "LOG_LEVEL": "INFO"}
    env.pop("FRONTDESK_CONFIG", None)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "run", env=env, cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
    try:
        yield Bot(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()



async def test_a_rejected_token_is_one_line_and_exit_2(
        fake_api: FakeBotAPI, sqlite_url: str, tmp_path: Path) -> None:
    async with frontdesk_run(fake_api.base_url, sqlite_url, tmp_path,
                             token="123456789:AAThisTokenWasRevokedByBotFather_xyz") as bot:
        status = await bot.finish()
    fake_api.take_violations()  # the wrong token, on purpose
    assert status == 2
    assert bot.text().splitlines() == [
        "frontdesk: BOT_TOKEN was rejected by Telegram (401 Unauthorized): check it with "
        "@BotFather"]
    assert not (tmp_path / "desk.sqlite3").exists()  # nothing else was touched


async def test_an_unreachable_telegram_is_waited_for_and_served_once_it_answers(
        sqlite_url: str, tmp_path: Path) -> None:
    port = free_port()
    async with frontdesk_run(f"http://127.0.0.1:{port}", sqlite_url, tmp_path) as bot:
        line = await bot.log_line("Telegram does not answer")
        assert "next try in 1 s, at" in line
        await bot.log_line("next try in 2 s")  # backing off
        server = FakeBotAPI(TOKEN)
        populate_staff(server)
        await server.start(port)
        try:
            server.add_user(CLIENT, "Dana", language_code="en")
            server.user_sends(CLIENT, "/start")
            await server.wait_for_bot_message(CLIENT, contains="Hello", timeout=PROCESS_START)
            status = await bot.stop()
        finally:
            await server.stop()
    assert status == 0, bot.text()
    assert "Traceback" not in bot.text()
    assert not server.violations


async def test_a_staff_chat_without_the_bot_is_named_with_the_fix_and_clients_are_served(
        fake_api: FakeBotAPI, sqlite_url: str, tmp_path: Path) -> None:
    fake_api.set_member_status(STAFF_CHAT_ID, BOT_ID, "left")
    async with frontdesk_run(fake_api.base_url, sqlite_url, tmp_path) as bot:
        line = await bot.log_line(f"the staff chat {STAFF_CHAT_ID}")
        assert "the bot is not in the group — add it to the group and make the bot an " \
               "administrator with Manage Topics, Delete messages and Pin messages" in line
        fake_api.add_user(CLIENT, "Dana", language_code="en")
        fake_api.user_sends(CLIENT, "/start")
        await fake_api.wait_for_bot_message(CLIENT, contains="Hello", timeout=PROCESS_START)
        status = await bot.stop()
    assert status == 0, bot.text()
    assert "Traceback" not in bot.text()
