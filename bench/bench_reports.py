"""Benchmark of the reports: `/stats` for a month and for a year over a big synthetic history.

Run from the repository root:

    python bench/bench_reports.py [--tickets 1000000] [--backend sqlite|postgres|both]

It bulk-inserts the history with SQLAlchemy core into scratch databases (a SQLite file in a
temporary folder; a fresh database on the PostgreSQL server of `--postgres`, dropped at the end
unless `--keep`), each ticket with the measures `TicketRepository` would have kept
(`domain.reports.measure` with the default policy's calendars), then gathers statistics
(ANALYZE; VACUUM ANALYZE on PostgreSQL, as autovacuum would after such a load) and times
`compile_report` — the storage queries and the arithmetic, what `/stats` does before
rendering — for the last full month and the last twelve months, and prints the query plans of
the main queries. The target is under 2 s for each. A database filled by an older version of
this benchmark (without the measures) is measured by the migration when it is reused.
`--check` also replays the month from the whole histories (`replay_report`, the rules of
`domain.reports`) and tells whether both reports are equal.

The history: `--tickets` tickets opened evenly over `--years` years up to 2026-11-01, each with
a realistic life (taken and answered within hours, 40 % wait for the client for a while,
resolved within days, confirmed or auto-closed, 8 % reopened and closed again, 60 % rated), the
last weeks' tickets still open; 20 agents, two queues, three SLA levels.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import asyncpg  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402

from domain.policy import default_policy  # noqa: E402
from domain.reports import (  # noqa: E402
    Period,
    StatusChange,
    TicketFacts,
    calendars_of,
    compile_report,
    measure,
    replay_report,
)
from storage import report_queries  # noqa: E402
from storage.engine import make_engine, make_sessionmaker, upgrade  # noqa: E402
from storage.models import (  # noqa: E402
    ClientRow,
    DeflectionRow,
    EventRow,
    RatingRow,
    TicketRow,
)
from storage.uow import UnitOfWorkFactory  # noqa: E402

TARGET_SECONDS = 2.0
END = datetime(2026, 11, 1, tzinfo=UTC)  # the history runs up to here; "now" is this moment
MONTH = Period(date(2026, 10, 1), date(2026, 10, 31), "Europe/Moscow")
YEAR = Period(date(2025, 11, 1), date(2026, 10, 31), "Europe/Moscow")
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BATCH = 5_000  # tickets per insert round
CLIENTS = 10_000
AGENTS = [(100 + n, f"Agent {n:02d}") for n in range(20)]
LEVELS = (("premium", 0.2), ("standard", 0.6), ("basic", 0.2))
H = timedelta(hours=1)
PLAN_WIDTH = 160  # plan lines are cut here (the lists of ids are long)


# -- the synthetic history --------------------------------------------------------------------

class History:
    """Rows of tickets, events, ratings and deflections, made batch by batch."""

    def __init__(self, tickets: int, years: float, seed: int = 8) -> None:
        self.count = tickets
        self.start = END - timedelta(days=365.25 * years)
        self.rng = random.Random(seed)
        self.event_id = 0
        self.deflection_id = 0
        self.calendar_for = calendars_of(default_policy())

    def batches(self) -> Iterator[dict[str, list[dict[str, Any]]]]:
        """The rows per table for each `BATCH` tickets, in opening order."""
        span = (END - self.start).total_seconds()
        for first in range(0, self.count, BATCH):
            rows: dict[str, list[dict[str, Any]]] = {
                "tickets": [], "events": [], "ratings": [], "deflections": []}
            for n in range(first, min(first + BATCH, self.count)):
                created = self.start + timedelta(seconds=span * (n + self.rng.random())
                                                 / self.count)
                self._ticket(n + 1, created, rows)
            yield rows

    def _ticket(self, ticket_id: int, created: datetime,
                rows: dict[str, list[dict[str, Any]]]) -> None:
        rng = self.rng
        agent_id, agent_name = rng.choice(AGENTS)
        level = rng.choices([key for key, _ in LEVELS], [share for _, share in LEVELS])[0]
        if level != "premium" and not 6 <= created.hour < 15:
            # office-hours clients write in office hours (9-18 Moscow = 6-15 UTC), mostly
            created = created.replace(hour=rng.randrange(6, 15))
        row: dict[str, Any] = {
            "id": ticket_id, "number": 1000 + ticket_id,
            "client_id": rng.randrange(CLIENTS) + 1, "subject": f"Synthetic ticket {ticket_id}",
            "request_type": "bug", "queue": rng.choice(("support", "support", "development")),
            "priority": rng.choice(("critical", "high", "normal", "normal", "low")),
            "sla_level": level, "special": False, "status": "new", "assignee_id": None,
            "assignee_name": None, "created_at": created,
            "first_response_due": created + 2 * H, "resolution_due": created + 72 * H,
            "first_response_at": None, "resolved_at": None, "closed_at": None,
            "paused_since": None, "paused_seconds": 0, "paused_business_seconds": 0,
            "credentials_seen": False, "description": "synthetic",
        }
        events = rows["events"]
        status = "new"
        changes: list[StatusChange] = []

        def event(kind: str, at: datetime, old: str | None = None,
                  new: str | None = None) -> bool:
            if at >= END:
                return False
            self.event_id += 1
            events.append({"id": self.event_id, "ticket_id": ticket_id, "kind": kind, "at": at,
                           "actor_kind": "agent", "actor_ref": agent_id,
                           "actor_name": agent_name, "old": old, "new": new, "detail": None})
            return True

        def move(new: str, at: datetime) -> bool:
            nonlocal status
            if not event("status", at, status, new):
                return False
            changes.append(StatusChange(at, status, new))
            status = new
            row["status"] = new
            if new in ("closed", "declined"):
                row["closed_at"] = at
            if new == "resolved":
                row["resolved_at"] = at
            if new == "reopened":
                row["closed_at"] = row["resolved_at"] = None
            return True

        event("opened", created, None, "new")
        at = created + timedelta(minutes=rng.expovariate(1 / 90) + 2)
        if event("assigned", at, None, agent_name):
            row["assignee_id"], row["assignee_name"] = agent_id, agent_name
        if event("first_response", at):
            row["first_response_at"] = at
        closed = move("in_progress", at) and self._work(at, move, rng)
        if closed and rng.random() < 0.6:
            rated_at = row["closed_at"] + H
            if rated_at < END:
                rows["ratings"].append({"ticket_id": ticket_id, "score": rng.randint(1, 5),
                                        "comment": None, "agent_id": agent_id, "at": rated_at})
                event("rated", rated_at, None, None)
        # the measures TicketRepository keeps, taken once from the whole history
        row.update(report_queries.measured_columns(measure(
            TicketFacts(row["number"], row["queue"], level, row["assignee_id"],
                        row["assignee_name"], created, row["first_response_at"],
                        changes=tuple(changes)), self.calendar_for(level))))
        if rng.random() < 0.05:
            self.deflection_id += 1
            rows["deflections"].append({"id": self.deflection_id,
                                        "client_id": rng.randrange(CLIENTS) + 1,
                                        "faq_url": "https://faq.example/1", "at": created})
        rows["tickets"].append(row)

    @staticmethod
    def _work(at: datetime, move: Any, rng: random.Random) -> bool:
        """Wait, resolve, close, perhaps reopen and close again; True if it ends closed."""
        if rng.random() < 0.4:
            at += timedelta(hours=rng.uniform(0.5, 24))
            if not move("waiting_client", at):
                return False
            at += timedelta(hours=rng.uniform(1, 48))
            if not move("in_progress", at):
                return False
        at += timedelta(hours=rng.expovariate(1 / 30) + 0.5)
        if not move("resolved", at):
            return False
        at += timedelta(hours=rng.uniform(0.1, 72))
        if not move("closed", at):
            return False
        if rng.random() < 0.08:
            at += timedelta(hours=rng.uniform(1, 120))
            if not (move("reopened", at) and move("in_progress", at + H / 4)):
                return False
            at += timedelta(hours=rng.uniform(1, 48))
            return bool(move("closed", at))
        return True


async def fill(engine: AsyncEngine, history: History) -> None:
    """Insert the clients and the history, printing progress."""
    began = time.perf_counter()
    async with engine.begin() as connection:
        await connection.execute(insert(ClientRow), [
            {"id": n + 1, "telegram_user_id": 10_000_000 + n, "name": f"Client {n}",
             "username": None, "language": "en", "language_chosen": False, "banned": False,
             "ban_notified": False, "created_at": history.start} for n in range(CLIENTS)])
    done = 0
    for rows in history.batches():
        async with engine.begin() as connection:
            await connection.execute(insert(TicketRow), rows["tickets"])
            await connection.execute(insert(EventRow), rows["events"])
            if rows["ratings"]:
                await connection.execute(insert(RatingRow), rows["ratings"])
            if rows["deflections"]:
                await connection.execute(insert(DeflectionRow), rows["deflections"])
        done += len(rows["tickets"])
        if done % (BATCH * 20) == 0 or done == history.count:
            elapsed = time.perf_counter() - began
            print(f"  {done:>9,} tickets, {history.event_id:>10,} events  "
                  f"({elapsed:6.1f} s, {done / elapsed:,.0f} tickets/s)", flush=True)


# -- EXPLAIN ----------------------------------------------------------------------------------

def _driver_value(value: Any, dialect: str) -> Any:
    """A bound value as the driver takes it (datetimes stored naive UTC, as UTCDateTime does)."""
    if isinstance(value, list):
        return [_driver_value(item, dialect) for item in value]
    if isinstance(value, datetime):
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else naive
    return value


async def explain(engine: AsyncEngine, period: Period) -> None:
    """Print the plans of the report's queries for `period` (with timings on PostgreSQL)."""
    start, end = period.start, period.end
    days = report_queries.days_of(period, engine.dialect)
    statements = {
        "tickets opened, per day by agent and queue": report_queries.opened_rows(days),
        "final closes and resolution times": report_queries.final_close_rows(days),
        "first-response times": report_queries.first_response_rows(days),
        "first-response targets met": report_queries.first_response_met_rows(days),
        "first-response targets missed": report_queries.first_response_missed_rows(days),
        "resolution targets met": report_queries.resolution_met_rows(days),
        "resolution targets missed": report_queries.resolution_missed_rows(days),
        "ratings": report_queries.rating_rows_by_day(days),
        "closes, declines and reopens per day": report_queries.changes_by_day(days),
        "declines and reopens by agent and queue": report_queries.changes_by_agent(start, end),
        "closes undone by a reopen": report_queries.undone_closes(start, end),
        "deflections": report_queries.deflection_rows_by_day(days),
        "backlog at the end: open tickets": report_queries.backlog_rows(end, True)[0],
        "backlog at the end: finished after it": report_queries.backlog_rows(end, True)[1],
    }
    dialect = engine.dialect.name
    prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN (ANALYZE, COSTS OFF) "
    async with engine.connect() as connection:
        if dialect == "postgresql":  # as `ReportQueries.period_rows` runs them
            await connection.exec_driver_sql("SET jit = off")
            await connection.exec_driver_sql("SET max_parallel_workers_per_gather = 0")
        for name, statement in statements.items():
            print(f"  -- {name}")
            compiled = statement.compile(dialect=engine.dialect,
                                         compile_kwargs={"render_postcompile": True})
            values = compiled.construct_params()
            params = tuple(_driver_value(values[key], dialect)
                           for key in compiled.positiontup or ())
            rows = await connection.exec_driver_sql(prefix + compiled.string, params)
            for row in rows:
                line = ("  " * _sqlite_depth(row) + row[-1]) if dialect == "sqlite" else row[0]
                print("     " + (line if len(line) <= PLAN_WIDTH else line[:PLAN_WIDTH] + "…"))


