"""Each ticket keeps its measures: taken by the repository as the ticket changes, and by
migration 0002 for the tickets stored before it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from alembic import command
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.policy import CalendarSpec, default_policy
from domain.reports import Period, compile_report, replay_report
from domain.tickets import Actor, Status, Ticket
from storage.engine import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    make_sessionmaker,
    upgrade,
)
from storage.models import ClientRow, EventRow, TicketRow
from storage.uow import UnitOfWorkFactory

H = timedelta(hours=1)
AGENT = Actor("agent", 7, "Alice")
MEASURES = (TicketRow.first_response_us, TicketRow.first_answer_at,
            TicketRow.final_resolution_at, TicketRow.resolution_us, TicketRow.final_close_at)


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant of October 2026, in UTC."""
    return datetime(2026, 10, day, hour, minute, tzinfo=UTC)


async def measures_of(engine: AsyncEngine, number: int) -> tuple[object, ...]:
    async with engine.connect() as connection:
        return tuple((await connection.execute(
            select(*MEASURES).where(TicketRow.number == number))).one())


def ticket_row(number: int, level: str, created: datetime, status: str,
               first_response: datetime | None = None,
               closed: datetime | None = None) -> dict[str, object]:
    """A ticket as revision 0001 stored it (no measures)."""
    return {"id": number, "number": number, "client_id": 1, "subject": f"Ticket {number}",
            "request_type": "bug", "queue": "support", "priority": "high",
            "sla_level": level, "status": status, "assignee_id": 7, "assignee_name": "Alice",
            "created_at": created, "first_response_due": created + H,
            "resolution_due": created + 24 * H, "first_response_at": first_response,
            "closed_at": closed}


def status_rows(ticket_id: int, *steps: tuple[datetime, str]) -> list[dict[str, object]]:
    """The status changes of a ticket from `new` through `steps`."""
    rows, old = [], "new"
    for at, new in steps:
        rows.append({"ticket_id": ticket_id, "kind": "status", "at": at, "actor_kind": "agent",
                     "actor_ref": 7, "actor_name": "Alice", "old": old, "new": new})
        old = new
    return rows


async def stored_before_0002(engine: AsyncEngine, tickets: list[dict[str, object]],
                             events: list[dict[str, object]]) -> None:
    """A database at revision 0001 holding Carol's tickets and their events."""
    await upgrade(engine, "0001")
    async with engine.begin() as connection:
        await connection.execute(insert(ClientRow).values(
            id=1, telegram_user_id=501, name="Carol", created_at=utc(1, 0)))
        await connection.execute(insert(TicketRow), tickets)
        await connection.execute(insert(EventRow), events)


