"""/healthz, /readyz and /metrics: scraped during a burst, the figures move as they should."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.metrics import REGISTRY
from domain.policy import default_policy
from playground.telegram.bot_api import FakeBotAPI
from tests.e2e.burst import GroupWatch, seed_tickets, send_burst
from tests.e2e.harness import MovableClock, RunningDesk, free_port
from tests.fakes.plugin import STAFF_CHAT_ID

CLIENTS = list(range(7001, 7011))
PER_CLIENT = 5
Figures = dict[tuple[str, tuple[tuple[str, str], ...]], float]



async def get(url: str) -> tuple[int, str]:
    """The status and body of a GET."""
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, await answer.text()


async def scrape(base: str) -> Figures:
    """Every sample of /metrics by name and labels."""
    status, body = await get(f"{base}/metrics")
    assert status == 200, body
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(body) for sample in family.samples}


def value(figures: Figures, name: str, **labels: str) -> float:
    """One sample (0 when absent)."""
    return figures.get((name, tuple(sorted(labels.items()))), 0.0)


async def drained(base: str, timeout: float = 10.0) -> Figures:
    """The figures once the outbox reads empty, or at the timeout: the sender marks a send
    a moment after Telegram has it, so a scrape right after the last one arrives may still
    count it as pending."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        figures = await scrape(base)
        if value(figures, "frontdesk_outbox_pending") == 0 or loop.time() > deadline:
            return figures
        await asyncio.sleep(0.05)


@pytest.fixture
async def watched_desk(fake_api: FakeBotAPI, sqlite_url: str,
                       clock: MovableClock) -> AsyncIterator[tuple[RunningDesk, str]]:
    """A polling desk with its metrics on METRICS_PORT, and the base URL of them."""
    port = free_port()
    desk = RunningDesk(fake_api, sqlite_url, default_policy(), clock)
    desk.settings = desk.settings.replaced(metrics_port=port, webhook_listen="127.0.0.1")
    await seed_tickets(fake_api, sqlite_url, desk.policy, clock, CLIENTS)
    await desk.start()
    try:
        yield desk, f"http://127.0.0.1:{port}"
    finally:
        await desk.stop()


async def test_the_metrics_move_with_a_burst_and_the_sla_timers(
        fake_api: FakeBotAPI, watched_desk: tuple[RunningDesk, str],
        clock: MovableClock) -> None:
    desk, base = watched_desk
    await fake_api.wait_for(lambda: fake_api.long_polls_waiting, description="polling")
    assert await get(f"{base}/healthz") == (200, "ok\n")
    assert await get(f"{base}/readyz") == (200, "ready\n")
    before = await scrape(base)
    assert value(before, "frontdesk_open_tickets", status="new") == len(CLIENTS)
    assert value(before, "frontdesk_build_info", version="0.1.0") == 1

    # Telegram holds the staff chat back (429) while the burst comes: the outbox fills up
    fake_api.fail_next("*", 429, retry_after=1, times=1_000_000, chat_id=STAFF_CHAT_ID)
    sent = send_burst(fake_api, CLIENTS, PER_CLIENT)
    await fake_api.wait_for(lambda: not fake_api.world.updates and any(
        call.error and call.error.code == 429 for call in fake_api.calls),
        description="the burst taken and a 429 answered")
    during = await scrape(base)
    burst = len(CLIENTS) * PER_CLIENT
    assert value(during, "frontdesk_updates_total", kind="message", outcome="handled") \
        - value(before, "frontdesk_updates_total", kind="message", outcome="handled") == burst
    assert value(during, "frontdesk_telegram_calls_total", method="getUpdates", outcome="ok") \
        > value(before, "frontdesk_telegram_calls_total", method="getUpdates", outcome="ok")
    assert value(during, "frontdesk_outbox_pending") > 0
    assert value(during, "frontdesk_outbox_oldest_pending_seconds") > 0
    fake_api.clear_faults()
    fake_api.fail_next("*", 500, chat_id=STAFF_CHAT_ID)  # and then fails once: tried again

    watch = GroupWatch(fake_api)
    await fake_api.wait_for(lambda: watch.has_all(sent), timeout=120,
                            description="the burst relayed")
    await fake_api.wait_for(lambda: not fake_api.world.updates)
    after = await drained(base)
    assert value(after, "frontdesk_telegram_calls_total", method="copyMessage", outcome="429") \
        + value(after, "frontdesk_telegram_calls_total", method="sendMessage", outcome="429") \
        - value(before, "frontdesk_telegram_calls_total", method="copyMessage", outcome="429") \
        - value(before, "frontdesk_telegram_calls_total", method="sendMessage", outcome="429") \
        == sum(call.error is not None and call.error.code == 429 for call in fake_api.calls)
    sends = sum(figure - value(before, name, **dict(labels))
                for (name, labels), figure in after.items()
                if name == "frontdesk_telegram_calls_total" and ("outcome", "ok") in labels
                and dict(labels)["method"] in {"copyMessage", "sendMessage"})
    assert sends >= 1
    assert value(after, "frontdesk_outbox_retries_total") \
        - value(before, "frontdesk_outbox_retries_total") == 1
    assert value(after, "frontdesk_outbox_pending") == 0
    assert value(after, "frontdesk_outbox_oldest_pending_seconds") == 0

    # a month later every first response is overdue: warnings and breaches fire
    breaches = REGISTRY.get_sample_value("frontdesk_sla_breaches_total",
                                         {"target": "first_response"}) or 0
    clock.advance(timedelta(days=30))
    await fake_api.wait_for(lambda: (REGISTRY.get_sample_value(
        "frontdesk_sla_breaches_total", {"target": "first_response"}) or 0)
        >= breaches + len(CLIENTS), timeout=60, description="the breaches")
    later = await scrape(base)
    for name in ("frontdesk_sla_warnings_total", "frontdesk_sla_breaches_total"):
        assert value(later, name, target="first_response") \
            - value(before, name, target="first_response") == len(CLIENTS)
    assert ("frontdesk_scheduler_lag_seconds", ()) in later


async def test_the_webhook_server_serves_the_metrics_too(
        fake_api: FakeBotAPI, sqlite_url: str) -> None:
    port = free_port()
    desk = RunningDesk(fake_api, sqlite_url, default_policy(), MovableClock())
    desk.settings = desk.settings.replaced(webhook_url=f"http://127.0.0.1:{port}/tg",
                                           webhook_secret="s3cret",
                                           webhook_listen="127.0.0.1", webhook_port=port)
    await desk.start()
    try:
        await fake_api.wait_for(lambda: fake_api.webhook, description="the webhook to be set")
        base = f"http://127.0.0.1:{port}"
        assert await get(f"{base}/healthz") == (200, "ok\n")
        assert await get(f"{base}/readyz") == (200, "ready\n")
        figures = await scrape(base)
        assert value(figures, "frontdesk_telegram_calls_total", method="setWebhook",
                     outcome="ok") >= 1
    finally:
        await desk.stop()