_DEPTHS: dict[int, int] = {}


def _sqlite_depth(row: Any) -> int:
    node, parent = row[0], row[1]
    depth = _DEPTHS.get(parent, -1) + 1 if parent else 0
    _DEPTHS[node] = depth
    return depth


# -- timing -----------------------------------------------------------------------------------

async def time_reports(engine: AsyncEngine, runs: int, check: bool) -> dict[str, float]:
    """The best of `runs` timings of `compile_report` for the month and the year."""
    uow_factory = UnitOfWorkFactory(make_sessionmaker(engine))
    policy = default_policy()
    timings = {}
    for name, period in (("month", MONTH), ("year", YEAR)):
        best = float("inf")
        for _ in range(runs):
            began = time.perf_counter()
            async with uow_factory() as uow:
                report = await compile_report(uow.reports, policy, period, END)
            best = min(best, time.perf_counter() - began)
        if check and period is MONTH:
            async with uow_factory() as uow:
                replayed = await replay_report(uow.reports, policy, period, END)
            print(f"  check: the {name} summed from the stored measures "
                  f"{'equals' if replayed == report else 'DIFFERS FROM'} its replay", flush=True)
        total = report.total
        verdict = "ok" if best < TARGET_SECONDS else f"OVER the {TARGET_SECONDS:.0f} s target"
        print(f"  {name:5} {period.first}..{period.last}: {best:6.3f} s  ({verdict}); "
              f"opened {total.opened:,}, closed {total.closed:,}, reopened "
              f"{total.reopened:,}, FR median {total.first_response_median}, resolution "
              f"median {total.resolution_median}, SLA {total.compliance or 0:.1f} %, "
              f"backlog {sum(report.backlog.values()):,}", flush=True)
        timings[name] = best
    return timings


