"""The outbox sender: delivers recorded messages in order per lane, within Telegram's limits.

Every lane (a client's chat, a ticket's topic, the General topic) has at most one worker at a
time, so order is kept within it while lanes go in parallel. A worker *claims* the rows it is
about to send (`claimed_by`, `claimed_until`) and renews the claim while the item is on its way
(waiting for the chat's turn may take minutes), so several bot processes on one database never
send the same row; a claim left by a dead process expires and another takes the lane over.

Claims and marks of all lanes go into shared transactions (`_Ledger`): what the workers ask
while one transaction runs goes into the next, so a burst costs a few transactions, not a few
per message. A send Telegram accepted is marked as sent even if the database is away for a
while (the mark is tried again until it lands): an unmarked row would be sent a second time.
What cannot be helped is a process killed between Telegram's answer and the mark; that item
(at most one per chat being sent at that moment) goes out again after the restart.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)

from bot import logs, metrics
from bot.delivery import Delivery, Link, PermanentFailure, links_collected, record_links
from domain.clock import Clock
from domain.outgoing import Kind, MessageShape, Outgoing
from storage.transient import is_transient, retry_transient
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)

ALBUM_GRACE = timedelta(seconds=1)  # wait for the rest of an album before copying it
LANE_CHAT_MEMORY = timedelta(minutes=1)  # a ticket's chat changes only with its queue
AGE_WEIGHT = 3.0  # turns a lane waits to gain the priority of one more waiting message
_NOTHING = object()  # an empty lane
MAX_BACKOFF = 300.0
COALESCE_LIMIT = 3500  # characters of merged client texts in one staff message
HEAD_ROWS = 50  # items of a lane read at a claim (an album's parts, texts to merge)


@dataclass
class _Ask:
    """Work one worker wants done in the next shared transaction."""

    step: Any  # async (SqlUnitOfWork) -> result
    future: asyncio.Future[Any]
    deadline: float  # loop time after which a database that is away fails it


class _Ledger:
    """The outbox's writes from every lane, together: one transaction for all that was asked
    while the previous one ran (a group commit).

    Under a burst every lane's worker claims its next item and records the last one it sent;
    a transaction for each would cost more than the sending. A step that fails for good fails
    alone (the others are tried again without it); while the database is away the steps wait
    until their own patience runs out.
    """

    def __init__(self, uow_factory: UnitOfWorkFactory, turn: asyncio.Lock | None = None) -> None:
        self.uow_factory = uow_factory
        self.turn = turn or asyncio.Lock()  # shared with whatever else writes in turn
        self._asked: list[_Ask] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, step: Any, patience: float) -> Any:
        """Run `step(uow)` in the next shared transaction; its result, or its error."""
        loop = asyncio.get_running_loop()
        ask = _Ask(step, loop.create_future(), loop.time() + patience)
        self._asked.append(ask)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all())
        return await ask.future

    async def _write_all(self) -> None:
        pause = 0.05
        while self._asked:
            batch, self._asked = self._asked, []
            try:
                results = await self._together(batch)
            except Exception as error:
                if not is_transient(error):
                    if len(batch) > 1:
                        await self._alone(batch)  # find the one at fault
                    elif not batch[0].future.done():
                        batch[0].future.set_exception(error)
                    continue
                self._fail_or_keep(batch, error)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            pause = 0.05
            for ask, result in zip(batch, results, strict=True):
                if not ask.future.done():
                    ask.future.set_result(result)

    async def _alone(self, batch: list[_Ask]) -> None:
        """Run each ask of a batch that failed for good in its own transaction, so that only
        the one at fault fails."""
        for ask in batch:
            try:
                (result,) = await self._together([ask])
            except Exception as error:
                if is_transient(error):  # tried again with the others, within its patience
                    self._asked.append(ask)
                elif not ask.future.done():
                    ask.future.set_exception(error)
            else:
                if not ask.future.done():
                    ask.future.set_result(result)

    def _fail_or_keep(self, batch: list[_Ask], error: Exception) -> None:
        now = asyncio.get_running_loop().time()
        log.warning("outbox: the database is unavailable (%s); trying again",
                    type(error).__name__)
        for ask in batch:
            if ask.deadline > now:
                self._asked.append(ask)
            elif not ask.future.done():
                ask.future.set_exception(error)

    async def _together(self, batch: list[_Ask]) -> list[Any]:
        async with self.turn, self.uow_factory() as uow:
            results = [await ask.step(uow) for ask in batch]
            await uow.commit()
        return results


@dataclass
class _Item:
    lane: str
    row_ids: list[int]
    attempts: int
    outgoing: Outgoing  # an album's parts merged into its message
    together: list[Outgoing] = field(default_factory=list)  # client texts sent as one
    # Whether the lane had more waiting when it was claimed. What is recorded later wakes
    # the sender (`OutboxSender.wake`), which looks at the lane again once its worker ends.
    more: bool = False


class OutboxSender:
    """Spawns one worker per lane with due items; never drops an item."""

    def __init__(self, delivery: Delivery, uow_factory: UnitOfWorkFactory, clock: Clock,
                 batch: int = 1000, claim_for: timedelta = timedelta(seconds=20),
                 max_workers: int = 200, mark_patience: float = 600.0) -> None:
        self.delivery = delivery
        self.uow_factory = uow_factory
        self.clock = clock
        self.batch = batch
        self.claim_for = claim_for
        self.mark_patience = mark_patience  # seconds to keep trying to record an outcome
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._slots = asyncio.Semaphore(max_workers)
        # This process's turn at writing: the outbox's shared transactions and the batches
        # of updates (bot.middlewares) take it in turn. A batch's deliveries then join their
        # lanes' next claims (a burst goes out as few messages per ticket, as the staff group
        # wants), and the outbox's asks pile up into one transaction meanwhile.
        self.turn = asyncio.Lock()
        self._ledger = _Ledger(uow_factory, self.turn)
        self._wake = asyncio.Event()
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._woken = 0  # wake() calls so far
        self._waiting: dict[str, tuple[int, datetime]] = {}  # lane: items, since when
        self._lane_chats: dict[str, tuple[int | None, datetime]] = {}
        self.sent = 0

    def wake(self) -> None:
        """Something was recorded: look at the outbox now."""
        self._woken += 1
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set; then finish what is due and return."""
        while True:
            self._wake.clear()
            try:
                next_due = await self._start_workers(stop)
            except Exception:  # the database is away: the outbox waits for it, never stops
                log.warning("outbox: cannot read the due items; trying again", exc_info=True)
                next_due = self.clock.now() + timedelta(seconds=1)
                if stop.is_set():
                    await self._finish_workers()
                    return
            if stop.is_set():
                if self._workers:
                    await self._finish_workers()
                    continue  # workers may have left due items behind a retry
                return
            timeout = 1.0 if next_due is None else max(
                0.01, min(1.0, (next_due - self.clock.now()).total_seconds()))
            waiters = {asyncio.ensure_future(self._wake.wait()),
                       asyncio.ensure_future(stop.wait())}
            _, pending = await asyncio.wait(waiters, timeout=timeout,
                                            return_when=asyncio.FIRST_COMPLETED)
            for waiter in pending:
                waiter.cancel()

    async def _finish_workers(self) -> None:
        await asyncio.gather(*self._workers.values(), return_exceptions=True)

    async def release_all_claims(self) -> None:
        """Forget every claim (one process per database, e.g. SQLite, after a crash)."""
        async with self.uow_factory() as uow:
            await uow.outbox.release_all_claims()
            await uow.commit()

    async def _start_workers(self, stop: asyncio.Event) -> datetime | None:
        """Start a worker for every lane whose head is due; return the next due time."""
        now = self.clock.now()
        async with self.uow_factory() as uow:
            lanes = await uow.outbox.lanes(self.batch)
        self._waiting = {lane.name: (lane.waiting, lane.not_before) for lane in lanes}
        next_due: datetime | None = None
        for lane in lanes:
            due = max(lane.not_before, lane.claimed_until or lane.not_before)
            if due > now:
                next_due = due if next_due is None else min(next_due, due)
            elif lane.name not in self._workers:
                task = asyncio.create_task(self._work(lane.name, stop))
                self._workers[lane.name] = task
                task.add_done_callback(lambda _t, name=lane.name: self._workers.pop(name, None))
        return next_due

    async def _work(self, lane: str, stop: asyncio.Event) -> None:
        looked = [self._woken]  # the wakes before the lane was last read
        try:
            async with self._slots:
                await self._work_through(lane, stop, looked)
        finally:
            if self._woken != looked[0]:
                # Something was recorded after this worker last read its lane, and the loop
                # may have left it to this worker: let the loop look again now rather than
                # in a second. (Not after every item: a worker that waited long for its
                # turn would make the loop read the whole outbox again for nothing.)
                self._wake.set()

    async def _work_through(self, lane: str, stop: asyncio.Event, looked: list[int]) -> None:
        more = True
        while more:
            try:
                chat_id = await self._chat_of(lane)
            except Exception:  # the database is away; the lane is looked at again later
                log.warning("outbox lane %s: cannot read it; later", lane, exc_info=True)
                return
            if chat_id is _NOTHING:
                return
            async with AsyncExitStack() as turn:
                await turn.enter_async_context(self._turn(lane, chat_id))
                looked[0] = self._woken  # what was recorded before is seen by the claim
                try:
                    item = await self._claim(lane)
                except Exception:
                    log.warning("outbox lane %s: cannot claim; later", lane, exc_info=True)
                    return
                if item is None:
                    return
                more = await self._deliver(item, sent=turn.aclose)
            if stop.is_set() and item.attempts > 0:
                return

    async def _chat_of(self, lane: str) -> int | None | object:
        """The chat the lane's items go to (remembered a while); _NOTHING for an empty lane."""
        known = self._lane_chats.get(lane)
        if known is not None and known[1] > self.clock.now():
            return known[0]
        async with self.uow_factory() as uow:
            payload = await uow.outbox.head_payload(lane)
            if payload is None:
                return _NOTHING
            chat_id = await self.delivery.chat_of(uow, Outgoing.from_json(payload))
        if len(self._lane_chats) > 10_000:
            self._lane_chats.clear()
        self._lane_chats[lane] = (chat_id, self.clock.now() + LANE_CHAT_MEMORY)
        return chat_id

    def _turn(self, lane: str, chat_id: int | None) -> AbstractAsyncContextManager[None]:
        """The lane's turn at its chat, before its head is claimed: what it claims then is
        everything that came meanwhile. A lane with more waiting, or waiting longer, goes
        first (each turn waited is worth one more message)."""
        if not isinstance(chat_id, int):
            return nullcontext()
        pacer = self.delivery.pacer
        interval = pacer.limits.interval(chat_id) or 1.0

        def priority() -> float:
            waiting, since = self._waiting.get(lane, (1, self.clock.now()))
            age = (self.clock.now() - since).total_seconds()
            return waiting + age / (AGE_WEIGHT * interval)

        return pacer.turn(chat_id, priority)

    async def _claim(self, lane: str) -> _Item | None:
        """Claim the lane's head (with an album's rest, or coalesced texts) if it is due."""

        async def claim(uow: SqlUnitOfWork) -> _Item | None:
            now = self.clock.now()
            rows = await uow.outbox.head(lane, HEAD_ROWS)
            if not rows:
                return None
            head = rows[0]
            outgoing = Outgoing.from_json(head.payload)
            album = outgoing.message.album if outgoing.message else None
            due = head.not_before + (ALBUM_GRACE if album and head.attempts == 0
                                     else timedelta(0))
            if due > now or (head.claimed_until and head.claimed_until > now
                             and head.claimed_by != self.holder):
                return None
            item = _Item(lane, [head.id], head.attempts, outgoing)
            if album:
                self._merge_album(item, rows[1:], album)
            elif self._should_coalesce(outgoing):
                self._coalesce(item, rows[1:])
            item.more = len(rows) > len(item.row_ids) or len(rows) == HEAD_ROWS
            if not await uow.outbox.claim(item.row_ids, self.holder, now, now + self.claim_for):
                return None  # another process got there first
            await self.delivery.look_ahead(uow, item.outgoing)
            return item

        result: _Item | None = await self._ledger.write(claim, self.claim_for.total_seconds())
        return result

    @staticmethod
    def _merge_album(item: _Item, following: Sequence[Any], album: str) -> None:
        """The album's other parts, waiting behind its first, go out with it."""
        for row in following:
            part = Outgoing.from_json(row.payload)
            message = item.outgoing.message
            if (message is None or part.kind is not item.outgoing.kind or part.message is None
                    or part.message.album != album):
                break
            item.outgoing = replace(item.outgoing,
                                    message=message.with_ids(message.ids + part.message.ids))
            item.row_ids.append(row.id)

    def _should_coalesce(self, outgoing: Outgoing) -> bool:
        """Merge a ticket's waiting client texts only when the staff group is backed up."""
        return (_is_client_text(outgoing) and self.delivery.staff_backlog() > 0)

    @staticmethod
    def _coalesce(item: _Item, following: Sequence[Any]) -> None:
        """Several pending client texts of one ticket become one message (order kept)."""
        together = [item.outgoing]
        size = len(item.outgoing.message.html if item.outgoing.message else "")
        for row in following:
            other = Outgoing.from_json(row.payload)
            if not _is_client_text(other) or row.attempts or other.message is None:
                break
            size += len(other.message.html) + 40
            if size > COALESCE_LIMIT:
                break
            together.append(other)
            item.row_ids.append(row.id)
        if len(together) > 1:
            item.together = together

    async def _deliver(self, item: _Item,
                       sent: Callable[[], Awaitable[None]] | None = None) -> bool:
        """Deliver, and record how it went; whether the lane may have more to send. Once
        Telegram has the message, `sent` is called (the lane gives up its turn at the chat:
        the next lane's claim and this one's mark then share a transaction)."""
        logs.TICKET.set(item.outgoing.ticket_number)  # this lane's task: its lines name it
        renewing = asyncio.create_task(self._keep_claim(item))
        try:
            with links_collected() as links:
                if item.together:
                    await self.delivery.deliver_together(item.together)
                else:
                    await self.delivery.deliver(item.outgoing)
        except TelegramRetryAfter as error:
            self.delivery.hold(float(error.retry_after))
            await self._retry_later(item, float(error.retry_after), str(error), count=False)
        except (TelegramNetworkError, TelegramServerError) as error:
            await self._retry_later(item, min(MAX_BACKOFF, 0.5 * 2.0 ** item.attempts),
                                    str(error))
        except (PermanentFailure, TelegramBadRequest, TelegramForbiddenError) as error:
            await self._failed(item, error)
        except Exception as error:  # a bug must not stop the whole outbox
            log.exception("outbox item %s failed unexpectedly", item.row_ids)
            await self._retry_later(item, min(MAX_BACKOFF, 2.0 ** item.attempts), repr(error))
        else:
            self.sent += len(item.row_ids)
            if sent is not None:
                await sent()
            await self._mark(item, "sent", None, links)
            return item.more
        finally:
            renewing.cancel()
        return True

    async def _keep_claim(self, item: _Item) -> None:
        """Renew the claim while the item waits for its turn and goes out."""
        while True:
            await asyncio.sleep(self.claim_for.total_seconds() / 3)
            try:
                async with self.uow_factory() as uow:
                    await uow.outbox.renew_claim(item.row_ids, self.holder,
                                                 self.clock.now() + self.claim_for)
                    await uow.commit()
            except Exception:  # the database is away: the claim may lapse, nothing worse
                log.warning("outbox item %s: cannot renew the claim", item.row_ids,
                            exc_info=True)

    async def _retry_later(self, item: _Item, seconds: float, error: str,
                           count: bool = True) -> None:
        log.warning("outbox item %s: retry in %.1fs (%s)", item.row_ids, seconds, error)
        metrics.OUTBOX_RETRIES.inc()
        item.attempts += 1

        async def record() -> None:
            async with self.uow_factory() as uow:
                await uow.outbox.retry_later(
                    item.row_ids, self.clock.now() + timedelta(seconds=seconds), error, count)
                await uow.commit()

        try:  # if this is lost, the claim expires and the item is tried again: no harm
            await retry_transient(record, "outbox retry", self.claim_for.total_seconds())
        except Exception:
            log.warning("outbox item %s: could not record the retry", item.row_ids,
                        exc_info=True)

    async def _failed(self, item: _Item, error: Exception) -> None:
        log.warning("outbox item %s failed: %s", item.row_ids, error)
        await self._mark(item, "failed", str(error)[:500])
        await self.delivery.report_failure(item.outgoing, error)

    async def _mark(self, item: _Item, state: str, error: str | None,
                    links: list[Link] | None = None) -> None:
        """Record the outcome (with the message pairs the delivery made, in the same
        transaction); tried until it lands, or the item would go out twice."""

        async def record(uow: SqlUnitOfWork) -> None:
            now = self.clock.now()
            await record_links(uow, links or [], now)
            await uow.outbox.settle(item.row_ids, state, now, error)

        try:
            await self._ledger.write(record, self.mark_patience)
        except Exception:
            log.exception("outbox item %s: could not record it as %s", item.row_ids, state)
            item.more = True  # the lane is looked at again


def _is_client_text(outgoing: Outgoing) -> bool:
    """A client's text (no album) on its way into the ticket's topic."""
    message = outgoing.message
    return (outgoing.kind is Kind.COPY_TO_TOPIC and message is not None
            and message.shape is MessageShape.TEXT and not message.album)