async def test_migration_0002_measures_the_tickets_stored_before_it(
        database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await stored_before_0002(engine, [
            # 24x7: answered after 1 h, a day waiting for the client, resolved, closed,
            # reopened, closed again on the 8th: 120 h - 24 h waiting = 96 h
            ticket_row(1, "premium", utc(3, 12), "closed", utc(3, 13), utc(8, 12)),
            # office hours (Moscow 9-18): opened Monday 10:00, answered 12:30: 2.5 h
            ticket_row(2, "standard", utc(5, 7), "in_progress", utc(5, 9, 30)),
            ticket_row(3, "premium", utc(5, 8), "new"),  # untouched
            ticket_row(4, "premium", utc(6, 12), "declined", None, utc(6, 12, 30)),
        ], [
            *status_rows(1, (utc(3, 13), "in_progress"), (utc(3, 14), "waiting_client"),
                         (utc(4, 14), "in_progress"), (utc(5, 12), "resolved"),
                         (utc(6, 12), "closed"), (utc(7, 12), "reopened"),
                         (utc(7, 13), "in_progress"), (utc(8, 12), "closed")),
            *status_rows(2, (utc(5, 9, 30), "in_progress")),
            *status_rows(4, (utc(6, 12, 30), "declined")),
        ])
        await upgrade(engine)

        assert await measures_of(engine, 1) == (
            int(H / timedelta(microseconds=1)), utc(3, 13), utc(8, 12),
            int(96 * H / timedelta(microseconds=1)), utc(8, 12))
        assert await measures_of(engine, 2) == (
            int(2.5 * H / timedelta(microseconds=1)), utc(5, 9, 30), None, None, None)
        assert await measures_of(engine, 3) == (None, None, None, None, None)
        # declined without a reply: answered by the decline, never resolved
        assert await measures_of(engine, 4) == (None, utc(6, 12, 30), None, None, None)

        october = Period(date(2026, 10, 1), date(2026, 10, 31), "UTC")
        async with UnitOfWorkFactory(make_sessionmaker(engine))() as uow:
            now = datetime(2026, 11, 20, tzinfo=UTC)
            summed = await compile_report(uow.reports, default_policy(), october, now)
            assert summed == await replay_report(uow.reports, default_policy(), october, now)
        assert summed.total.resolution_median == 96 * H
        assert (summed.total.closed, summed.total.reopened, summed.total.declined) == (2, 1, 1)
    finally:
        await engine.dispose()


async def test_a_reopen_drops_the_resolution_and_the_final_close_takes_it_again(
        engine: AsyncEngine, uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        client = await uow.clients.ensure(501, "Carol", "carol", "en", utc(1, 0))
        ticket = Ticket(number=1, client_id=client.id, subject="It fails", request_type="bug",
                        queue="support", priority="high", sla_level="premium",
                        created_at=utc(3, 12))
        ticket.open(Actor("client", client.id, "Carol"), utc(3, 12), "it fails")
        await uow.tickets.add(ticket)
        ticket.agent_replied(AGENT, utc(3, 13))
        ticket.move(Status.RESOLVED, AGENT, utc(3, 18))
        await uow.tickets.save(ticket)
        ticket.move(Status.CLOSED, AGENT, utc(4, 12))
        await uow.tickets.save(ticket)
        await uow.commit()
    six_hours = int(6 * H / timedelta(microseconds=1))
    assert await measures_of(engine, 1) == (
        int(H / timedelta(microseconds=1)), utc(3, 13), utc(3, 18), six_hours, utc(4, 12))

    async with uow_factory() as uow:
        reopened = await uow.tickets.get(1)
        assert reopened is not None
        reopened.move(Status.REOPENED, AGENT, utc(5, 12))
        await uow.tickets.save(reopened)
        await uow.commit()
    assert (await measures_of(engine, 1))[2:] == (None, None, None)

    async with uow_factory() as uow:
        again = await uow.tickets.get(1)
        assert again is not None
        again.move(Status.CLOSED, AGENT, utc(6, 12))  # skipping `resolved`: resolved at close
        await uow.tickets.save(again)
        await uow.commit()
    assert (await measures_of(engine, 1))[2:] == (
        utc(6, 12), int(72 * H / timedelta(microseconds=1)), utc(6, 12))


async def test_migration_0002_goes_down_and_up_again(database_url: str) -> None:
    def downgrade(connection, revision: str) -> None:  # type: ignore[no-untyped-def]
        config = alembic_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)

    engine = make_engine(database_url)
    try:
        await upgrade(engine)
        async with engine.begin() as connection:
            await connection.run_sync(downgrade, "0001")
        assert await current_revision(engine) == "0001"
        await upgrade(engine)
        assert await current_revision(engine) == head_revision()
    finally:
        await engine.dispose()



async def test_migration_0002_measures_with_the_calendars_of_the_desk_it_is_given(
        tmp_path: Path) -> None:
    """`frontdesk db upgrade` and `frontdesk run` hand over the configured policy: a desk whose
    standard level works around the clock has its old tickets measured around the clock."""
    always = replace(default_policy(), sla_levels=tuple(
        replace(level, calendar=CalendarSpec()) for level in default_policy().sla_levels))
    measured = {}
    for name, policy in (("office hours", None), ("around the clock", always)):
        engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / name}.sqlite3")
        try:
            # Friday 17:00 Moscow, answered Monday 10:00 Moscow
            await stored_before_0002(
                engine, [ticket_row(1, "standard", utc(9, 14), "in_progress", utc(12, 7))],
                status_rows(1, (utc(12, 7), "in_progress")))
            await upgrade(engine, policy=policy)
            measured[name] = (await measures_of(engine, 1))[0]
        finally:
            await engine.dispose()

    microsecond = timedelta(microseconds=1)
    assert measured["office hours"] == 2 * H // microsecond  # Friday 17-18, Monday 9-10
    assert measured["around the clock"] == 65 * H // microsecond
