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
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot import logs, metrics
from domain.clock import Clock
from domain.desk import Desk
from storage.repositories import DueTimer
from storage.uow import UnitOfWorkFactory

log = logging.getLogger(__name__)

LEASE = "scheduler"
PRUNE_EVERY = timedelta(hours=1)
UPDATE_MEMORY = timedelta(days=2)


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
        self._pruned_at: datetime | None = None
        self.on_fired_hook: Callable[[], None] = lambda: None

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set; then hand the lease back."""
        self._pruned_at = self.clock.now()  # the first pruning an hour on: not at start-up
        while not stop.is_set():
            try:
                if await self.holds_lease():
                    if await self.tick():
                        self.on_fired_hook()
                    await self.prune()
            except Exception:
                log.exception("scheduler tick failed; trying again")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.interval)
        try:
            async with self.uow_factory() as uow:
                await uow.leases.release(LEASE, self.holder, self.clock.now())
                await uow.commit()
        except Exception:  # the lease then expires on its own
            log.exception("could not release the scheduler lease")

    async def prune(self) -> None:
        """Now and then, forget update ids too old for Telegram to deliver again (it keeps
        undelivered updates for a day), so the de-duplication table does not grow forever."""
        now = self.clock.now()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY:
            return
        async with self.uow_factory() as uow:
            await uow.updates.forget_before(now - UPDATE_MEMORY)
            await uow.commit()
        self._pruned_at = now

    async def holds_lease(self) -> bool:
        """Take or renew the scheduler lease."""
        async with self.uow_factory() as uow:
            held = await uow.leases.take(LEASE, self.holder, self.clock.now(), self.lease_for)
            await uow.commit()
        return held

    async def tick(self) -> int:
        """Act on every timer that is due; return how many fired.

        A batch fires in one transaction (one commit, not one per timer). If that fails, its
        timers fire one transaction each; one that fails alone is logged and stays due for
        the next tick, and the ones after it still fire: one bad ticket must not hold back
        every later alert.
        """
        fired = 0
        failed: list[int] = []
        while True:
            now = self.clock.now()
            async with self.uow_factory() as uow:
                due = await uow.timers.due(now, self.batch, failed)
            if due:
                try:
                    fired += await self._fire(due)
                except Exception:
                    log.warning("firing %d timers together failed; one by one now", len(due),
                                exc_info=True)
                    for timer in due:
                        try:
                            fired += await self._fire([timer])
                        except Exception:
                            log.exception("timer %s (%s of #%s) failed; it stays due",
                                          timer.id, timer.kind, timer.ticket_number)
                            failed.append(timer.id)
            if len(due) < self.batch:
                break
        logs.TICKET.set(None)  # the timers' lines named theirs
        self.fired += fired
        return fired

    async def _fire(self, timers: Sequence[DueTimer]) -> int:
        """Claim and act on these timers in one transaction; return how many fired."""
        async with self.uow_factory() as uow:
            claimed = await uow.timers.mark_fired([timer.id for timer in timers],
                                                  self.clock.now())
            for timer in timers:
                if timer.id not in claimed:
                    continue
                logs.TICKET.set(timer.ticket_number)
                ticket = await uow.tickets.get(timer.ticket_number)
                if ticket is not None:
                    await self.desk.fire(uow, ticket, timer.kind)
            await uow.commit()
        metrics.timers_fired(timer.kind for timer in timers if timer.id in claimed)
        return len(claimed)
