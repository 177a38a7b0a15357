"""The registry finds contracts as people type them, including those stored before 0003."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from domain.clients import Contract
from storage.engine import make_engine, make_sessionmaker, upgrade
from storage.uow import UnitOfWorkFactory

NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
NAIVE = NOW.replace(tzinfo=None)  # as the column stores it
# the contracts table as revision 0002 made it
CONTRACTS_0002 = sa.table("contracts", *(sa.column(name) for name in (
    "number", "customer", "sla_level", "special_requests", "license_key", "imported_at")))


async def test_contracts_stored_before_the_keys_are_found_as_typed(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        await upgrade(engine, "0002")
        async with engine.begin() as connection:  # as revision 0002 stored them
            await connection.execute(sa.insert(CONTRACTS_0002), [
                {"number": "C-100", "customer": "ACME", "sla_level": "standard",
                 "special_requests": False, "license_key": "LIC-ACME-1", "imported_at": NAIVE},
                {"number": "C100", "customer": "ACME bis", "sla_level": "standard",
                 "special_requests": False, "license_key": None, "imported_at": NAIVE}])
        await upgrade(engine)
        async with UnitOfWorkFactory(make_sessionmaker(engine))() as uow:
            found = {typed: await uow.contracts.find(typed)
                     for typed in ("№ с-100", "C100", "C-100", "lic acme 1", "C-1000")}
            await uow.contracts.upsert_many([Contract("D-7", "Initech", "basic")], NOW)
            later = await uow.contracts.find("d 7")
    finally:
        await engine.dispose()
    assert {typed: contract and contract.customer for typed, contract in found.items()} == {
        "№ с-100": "ACME",  # two spellings share the key: the first by number
        "C100": "ACME bis", "C-100": "ACME",  # an exact spelling wins
        "lic acme 1": "ACME", "C-1000": None}
    assert later is not None and later.number == "D-7"

