"""`frontdesk doctor` against the fake Bot API: a good setup passes, each broken one fails
with its own line and fix."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from aiogram import Bot

from bot.doctor import doctor
from playground.telegram.bot_api import FakeBotAPI
from storage.engine import head_revision, make_engine, upgrade
from tests import services
from tests.e2e.harness import free_port
from tests.fakes.plugin import ALICE_ID, BOT_ID, STAFF_CHAT_ID, TOKEN

ROOT = Path(__file__).resolve().parents[2]
DEV_CHAT_ID = -1001000000002
OUTSIDER = 4242  # a person Telegram knows, not in the staff chat
CLIENT = 6501


def policy_file(path: Path, supervisors: list[int], dev_chat_id: int) -> Path:
    """A policy with supervisors and a queue that has a staff chat of its own."""
    path.write_text(f"""
[desk]
supervisors = {supervisors}

[[queues]]
key = "support"
title = {{ en = "Support" }}

[[queues]]
key = "development"
title = {{ en = "Development" }}
staff_chat_id = {dev_chat_id}
""", encoding="utf-8")
    return path



@pytest.fixture
async def setup(fake_api: FakeBotAPI, tmp_path: Path) -> dict[str, str]:
    """A desk set up right: privacy off, both staff chats forums the bot administers, the
    supervisor in the group, a current schema, Redis answering."""
    fake_api.set_privacy_mode(False)
    fake_api.add_group(DEV_CHAT_ID, "Developers", member_ids=[ALICE_ID])
    fake_api.add_user(OUTSIDER, "Olga")
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'desk.sqlite3'}"
    engine = make_engine(database_url)
    await upgrade(engine)
    await engine.dispose()
    return {"BOT_TOKEN": TOKEN, "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            "DATABASE_URL": database_url, "TELEGRAM_API_URL": fake_api.base_url,
            "FRONTDESK_CONFIG": str(policy_file(tmp_path / "frontdesk.toml", [ALICE_ID],
                                                DEV_CHAT_ID)),
            "REDIS_URL": services.redis_url_or_skip()}


async def examine(env: dict[str, str]) -> tuple[int, list[str]]:
    """The doctor's exit status and lines."""
    lines: list[str] = []
    status = await doctor(env, lambda finding: lines.append(finding.line()))
    return status, lines


async def test_a_good_setup_passes_every_check(setup: dict[str, str]) -> None:
    status, lines = await examine(setup)
    assert status == 0, "\n".join(lines)
    assert all(line.startswith("✓") for line in lines), "\n".join(lines)
    assert lines == [
        f"✓ settings: long polling, staff chat {STAFF_CHAT_ID}",
        f"✓ policy: {setup['FRONTDESK_CONFIG']}; 5 request types, 2 queues, 1 supervisor",
        "✓ the token is accepted: the bot is @frontdesk_test_bot",
        "✓ privacy mode is off: the bot sees every message in the staff chats",
        f"✓ the staff chat {STAFF_CHAT_ID} is a supergroup: “Frontdesk Staff”",
        f"✓ the staff chat {STAFF_CHAT_ID}: the bot is an administrator with the rights it "
        "needs",
        f"✓ the staff chat {STAFF_CHAT_ID}: topics are on",
        f"✓ queue development's staff chat {DEV_CHAT_ID} is a supergroup: “Developers”",
        f"✓ queue development's staff chat {DEV_CHAT_ID}: the bot is an administrator with the "
        "rights it needs",
        f"✓ queue development's staff chat {DEV_CHAT_ID}: topics are on",
        f"✓ supervisor {ALICE_ID} (Alice Agent) is in the staff chat",
        "✓ long polling (no webhook); 0 updates waiting",
        f"✓ the database {setup['DATABASE_URL']} answers",
        f"✓ the schema is current ({head_revision()})",
        "✓ Redis at 127.0.0.1:6379 answers",
    ]


def _bad_token(api: FakeBotAPI, env: dict[str, str]) -> None:
    env["BOT_TOKEN"] = "123456789:AAThisTokenWasRevokedByBotFather_xyz"


def _privacy_on_and_not_admin(api: FakeBotAPI, env: dict[str, str]) -> None:
    api.set_privacy_mode(True)
    api.set_member_status(STAFF_CHAT_ID, BOT_ID, "member")


def _topics_off(api: FakeBotAPI, env: dict[str, str]) -> None:
    api.world.chats[STAFF_CHAT_ID].is_forum = False


def _no_manage_topics(api: FakeBotAPI, env: dict[str, str]) -> None:
    api.set_admin_rights(STAFF_CHAT_ID, BOT_ID, can_manage_topics=False)


def _queue_chat_missing(api: FakeBotAPI, env: dict[str, str]) -> None:
    policy_file(Path(env["FRONTDESK_CONFIG"]), [ALICE_ID], -1009999999999)


