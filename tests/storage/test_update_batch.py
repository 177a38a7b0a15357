"""A batch of updates in one transaction (storage.batch): a relayed message makes no statement
of its own, a part that fails loses its own changes and only those, and what a part changes,
the next one reads (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.outgoing import Kind, MessageRef, Outgoing
from domain.tickets import Actor, Status, Ticket
from storage.batch import Batch
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
USERS = (701, 702, 703)
CLIENT = Actor("client", 701, "Ann")


async def _tickets(uow_factory: UnitOfWorkFactory, status: Status = Status.NEW) -> list[int]:
    """A client with an open ticket in `status` per account of USERS; their numbers."""
    numbers = []
    async with uow_factory() as uow:
        for user in USERS:
            client = await uow.clients.ensure(user, f"Client {user}", None, "en", NOW)
            number = await uow.tickets.next_number()
            await uow.tickets.add(Ticket(
                number=number, client_id=client.id, subject="Login fails", request_type="bug",
                queue="support", priority="high", sla_level="standard", created_at=NOW,
                first_response_due=NOW + timedelta(hours=2), status=status,
                paused_since=NOW if status is Status.WAITING_CLIENT else None))
            numbers.append(number)
        await uow.commit()
    return numbers


async def _relay(uow: SqlUnitOfWork, user: int) -> Ticket:
    """What a relayed message does in storage: the client's open ticket read, told the client
    wrote, saved, and the copy put in the outbox."""
    client = await uow.clients.by_telegram(user)
    assert client is not None
    (ticket,) = await uow.tickets.of_client(client.id, open_only=True)
    ticket.client_wrote(CLIENT, LATER)
    await uow.tickets.save(ticket)
    await uow.outbox.put(Outgoing(Kind.COPY_TO_TOPIC, ticket.number, client.id,
                                  message=MessageRef(user, (1,), html=f"from {user}")), LATER)
    return ticket


async def _statuses(uow_factory: UnitOfWorkFactory, numbers: list[int]) -> list[Status]:
    async with uow_factory() as uow:
        return [(await uow.tickets.get(number)).status  # type: ignore[union-attr]
                for number in numbers]


async def _copies(uow_factory: UnitOfWorkFactory) -> list[str]:
    """The lanes of the deliveries waiting in the outbox, in order."""
    async with uow_factory() as uow:
        return [lane.name for lane in await uow.outbox.lanes(10)]


@contextmanager
def _statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements sent to the database meanwhile (executemany counted once)."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(" ".join(statement.split()))

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


async def test_relayed_messages_make_no_statement_and_their_copies_go_in_one_at_the_commit(
        engine: AsyncEngine, uow_factory: UnitOfWorkFactory) -> None:
    numbers = await _tickets(uow_factory)
    async with uow_factory() as uow:
        batch = Batch(uow)
        await batch.start(USERS)
        with _statements(engine) as first_part:
            async with batch.part():
                await _relay(uow, USERS[0])
        with _statements(engine) as other_parts:
            for user in (*USERS[1:], USERS[0]):  # Ann writes twice
                async with batch.part():
                    await _relay(uow, user)
        batch.stop()
        with _statements(engine) as at_commit:
            await uow.commit()

    assert [statement.split()[0] for statement in first_part] == ["SAVEPOINT"]
    assert other_parts == []  # not even a savepoint
    assert [statement.split()[0] for statement in at_commit] == ["INSERT"]
    assert await _copies(uow_factory) == [f"ticket:{number}" for number in numbers]


@pytest.mark.parametrize("reads_first", [False, True], ids=["no statement", "a statement"])
async def test_a_failing_part_loses_its_changes_and_only_those(
        uow_factory: UnitOfWorkFactory, reads_first: bool) -> None:
    numbers = await _tickets(uow_factory, Status.WAITING_CLIENT)  # a word moves them to work
    async with uow_factory() as uow:
        batch = Batch(uow)
        await batch.start(USERS)
        async with batch.part():
            await _relay(uow, USERS[0])
        with pytest.raises(RuntimeError):
            async with batch.part():
                if reads_first:
                    await uow.tickets.get(numbers[2])
                await _relay(uow, USERS[1])
                raise RuntimeError("a bug after the change")
        async with batch.part():
            await _relay(uow, USERS[2])
        batch.stop()
        await uow.commit()

    assert await _statuses(uow_factory, numbers) == [
        Status.IN_PROGRESS, Status.WAITING_CLIENT, Status.IN_PROGRESS]
    assert await _copies(uow_factory) == [f"ticket:{numbers[0]}", f"ticket:{numbers[2]}"]


async def test_a_part_refused_by_the_database_is_undone_and_the_batch_goes_on(
        uow_factory: UnitOfWorkFactory) -> None:
    numbers = await _tickets(uow_factory, Status.WAITING_CLIENT)
    async with uow_factory() as uow:
        batch = Batch(uow)
        await batch.start(USERS)
        with pytest.raises(Exception, match="(?i)unique|duplicate"):
            async with batch.part():
                await _relay(uow, USERS[0])
                for _ in range(2):  # on PostgreSQL the transaction is refused from here on
                    await uow.session.execute(text(
                        "INSERT INTO processed_updates (update_id, at) "
                        "VALUES (-7, '2026-01-01')"))
        async with batch.part():
            await _relay(uow, USERS[1])
        batch.stop()
        await uow.commit()

    assert await _statuses(uow_factory, numbers) == [
        Status.WAITING_CLIENT, Status.IN_PROGRESS, Status.WAITING_CLIENT]


async def test_what_a_part_changes_the_next_part_reads(uow_factory: UnitOfWorkFactory) -> None:
    numbers = await _tickets(uow_factory)
    async with uow_factory() as uow:
        batch = Batch(uow)
        await batch.start(USERS)
        async with batch.part():  # an agent closes Ann's ticket, another road than `save`
            await uow.session.execute(text(
                "UPDATE tickets SET status = 'closed' WHERE number = :number"),
                {"number": numbers[0]})
        async with batch.part():  # Ann writes: her ticket is no longer open
            client = await uow.clients.by_telegram(USERS[0])
            assert client is not None
            still_open = await uow.tickets.of_client(client.id, open_only=True)
        batch.stop()
        await uow.rollback()

    assert still_open == []
