"""Webhook mode: an aiohttp server that checks Telegram's secret token and answers quickly.

Telegram gets its answer when the update's own transaction has committed (milliseconds: what
it changed and what must be sent are recorded); the sending itself happens in the background,
through the outbox. So an update answered with 200 is never lost, even if the process dies the
next moment; one that met an unavailable database is answered 503 and Telegram sends it again.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from typing import Protocol
from urllib.parse import urlsplit

from aiogram import Dispatcher
from aiogram.types import Update
from aiohttp import web
from pydantic import ValidationError

from bot.metrics import Monitored, add_routes
from bot.settings import Settings
from bot.startup import until_telegram_answers
from bot.updates import handle_update

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class App(Monitored, Protocol):
    """What the webhook needs of the running application (`bot.app.App`)."""

    settings: Settings
    dispatcher: Dispatcher


def webhook_app(app: App) -> web.Application:
    """The aiohttp application serving the webhook path of WEBHOOK_URL."""
    settings = app.settings
    path = urlsplit(settings.webhook_url or "").path or "/"
    expected = _webhook_secret(settings).encode()

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not secrets.compare_digest(given, expected):
            return web.Response(status=401, text="Unauthorized")
        try:
            update = Update.model_validate(await request.json(), context={"bot": app.bot})
        except (ValueError, ValidationError):
            return web.Response(status=400, text="Bad Request: not an update")
        if await handle_update(app.dispatcher, app.bot, update):
            return web.json_response({})
        return web.Response(status=503, text="Service Unavailable: try again")

    web_app = web.Application()
    web_app.router.add_post(path, receive)
    add_routes(web_app, app)  # /healthz, /readyz, /metrics
    return web_app


async def serve_webhook(app: App, stop: asyncio.Event) -> None:
    """Register the webhook with Telegram, serve until `stop`, then finish what is running."""
    settings = app.settings
    runner = web.AppRunner(webhook_app(app), access_log=None, shutdown_timeout=30)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
    await site.start()
    await until_telegram_answers("the webhook", lambda: app.bot.set_webhook(
        settings.webhook_url or "", secret_token=_webhook_secret(settings),
        allowed_updates=app.dispatcher.resolve_used_update_types()), stop)
    log.info("webhook listening on %s:%s", settings.webhook_listen, settings.webhook_port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()  # requests being handled are finished first


def _webhook_secret(settings: Settings) -> str:
    """WEBHOOK_SECRET, revealed for the one header that carries it."""
    return settings.webhook_secret.get_secret_value() if settings.webhook_secret else ""
