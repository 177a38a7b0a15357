"""The log's formatter: secrets are replaced in every line, JSON lines carry the context."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from bot import logs
from bot.settings import ConfigError

TOKEN = "123456789:AAFakeTokenForTestsOnly_abcdefghijklmno"
SECRET = "webhook-secret-never-logged"
ENVIRON = {"BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": SECRET, "LOG_LEVEL": "DEBUG"}


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """Leave pytest's own logging as it was."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def log_a_leak() -> None:
    """A library that puts a request's URL (with the token) in a message and an error."""
    log = logging.getLogger("some.library")
    log.info("GET https://api.telegram.org/bot%s/getMe with %s", TOKEN, SECRET)
    try:
        raise ConnectionError(f"https://api.telegram.org/bot{TOKEN}/getMe failed; "
                              "postgresql://desk:pa55word@db/frontdesk")
    except ConnectionError:
        log.exception("request failed")


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_line_carries_a_secret(log_format: str, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure({**ENVIRON, "LOG_FORMAT": log_format})
    log_a_leak()
    written = capsys.readouterr().err
    assert "/bot***/getMe" in written
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET, "pa55word"):
        assert secret not in written


def test_json_lines_carry_the_update_and_the_ticket(capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure({**ENVIRON, "LOG_FORMAT": "json"})
    update, ticket = logs.UPDATE_ID.set(100_123), logs.TICKET.set(1042)
    try:
        logging.getLogger("bot.outbox").warning("outbox item %s: retry in %.1fs", [7], 2.0)
    finally:
        logs.UPDATE_ID.reset(update)
        logs.TICKET.reset(ticket)
    logging.getLogger("bot.app").info("stopped")
    first, second = map(json.loads, capsys.readouterr().err.splitlines())
    assert first["level"] == "WARNING" and first["logger"] == "bot.outbox"
    assert first["message"] == "outbox item [7]: retry in 2.0s"
    assert (first["update_id"], first["ticket"]) == (100_123, 1042)
    assert first["time"].endswith("+00:00")
    assert second == {"time": second["time"], "level": "INFO", "logger": "bot.app",
                      "message": "stopped"}


def test_an_unknown_log_format_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="LOG_FORMAT must be text or json, got 'xml'"):
        logs.configure({"LOG_FORMAT": "xml"})
