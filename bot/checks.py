"""What Telegram says about the desk's setup: the token, privacy mode, the staff chats, the
supervisors and the webhook, each as a finding with the fix.

`frontdesk doctor` prints them all; `frontdesk run` logs at start those that are not right.
Every call has a timeout of its own, so that a check never hangs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNotFound,
    TelegramUnauthorizedError,
)
from aiogram.types import ChatMemberAdministrator, ChatMemberOwner, User

from bot.settings import ConfigError

REQUEST_TIMEOUT = 5  # seconds, for each call a check makes

TOKEN_REJECTED = ("BOT_TOKEN was rejected by Telegram (401 Unauthorized): "
                  "check it with @BotFather")
ADMIN_RIGHTS_FIX = ("make the bot an administrator with Manage Topics, Delete messages and "
                    "Pin messages")


class TokenRejected(ConfigError):
    """Telegram answered 401 to the token: nothing can work until it is replaced."""

    def __init__(self) -> None:
        super().__init__(TOKEN_REJECTED)


class Mark(StrEnum):
    """How a check came out."""

    OK = "✓"
    WARN = "!"
    FAIL = "✗"


@dataclass(frozen=True)
class Finding:
    """One check's outcome: what holds or is wrong, and what to do about it."""

    mark: Mark
    text: str
    fix: str = ""

    def line(self) -> str:
        """The finding as one line: mark, text and fix."""
        return f"{self.mark} {self.text}" + (f" — {self.fix}" if self.fix else "")


def count(number: int, noun: str) -> str:
    """'1 update', '2 updates' (the doctor speaks English only, as the command line does)."""
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def ok(text: str) -> Finding:
    """A check that holds."""
    return Finding(Mark.OK, text)


def warn(text: str, fix: str) -> Finding:
    """Works, but not as well as it could."""
    return Finding(Mark.WARN, text, fix)


def fail(text: str, fix: str) -> Finding:
    """Broken: the desk does not work as it should until fixed."""
    return Finding(Mark.FAIL, text, fix)


async def who_am_i(bot: Bot) -> User:
    """The bot's own account (getMe); TokenRejected on 401, network errors as they come."""
    try:
        return await bot.get_me(request_timeout=REQUEST_TIMEOUT)
    except TelegramUnauthorizedError:
        raise TokenRejected() from None


def privacy(me: User, administers_every_staff_chat: bool) -> Finding:
    """Privacy mode: with it on, only an administrator sees the agents' messages."""
    if me.can_read_all_group_messages:
        return ok("privacy mode is off: the bot sees every message in the staff chats")
    fix = "turn privacy off with @BotFather (Bot Settings → Group Privacy → Turn off)"
    if administers_every_staff_chat:
        return warn("privacy mode is on; the bot sees the agents' messages only while it is "
                    "an administrator", fix)
    return fail("privacy mode is on and the bot is not an administrator everywhere: it does "
                "not see what the agents write", fix + f", or {ADMIN_RIGHTS_FIX}")


@dataclass(frozen=True)
class StaffChatReport:
    """What was found about one staff chat."""

    findings: list[Finding]
    administered: bool  # the bot is an administrator (or the owner) there


async def staff_chat(bot: Bot, me: User, chat_id: int, name: str) -> StaffChatReport:
    """Check a staff chat: it exists, is a supergroup with topics, the bot administers it with
    the rights it needs. `name` says which one ("the staff chat", "queue billing's chat")."""
    where = f"{name} {chat_id}"
    try:
        chat = await bot.get_chat(chat_id, request_timeout=REQUEST_TIMEOUT)
    except (TelegramBadRequest, TelegramForbiddenError, TelegramNotFound) as error:
        return StaffChatReport([fail(
            f"{where}: Telegram says “{error.message}”",
            "check the id (a supergroup's looks like -1001234567890) and add the bot to the "
            "group")], administered=False)
    if chat.type != "supergroup":
        return StaffChatReport([fail(
            f"{where} is a {chat.type}, not a supergroup",
            "turn Topics on in the group's settings (that makes it a supergroup) and use its "
            "new id")], administered=False)
    findings = [ok(f"{where} is a supergroup: “{chat.title}”")]
    try:
        member = await bot.get_chat_member(chat_id, me.id, request_timeout=REQUEST_TIMEOUT)
    except (TelegramBadRequest, TelegramForbiddenError) as error:
        findings.append(fail(f"{where}: the bot's membership cannot be read "
                             f"(“{error.message}”)", "add the bot to the group"))
        return StaffChatReport(findings, administered=False)
    administered = isinstance(member, ChatMemberAdministrator | ChatMemberOwner)
    if member.status in {"left", "kicked"}:
        findings.append(fail(f"{where}: the bot is not in the group",
                             f"add it to the group and {ADMIN_RIGHTS_FIX}"))
    elif not administered:
        findings.append(fail(f"{where}: the bot is not an administrator", ADMIN_RIGHTS_FIX))
    else:
        findings.extend(_rights(where, member, bool(chat.is_forum)))
    if chat.is_forum:
        findings.append(ok(f"{where}: topics are on"))
    else:
        findings.append(fail(f"{where}: topics are off, tickets arrive as cards in the group",
                             "turn Topics on in the group's settings (one topic per ticket)"))
    return StaffChatReport(findings, administered)


