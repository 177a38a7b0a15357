"""Webhook mode: an aiohttp server that checks Telegram's secret token and answers at once."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from aiogram.webhook.aiohttp_server import SimpleRequestHandler, setup_application
from aiohttp import web

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)


def webhook_app(app: App) -> web.Application:
    """The aiohttp application serving the webhook path of WEBHOOK_URL."""
    settings = app.settings
    path = urlsplit(settings.webhook_url or "").path or "/"
    web_app = web.Application()
    # handle_in_background: Telegram gets its 200 at once; a wrong secret gets 401.
    SimpleRequestHandler(app.dispatcher, app.bot, handle_in_background=True,
                         secret_token=settings.webhook_secret).register(web_app, path=path)
    setup_application(web_app, app.dispatcher, bot=app.bot)
    return web_app


async def serve_webhook(app: App, stop: asyncio.Event) -> None:
    """Register the webhook with Telegram, serve until `stop`, then finish what is running."""
    settings = app.settings
    runner = web.AppRunner(webhook_app(app))
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_listen, settings.webhook_port)
    await site.start()
    await app.bot.set_webhook(settings.webhook_url or "", secret_token=settings.webhook_secret,
                              allowed_updates=app.dispatcher.resolve_used_update_types())
    log.info("webhook listening on %s:%s", settings.webhook_listen, settings.webhook_port)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
