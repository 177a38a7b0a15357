"""The report summed up from the stored measures equals the replay of every whole history.

Random desks are stored through the repositories (the way the bot stores them: tickets moved
through allowed status changes, answered, taken, moved between queues, rated), then the
period's report is built twice from the same database: from the measures `TicketRepository`
kept and the SQL sums (`compile_report`), and by measuring every history again
(`replay_report`, the rules of `domain.reports`). Periods and time zones are chosen so that
days, DST changes and the period's bounds cut through the histories.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import make_url

from domain.policy import default_policy
from domain.reports import Period, Report, compile_report, replay_report
from domain.tickets import TRANSITIONS, Actor, Status, Ticket
from storage.engine import make_engine, make_sessionmaker, upgrade
from storage.uow import UnitOfWorkFactory
from tests import services

POLICY = default_policy()
ORIGIN = datetime(2026, 10, 15, tzinfo=UTC)  # the histories start here, over about a month
ZONES = ("UTC", "Europe/Moscow", "Europe/Berlin", "America/New_York", "Asia/Kolkata")
AGENTS = {7: "Alice", 8: "Bob", 9: "Chloé"}
CLIENT = Actor("client", 1, "Carol")


@dataclass(frozen=True)
class Step:
    """One thing that happens to a ticket, `minutes` (and `micros`) after the previous one."""

    minutes: int
    micros: int
    action: str  # "move", "reply", "take", "queue"
    status: Status | None = None
    agent: int | None = None
    queue: str | None = None
    save: bool = True


@dataclass(frozen=True)
class Script:
    """A ticket's life: when it opens, its level, queue and due times, what happens next."""

    opened: int  # minutes after ORIGIN
    level: str
    queue: str
    first_due: int | None  # minutes after opening
    resolution_due: int | None
    steps: tuple[Step, ...]
    rating: tuple[int, int, int | None] | None  # minutes after the last step, score, agent


@dataclass(frozen=True)
class Desk:
    """A stored desk, a period, and the moment the report is made."""

    scripts: tuple[Script, ...]
    deflections: tuple[int, ...]  # minutes after ORIGIN
    period: Period
    now: int  # minutes after ORIGIN


FAVOURED = (Status.RESOLVED, Status.CLOSED, Status.REOPENED, Status.WAITING_CLIENT)
# Gaps and due times in half hours, mostly short: answers and resolutions fall on due times
HALF_HOURS = st.one_of(st.integers(0, 8), st.integers(0, 4 * 48)).map(lambda halves: 30 * halves)


@st.composite
def scripts(draw: st.DrawFn, opened: st.SearchStrategy[int]) -> Script:
    """A ticket walked through allowed status changes (resolves, closes, reopens and waits
    more often than the rest), answers, takes and queue moves."""
    status, steps = Status.NEW, []
    for _ in range(draw(st.integers(0, 10))):
        minutes = draw(HALF_HOURS)
        micros = draw(st.sampled_from((0, 0, 1, 500_000, 999_999)))
        save = draw(st.booleans())
        action = draw(st.sampled_from(("move", "move", "move", "move", "reply", "take",
                                       "queue")))
        if action == "move":
            allowed = sorted(TRANSITIONS[status])
            if not allowed:
                break
            status = draw(st.sampled_from(
                allowed + [wanted for wanted in FAVOURED if wanted in allowed] * 2))
            steps.append(Step(minutes, micros, action, status=status, save=save))
        elif action == "take":
            steps.append(Step(minutes, micros, action, agent=draw(st.sampled_from(sorted(AGENTS))),
                              save=save))
        elif action == "queue":
            steps.append(Step(minutes, micros, action,
                              queue=draw(st.sampled_from(("support", "development"))), save=save))
        else:
            steps.append(Step(minutes, micros, action, save=save))
        if action in ("take", "reply") and status in (Status.NEW, Status.REOPENED):
            status = Status.IN_PROGRESS  # what `Ticket.take` and `Ticket.agent_replied` do
    rating = draw(st.none() | st.tuples(st.integers(0, 3000), st.integers(1, 5),
                                        st.sampled_from((None, 7, 8, 9))))
    due = st.none() | HALF_HOURS
    return Script(draw(opened), draw(st.sampled_from(("premium", "standard", "basic",
                                                      "retired"))),
                  draw(st.sampled_from(("support", "development"))), draw(due), draw(due),
                  tuple(steps), rating)


@st.composite
def desks(draw: st.DrawFn) -> Desk:
    """A period of up to two weeks, and tickets, ratings and deflections around it."""
    first = date(2026, 10, 20) + timedelta(days=draw(st.integers(0, 10)))
    period = Period(first, first + timedelta(days=draw(st.integers(0, 14))),
                    draw(st.sampled_from(ZONES)))
    lead = (first - date(2026, 10, 15)).days * 24 * 60  # minutes from ORIGIN to the period
    around = st.integers(lead - 6 * 24 * 60, lead + ((period.last - first).days + 1) * 24 * 60)
    return Desk(tuple(draw(st.lists(scripts(around), min_size=1, max_size=10))),
                tuple(draw(st.lists(around, max_size=4))), period,
                draw(st.one_of(around, st.just(40 * 24 * 60))))