def _supervisor_outside(api: FakeBotAPI, env: dict[str, str]) -> None:
    policy_file(Path(env["FRONTDESK_CONFIG"]), [ALICE_ID, OUTSIDER], DEV_CHAT_ID)


def _redis_down(api: FakeBotAPI, env: dict[str, str]) -> None:
    env["REDIS_URL"] = f"redis://127.0.0.1:{free_port()}/0"


BROKEN: dict[str, tuple[Callable[[FakeBotAPI, dict[str, str]], None], list[str]]] = {
    "bad token": (_bad_token, [
        "✗ BOT_TOKEN was rejected by Telegram (401 Unauthorized) — check it with @BotFather"]),
    "privacy on, not admin": (_privacy_on_and_not_admin, [
        "✗ privacy mode is on and the bot is not an administrator everywhere: it does not see "
        "what the agents write — turn privacy off with @BotFather (Bot Settings → Group Privacy "
        "→ Turn off), or make the bot an administrator with Manage Topics, Delete messages and "
        "Pin messages",
        f"✗ the staff chat {STAFF_CHAT_ID}: the bot is not an administrator — make the bot an "
        "administrator with Manage Topics, Delete messages and Pin messages"]),
    "topics off": (_topics_off, [
        f"✗ the staff chat {STAFF_CHAT_ID}: topics are off, tickets arrive as cards in the "
        "group — turn Topics on in the group's settings (one topic per ticket)"]),
    "no manage topics": (_no_manage_topics, [
        f"✗ the staff chat {STAFF_CHAT_ID}: the bot may not manage topics (it cannot open one "
        "per ticket) — give it the Manage Topics right"]),
    "queue chat missing": (_queue_chat_missing, [
        "✗ queue development's staff chat -1009999999999: Telegram says “Bad Request: chat not "
        "found” — check the id (a supergroup's looks like -1001234567890) and add the bot to "
        "the group"]),
    "supervisor outside": (_supervisor_outside, [
        f"✗ supervisor {OUTSIDER} is not in the staff chat {STAFF_CHAT_ID} — add them to the "
        "group: breaches and requests are announced there"]),
    "redis down": (_redis_down, ["✗ Redis at 127.0.0.1:"]),
}


@pytest.mark.parametrize("case", list(BROKEN))
async def test_each_broken_setup_fails_with_its_line(
        case: str, fake_api: FakeBotAPI, setup: dict[str, str]) -> None:
    breaks, expected = BROKEN[case]
    breaks(fake_api, setup)
    status, lines = await examine(setup)
    fake_api.take_violations()  # the bad token, on purpose
    assert status == 1
    for line in expected:
        assert any(each.startswith(line) for each in lines), (line, lines)
    assert [each for each in lines if each.startswith("✗")] == [
        each for each in lines if any(each.startswith(line) for line in expected)]


async def test_an_outdated_schema_fails_with_the_upgrade_command(
        setup: dict[str, str], tmp_path: Path) -> None:
    setup["DATABASE_URL"] = f"sqlite+aiosqlite:///{tmp_path / 'old.sqlite3'}"
    engine = make_engine(setup["DATABASE_URL"])
    await upgrade(engine, revision="0001")
    await engine.dispose()
    status, lines = await examine(setup)
    assert status == 1
    assert [line for line in lines if line.startswith("✗")] == [
        f"✗ the schema is at 0001, this version needs {head_revision()} — run `frontdesk db "
        "upgrade` (or `frontdesk run`, on SQLite)"]


async def test_a_webhook_telegram_cannot_deliver_to_fails_with_its_error(
        fake_api: FakeBotAPI, fake_bot: Bot, setup: dict[str, str]) -> None:
    url = f"http://127.0.0.1:{free_port()}/telegram"
    await fake_bot.set_webhook(url, secret_token="s3cret")
    fake_api.add_user(CLIENT, "Dana")
    fake_api.user_sends(CLIENT, "hello?")
    await fake_api.wait_for(lambda: fake_api.webhook and fake_api.webhook.last_error_date,
                            description="a failed webhook delivery")
    status, lines = await examine({**setup, "WEBHOOK_URL": url, "WEBHOOK_SECRET": "s3cret"})
    assert status == 1
    failed = [line for line in lines if line.startswith("✗")]
    assert len(failed) == 1, lines
    assert failed[0].startswith("✗ Telegram could not deliver to the webhook ")
    assert "; 1 update waiting — make WEBHOOK_URL reach this server" in failed[0]


async def test_frontdesk_doctor_prints_its_lines_and_exits_0(setup: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "doctor",
        env={**os.environ, **setup, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, (stdout + stderr).decode()
    assert stdout.decode().splitlines()[2] == "✓ the token is accepted: the bot is " \
                                              "@frontdesk_test_bot"
    assert not stderr
