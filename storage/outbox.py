"""The outbox: deliveries recorded with the change that caused them, and the sender's claims
and marks on them (bot/outbox.py decides; the SQL is here)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from domain.outgoing import Outgoing
from storage.models import OutboxRow


@dataclass(frozen=True)
class Lane:
    """A lane with deliveries waiting: how many, and when its head may go."""

    name: str
    waiting: int
    not_before: datetime
    claimed_until: datetime | None


@dataclass(frozen=True)
class Pending:
    """A delivery waiting in its lane (`payload` as stored: JSON)."""

    id: int
    payload: str
    attempts: int
    not_before: datetime
    claimed_by: str | None
    claimed_until: datetime | None


# The statements of every send, built once (building one costs more than running it).
_PUT = insert(OutboxRow)
_LANE_HEAD = (select(OutboxRow.id, OutboxRow.payload, OutboxRow.attempts, OutboxRow.not_before,
                     OutboxRow.claimed_by, OutboxRow.claimed_until)
              .where(OutboxRow.state == "pending", OutboxRow.lane == bindparam("lane"))
              .order_by(OutboxRow.id).limit(bindparam("rows")))
_WAITING = (select(OutboxRow.lane, func.min(OutboxRow.id).label("head"),
                   func.count().label("waiting"))
            .where(OutboxRow.state == "pending").group_by(OutboxRow.lane).subquery())
_LANES = (select(_WAITING.c.lane, _WAITING.c.waiting, OutboxRow.not_before,
                 OutboxRow.claimed_until)
          .join(OutboxRow, OutboxRow.id == _WAITING.c.head)
          .order_by(_WAITING.c.head).limit(bindparam("lanes")))
_CLAIM = (update(OutboxRow)
          .where(OutboxRow.id.in_(bindparam("ids", expanding=True)),
                 OutboxRow.state == "pending",
                 or_(OutboxRow.claimed_until.is_(None),
                     OutboxRow.claimed_until <= bindparam("now"),
                     OutboxRow.claimed_by == bindparam("holder")))
          .values(claimed_by=bindparam("holder"), claimed_until=bindparam("until")))
_UNCLAIM = (update(OutboxRow)
            .where(OutboxRow.id.in_(bindparam("ids", expanding=True)),
                   OutboxRow.claimed_by == bindparam("holder"))
            .values(claimed_by=None, claimed_until=None))
_SETTLE = (update(OutboxRow).where(OutboxRow.id.in_(bindparam("ids", expanding=True)))
           .values(state=bindparam("outcome"), sent_at=bindparam("at"),
                   error=bindparam("reason"), claimed_by=None, claimed_until=None))


class OutboxRepository:
    """Deliveries: put with the change, then claimed, sent and marked by the sender in order
    per lane. Plain Core statements: they run for every message relayed."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        # the deliveries put in this transaction, in order: inserted together at the commit
        # (a batch of updates drops those of an update undone: `storage.batch`)
        self.new: list[dict[str, Any]] = []

    async def put(self, item: Outgoing, at: datetime) -> None:
        """Record a delivery to be made (inserted with the commit)."""
        self.new.append({"lane": item.lane, "kind": item.kind.value,
                         "payload": item.to_json(at), "state": "pending", "attempts": 0,
                         "not_before": at, "created_at": at})

    async def insert_new(self) -> None:
        """Insert the deliveries put, in the order they were put, in one statement."""
        if self.new:
            await self._execute(_PUT, self.new)
            self.new = []

    async def lanes(self, limit: int) -> list[Lane]:
        """The lanes with deliveries waiting, the oldest head first."""
        rows = await self._execute(_LANES, {"lanes": limit})
        return [Lane(*row) for row in rows]

    async def head_payload(self, lane: str) -> str | None:
        """The payload of the lane's next delivery, if any."""
        heads = await self.head(lane, 1)
        return heads[0].payload if heads else None

    async def head(self, lane: str, rows: int) -> list[Pending]:
        """The lane's next `rows` deliveries, in order."""
        found = await self._execute(_LANE_HEAD, {"lane": lane, "rows": rows})
        return [Pending(*row) for row in found]

    async def claim(self, ids: list[int], holder: str, now: datetime, until: datetime) -> bool:
        """Claim these deliveries for `holder` until `until`; False (and none claimed) when
        another holder has one of them."""
        mine = {"ids": ids, "holder": holder}
        connection = await self.session.connection()
        claimed = await connection.execute(_CLAIM, {**mine, "now": now, "until": until})
        if claimed.rowcount != len(ids):
            await connection.execute(_UNCLAIM, mine)  # another process got there first
            return False
        return True

    async def renew_claim(self, ids: list[int], holder: str, until: datetime) -> None:
        """Keep holding these deliveries (while they wait for their turn or go out)."""
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.id.in_(ids), OutboxRow.claimed_by == holder)
            .values(claimed_until=until))

    async def retry_later(self, ids: list[int], not_before: datetime, error: str,
                          count: bool = True) -> None:
        """Give these deliveries back, to be tried again from `not_before` (`count`: one
        more attempt is counted)."""
        await self.session.execute(
            update(OutboxRow).where(OutboxRow.id.in_(ids))
            .values(attempts=OutboxRow.attempts + (1 if count else 0), error=error[:500],
                    claimed_by=None, claimed_until=None, not_before=not_before))

    async def settle(self, ids: list[int], state: str, at: datetime, error: str | None) -> None:
        """Record how these deliveries went ("sent" or "failed")."""
        await self._execute(_SETTLE, {"ids": ids, "outcome": state, "at": at, "reason": error})

    async def release_all_claims(self) -> None:
        """Forget every claim (one process per database, e.g. SQLite, after a crash)."""
        await self.session.execute(update(OutboxRow).where(OutboxRow.state == "pending")
                                   .values(claimed_by=None, claimed_until=None))

    async def _execute(self, statement: Any, parameters: Any) -> list[Any]:
        connection = await self.session.connection()  # plain Core: no ORM bookkeeping
        result = await connection.execute(statement, parameters)
        return result.all() if result.returns_rows else []
