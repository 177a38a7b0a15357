"""Webhook mode: Telegram POSTs the updates with the secret token; a wrong secret is refused,
and an update POSTed twice is handled once."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from domain.policy import default_policy
from playground.telegram.bot_api import FakeBotAPI
from storage.models import ProcessedUpdateRow
from tests.e2e.conftest import seed_contracts
from tests.e2e.flows import open_ticket
from tests.e2e.harness import MovableClock, RunningDesk
from tests.fakes.plugin import STAFF_CHAT_ID

SECRET = "s3cret-token_for-the-tests"
CLIENT = 5001


def free_port() -> int:
    """A TCP port nobody listens on now (on the loopback)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def hooked_desk(fake_api: FakeBotAPI, sqlite_url: str) -> AsyncIterator[RunningDesk]:
    """A desk taking its updates by webhook from the fake Telegram."""
    await seed_contracts(sqlite_url)
    port = free_port()
    desk = RunningDesk(fake_api, sqlite_url, default_policy(), MovableClock())
    desk.settings = desk.settings.replaced(webhook_url=f"http://127.0.0.1:{port}/tg",
                                           webhook_secret=SECRET, webhook_listen="127.0.0.1",
                                           webhook_port=port)
    await desk.start()
    await fake_api.wait_for(lambda: fake_api.webhook, description="the webhook to be set")
    try:
        yield desk
    finally:
        await desk.stop()


async def post(desk: RunningDesk, update: dict[str, Any], secret: str | None) -> int:
    """POST an update to the desk's webhook as Telegram would; return the HTTP status."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    async with aiohttp.ClientSession() as session, session.post(
            desk.settings.webhook_url or "", data=json.dumps(update), headers=headers) as answer:
        return answer.status


async def processed(desk: RunningDesk) -> int:
    """How many updates the desk has recorded as processed."""
    assert desk.app is not None
    async with desk.app.uow_factory() as uow:
        count = await uow.session.execute(select(func.count()).select_from(ProcessedUpdateRow))
        return int(count.scalar_one())


async def test_the_webhook_is_registered_with_the_secret_and_an_intake_works_through_it(
        fake_api: FakeBotAPI, hooked_desk: RunningDesk) -> None:
    assert fake_api.webhook is not None
    assert fake_api.webhook.url == hooked_desk.settings.webhook_url
    assert fake_api.webhook.secret_token == SECRET

    number, thread = await open_ticket(fake_api, CLIENT)

    card = await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains=f"#{number}",
                                               thread_id=thread)
    assert "Client 5001" in card["text"]
    await fake_api.wait_for_bot_message(STAFF_CHAT_ID, contains="error 500", thread_id=thread)
    assert fake_api.webhook.deliveries > 5 and not fake_api.webhook.failures


async def test_an_update_with_a_wrong_secret_is_refused_and_not_processed(
        fake_api: FakeBotAPI, hooked_desk: RunningDesk) -> None:
    fake_api.add_user(CLIENT, "Carol", language_code="en")
    message = fake_api.user_sends(CLIENT, "/start")
    await fake_api.wait_for_bot_message(CLIENT, contains="Hello")
    await fake_api.wait_updates_taken()  # answered 200: its transaction has committed
    before = await processed(hooked_desk)
    forged = {"update_id": 10_000, "message": {**message, "message_id": 999, "text": "/help"}}

    assert await post(hooked_desk, forged, secret="not-the-secret") == 401
    assert await post(hooked_desk, forged, secret=None) == 401

    assert await processed(hooked_desk) == before
    assert len(fake_api.bot_messages(CLIENT)) == 1  # the greeting only, no help


async def test_an_update_posted_twice_is_processed_once(
        fake_api: FakeBotAPI, hooked_desk: RunningDesk) -> None:
    fake_api.add_user(CLIENT, "Carol", language_code="en")
    message = fake_api.user_sends(CLIENT, "/help")
    update = {"update_id": fake_api.world.last_update_id, "message": message}
    await fake_api.wait_for_bot_message(CLIENT, contains="/new")
    await fake_api.wait_updates_taken()  # answered 200: its transaction has committed
    before = await processed(hooked_desk)

    assert await post(hooked_desk, update, secret=SECRET) == 200  # Telegram sends it again

    assert await processed(hooked_desk) == before
    fake_api.user_sends(CLIENT, "/start")  # a later update still gets its answer ...
    await fake_api.wait_for_bot_message(CLIENT, contains="Hello")
    helps = [text for text in (m.get("text", "") for m in fake_api.bot_messages(CLIENT))
             if "/new" in text and "Hello" not in text]
    assert len(helps) == 1  # ... and the repeated one got none