async def run_backend(name: str, url: str, args: argparse.Namespace) -> dict[str, float]:
    """Fill one database (unless it holds the history already), time, explain."""
    print(f"== {name}: {url}", flush=True)
    engine = make_engine(url)
    try:
        await upgrade(engine)
        async with engine.connect() as connection:
            present = (await connection.execute(select(func.count()).select_from(TicketRow)
                                                 )).scalar_one()
        if present != args.tickets:
            if present:
                raise SystemExit(f"{url} holds {present} tickets, not {args.tickets}: use "
                                 "another database")
            print(f"  inserting {args.tickets:,} tickets over {args.years} years", flush=True)
            await fill(engine, History(args.tickets, args.years))
            async with engine.connect() as connection:
                await connection.execution_options(isolation_level="AUTOCOMMIT")
                await connection.execute(text(
                    "ANALYZE" if engine.dialect.name == "sqlite" else "VACUUM ANALYZE"))
        else:
            print(f"  reusing the {present:,} tickets there", flush=True)
        timings = await time_reports(engine, args.runs, args.check)
        for period in (MONTH, YEAR):
            print(f"  plans for {period.first}..{period.last}:")
            _DEPTHS.clear()
            await explain(engine, period)
        return timings
    finally:
        await engine.dispose()


async def scratch_postgres(base_url: str) -> tuple[str, str]:
    """A fresh database on the server of `base_url`: its URL and name."""
    base = make_url(base_url)
    name = f"fd_bench_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(host=base.host, port=base.port, user=base.username,
                                  password=base.password, database=base.database)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return base.set(database=name).render_as_string(hide_password=False), name


