"""The outbox sender: delivers recorded messages in order per lane, within Telegram's limits."""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from sqlalchemy import select, update

from bot.delivery import Delivery, PermanentFailure
from domain.clock import Clock
from storage.models import OutboxRow
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

ALBUM_GRACE = timedelta(seconds=1)  # wait for the rest of an album before copying it
MAX_BACKOFF = 300.0


@dataclass
class _Item:
    row_ids: list[int]
    attempts: int
    payload: dict[str, Any]


class OutboxSender:
    """Takes the head of every lane, delivers it, records the outcome; never drops an item."""

    def __init__(self, delivery: Delivery, uow_factory: UnitOfWorkFactory, clock: Clock,
                 batch: int = 500) -> None:
        self.delivery = delivery
        self.uow_factory = uow_factory
        self.clock = clock
        self.batch = batch
        self._wake = asyncio.Event()
        self.idle = asyncio.Event()

    def wake(self) -> None:
        """Something was recorded: look at the outbox now."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set and nothing due is left."""
        while True:
            items, next_due = await self._heads()
            if items:
                self.idle.clear()
                await asyncio.gather(*(self._deliver(item) for item in items))
                continue
            self.idle.set()
            if stop.is_set():
                return
            timeout = 0.5 if next_due is None else max(
                0.01, min(0.5, (next_due - self.clock.now()).total_seconds()))
            self._wake.clear()
            waiters = {asyncio.ensure_future(self._wake.wait()),
                       asyncio.ensure_future(stop.wait())}
            _, pending = await asyncio.wait(waiters, timeout=timeout,
                                            return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()

    async def drain(self, timeout: float = 30.0) -> None:
        """Deliver everything due now (used at shutdown and in tests)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            items, _ = await self._heads()
            if not items:
                return
            await asyncio.gather(*(self._deliver(item) for item in items))

    async def _heads(self) -> tuple[list[_Item], datetime | None]:
        """The first pending item of every lane that is due (albums merged)."""
        now = self.clock.now()
        async with self.uow_factory() as uow:
            result = await uow.session.execute(
                select(OutboxRow).where(OutboxRow.state == "pending")
                .order_by(OutboxRow.id).limit(self.batch))
            rows = list(result.scalars())
        lanes: dict[str, list[OutboxRow]] = {}
        for row in rows:
            lanes.setdefault(row.lane, []).append(row)
        items: list[_Item] = []
        next_due: datetime | None = None
        for lane_rows in lanes.values():
            head = lane_rows[0]
            payload = json.loads(head.payload)
            album = (payload.get("data", {}).get("source") or {}).get("album")
            due = head.not_before + (ALBUM_GRACE if album and head.attempts == 0 else
                                     timedelta(0))
            if due > now:
                next_due = due if next_due is None else min(next_due, due)
                continue
            item = _Item([head.id], head.attempts, payload)
            if album:
                self._merge_album(item, lane_rows[1:], album)
            items.append(item)
        return items, next_due

    @staticmethod
    def _merge_album(item: _Item, following: list[OutboxRow], album: str) -> None:
        source = item.payload["data"]["source"]
        for row in following:
            payload = json.loads(row.payload)
            other = (payload.get("data", {}).get("source") or {})
            if payload.get("kind") != item.payload.get("kind") or other.get("album") != album:
                break
            source["ids"] = [*source["ids"], *other["ids"]]
            item.row_ids.append(row.id)

    async def _deliver(self, item: _Item) -> None:
        try:
            await self.delivery.deliver(item.payload)
        except TelegramRetryAfter as error:
            await self._retry_later(item, float(error.retry_after), str(error))
        except (TelegramNetworkError, TelegramServerError) as error:
            await self._retry_later(item, min(MAX_BACKOFF, 2.0 ** item.attempts), str(error))
        except (PermanentFailure, TelegramBadRequest, TelegramForbiddenError) as error:
            await self._failed(item, error)
        except Exception as error:  # a bug must not stop the whole outbox
            log.exception("outbox item %s failed unexpectedly", item.row_ids)
            await self._retry_later(item, min(MAX_BACKOFF, 2.0 ** item.attempts), repr(error))
        else:
            await self._mark(item, "sent", None)

    async def _retry_later(self, item: _Item, seconds: float, error: str) -> None:
        log.warning("outbox item %s: retry in %.1fs (%s)", item.row_ids, seconds, error)
        async with self.uow_factory() as uow:
            await uow.session.execute(
                update(OutboxRow).where(OutboxRow.id.in_(item.row_ids))
                .values(attempts=OutboxRow.attempts + 1, error=error[:500],
                        not_before=self.clock.now() + timedelta(seconds=seconds)))
            await uow.commit()

    async def _failed(self, item: _Item, error: Exception) -> None:
        log.warning("outbox item %s failed: %s", item.row_ids, error)
        await self._mark(item, "failed", str(error)[:500])
        await self.delivery.report_failure(item.payload, error)

    async def _mark(self, item: _Item, state: str, error: str | None) -> None:
        async with self.uow_factory() as uow:
            await uow.session.execute(
                update(OutboxRow).where(OutboxRow.id.in_(item.row_ids))
                .values(state=state, sent_at=self.clock.now(), error=error))
            await uow.commit()
