"""Storage on both databases: schema, ticket numbers, contracts, tickets with history, links."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from domain.clients import Contract
from domain.outgoing import Kind, Outgoing
from domain.tickets import Actor, Status, Ticket
from storage.engine import head_revision, schema_is_current
from storage.uow import UnitOfWorkFactory

NOW = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


async def _client(uow_factory: UnitOfWorkFactory, user_id: int = 501) -> int:
    async with uow_factory() as uow:
        client = await uow.clients.ensure(user_id, "Bob", "bob", "en", NOW)
        await uow.commit()
    return client.id


def _ticket(number: int, client_id: int) -> Ticket:
    return Ticket(number=number, client_id=client_id, subject="Login fails",
                  request_type="bug", queue="support", priority="high", sla_level="standard",
                  created_at=NOW, first_response_due=NOW + timedelta(hours=2))


async def test_migrated_schema_is_current(engine: AsyncEngine) -> None:
    assert head_revision() is not None
    assert await schema_is_current(engine)


async def test_ticket_numbers_are_sequential_and_unique_under_concurrency(
        uow_factory: UnitOfWorkFactory) -> None:
    async def take_number() -> int:
        async with uow_factory() as uow:
            number = await uow.tickets.next_number()
            await uow.commit()
            return number

    numbers = await asyncio.gather(*(take_number() for _ in range(30)))
    assert sorted(numbers) == list(range(1001, 1031))


async def test_a_rolled_back_number_is_not_given_twice(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        first = await uow.tickets.next_number()
        await uow.commit()
    async with uow_factory() as uow:
        second = await uow.tickets.next_number()
        await uow.commit()
    assert second == first + 1


async def test_contracts_upsert_and_are_found_by_number_or_license_key(
        uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        added, updated = await uow.contracts.upsert_many([
            Contract("C-1", "ACME", "standard", date(2027, 1, 1), False, "KEY-1"),
            Contract("C-2", "Globex", "premium", None, True, None),
        ], NOW)
        await uow.commit()
    assert (added, updated) == (2, 0)
    async with uow_factory() as uow:
        added, updated = await uow.contracts.upsert_many(
            [Contract("C-1", "ACME Corp", "premium", None, True, "KEY-1")], NOW)
        await uow.commit()
    assert (added, updated) == (0, 1)
    async with uow_factory() as uow:
        by_key = await uow.contracts.find("KEY-1")
        assert by_key == Contract("C-1", "ACME Corp", "premium", None, True, "KEY-1")
        assert (await uow.contracts.find("C-2")).customer == "Globex"  # type: ignore[union-attr]
        assert await uow.contracts.find("C-3") is None


async def test_contracts_file_may_swap_license_keys_between_contracts(
        uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.contracts.upsert_many([
            Contract("C-1", "ACME", "standard", None, False, "KEY-1"),
            Contract("C-2", "Globex", "premium", None, False, "KEY-2"),
            Contract("C-3", "Initech", "standard", None, False, "KEY-3"),
        ], NOW)
        await uow.commit()
    async with uow_factory() as uow:
        # C-1 and C-2 swap keys; C-3's key moves to C-4, a contract new in this file
        added, updated = await uow.contracts.upsert_many([
            Contract("C-1", "ACME", "standard", None, False, "KEY-2"),
            Contract("C-2", "Globex", "premium", None, False, "KEY-1"),
            Contract("C-4", "Umbrella", "standard", None, False, "KEY-3"),
        ], NOW)
        await uow.commit()
    assert (added, updated) == (1, 2)
    async with uow_factory() as uow:
        keys = {contract.number: contract.license_key for contract in await uow.contracts.all()}
    assert keys == {"C-1": "KEY-2", "C-2": "KEY-1", "C-3": None, "C-4": "KEY-3"}


async def test_ticket_round_trip_keeps_fields_and_history(uow_factory: UnitOfWorkFactory) -> None:
    client_id = await _client(uow_factory)
    agent = Actor("agent", 1001, "Alice")
    async with uow_factory() as uow:
        ticket = _ticket(await uow.tickets.next_number(), client_id)
        ticket.open(Actor("client", client_id, "Bob"), NOW, "It fails")
        await uow.tickets.add(ticket)
        await uow.commit()
    async with uow_factory() as uow:
        loaded = await uow.tickets.get(ticket.number)
        assert loaded is not None
        loaded.take(agent, NOW + timedelta(minutes=5))
        loaded.move(Status.WAITING_CLIENT, agent, NOW + timedelta(minutes=6))
        await uow.tickets.save(loaded)
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.tickets.get(ticket.number)
        history = await uow.tickets.history(ticket.number)
    assert again is not None
    assert again.status is Status.WAITING_CLIENT
    assert again.assignee_name == "Alice"
    assert again.paused_since == NOW + timedelta(minutes=6)
    assert again.first_response_due == NOW + timedelta(hours=2)
    assert [(e.kind, e.old, e.new) for e in history] == [
        ("opened", None, "new"), ("assigned", None, "Alice"),
        ("status", "new", "in_progress"), ("status", "in_progress", "waiting_client")]


async def test_open_tickets_of_a_client(uow_factory: UnitOfWorkFactory) -> None:
    client_id = await _client(uow_factory)
    async with uow_factory() as uow:
        for _ in range(3):
            await uow.tickets.add(_ticket(await uow.tickets.next_number(), client_id))
        await uow.commit()
    async with uow_factory() as uow:
        ticket = await uow.tickets.get(1002)
        assert ticket is not None
        ticket.move(Status.CLOSED, Actor.system(), NOW)
        await uow.tickets.save(ticket)
        await uow.commit()
    async with uow_factory() as uow:
        open_numbers = [t.number for t in await uow.tickets.of_client(client_id, True)]
        all_numbers = [t.number for t in await uow.tickets.of_client(client_id)]
    assert open_numbers == [1003, 1001]
    assert all_numbers == [1003, 1002, 1001]


async def test_message_links_pair_both_ways(uow_factory: UnitOfWorkFactory) -> None:
    client_id = await _client(uow_factory)
    async with uow_factory() as uow:
        await uow.tickets.add(_ticket(await uow.tickets.next_number(), client_id))
        await uow.links.add(1001, "in", (501, 10), (-100, 77), NOW)
        await uow.commit()
    async with uow_factory() as uow:
        (by_client,) = await uow.links.by_client_message(501, 10)
        (by_staff,) = await uow.links.by_staff_message(-100, 77)
    assert by_client == by_staff
    assert (by_client.ticket_number, by_client.direction) == (1001, "in")


async def test_update_log_sees_an_update_once(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert not await uow.updates.seen(42)
        await uow.updates.record(42, NOW)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.updates.seen(42)


async def test_outbox_rows_keep_their_lane_and_payload(uow_factory: UnitOfWorkFactory) -> None:
    from sqlalchemy import select

    from storage.models import OutboxRow

    async with uow_factory() as uow:
        await uow.outbox.put(Outgoing(Kind.CLIENT_NOTICE, 1001, 7, "acknowledged"), NOW)
        await uow.outbox.put(Outgoing(Kind.CARD, 1001, 7), NOW)
        await uow.commit()
    async with uow_factory() as uow:
        rows = list((await uow.session.execute(select(OutboxRow).order_by(OutboxRow.id)))
                    .scalars())
    assert [(row.lane, row.kind, row.state) for row in rows] == [
        ("client:7", "client_notice", "pending"), ("ticket:1001", "card", "pending")]
