"""A batch of updates holds the tickets' changes and writes them together: a relayed message
makes no statement of its own, yet every statement sees what was changed before it, and a part
that fails loses its own changes and only those (both databases)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from domain.tickets import Actor, Ticket
from storage.transient import HeldWritesFailed, is_transient
from storage.uow import SqlUnitOfWork, UnitOfWorkFactory

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)
USERS = (701, 702, 703)
CLIENT = Actor("client", "701", "Ann")


async def _tickets(uow_factory: UnitOfWorkFactory) -> list[int]:
    """A client with an open ticket per account of USERS; their numbers."""
    numbers = []
    async with uow_factory() as uow:
        for user in USERS:
            client = await uow.clients.ensure(user, f"Client {user}", None, "en", NOW)
            number = await uow.tickets.next_number()
            await uow.tickets.add(Ticket(
                number=number, client_id=client.id, subject="Login fails", request_type="bug",
                queue="support", priority="high", sla_level="standard", created_at=NOW,
                first_response_due=NOW + timedelta(hours=2)))
            numbers.append(number)
        await uow.commit()
    return numbers


async def _relay(uow: SqlUnitOfWork, user: int) -> Ticket:
    """What a relayed message does to the client's ticket (the client read ahead)."""
    client = await uow.clients.by_telegram(user)
    assert client is not None
    (ticket,) = await uow.tickets.of_client(client.id, open_only=True)
    ticket.client_wrote(CLIENT, LATER)
    await uow.tickets.save(ticket)
    return ticket


async def _stored(uow_factory: UnitOfWorkFactory, numbers: list[int]) -> list[datetime | None]:
    async with uow_factory() as uow:
        return [(await uow.tickets.get(number)).last_client_message_at  # type: ignore[union-attr]
                for number in numbers]


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


async def test_relayed_messages_make_no_statement_and_are_written_in_one_at_the_commit(
        engine: AsyncEngine, uow_factory: UnitOfWorkFactory) -> None:
    numbers = await _tickets(uow_factory)
    async with uow_factory() as uow:
        await uow.read_ahead(USERS)
        with _statements(engine) as during_parts:
            for user in USERS:
                async with uow.part():
                    await _relay(uow, user)
        with _statements(engine) as at_commit:
            await uow.commit()

    assert during_parts == []  # not even a savepoint
    assert [statement.split()[0] for statement in at_commit] == ["UPDATE"]
    assert await _stored(uow_factory, numbers) == [LATER] * 3


async def test_a_statement_sees_the_changes_held_before_it(
        uow_factory: UnitOfWorkFactory) -> None:
    numbers = await _tickets(uow_factory)
    async with uow_factory() as uow:
        await uow.read_ahead(USERS)
        async with uow.part():
            await _relay(uow, USERS[0])
        async with uow.part():
            uow.tickets.forget_read_ahead()  # so that the next read asks the database
            seen = await uow.tickets.get(numbers[0])
        await uow.rollback()
    assert seen is not None and seen.last_client_message_at == LATER


@pytest.mark.parametrize("reads_first", [False, True], ids=["no statement", "a statement"])
async def test_a_failing_part_loses_its_held_changes_and_only_those(
        uow_factory: UnitOfWorkFactory, reads_first: bool) -> None:
    numbers = await _tickets(uow_factory)
    async with uow_factory() as uow:
        await uow.read_ahead(USERS)
        async with uow.part():
            await _relay(uow, USERS[0])
        with pytest.raises(RuntimeError):
            async with uow.part():
                await _relay(uow, USERS[1])
                if reads_first:  # the savepoint is taken: Ann's change before it, Ben's after
                    await uow.tickets.get(numbers[2])
                raise RuntimeError("a bug after the change")
        async with uow.part():
            await _relay(uow, USERS[2])
        await uow.commit()
    assert await _stored(uow_factory, numbers) == [LATER, None, LATER]


async def test_held_changes_that_cannot_be_written_send_the_batch_back(
        uow_factory: UnitOfWorkFactory) -> None:
    numbers = await _tickets(uow_factory)
    async with uow_factory() as uow:
        await uow.read_ahead(USERS)
        async with uow.part():
            ticket = await _relay(uow, USERS[0])
            ticket.subject = None  # type: ignore[assignment]  # refused: NOT NULL
            await uow.tickets.save(ticket)
        with pytest.raises(HeldWritesFailed) as raised:
            async with uow.part():  # not this part's fault: the batch is handled again
                await uow.tickets.get(numbers[1])
        await uow.rollback()
    assert is_transient(raised.value)
    assert await _stored(uow_factory, numbers) == [None, None, None]
