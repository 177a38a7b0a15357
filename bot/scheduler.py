"""The one scheduler: finds due timers with an indexed query and acts on each exactly once.

Only the process holding the `scheduler` lease ticks; the lease passes on when its holder stops
renewing it (it died). Marking a timer done and recording what it causes happen in one
transaction, guarded by `done_at IS NULL`, so a timer fires once — not twice after a restart,
and not lost while the bot was down (the first tick catches up on everything overdue).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update

from domain.clock import Clock
from domain.desk import Desk
from storage.leases import take_lease
from storage.models import TicketRow, TimerRow
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

LEASE = "scheduler"


class Scheduler:
    """Ticks every `interval` seconds while it holds the lease."""

    def __init__(self, desk: Desk, uow_factory: UnitOfWorkFactory, clock: Clock,
                 interval: float = 1.0, lease_for: timedelta = timedelta(seconds=15),
                 batch: int = 200) -> None:
        self.desk = desk
        self.uow_factory = uow_factory
        self.clock = clock
        self.interval = interval
        self.lease_for = lease_for
        self.batch = batch
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.fired = 0
        self.on_fired_hook: Callable[[], None] = lambda: None

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set."""
        while not stop.is_set():
            try:
                if await self.holds_lease() and await self.tick():
                    self.on_fired_hook()
            except Exception:
                log.exception("scheduler tick failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)

    async def holds_lease(self) -> bool:
        """Take or renew the scheduler lease."""
        async with self.uow_factory() as uow:
            held = await take_lease(uow.session, LEASE, self.holder, self.clock.now(),
                                    self.lease_for)
            await uow.commit()
        return held

    async def tick(self) -> int:
        """Act on every timer that is due; return how many fired."""
        fired = 0
        while True:
            now = self.clock.now()
            async with self.uow_factory() as uow:
                result = await uow.session.execute(
                    select(TimerRow.id, TimerRow.kind, TicketRow.number)
                    .join(TicketRow, TicketRow.id == TimerRow.ticket_id)
                    .where(TimerRow.done_at.is_(None), TimerRow.due_at <= now)
                    .order_by(TimerRow.due_at).limit(self.batch))
                due = result.all()
            for timer_id, kind, number in due:
                fired += await self._fire(timer_id, kind, number)
            if len(due) < self.batch:
                break
        self.fired += fired
        return fired

    async def _fire(self, timer_id: int, kind: str, number: int) -> int:
        async with self.uow_factory() as uow:
            claimed = await uow.session.execute(
                update(TimerRow).where(TimerRow.id == timer_id, TimerRow.done_at.is_(None))
                .values(done_at=self.clock.now()))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return 0
            ticket = await uow.tickets.get(number)
            if ticket is not None:
                await self.desk.fire(uow, ticket, kind)
            await uow.commit()
        return 1
