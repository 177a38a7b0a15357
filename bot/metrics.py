"""Health and Prometheus metrics: /healthz, /readyz and /metrics.

The counters are counted where things happen (one call each: updates, Telegram's answers,
outbox retries, SLA timers); the gauges are read from the database when scraped, so that they
hold whatever process did the work. Served on METRICS_PORT (polling) or beside the webhook.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Protocol

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType
from aiogram.types import Update
from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Info,
    generate_latest,
)

from domain import timers
from domain.clock import Clock
from storage.monitoring import database_answers, desk_figures
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

REGISTRY = CollectorRegistry()
UPDATES = Counter("frontdesk_updates", "Updates from Telegram, by kind and outcome "
                  "(handled; failed: a bug, logged; deferred: the database was away)",
                  ["kind", "outcome"], registry=REGISTRY)
TELEGRAM_CALLS = Counter("frontdesk_telegram_calls", "Bot API calls, by method and outcome "
                         "(ok, 429, bad_request, forbidden, not_found, unauthorized, "
                         "server_error, network_error)", ["method", "outcome"],
                         registry=REGISTRY)
OUTBOX_RETRIES = Counter("frontdesk_outbox_retries", "Outbox items put off to be tried again",
                         registry=REGISTRY)
SLA_WARNINGS = Counter("frontdesk_sla_warnings", "SLA warnings fired, by target",
                       ["target"], registry=REGISTRY)
SLA_BREACHES = Counter("frontdesk_sla_breaches", "SLA breaches fired, by target", ["target"],
                       registry=REGISTRY)
OUTBOX_PENDING = Gauge("frontdesk_outbox_pending", "Outbox items not sent yet",
                       registry=REGISTRY)
OUTBOX_OLDEST = Gauge("frontdesk_outbox_oldest_pending_seconds",
                      "Age of the oldest outbox item not sent yet (0 when none)",
                      registry=REGISTRY)
OPEN_TICKETS = Gauge("frontdesk_open_tickets", "Open tickets, by status", ["status"],
                     registry=REGISTRY)
SCHEDULER_LAG = Gauge("frontdesk_scheduler_lag_seconds",
                      "How overdue the most overdue timer not yet fired is (0 when none)",
                      registry=REGISTRY)
TELEGRAM_AGE = Gauge("frontdesk_telegram_last_answer_seconds",
                     "Seconds since Telegram last answered a call", registry=REGISTRY)
BUILD = Info("frontdesk_build", "The running version", registry=REGISTRY)

_TIMER_TARGETS = {
    timers.FIRST_RESPONSE_WARNING: (SLA_WARNINGS, "first_response"),
    timers.RESOLUTION_WARNING: (SLA_WARNINGS, "resolution"),
    timers.FIRST_RESPONSE_BREACH: (SLA_BREACHES, "first_response"),
    timers.RESOLUTION_BREACH: (SLA_BREACHES, "resolution"),
}
_OUTCOMES: tuple[tuple[type[TelegramAPIError], str], ...] = (
    (TelegramRetryAfter, "429"), (TelegramUnauthorizedError, "unauthorized"),
    (TelegramForbiddenError, "forbidden"), (TelegramNotFound, "not_found"),
    (TelegramBadRequest, "bad_request"), (TelegramServerError, "server_error"),
    (TelegramNetworkError, "network_error"))
READY_WITHIN = 60.0  # seconds: Telegram answered more recently than this, or is asked again
CHECK_TIMEOUT = 5.0

try:
    BUILD.info({"version": version("frontdesk")})
except PackageNotFoundError:  # run from a source tree that was not installed
    BUILD.info({"version": "unknown"})

_last_answer = 0.0  # time.monotonic() of Telegram's last answer, whatever the bot


def update_done(update: Update, outcome: str) -> None:
    """Count an update by kind ("handled", "failed", "deferred")."""
    UPDATES.labels(update.event_type, outcome).inc()


def timers_fired(kinds: Iterable[str]) -> None:
    """Count the SLA warnings and breaches among the timers that fired."""
    for kind in kinds:
        if kind in _TIMER_TARGETS:
            counter, target = _TIMER_TARGETS[kind]
            counter.labels(target).inc()


def telegram_answered_within(seconds: float) -> bool:
    """Whether Telegram answered a call in the last `seconds`."""
    return _last_answer > 0 and time.monotonic() - _last_answer < seconds


class TelegramCalls(BaseRequestMiddleware):
    """Counts every Bot API call by method and outcome; remembers when Telegram answered.

    Registered last on a session, so it sees each attempt (a 429 and its retry are two)."""

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Any:
        """Make the call and count its outcome."""
        global _last_answer  # noqa: PLW0603 (one process, one Telegram)
        name = method.__api_method__
        try:
            result = await make_request(bot, method)
        except TelegramAPIError as error:
            outcome = next((label for kind, label in _OUTCOMES if isinstance(error, kind)),
                           "other")
            TELEGRAM_CALLS.labels(name, outcome).inc()
            if not isinstance(error, TelegramNetworkError | TelegramServerError):
                _last_answer = time.monotonic()  # an error is an answer too
            raise
        TELEGRAM_CALLS.labels(name, "ok").inc()
        _last_answer = time.monotonic()
        return result


class Monitored(Protocol):
    """What the endpoints need of the running application (`bot.app.App`)."""

    bot: Bot
    uow_factory: UnitOfWorkFactory
    clock: Clock


def add_routes(web_app: web.Application, app: Monitored) -> None:
    """/healthz, /readyz and /metrics on an aiohttp application."""

    async def healthz(request: web.Request) -> web.Response:
        return web.Response(text="ok\n")  # answering at all means the event loop runs

    async def readyz(request: web.Request) -> web.Response:
        problems = []
        try:
            async with asyncio.timeout(CHECK_TIMEOUT), app.uow_factory() as uow:
                await database_answers(uow.session)
        except Exception as error:  # noqa: BLE001 (any failure means not ready)
            problems.append(f"database: {type(error).__name__}")
        if not telegram_answered_within(READY_WITHIN):
            try:  # idle (a webhook with no traffic): ask once
                await app.bot.get_me(request_timeout=int(CHECK_TIMEOUT))
            except Exception as error:  # noqa: BLE001
                problems.append(f"telegram: {type(error).__name__}")
        if problems:
            return web.Response(status=503, text="not ready: " + ", ".join(problems) + "\n")
        return web.Response(text="ready\n")

    async def metrics(request: web.Request) -> web.Response:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT), app.uow_factory() as uow:
                figures = await desk_figures(uow.session, app.clock.now())
        except Exception as error:  # noqa: BLE001 (the counters are still worth having)
            log.warning("metrics: the database figures were not read (%s)", error)
        else:
            OUTBOX_PENDING.set(figures.outbox_pending)
            OUTBOX_OLDEST.set(figures.outbox_oldest_pending.total_seconds())
            for status, count in figures.open_tickets.items():
                OPEN_TICKETS.labels(status).set(count)
            SCHEDULER_LAG.set(figures.scheduler_lag.total_seconds())
        if _last_answer:
            TELEGRAM_AGE.set(time.monotonic() - _last_answer)
        return web.Response(body=generate_latest(REGISTRY),
                            headers={"Content-Type": CONTENT_TYPE_LATEST})

    web_app.router.add_get("/healthz", healthz)
    web_app.router.add_get("/readyz", readyz)
    web_app.router.add_get("/metrics", metrics)


async def serve_metrics(app: Monitored, host: str, port: int, stop: asyncio.Event) -> None:
    """The endpoints on a port of their own until `stop` (polling mode)."""
    web_app = web.Application()
    add_routes(web_app, app)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    log.info("metrics on %s:%s (/healthz, /readyz, /metrics)", host, port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