async def drop_postgres(base_url: str, name: str) -> None:
    """Drop a scratch database."""
    base = make_url(base_url)
    admin = await asyncpg.connect(host=base.host, port=base.port, user=base.username,
                                  password=base.password, database=base.database)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def main() -> None:
    """Parse the command line and run the chosen backends."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--years", type=float, default=4.0,
                        help="how many years the history spans (default 4)")
    parser.add_argument("--backend", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--postgres", default=DEFAULT_POSTGRES,
                        help="a server URL; the benchmark creates its own database there")
    parser.add_argument("--sqlite-file", type=Path,
                        help="reuse (or create) this SQLite file instead of a temporary one")
    parser.add_argument("--postgres-database",
                        help="reuse (or fill) this database on the server instead of a fresh one")
    parser.add_argument("--keep", action="store_true", help="keep the scratch databases")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per period (best kept)")
    parser.add_argument("--check", action="store_true",
                        help="also replay the month from whole histories and compare")
    args = parser.parse_args()
    results = {}
    if args.backend in ("sqlite", "both"):
        if args.sqlite_file is not None:
            url = f"sqlite+aiosqlite:///{args.sqlite_file}"
            results["sqlite"] = await run_backend("sqlite", url, args)
        else:
            with tempfile.TemporaryDirectory(prefix="fd_bench_") as folder:
                path = Path(folder) / "bench.sqlite3"
                results["sqlite"] = await run_backend("sqlite", f"sqlite+aiosqlite:///{path}",
                                                      args)
                if args.keep:
                    kept = Path(tempfile.gettempdir()) / f"{Path(folder).name}.sqlite3"
                    path.rename(kept)
                    print(f"  kept {kept}")
    if args.backend in ("postgres", "both"):
        if args.postgres_database:
            url = make_url(args.postgres).set(database=args.postgres_database)
            results["postgres"] = await run_backend(
                "postgres", url.render_as_string(hide_password=False), args)
        else:
            url, name = await scratch_postgres(args.postgres)
            try:
                results["postgres"] = await run_backend("postgres", url, args)
            finally:
                if args.keep:
                    print(f"  kept database {name}")
                else:
                    await drop_postgres(args.postgres, name)
    print(f"== {args.tickets:,} tickets over {args.years} years (best of {args.runs})")
    for backend, timings in results.items():
        print("  " + backend.ljust(9) + "  ".join(f"{name} {seconds:.3f} s"
                                                  for name, seconds in timings.items()))


if __name__ == "__main__":
    asyncio.run(main())
