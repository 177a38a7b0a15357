"""`frontdesk db backup`: a copy made while the bot runs restores into a desk that has every
ticket; on PostgreSQL the pg_dump command is shown, without the password."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from pathlib import Path

import pytest

from bot.backup import backup
from domain.policy import default_policy
from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.bot_process import BotProcess
from tests.e2e.burst import seed_tickets
from tests.e2e.harness import PROCESS_START, MovableClock, RunningDesk
from tests.fakes.plugin import ALICE_ID, STAFF_CHAT_ID, TOKEN, populate_staff

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = [7101, 7102, 7103]


async def frontdesk(*args: str, database_url: str) -> tuple[int, str]:
    """Run a `frontdesk` command; its exit status and everything it printed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", *args,
        env={**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), PROCESS_START)
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_a_backup_made_while_the_bot_runs_restores_every_ticket(
        fake_api: FakeBotAPI, sqlite_url: str, clock: MovableClock, tmp_path: Path) -> None:
    seeded = await seed_tickets(fake_api, sqlite_url, default_policy(), clock, CLIENTS)
    desk = await RunningDesk(fake_api, sqlite_url, default_policy(), clock).start()
    try:  # the bot writes while the copy is made
        fake_api.user_sends(CLIENTS[0], "still broken")
        await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="still broken")
        copy = tmp_path / "backup.sqlite3"
        status, said = await frontdesk("db", "backup", str(copy), database_url=sqlite_url)
    finally:
        await desk.stop()
    assert status == 0, said
    assert said.strip().endswith(f"to {copy.resolve()} ({copy.stat().st_size / 1e6:.1f} MB)")

    # restore: the copy becomes the database file of a desk in a fresh folder
    fresh = tmp_path / "restored"
    fresh.mkdir()
    shutil.copyfile(copy, fresh / "desk.sqlite3")
    telegram = FakeBotAPI(TOKEN)
    populate_staff(telegram)
    # Telegram's update ids only grow; a second fake would start again at the ids the
    # restored desk remembers as handled
    telegram.world.last_update_id = fake_api.world.last_update_id
    await telegram.start()
    bot = BotProcess(telegram, f"sqlite+aiosqlite:///{fresh / 'desk.sqlite3'}")
    try:
        await bot.start()
        telegram.user_sends(ALICE_ID, "/find Burst", chat_id=STAFF_CHAT_ID)
        found = await telegram.wait_for_bot_message(STAFF_CHAT_ID, contains="Burst",
                                                    timeout=PROCESS_START)
    finally:
        await bot.stop()
        await telegram.stop()
    for each in seeded:
        assert f"#{each.ticket}" in found["text"], found["text"]
    assert not telegram.violations


def test_a_backup_never_overwrites_a_file(sqlite_url: str, tmp_path: Path) -> None:
    Path(sqlite_url.removeprefix("sqlite+aiosqlite:///")).write_bytes(b"")
    existing = tmp_path / "kept.sqlite3"
    existing.write_bytes(b"precious")
    assert backup(sqlite_url, existing) == 1
    assert existing.read_bytes() == b"precious"


def test_on_postgresql_the_pg_dump_command_is_shown_without_the_password(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = backup("postgresql+asyncpg://desk:s3cret@db.internal:5433/frontdesk",
                    tmp_path / "desk.dump")
    said = capsys.readouterr().out
    assert status == 1
    assert f"pg_dump --format=custom --file={tmp_path / 'desk.dump'} --host=db.internal " \
           "--port=5433 --username=desk frontdesk" in said
    assert "s3cret" not in said
