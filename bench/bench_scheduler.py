"""Benchmark of the scheduler: one tick with 100,000 open tickets, on SQLite and PostgreSQL.

Run from the repository root: `python bench/bench_scheduler.py [TICKETS] [DEADLINES]`
(defaults 100,000 and 1,000,000). For each backend it builds a scratch database (a temporary
SQLite file; a fresh PostgreSQL database, dropped afterwards, when a server answers at
FRONTDESK_TEST_POSTGRES_URL or 127.0.0.1:5432) with TICKETS open tickets and four SLA timers
each, inserted in bulk. 100 of the timers are due (half warnings, half breaches), the rest lie
ahead. It times, several times each (the due timers reset in between):

  * `find due only`: the indexed query of the due timers (the part that could grow with the
    number of tickets: it must not);
  * `tick, 100 due`: the real `Scheduler.tick`: the query, then one transaction that claims the
    100 timers and records their effects (a notice in the outbox for a warning; an event on
    the ticket, a notice and a card refresh for a breach);
  * `tick, 100 bare`: the same with `Desk.fire` doing nothing: the scheduler's own share;
  * `tick, none due`: the tick the scheduler runs every second when nothing is due;

and, as the baseline of the same run, all of them on a database of only the 100 due tickets.
It prints the plan of the due-timers query (EXPLAIN QUERY PLAN / EXPLAIN ANALYZE) as the
scheduler sent it, with 100 timers due, to show the index ix_timers_pending at work; then
times DEADLINES deadline computations with the calendars of bench/bench_calendar.py.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import asyncpg  # noqa: E402
import bench_calendar  # noqa: E402
from sqlalchemy import delete, event, func, insert, select, text, update  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from bot.scheduler import Scheduler  # noqa: E402
from domain import timers  # noqa: E402
from domain.clock import FakeClock  # noqa: E402
from domain.desk import Desk  # noqa: E402
from domain.policy import default_policy  # noqa: E402
from storage.engine import make_engine, make_sessionmaker, upgrade  # noqa: E402
from storage.models import ClientRow, EventRow, OutboxRow, TicketRow, TimerRow  # noqa: E402
from storage.uow import UnitOfWorkFactory  # noqa: E402
from tests.services import scratch_postgres, scratch_sqlite  # noqa: E402

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
DUE = 100
RUNS = 7
CHUNK = 5_000
TARGET_MS = 100.0
KINDS = (timers.FIRST_RESPONSE_WARNING, timers.FIRST_RESPONSE_BREACH,
         timers.RESOLUTION_WARNING, timers.RESOLUTION_BREACH)
POSTGRES_URL = os.environ.get("FRONTDESK_TEST_POSTGRES_URL",
                              "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


@dataclass
class Row:
    """One line of the result table."""

    backend: str
    tickets: int
    timers: int
    case: str
    times_ms: list[float]

    def cells(self) -> str:
        """The line as printed."""
        return (f"{self.backend:<11}{self.tickets:>9,}{self.timers:>9,}  {self.case:<16}"
                f"{min(self.times_ms):>9.1f}{statistics.median(self.times_ms):>10.1f}")


def ticket_rows(count: int) -> Iterator[dict[str, Any]]:
    """Open tickets #1001…, created an hour ago, High priority at the premium level."""
    created = NOW - timedelta(hours=1)
    for ticket_id in range(1, count + 1):
        yield {"id": ticket_id, "number": 1000 + ticket_id, "client_id": 1,
               "subject": f"Bench ticket {ticket_id}", "request_type": "bug",
               "queue": "support", "priority": "high", "sla_level": "premium",
               "status": "in_progress" if ticket_id % 2 else "new", "special": False,
               "created_at": created, "first_response_due": NOW + timedelta(hours=1),
               "resolution_due": NOW + timedelta(days=1), "paused_seconds": 0,
               "paused_business_seconds": 0, "description": ""}


