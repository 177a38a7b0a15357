"""The real bot, `frontdesk run`, in a process of its own that a test may kill."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from playground.telegram.bot_api import FakeBotAPI
from tests.fakes.plugin import STAFF_CHAT_ID, TOKEN


class BotProcess:
    """`frontdesk run` in a process of its own, that the test may kill."""

    def __init__(self, api: FakeBotAPI, database_url: str, log: Path | None = None,
                 **settings: str) -> None:
        self.env = {**os.environ, "BOT_TOKEN": TOKEN, "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
                    "DATABASE_URL": database_url, "TELEGRAM_API_URL": api.base_url,
                    "LOG_LEVEL": "WARNING", **settings}
        self.env.pop("FRONTDESK_CONFIG", None)
        self.log = log  # where its stderr goes (for a failing test), else nowhere
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the bot."""
        frontdesk = Path(sys.executable).parent / "frontdesk"
        with (self.log.open("a") if self.log else open(os.devnull, "w")) as stderr:
            self.process = await asyncio.create_subprocess_exec(
                str(frontdesk), "run", env=self.env, stdout=asyncio.subprocess.DEVNULL,
                stderr=stderr)

    async def kill(self) -> None:
        """SIGKILL: no goodbye, no draining, no last commit."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> None:
        """SIGTERM and wait (a graceful stop)."""
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
