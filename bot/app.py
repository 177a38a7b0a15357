"""The application: bot, dispatcher, outbox sender, and running them (polling or webhook)."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.base import BaseStorage
from aiogram.fsm.storage.memory import SimpleEventIsolation

from bot.commands import register_commands
from bot.delivery import Delivery
from bot.guards import ClientGuard, StaffGuard, StaffMembers
from bot.i18n import DeskI18n, make_i18n
from bot.metrics import TelegramCalls, serve_metrics
from bot.middlewares import (
    ClientMiddleware,
    ErrorMiddleware,
    LanguageMiddleware,
    UpdateMiddleware,
    answered_inside,
)
from bot.outbox import OutboxSender
from bot.pacing import (
    AnswerPacingMiddleware,
    Pacer,
    RetryAfterMiddleware,
    SendLimits,
)
from bot.responses import KeepResponseTypes
from bot.scheduler import Scheduler
from bot.settings import ConfigError, Settings
from bot.shared_pacing import SharedSlots
from bot.startup import until_telegram_answers, wait_for_telegram, warn_about_staff_chats
from bot.updates import Poller, confirm
from domain.clock import Clock, SystemClock
from domain.desk import Desk
from domain.policy import Policy
from domain.reports import calendars_of
from handlers import (
    client,
    fallback,
    intake,
    other_channels,
    privacy,
    reports,
    sla,
    staff,
    whoami,
)
from storage.engine import (
    DatabaseError,
    Engine,
    address_of,
    make_engine,
    make_sessionmaker,
    schema_is_current,
    upgrade,
)
from storage.fsm import SqlStorage
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)


def make_bot(settings: Settings) -> Bot:
    """A Bot talking to Telegram (or to the server TELEGRAM_API_URL names), HTML by default."""
    session = None
    if settings.telegram_api_url:
        session = AiohttpSession(api=TelegramAPIServer.from_base(settings.telegram_api_url))
    return Bot(settings.bot_token.get_secret_value(), session=session,
               default=DefaultBotProperties(parse_mode="HTML"))


def staff_chats(settings: Settings, policy: Policy) -> frozenset[int]:
    """Every staff supergroup: the main one and those of queues that have their own."""
    chats = {settings.staff_chat_id}
    chats.update(queue.staff_chat_id for queue in policy.queues if queue.staff_chat_id)
    return frozenset(chats)


@dataclass
class App:
    """Everything a running desk holds."""

    settings: Settings
    policy: Policy
    engine: Engine
    bot: Bot
    dispatcher: Dispatcher
    updates: UpdateMiddleware  # the dispatcher's; the poller hands it batches of updates
    sender: OutboxSender
    scheduler: Scheduler
    uow_factory: UnitOfWorkFactory
    i18n: DeskI18n
    clock: Clock


async def prepare_database(engine: Engine, url: str, policy: Policy | None = None) -> None:
    """SQLite files upgrade themselves; PostgreSQL must be upgraded by the operator."""
    if await schema_is_current(engine):
        return
    if url.startswith("sqlite"):
        log.info("upgrading the SQLite schema")
        await upgrade(engine, policy=policy)
        return
    raise ConfigError("the database schema is out of date: run `frontdesk db upgrade` first")


async def check_contract_levels(uow_factory: UnitOfWorkFactory, policy: Policy) -> None:
    """Refuse to start when imported contracts name an SLA level the policy no longer has:
    their clients would meet an error at their first request (ConfigError, one line)."""
    async with uow_factory() as uow:
        contracts = await uow.contracts.all()
    known = {level.key for level in policy.sla_levels}
    orphans: dict[str, list[str]] = {}
    for contract in contracts:
        if contract.sla_level not in known:
            orphans.setdefault(contract.sla_level, []).append(contract.number)
    if not orphans:
        return
    named = "; ".join(
        f"SLA level {level!r} is used by contract{'s' if len(numbers) > 1 else ''} "
        f"{', '.join(numbers[:5])}{f' and {len(numbers) - 5} more' if len(numbers) > 5 else ''}"
        for level, numbers in sorted(orphans.items()))
    raise ConfigError(f"{named} but the policy does not define it: add it back to the policy "
                      f"file, or import those contracts again with a level it has "
                      f"(`frontdesk contracts list` shows them)")


async def check_contract_levels_in(database_url: str, policy: Policy) -> None:
    """`check_contract_levels` on a database with a current schema, before Telegram is
    asked anything (a database still to be upgraded is checked once it is, in `build_app`)."""
    address = address_of(database_url)
    if address.sqlite and not (address.database and Path(address.database).exists()):
        return  # no file yet: nothing imported, and nothing is created before Telegram answers
    engine = make_engine(database_url)
    try:
        # read directly (not through Alembic, which logs): no table yet is nothing to check
        await check_contract_levels(UnitOfWorkFactory(make_sessionmaker(engine)), policy)
    except DatabaseError:
        return
    finally:
        await engine.dispose()


def make_fsm_storage(settings: Settings, uow_factory: UnitOfWorkFactory) -> BaseStorage:
    """The conversation state: Redis when REDIS_URL is set, else the database."""
    if settings.redis_url:
        from aiogram.fsm.storage.redis import RedisStorage

        return RedisStorage.from_url(settings.redis_url)
    return SqlStorage(uow_factory.sessions)


def shared_slots(storage: BaseStorage, bot_id: int) -> SharedSlots | None:
    """With Redis (several processes) the sending limits are kept across all of them."""
    redis = getattr(storage, "redis", None)
    return None if redis is None else SharedSlots(redis, bot_id)


@asynccontextmanager
async def build_app(settings: Settings, policy: Policy, clock: Clock | None = None,
                    limits: SendLimits | None = None) -> AsyncIterator[App]:
    """Wire the desk together; close everything on exit."""
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    # SQLite has one connection for the bot's work: long reads (reports) get a read-only one
    # of their own, which reads a snapshot and holds nobody up. PostgreSQL's pool serves both.
    report_engine = (make_engine(settings.database_url, readonly=True)
                     if settings.database_url.startswith("sqlite") else None)
    try:
        await prepare_database(engine, settings.database_url, policy)
        uow_factory = UnitOfWorkFactory(
            make_sessionmaker(engine), calendars_of(policy),
            report_sessions=None if report_engine is None else make_sessionmaker(report_engine))
        await check_contract_levels(uow_factory, policy)
        i18n = make_i18n(policy.default_language)
        bot = make_bot(settings)
        sender_bot = make_bot(settings)
        storage = make_fsm_storage(settings, uow_factory)
        pacer = Pacer(limits or SendLimits().scaled(settings.telegram_rate_scale),
                      shared=shared_slots(storage, bot.id))
        # One budget for both: the handlers' direct answers and the outbox's sends.
        bot.session.middleware(AnswerPacingMiddleware(pacer))
        for each in (bot, sender_bot):
            each.session.middleware(RetryAfterMiddleware(pacer))
            each.session.middleware(KeepResponseTypes())
            each.session.middleware(TelegramCalls())  # last: it sees every attempt
        delivery = Delivery(sender_bot, uow_factory, policy, settings.staff_chat_id, i18n,
                            pacer, clock)
        sender = OutboxSender(delivery, uow_factory, clock)
        if settings.database_url.startswith("sqlite"):
            # One process per SQLite file: claims left by a crash belong to nobody now.
            await sender.release_all_claims()
        updates = UpdateMiddleware(uow_factory, sender, clock)
        dispatcher = make_dispatcher(settings, policy, clock, i18n, updates, storage)
        scheduler = Scheduler(Desk(policy, clock), uow_factory, clock)
        scheduler.on_fired_hook = sender.wake
        app = App(settings, policy, engine, bot, dispatcher, updates, sender, scheduler,
                  uow_factory, i18n, clock)
        try:
            yield app
        finally:
            await storage.close()
            await bot.session.close()
            await sender_bot.session.close()
    finally:
        await engine.dispose()
        if report_engine is not None:
            await report_engine.dispose()


def make_dispatcher(settings: Settings, policy: Policy, clock: Clock, i18n: DeskI18n,
                    updates: UpdateMiddleware, storage: BaseStorage) -> Dispatcher:
    """The dispatcher with its routers, middlewares and dependencies."""
    chats = staff_chats(settings, policy)
    members = StaffMembers()
    # The isolation makes the updates of one person in one chat run one after another, in
    # order, with the state read after the previous one committed (albums, quick messages).
    dispatcher = Dispatcher(storage=storage, events_isolation=SimpleEventIsolation(),
                            disable_fsm=True, desk=Desk(policy, clock), policy=policy,
                            settings=settings, staff_chats=chats,
                            staff_chat_id=settings.staff_chat_id, staff_members=members)
    dispatcher.update.outer_middleware(updates)
    dispatcher.errors.register(answered_inside)
    # The conversation state after the update's transaction is open, so that it is read in
    # that transaction too (one transaction per update, not two).
    dispatcher.update.outer_middleware(dispatcher.fsm)
    clients = ClientMiddleware(policy, clock)
    language = LanguageMiddleware(i18n, policy, chats)
    client_guard = ClientGuard(policy)
    staff_guard = StaffGuard(chats, clock, members)
    for observer in (dispatcher.message, dispatcher.edited_message, dispatcher.callback_query):
        observer.middleware(clients)
        observer.middleware(language)
        observer.middleware(ErrorMiddleware())
        observer.middleware(client_guard)
        observer.middleware(staff_guard)
    # privacy first (/forget works in the middle of an intake); staff next to last (its
    # catch-all for messages), the fallback last (a button nobody else took)
    dispatcher.include_routers(*(module.make_router() for module in (
        privacy, client, intake, other_channels, sla, reports, whoami, staff, fallback)))
    return dispatcher


async def serve(app: App, stop: asyncio.Event, polling_timeout: int = 10) -> None:
    """Run the desk until `stop`: menus, outbox sender, scheduler, and polling or webhook.

    On stop, updates being handled are finished and the outbox is drained before returning.
    """
    await until_telegram_answers("the command menus", lambda: register_commands(
        app.bot, app.i18n, staff_chats(app.settings, app.policy), app.policy.staff_language),
        stop)
    sender_task = asyncio.create_task(app.sender.run(stop))
    scheduler_task = asyncio.create_task(app.scheduler.run(stop))
    tasks = [sender_task, scheduler_task]
    if app.settings.metrics_port and not app.settings.webhook_url:  # webhook: on its server
        tasks.append(asyncio.create_task(serve_metrics(
            app, app.settings.webhook_listen, app.settings.metrics_port, stop)))
    try:
        if app.settings.webhook_url:
            from bot.webhook import serve_webhook

            await serve_webhook(app, stop)
        else:
            await until_telegram_answers(
                "polling", lambda: app.bot.delete_webhook(drop_pending_updates=False), stop)
            # Our poller, not aiogram's: it confirms a batch only once it has been handled.
            poller = Poller(app.dispatcher, app.bot, app.updates, polling_timeout,
                            app.dispatcher.resolve_used_update_types())
            await poller.run(stop)
            await confirm(app.bot, poller.offset)
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def run(settings: Settings, policy: Policy, clock: Clock | None = None) -> None:
    """`frontdesk run`: serve until SIGTERM/SIGINT (`frontdesk playground` brings its clock)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    await check_contract_levels_in(settings.database_url, policy)
    # Telegram first: a rejected token is one line, before anything else is touched.
    bot = make_bot(settings)
    try:
        me = await wait_for_telegram(bot, stop)
    finally:
        await bot.session.close()
    if me is None:
        return
    async with build_app(settings, policy, clock) as app:
        await warn_about_staff_chats(app.bot, me, settings.staff_chat_id, policy)
        # Everything loaded so far (modules, the Bot API's models, the schema) lives as long
        # as the process: kept out of the garbage collector's full passes, which otherwise
        # walk it all and stop the bot for 100-200 ms every few seconds under load.
        gc.collect()
        gc.freeze()
        # Most of what an update allocates dies young, freed by reference counting; a young
        # generation of 700 objects made the collector run every few updates and walk the
        # survivors each time (measured: 0.2 ms an update, 7 % of the relay's processor time).
        gc.set_threshold(50_000, 20, 20)
        await serve(app, stop)
        log.info("stopped")
