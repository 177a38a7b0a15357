"""`frontdesk doctor`: checks a real setup, one line per check with the fix.

The order is the one an operator fixes things in: the settings and the policy file (the bot
stops on them first), the token and privacy mode (@BotFather), the staff chats (the group's
settings), the supervisors, the webhook, then the database, its schema and Redis. It reads
the same settings as `frontdesk run`, changes nothing, and every call has a timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from aiogram import Bot

from bot import checks
from bot.checks import Finding, fail, ok, warn
from bot.policy_file import load_policy
from bot.settings import ConfigError, Settings, load_settings
from bot.startup import UNREACHABLE
from domain.policy import Policy
from storage.engine import address_of, current_revision, head_revision, make_engine

EXIT_BROKEN = 1
LOCAL_TIMEOUT = 5  # seconds, for the database and Redis


async def doctor(environ: Mapping[str, str], say: Callable[[Finding], None]) -> int:
    """Check everything, saying each finding as it comes; 0 when nothing is broken."""
    findings: list[Finding] = []

    def note(finding: Finding) -> None:
        findings.append(finding)
        say(finding)

    try:
        settings = load_settings(environ)
    except ConfigError as error:
        note(fail(f"settings: {error}", "set the environment variables as the README's table "
                                        "says"))
        return EXIT_BROKEN
    mode = f"webhook {settings.webhook_url}" if settings.webhook_url else "long polling"
    note(ok(f"settings: {mode}, staff chat {settings.staff_chat_id}"))
    policy = _policy(settings, note)
    await _telegram(settings, policy, note)
    await _database(settings.database_url, note)
    await _redis(settings.redis_url, note)
    return EXIT_BROKEN if any(each.mark is checks.Mark.FAIL for each in findings) else 0


def _policy(settings: Settings, note: Callable[[Finding], None]) -> Policy | None:
    try:
        policy = load_policy(settings.config_path, explicit=settings.config_explicit)
    except ConfigError as error:
        note(fail(f"policy: {error}", "correct the policy file (see frontdesk.example.toml)"))
        return None
    source = (str(settings.config_path) if settings.config_path.exists()
              else f"no {settings.config_path}, the defaults")
    note(ok(f"policy: {source}; {checks.count(len(policy.request_types), 'request type')}, "
            f"{checks.count(len(policy.queues), 'queue')}, "
            f"{checks.count(len(policy.supervisors), 'supervisor')}"))
    return policy


async def _telegram(settings: Settings, policy: Policy | None,
                    note: Callable[[Finding], None]) -> None:
    from bot.app import make_bot  # the application's own Bot (TELEGRAM_API_URL and all)

    bot = make_bot(settings)
    try:
        await _ask_telegram(bot, settings, policy, note)
    except checks.TokenRejected as rejected:
        note(fail(str(rejected).split(": ")[0], "check it with @BotFather"))
    except UNREACHABLE as error:
        where = settings.telegram_api_url or "api.telegram.org"
        note(fail(f"Telegram ({where}) does not answer: {getattr(error, 'message', error)}",
                  "check the network, a proxy, or TELEGRAM_API_URL"))
    finally:
        await bot.session.close()


async def _ask_telegram(bot: Bot, settings: Settings, policy: Policy | None,
                        note: Callable[[Finding], None]) -> None:
    me = await checks.who_am_i(bot)
    note(ok(f"the token is accepted: the bot is @{me.username}"))
    chats = {settings.staff_chat_id: "the staff chat"}
    for queue in policy.queues if policy else ():
        if queue.staff_chat_id and queue.staff_chat_id not in chats:
            chats[queue.staff_chat_id] = f"queue {queue.key}'s staff chat"
    reports = [await checks.staff_chat(bot, me, chat_id, name) for chat_id, name in chats.items()]
    note(checks.privacy(me, all(report.administered for report in reports)))
    for report in reports:
        for finding in report.findings:
            note(finding)
    if policy is not None:
        if not policy.supervisors:
            note(warn("no supervisors in the policy: nobody is called on breaches",
                      "list their user ids in [desk] supervisors"))
        for finding in await checks.supervisors(bot, settings.staff_chat_id,
                                                policy.supervisors):
            note(finding)
    for finding in await checks.webhook(bot, settings.webhook_url, datetime.now(UTC)):
        note(finding)


async def _database(url: str, note: Callable[[Finding], None]) -> None:
    address = address_of(url)
    shown, sqlite = address.shown, address.sqlite
    if sqlite:
        path = Path(address.database)
        if not path.is_file():  # opening it would create it
            note(fail(f"the database file {path} does not exist",
                      "`frontdesk db upgrade` creates it (`frontdesk run` too)"))
            return
    engine = make_engine(url, readonly=sqlite)
    try:
        async with asyncio.timeout(LOCAL_TIMEOUT):
            revision = await current_revision(engine)
    except Exception as error:  # whatever the driver raises: the line says what it was
        note(fail(f"the database {shown} does not answer: {type(error).__name__}: "
                  f"{str(error).splitlines()[0] if str(error) else 'no reply'}",
                  "check DATABASE_URL and that the server runs"))
        return
    finally:
        await engine.dispose()
    note(ok(f"the database {shown} answers"))
    head = head_revision()
    if revision == head:
        note(ok(f"the schema is current ({head})"))
    else:
        note(fail(f"the schema is at {revision or 'nothing'}, this version needs {head}",
                  "run `frontdesk db upgrade`" + (" (or `frontdesk run`, on SQLite)"
                                                 if sqlite else "")))


async def _redis(url: str | None, note: Callable[[Finding], None]) -> None:
    if url is None:
        note(ok("Redis is not used: the conversation state is kept in the database"))
        return
    from redis.asyncio import Redis

    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or 6379}"
    client = Redis.from_url(url, socket_connect_timeout=LOCAL_TIMEOUT,
                            socket_timeout=LOCAL_TIMEOUT)
    try:
        async with asyncio.timeout(LOCAL_TIMEOUT):
            await client.ping()
    except Exception as error:  # connection refused, timeout, authentication
        note(fail(f"Redis at {where} does not answer: {error}",
                  "start Redis or correct REDIS_URL"))
        return
    finally:
        await client.aclose()
    note(ok(f"Redis at {where} answers"))