def timer_rows(count: int, due: dict[int, str]) -> Iterator[dict[str, Any]]:
    """Four SLA timers per ticket; a ticket in `due` has the timer of that kind due a minute
    ago, every other timer lies ahead (up to ten days)."""
    for ticket_id in range(1, count + 1):
        for index, kind in enumerate(KINDS):
            ahead = NOW + timedelta(minutes=1 + (ticket_id * 7 + index * 3_001) % 14_400)
            when = NOW - timedelta(minutes=1) if due.get(ticket_id) == kind else ahead
            yield {"ticket_id": ticket_id, "kind": kind, "due_at": when, "done_at": None}


def chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    """Rows in lists of CHUNK."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


async def fill(engine: AsyncEngine, count: int) -> None:
    """Insert one client, `count` tickets and their timers (DUE of them due), then ANALYZE."""
    spread = range(1, count + 1, max(1, count // DUE))[:DUE]
    # half warnings (a notice in the topic), half breaches (notices, card, an event)
    due = {ticket_id: KINDS[position % 2] for position, ticket_id in enumerate(spread)}
    async with engine.begin() as connection:
        await connection.execute(insert(ClientRow), [{"id": 1, "name": "Bench client",
                                                      "created_at": NOW}])
        for batch in chunks(ticket_rows(count)):
            await connection.execute(insert(TicketRow), batch)
        for batch in chunks(timer_rows(count, due)):
            await connection.execute(insert(TimerRow), batch)
    async with engine.begin() as connection:
        await connection.execute(text("ANALYZE"))


async def reset(engine: AsyncEngine) -> None:
    """Make the timers fired by the last tick due again; drop what they recorded."""
    async with engine.begin() as connection:
        await connection.execute(update(TimerRow).where(TimerRow.done_at.is_not(None))
                                 .values(done_at=None))
        await connection.execute(delete(OutboxRow))
        await connection.execute(delete(EventRow))


async def timed(step: Callable[[], Awaitable[int]], expect: int,
                before: Callable[[], Awaitable[None]] | None = None) -> list[float]:
    """Milliseconds of RUNS calls of `step` (each must return `expect`), after one warm-up."""
    times = []
    for run in range(RUNS + 1):
        if before is not None:
            await before()
        began = time.perf_counter()
        fired = await step()
        elapsed = (time.perf_counter() - began) * 1000
        if fired != expect:
            raise AssertionError(f"the tick fired {fired}, expected {expect}")
        if run:
            times.append(elapsed)
    return times


async def measure(backend: str, url: str, count: int) -> tuple[list[Row], list[str]]:
    """The ticks on a database of `count` tickets; the plan of the due-timers query."""
    engine = make_engine(url)
    captured: list[tuple[str, Any]] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _capture(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        if "FROM timers JOIN tickets" in statement and not captured:
            captured.append((statement, parameters))

    try:
        await upgrade(engine)
        await fill(engine, count)
        clock = FakeClock(NOW)
        uow_factory = UnitOfWorkFactory(make_sessionmaker(engine))
        desk = Desk(default_policy(), clock)
        scheduler = Scheduler(desk, uow_factory, clock)
        due = min(DUE, count)

        async def find() -> int:
            async with uow_factory() as uow:
                return len(await uow.timers.due(NOW, scheduler.batch))

        async def nothing(*_: object) -> None:
            """Desk.fire doing nothing: what the scheduler itself costs."""

        reset_all = partial(reset, engine)
        cases = [("find due only", await timed(find, due, before=reset_all)),
                 (f"tick, {due} due", await timed(scheduler.tick, due, before=reset_all))]
        desk.fire = nothing  # type: ignore[method-assign]
        cases.append((f"tick, {due} bare", await timed(scheduler.tick, due, before=reset_all)))
        cases.append(("tick, none due", await timed(scheduler.tick, 0)))
        await reset(engine)
        plan = await explain(engine, *captured[0])
        timers_stored = await count_timers(engine)
    finally:
        await engine.dispose()
    return [Row(backend, count, timers_stored, case, times) for case, times in cases], plan


async def count_timers(engine: AsyncEngine) -> int:
    """How many timers the table holds."""
    async with engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(TimerRow)))
                   .scalar_one())


async def explain(engine: AsyncEngine, statement: str, parameters: Any) -> list[str]:
    """The plan of the statement the scheduler sent, with its parameters."""
    async with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            result = await connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement,
                                                      parameters)
            return [str(row[-1]) for row in result]
        result = await connection.exec_driver_sql("EXPLAIN ANALYZE " + statement, parameters)
        return [str(row[0]) for row in result]


def sqlite_database() -> AbstractAsyncContextManager[str]:
    """A scratch SQLite file."""
    return scratch_sqlite()


def postgres_database() -> AbstractAsyncContextManager[str]:
    """A scratch PostgreSQL database, dropped afterwards."""
    return scratch_postgres(POSTGRES_URL, "fd_bench")


async def postgres_answers() -> bool:
    """Whether the PostgreSQL server can be reached."""
    base = make_url(POSTGRES_URL)
    try:
        connection = await asyncpg.connect(host=base.host, port=base.port, user=base.username,
                                           password=base.password, database=base.database,
                                           timeout=2)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


def deadlines(n: int) -> list[tuple[str, float]]:
    """Seconds for `n` deadlines per calendar of bench_calendar (and its baseline)."""
    pairs = bench_calendar.inputs(n)
    calendars = {
        "Moscow 9-18 + holidays": bench_calendar.BusinessCalendar.from_spec(
            bench_calendar.moscow_office_with_holidays()),
        "24x7 UTC": bench_calendar.BusinessCalendar.from_spec(bench_calendar.CalendarSpec()),
    }
    for calendar in calendars.values():
        calendar.add(*pairs[0])
    rows = [("baseline start + amount", bench_calendar.timed(bench_calendar.plain, pairs))]
    rows += [(name, bench_calendar.timed(calendar.add, pairs))
             for name, calendar in calendars.items()]
    return rows


async def main() -> None:
    """Measure every backend there is, print the tables and the plans."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    n_deadlines = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    backends: list[tuple[str, Callable[[], Any]]] = [("SQLite", sqlite_database)]
    if await postgres_answers():
        backends.append(("PostgreSQL", postgres_database))
    else:
        print(f"(no PostgreSQL at {make_url(POSTGRES_URL).render_as_string()}: skipped)")

    rows: list[Row] = []
    plans: dict[str, list[str]] = {}
    for backend, database in backends:
        for size in (DUE, count):  # the baseline first: only the due tickets
            async with database() as url:
                measured, plan = await measure(backend, url, size)
            rows += measured
            if size == count:
                plans[backend] = plan

    print(f"\nScheduler tick ({RUNS} runs each after a warm-up; {DUE} timers due, half "
          f"warnings and half breaches; the rest ahead)")
    print(f"{'backend':<11}{'tickets':>9}{'timers':>9}  {'case':<16}{'min ms':>9}"
          f"{'median ms':>10}")
    for row in rows:
        print(row.cells())
    worst = max(statistics.median(row.times_ms) for row in rows
                if row.tickets == count and row.case.startswith("tick"))
    verdict = "met" if worst < TARGET_MS else "MISSED"
    print(f"target: a tick with {count:,} open tickets under {TARGET_MS:.0f} ms -> {verdict} "
          f"(slowest median: {worst:.1f} ms)")

    for backend, plan in plans.items():
        print(f"\nPlan of the due-timers query on {backend} ({count:,} tickets):")
        for line in plan:
            print(f"  {line}")

    print(f"\nDeadline computations (BusinessCalendar.add, bench/bench_calendar.py), "
          f"n = {n_deadlines:,}")
    results = deadlines(n_deadlines)
    for name, seconds in results:
        print(f"  {name:<26}{seconds:>8.3f} s  {seconds / n_deadlines * 1e6:>7.3f} µs/call")
    slowest = max(seconds for _, seconds in results[1:]) * 1_000_000 / n_deadlines
    print(f"target: 1M deadlines under {bench_calendar.TARGET_SECONDS:.0f} s -> "
          f"{'met' if slowest < bench_calendar.TARGET_SECONDS else 'MISSED'} "
          f"(slowest: {slowest:.2f} s per million)")


if __name__ == "__main__":
    asyncio.run(main())
