"""`frontdesk playground`: the stand-in Telegram, the real bot against it, and the web page."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import errno
import logging
import sys
from pathlib import Path

from aiohttp import web

from bot.app import run
from bot.i18n import make_i18n
from playground import desk
from playground.clock import PlaygroundClock
from playground.web import Playground, make_web_app

log = logging.getLogger(__name__)

EXIT_PORT_IN_USE = 2
QUIET_LOGGERS = ("aiogram", "aiohttp.access", "alembic")


async def playground(args: argparse.Namespace) -> int:
    """Run the playground until Ctrl+C; 2 when the port is taken."""
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
    data: Path = args.data
    data.mkdir(parents=True, exist_ok=True)
    if args.fresh:
        desk.forget(data)
    clock = PlaygroundClock()
    api = desk.make_telegram(clock)
    kept = desk.restore(api, clock, data)
    policy = desk.sample_policy()
    place = Playground(api, clock, policy, make_i18n(policy.default_language), data)
    runner = web.AppRunner(make_web_app(place), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    try:
        await web.TCPSite(runner, args.host, args.port).start()
    except OSError as error:
        await runner.cleanup()
        if error.errno == errno.EADDRINUSE:
            print(f"frontdesk: port {args.port} on {args.host} is in use; "
                  f"choose another with --port", file=sys.stderr)
            return EXIT_PORT_IN_USE
        raise
    watcher: asyncio.Task[None] | None = None
    try:
        await api.start()
        settings = desk.desk_settings(data.resolve(), api.base_url)
        await desk.seed_database(settings.database_url, policy, clock)
        watcher = asyncio.create_task(place.watch())
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"Frontdesk playground: http://{host}:{args.port}/  "
              f"({'the desk kept' if kept else 'a new desk'} in {data}; Ctrl+C stops it)",
              flush=True)
        await run(settings, policy, clock)  # `frontdesk run`'s own code, until Ctrl+C
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
        place.save()
        for socket in list(place.sockets):
            await socket.close()
        await runner.cleanup()
        await api.stop()
    print("Frontdesk playground stopped; the desk is kept in", data, flush=True)
    return 0