def _rights(where: str, member: ChatMemberAdministrator | ChatMemberOwner,
            forum: bool) -> Iterable[Finding]:
    if isinstance(member, ChatMemberOwner):
        yield ok(f"{where}: the bot owns the group")
        return
    if forum and not member.can_manage_topics:
        yield fail(f"{where}: the bot may not manage topics (it cannot open one per ticket)",
                   "give it the Manage Topics right")
    missing = [label for label, granted in (("Delete messages", member.can_delete_messages),
                                            ("Pin messages", member.can_pin_messages))
               if not granted]
    if missing:
        yield warn(f"{where}: the bot lacks the right to {' and '.join(missing).lower()}",
                   f"give it {' and '.join(missing)}")
    if (member.can_manage_topics or not forum) and not missing:
        yield ok(f"{where}: the bot is an administrator with the rights it needs")


async def supervisors(bot: Bot, chat_id: int, user_ids: Iterable[int]) -> list[Finding]:
    """Each supervisor is a member of the staff chat (they are mentioned there)."""
    findings = []
    for user_id in user_ids:
        try:
            member = await bot.get_chat_member(chat_id, user_id, request_timeout=REQUEST_TIMEOUT)
        except (TelegramBadRequest, TelegramForbiddenError) as error:
            findings.append(fail(f"supervisor {user_id}: Telegram says “{error.message}”",
                                 "check the user id in [desk] supervisors of the policy file"))
            continue
        if member.status in {"left", "kicked"}:
            findings.append(fail(f"supervisor {user_id} is not in the staff chat {chat_id}",
                                 "add them to the group: breaches and requests are announced "
                                 "there"))
        else:
            name = member.user.full_name
            findings.append(ok(f"supervisor {user_id} ({name}) is in the staff chat"))
    return findings


async def webhook(bot: Bot, webhook_url: str | None, now: datetime) -> list[Finding]:
    """The webhook Telegram holds, against the one the settings ask for."""
    info = await bot.get_webhook_info(request_timeout=REQUEST_TIMEOUT)
    pending = info.pending_update_count
    if not webhook_url:
        if info.url:
            return [warn(f"Telegram has a webhook ({info.url}) but WEBHOOK_URL is not set",
                         "`frontdesk run` removes it and polls; set WEBHOOK_URL to keep it")]
        return [ok(f"long polling (no webhook); {count(pending, 'update')} waiting")]
    findings = []
    if info.url != webhook_url:
        findings.append(warn(f"Telegram's webhook is “{info.url or 'none'}”, not WEBHOOK_URL",
                             "`frontdesk run` sets it at start"))
    else:
        findings.append(ok(f"the webhook is {info.url}"))
    if info.last_error_date is not None:
        ago = now - info.last_error_date.astimezone(UTC)
        findings.append(fail(
            f"Telegram could not deliver to the webhook {_ago(ago.total_seconds())}: "
            f"“{info.last_error_message}”; {count(pending, 'update')} waiting",
            "make WEBHOOK_URL reach this server (WEBHOOK_LISTEN:WEBHOOK_PORT behind the "
            "proxy, a valid certificate) and check the bot's log"))
    return findings


def _ago(seconds: float) -> str:
    if seconds < 120:
        return f"{max(int(seconds), 0)} s ago"
    if seconds < 7200:
        return f"{int(seconds // 60)} min ago"
    return f"{int(seconds // 3600)} h ago"
