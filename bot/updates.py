"""Taking updates from Telegram so that none is lost: confirmed only once handled.

aiogram's own polling confirms a batch of updates when it asks for the next one, while the
updates of the batch may still be running: a bot killed at that moment has lost them. Here a
batch is handled first (its updates in parallel, each chat in order) and confirmed after, by
asking for the next batch. An update that could not be handled because the database was away
is not confirmed: the batch is asked for again, and the updates of it already handled are
skipped by their recorded ids. The webhook answers Telegram by the same rule (see webhook.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiogram import Bot, Dispatcher
from aiogram.dispatcher.middlewares.user_context import UserContextMiddleware
from aiogram.exceptions import TelegramUnauthorizedError
from aiogram.methods import GetUpdates, TelegramMethod
from aiogram.types import Update

from bot import logs, metrics
from bot.checks import TokenRejected
from bot.middlewares import UpdateMiddleware
from storage.fsm import SqlStorage
from storage.transient import is_transient

log = logging.getLogger(__name__)

RETRY_PAUSE = 1.0  # before asking again for a batch whose handling met an unavailable database


async def handle_update(dispatcher: Dispatcher, bot: Bot, update: Update) -> bool:
    """Handle one update; False when it must come again (the database was unavailable).

    Any other failure was logged and told to the person (the error middleware); the update is
    then done with, so that one broken update cannot stop all the others behind it.
    """
    context = logs.UPDATE_ID.set(update.update_id)
    try:
        response = await dispatcher.feed_update(bot, update)
    except Exception as error:
        if is_transient(error):
            log.warning("update %s not handled, the database is unavailable: %s",
                        update.update_id, error)
            metrics.update_done(update, "deferred")
            return False
        log.exception("update %s failed", update.update_id)
        metrics.update_done(update, "failed")
        return True
    finally:
        logs.UPDATE_ID.reset(context)
    metrics.update_done(update, "handled")
    if isinstance(response, TelegramMethod):
        await dispatcher.silent_call_request(bot, response)
    return True


class Poller:
    """Long polling with confirmation after handling."""

    def __init__(self, dispatcher: Dispatcher, bot: Bot, updates: UpdateMiddleware,
                 timeout: int = 10, allowed_updates: list[str] | None = None) -> None:
        self.dispatcher = dispatcher
        self.bot = bot
        self.updates = updates  # the dispatcher's outer middleware, which can take a batch
        self.timeout = timeout
        self.allowed_updates = allowed_updates
        self.offset: int | None = None
        self.handled = 0

    async def run(self, stop: asyncio.Event) -> None:
        """Take, handle and confirm batches until `stop`; a batch being handled is finished."""
        failures = 0
        while not stop.is_set():
            try:
                updates = await self._next_batch(stop)
            except TelegramUnauthorizedError:  # the token was revoked while the bot ran
                raise TokenRejected() from None
            except Exception as error:  # Telegram or the network: keep polling, slower
                failures += 1
                pause = min(0.5 * 2 ** failures, 30.0)
                log.warning("getUpdates failed (%s); again in %.1fs", error, pause)
                await _sleep_unless(stop, pause)
                continue
            failures = 0
            if updates is None:
                return
            if updates:
                await self._handle_batch(updates, stop)

    async def _next_batch(self, stop: asyncio.Event) -> list[Update] | None:
        """The next updates (confirming those before `offset`); None when stopped."""
        request = GetUpdates(offset=self.offset, timeout=self.timeout,
                             allowed_updates=self.allowed_updates)
        fetch = asyncio.ensure_future(self.bot(request, request_timeout=self.timeout + 30))
        stopped = asyncio.ensure_future(stop.wait())
        await asyncio.wait({fetch, stopped}, return_when=asyncio.FIRST_COMPLETED)
        stopped.cancel()
        if not fetch.done():  # stopped: whatever Telegram holds stays unconfirmed
            fetch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await fetch
            return None
        return list(fetch.result())

    async def _handle_batch(self, updates: list[Update], stop: asyncio.Event) -> None:
        done = await self._together(updates) if len(updates) > 1 else None
        if done is None:  # one transaction each, the chats in parallel
            done = await asyncio.gather(*(handle_update(self.dispatcher, self.bot, update)
                                          for update in updates))
        self.handled += sum(done)
        pending = [update.update_id for update, ok in zip(updates, done, strict=True) if not ok]
        if pending:
            self.offset = min(pending)  # those before it are confirmed; it comes again
            await _sleep_unless(stop, RETRY_PAUSE)
        else:
            self.offset = updates[-1].update_id + 1

    async def _together(self, updates: list[Update]) -> list[bool] | None:
        """The batch in one transaction (`UpdateMiddleware.batch`), in order; None when the
        database failed and nothing of it was kept."""
        contexts = [UserContextMiddleware.resolve_event_context(update) for update in updates]
        private = [context for context in contexts if context.chat is not None
                   and context.user is not None and context.chat.type == "private"]
        try:
            users = {context.user.id for context in private if context.user is not None}
            async with self.updates.batch(updates, users) as batch:
                fsm = self.dispatcher.fsm
                if isinstance(fsm.storage, SqlStorage):
                    states = (fsm.resolve_context(self.bot, context.chat_id, context.user_id,
                                                  context.thread_id,
                                                  context.business_connection_id)
                              for context in private)
                    await fsm.storage.read_ahead(batch.uow.session,
                                                 [state.key for state in states if state])
                done = []
                for update in updates:
                    done.append(await handle_update(self.dispatcher, self.bot, update))
                    if batch.broken is not None:
                        break
                    # let the sends due meanwhile go out on time
                    await asyncio.sleep(0)
        except Exception as error:
            if not is_transient(error):
                log.exception("a batch of %d updates failed", len(updates))
            log.warning("a batch of %d updates is handled again, one by one (%s)",
                        len(updates), type(error).__name__)
            return None
        return done


async def _sleep_unless(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def confirm(bot: Bot, offset: int | None) -> None:
    """Tell Telegram the updates before `offset` are handled (on a graceful stop)."""
    if offset is not None:
        with contextlib.suppress(Exception):
            await bot(GetUpdates(offset=offset, timeout=0, limit=1))
