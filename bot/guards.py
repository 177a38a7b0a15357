"""Guards at the door: banned and flooding clients, and buttons pressed by non-staff."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.types import CallbackQuery, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _

from bot.middlewares import Handler
from domain.clients import Client
from domain.clock import Clock
from domain.policy import Policy
from domain.text import one_line
from handlers.intake import Intake

DESCRIBING = Intake.description.state

STAFF_STATUSES = frozenset({"creator", "administrator", "member", "restricted"})


class ClientGuard(BaseMiddleware):
    """A banned client is told once and not relayed; a flooding client is slowed down."""

    def __init__(self, policy: Policy, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.monotonic = monotonic
        self._recent: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}
        self._albums: dict[str, bool] = {}  # an album's verdict, given at its first item

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        client: Client | None = data.get("client")
        if client is None:
            return await handler(event, data)
        if client.banned:
            uow = data["uow"]
            if not await uow.clients.ban_notified(client.id):
                await uow.clients.set_ban_notified(client.id, True)
                await _tell(event, _("The support desk no longer accepts your messages."))
            elif isinstance(event, CallbackQuery):
                await event.answer()
            return None
        if (isinstance(event, Message) and data.get("raw_state") != DESCRIBING
                and self._flooding(client.id, event.media_group_id)):
            if self._notice_due(client.id):
                await event.answer(_("You are sending messages too fast, so the last ones were "
                                     "not passed on. Please wait a minute and send them "
                                     "again."))
            return None
        return await handler(event, data)

    def _flooding(self, client_id: int, album: str | None) -> bool:
        """Too many messages in the window: refuse them (the client is told once a window).

        An album is one message (its items share the verdict of the first), and the
        description of a new request is not counted: it is one act, kept in the intake and
        not relayed piece by piece (the intake has its own limit, and says so).
        """
        if album is not None and album in self._albums:
            return self._albums[album]
        verdict = self._over_limit(client_id)
        if album is not None:
            if len(self._albums) > 10_000:
                self._albums.clear()
            self._albums[album] = verdict
        return verdict

    def _over_limit(self, client_id: int) -> bool:
        now = self.monotonic()
        window = self.policy.flood_window.total_seconds()
        recent = self._recent.setdefault(client_id, deque())
        while recent and recent[0] <= now - window:
            recent.popleft()
        if len(recent) < self.policy.flood_limit:
            recent.append(now)
            return False
        return True

    def _notice_due(self, client_id: int) -> bool:
        """Whether the flooding client should be told now (once per window)."""
        now = self.monotonic()
        last = self._warned.get(client_id)
        if last is not None and now - last < self.policy.flood_window.total_seconds():
            return False
        self._warned[client_id] = now
        return True


async def _tell(event: TelegramObject, text: str) -> None:
    if isinstance(event, Message):
        await event.answer(text)
    elif isinstance(event, CallbackQuery):
        await event.answer(text, show_alert=True)


class StaffMembers:
    """Who is in the staff groups now, as Telegram says (getChatMember), remembered for a
    minute; a `chat_member` update about a person replaces what was remembered at once."""

    def __init__(self, ttl: float = 60.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.monotonic = monotonic
        self._known: dict[tuple[int, int], tuple[bool, float]] = {}

    async def is_member(self, bot: Bot, chat_id: int, user_id: int) -> bool:
        """Whether the person is in the group now (a minute ago at worst)."""
        cached = self._known.get((chat_id, user_id))
        now = self.monotonic()
        if cached is not None and now - cached[1] < self.ttl:
            return cached[0]
        member = await bot.get_chat_member(chat_id, user_id)
        return self.changed(chat_id, user_id, member.status)

    def changed(self, chat_id: int, user_id: int, status: str) -> bool:
        """Telegram says the person's status in the group is `status` (a `chat_member`
        update, or an answer to getChatMember); return whether they are on the staff."""
        verdict = status in STAFF_STATUSES
        if len(self._known) > 10_000:
            self._known.clear()
        self._known[(chat_id, user_id)] = (verdict, self.monotonic())
        return verdict


class StaffGuard(BaseMiddleware):
    """In staff groups: only current members act — every button, command, reply and edit is
    checked with Telegram (`StaffMembers`) — and agents are remembered for names and /assign
    @username."""

    def __init__(self, staff_chats: frozenset[int], clock: Clock, members: StaffMembers) -> None:
        self.staff_chats = staff_chats
        self.clock = clock
        self.members = members

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        chat = data.get("event_chat")
        user: User | None = data.get("event_from_user")
        if chat is None or chat.id not in self.staff_chats:
            return await handler(event, data)
        if isinstance(event, Message) and event.sender_chat is not None and (
                (event.text or "").startswith("/")):
            # an anonymous administrator or a channel: no person to act as (not "Group")
            await event.reply(_("Commands need a person: they cannot be sent anonymously or "
                                "on behalf of a channel. Turn off “Remain anonymous” or "
                                "write as yourself."))
            return None
        if user is None or user.is_bot:
            return await handler(event, data)
        if not await self.members.is_member(data["bot"], chat.id, user.id):
            former = await data["uow"].agents.name_of(user.id) is not None
            await _tell(event, _("You are no longer on the staff of this desk, so this "
                                 "was not done.") if former else
                        _("Only the support staff can use these buttons."))
            return None
        await data["uow"].agents.seen(user.id, one_line(user.full_name), user.username,
                                      self.clock.now())
        return await handler(event, data)

