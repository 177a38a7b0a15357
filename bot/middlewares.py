"""Middlewares: one unit of work per update (exactly once), the client, the language, errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Router
from aiogram.dispatcher.event.bases import UNHANDLED
from aiogram.types import CallbackQuery, ErrorEvent, Message, TelegramObject, Update, User
from aiogram.utils.i18n import I18nMiddleware
from aiogram.utils.i18n import gettext as _

from bot.i18n import DeskI18n, pick_language
from bot.outbox import OutboxSender
from domain.clients import Client
from domain.clock import Clock
from domain.errors import DeskError
from domain.policy import Policy
from domain.text import one_line
from storage.batch import Batch
from storage.fsm import within_update
from storage.transient import is_transient, retry_transient
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)
Handler = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]


def _chat_of(update: Update) -> int | None:
    event = update.event
    if isinstance(event, Message):
        return event.chat.id
    if isinstance(event, CallbackQuery) and event.message is not None:
        return event.message.chat.id
    return None


@dataclass
class UpdateBatch:
    """Updates handled together in one transaction (see `UpdateMiddleware.batch`)."""

    uow: SqlUnitOfWork
    parts: Batch  # each update a part of the transaction, undone alone
    fresh: set[int]  # the update ids not processed before
    broken: BaseException | None = None  # the database failed: the batch is lost


_BATCH: ContextVar[UpdateBatch | None] = ContextVar("update_batch", default=None)


class UpdateMiddleware(BaseMiddleware):
    """Per update: one chat at a time, skip a re-sent update, one transaction, wake the outbox.

    The update id is recorded first, in the same transaction as the update's effects: an update
    Telegram delivers twice changes nothing the second time, and when two processes get it at
    once, the second waits on the first's record and then skips it. While the database is
    unavailable (a restart), the update is tried again for `patience` seconds, in its chat's
    turn; after that the error goes up and the update is not confirmed to Telegram.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, sender: OutboxSender,
                 clock: Clock, patience: float = 30.0) -> None:
        self.uow_factory = uow_factory
        self.sender = sender
        self.clock = clock
        self.patience = patience
        self._locks: dict[int, asyncio.Lock] = {}

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        assert isinstance(event, Update)
        batch = _BATCH.get()
        if batch is not None:
            return await self._in_batch(batch, handler, event, data)
        chat_id = _chat_of(event)
        lock = self._locks.setdefault(chat_id or 0, asyncio.Lock())
        async with lock:
            result = await retry_transient(lambda: self._handle_once(handler, event, data),
                                           f"update {event.update_id}", self.patience)
        if not lock.locked() and len(self._locks) > 10_000:
            self._locks.pop(chat_id or 0, None)
        self.sender.wake()
        return result

    async def _handle_once(self, handler: Handler, event: Update, data: dict[str, Any]) -> Any:
        async with self.uow_factory() as uow:
            if not await uow.updates.record(event.update_id, self.clock.now()):
                log.info("update %s was already processed", event.update_id)
                return None
            data["uow"] = uow
            with within_update(uow.session):
                result = await handler(event, data)
            await uow.commit()
        return result

    @asynccontextmanager
    async def batch(self, updates: Collection[Update],
                    telegram_users: Collection[int]) -> AsyncIterator[UpdateBatch]:
        """Handle these updates (in order, one after another, inside the block) in one
        transaction (`storage.batch`): their ids recorded in one statement, their clients and
        open tickets read in two, their deliveries inserted in one, one commit — not five round
        trips to the database or more per update. Each update is a part of its own: one that
        fails is undone alone, as it would have been in a transaction of its own.

        When the database fails (`UpdateBatch.broken`, or an error here), the block ends in
        that error and nothing of the batch is kept: the caller handles the updates again,
        one transaction each (which waits for the database). An update handled before the
        failure may then answer its person a second time (the answers that do not go through
        the outbox), as an update retried after a failure of its own transaction does.
        """
        async with self.sender.turn, self.uow_factory() as uow:
            fresh = await uow.updates.record_new([update.update_id for update in updates],
                                                 self.clock.now())
            batch = UpdateBatch(uow, Batch(uow), fresh)
            token = _BATCH.set(batch)
            try:
                await batch.parts.start(telegram_users)
                yield batch
            finally:
                batch.parts.stop()
                _BATCH.reset(token)
            if batch.broken is not None:
                raise batch.broken
            await uow.commit()
        self.sender.wake()

    async def _in_batch(self, batch: UpdateBatch, handler: Handler, event: Update,
                        data: dict[str, Any]) -> Any:
        if event.update_id not in batch.fresh:
            log.info("update %s was already processed", event.update_id)
            return None
        data["uow"] = batch.uow
        try:
            async with batch.parts.part():
                with within_update(batch.uow.session):
                    return await handler(event, data)
        except Exception as error:
            if is_transient(error):
                batch.broken = error
            raise


class ClientMiddleware(BaseMiddleware):
    """Who writes in a private chat: the client record (made at their first word), as `client`."""

    def __init__(self, policy: Policy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        user: User | None = data.get("event_from_user")
        chat = data.get("event_chat")
        if chat is not None and chat.type == "private" and user is not None:
            data["client"] = await data["uow"].clients.ensure(
                user.id, one_line(user.full_name), user.username,
                pick_language(user.language_code, self.policy.default_language),
                self.clock.now())
        return await handler(event, data)


class LanguageMiddleware(I18nMiddleware):
    """The language to answer in: the staff's in a staff group, the client's with a client."""

    def __init__(self, i18n: DeskI18n, policy: Policy, staff_chats: frozenset[int]) -> None:
        super().__init__(i18n)
        self.policy = policy
        self.staff_chats = staff_chats

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        """The staff language, the client's (`ClientMiddleware` ran first), or the default."""
        chat = data.get("event_chat")
        if chat is not None and chat.id in self.staff_chats:
            return self.policy.staff_language
        client: Client | None = data.get("client")
        return self.policy.default_language if client is None else client.language


class ErrorMiddleware(BaseMiddleware):
    """A refusal of the desk (`DeskError`) goes to the error handlers of the router whose
    handler met it (its `router.errors`), inside the update's language and transaction; the
    unexpected is logged and the person told something went wrong — never silence."""

    async def __call__(self, handler: Handler, event: TelegramObject,
                       data: dict[str, Any]) -> Any:
        try:
            return await handler(event, data)
        except DeskError as error:
            router: Router = data["event_router"]
            answered = await router.propagate_event(
                "error", ErrorEvent(update=data["event_update"], exception=error), **data)
            if answered is not UNHANDLED:
                return answered
            await self.unexpected(event, error)
            raise
        except Exception as error:
            await self.unexpected(event, error)
            raise

    async def unexpected(self, event: TelegramObject, error: Exception) -> None:
        """Log the error and tell the person (unless the update is to be tried again)."""
        if is_transient(error):
            return  # the update is tried again: nothing went wrong for the person yet
        log.exception("error while handling %s", type(event).__name__)
        text = _("Sorry, something went wrong on our side. Please try again in a minute.")
        if isinstance(event, Message):
            await event.answer(text)
        elif isinstance(event, CallbackQuery):
            await event.answer(text, show_alert=True)


async def answered_inside(event: ErrorEvent) -> None:
    """An error that reaches the dispatcher's error handlers was dealt with inside its update
    (`ErrorMiddleware`): it stays the update's failure, and no router's error handler answers
    it a second time, out of the update's language."""
    raise event.exception
