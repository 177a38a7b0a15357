"""The bot's log: LOG_FORMAT=json is one JSON object per line with the update and the ticket;
in either format, the token and the webhook secret never appear (DEBUG, a whole run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domain.policy import default_policy
from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.bot_process import BotProcess
from tests.e2e.burst import seed_tickets
from tests.e2e.harness import PROCESS_START, MovableClock, free_port
from tests.fakes.plugin import STAFF_CHAT_ID, TOKEN

CLIENT = 7201
SECRET = "webhook-secret-never-logged"



@pytest.mark.parametrize("log_format", ["json", "text"])
async def test_a_whole_run_logs_no_secret_and_json_lines_carry_update_and_ticket(
        fake_api: FakeBotAPI, sqlite_url: str, tmp_path: Path, log_format: str) -> None:
    (desked,) = await seed_tickets(fake_api, sqlite_url, default_policy(), MovableClock(),
                                   [CLIENT])
    port = free_port()
    log = tmp_path / "bot.log"
    bot = BotProcess(fake_api, sqlite_url, log=log, LOG_LEVEL="DEBUG", LOG_FORMAT=log_format,
                     WEBHOOK_URL=f"http://127.0.0.1:{port}/tg", WEBHOOK_SECRET=SECRET,
                     WEBHOOK_LISTEN="127.0.0.1", WEBHOOK_PORT=str(port))
    try:
        await bot.start()
        await fake_api.wait_for(lambda: fake_api.webhook, timeout=PROCESS_START,
                                description="the webhook to be set")
        fake_api.fail_next("*", 500, chat_id=STAFF_CHAT_ID)  # a retry, logged with the ticket
        fake_api.user_sends(CLIENT, "the printer is on fire")
        await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="the printer is on fire")
    finally:
        await bot.stop()
    text = log.read_text()
    assert "outbox item" in text  # the retry was logged
    assert TOKEN not in text
    assert TOKEN.split(":")[1] not in text
    assert SECRET not in text
    if log_format == "text":
        assert "Traceback" not in text
        return
    lines = [json.loads(line) for line in text.splitlines()]
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    assert any(line.get("update_id") for line in lines)
    retry = next(line for line in lines if line["message"].startswith("outbox item"))
    assert retry["ticket"] == desked.ticket
    assert retry["level"] == "WARNING"