def _moment(minutes: int, micros: int = 0) -> datetime:
    return ORIGIN + timedelta(minutes=minutes, microseconds=micros)


async def _store(uow_factory: UnitOfWorkFactory, desk: Desk) -> None:
    """Store the desk through the repositories, saving as the bot does."""
    async with uow_factory() as uow:
        client = await uow.clients.ensure(501, "Carol", "carol", "en", ORIGIN)
        for agent, name in AGENTS.items():
            await uow.agents.seen(agent, name.upper(), None, ORIGIN)  # tickets' names win
        for number, script in enumerate(desk.scripts, 1):
            at = _moment(script.opened)
            ticket = Ticket(
                number=number, client_id=client.id, subject=f"Ticket {number}",
                request_type="bug", queue=script.queue, priority="high",
                sla_level=script.level, created_at=at,
                first_response_due=None if script.first_due is None
                else at + timedelta(minutes=script.first_due),
                resolution_due=None if script.resolution_due is None
                else at + timedelta(minutes=script.resolution_due))
            ticket.open(CLIENT, at, "it fails")
            await uow.tickets.add(ticket)
            for step in script.steps:
                at += timedelta(minutes=step.minutes, microseconds=step.micros)
                agent = Actor("agent", step.agent, AGENTS.get(step.agent or 0, "Dan"))
                if step.action == "move" and step.status is not None:
                    ticket.move(step.status, agent, at)
                elif step.action == "take":
                    ticket.take(agent, at)
                elif step.action == "queue" and step.queue is not None:
                    ticket.queue = step.queue
                else:
                    ticket.agent_replied(agent, at)
                if step.save:
                    await uow.tickets.save(ticket)
            await uow.tickets.save(ticket)
            if script.rating is not None:
                minutes, score, rated = script.rating
                await uow.ratings.put(number, score, None, rated,
                                      at + timedelta(minutes=minutes))
        for minutes in desk.deflections:
            await uow.deflections.add(client.id, "https://faq/1", _moment(minutes))
        await uow.commit()


async def _both_reports(url: str, desk: Desk) -> tuple[Report, Report]:
    engine = make_engine(url)
    try:
        uow_factory = UnitOfWorkFactory(make_sessionmaker(engine))
        await _store(uow_factory, desk)
        now = _moment(desk.now)
        async with uow_factory() as uow:
            summed = await compile_report(uow.reports, POLICY, desk.period, now)
            replayed = await replay_report(uow.reports, POLICY, desk.period, now)
        return summed, replayed
    finally:
        await engine.dispose()


def _differences(summed: Report, replayed: Report) -> list[str]:
    return [f"{item.name}: summed {getattr(summed, item.name)!r}\n"
            f"   replayed {getattr(replayed, item.name)!r}"
            for item in fields(Report) if getattr(summed, item.name)
            != getattr(replayed, item.name)]


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file each example starts from (a copy)."""
    path = tmp_path_factory.mktemp("sums") / "template.sqlite3"

    async def migrate() -> None:
        engine = make_engine(f"sqlite+aiosqlite:///{path}")
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return path


async def _admin(url: str, statement: str) -> None:
    """Run one statement outside a transaction (CREATE or DROP DATABASE)."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def postgres_database() -> Iterator[str]:
    """A migrated scratch PostgreSQL database for the module, emptied by each example."""
    url = services.postgres_url()
    if url is None:
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = f"fd_sums_{secrets.token_hex(6)}"
    database = make_url(url).set(database=name).render_as_string(hide_password=False)

    async def migrate() -> None:
        engine = make_engine(database)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(_admin(url, f'CREATE DATABASE "{name}"'))
    try:
        asyncio.run(migrate())
        yield database
    finally:
        asyncio.run(_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


EXAMPLES = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow, HealthCheck.data_too_large])


@EXAMPLES
@given(desk=desks())
def test_the_stored_sums_equal_the_replay_on_sqlite(desk: Desk, sqlite_template: Path,
                                                    tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    shutil.copyfile(sqlite_template, path)
    try:
        summed, replayed = asyncio.run(_both_reports(f"sqlite+aiosqlite:///{path}", desk))
    finally:
        path.unlink()
    assert summed == replayed, "\n".join(_differences(summed, replayed))


async def _emptied(url: str) -> None:
    engine = make_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(
                "TRUNCATE ratings, ticket_events, tickets, deflections, clients, agents "
                "RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


@pytest.mark.postgres
@settings(EXAMPLES, max_examples=25)
@given(desk=desks())
def test_the_stored_sums_equal_the_replay_on_postgresql(desk: Desk,
                                                        postgres_database: str) -> None:
    asyncio.run(_emptied(postgres_database))
    summed, replayed = asyncio.run(_both_reports(postgres_database, desk))
    assert summed == replayed, "\n".join(_differences(summed, replayed))
