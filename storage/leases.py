"""Leases: which process does a singleton job (the scheduler) until when."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LeaseRow


class LeaseRepository:
    """The leases, for the unit of work (`uow.leases`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def take(self, name: str, holder: str, now: datetime, length: timedelta) -> bool:
        """Take the lease if it is free or expired, renew it if ours; True when we hold it."""
        result = await self.session.execute(
            update(LeaseRow).where(LeaseRow.name == name,
                                   or_(LeaseRow.holder == holder, LeaseRow.expires_at < now))
            .values(holder=holder, expires_at=now + length))
        if result.rowcount == 1:  # type: ignore[attr-defined]
            return True
        if await self.session.get(LeaseRow, name) is not None:
            return False
        try:
            async with self.session.begin_nested():
                self.session.add(LeaseRow(name=name, holder=holder, expires_at=now + length))
        except IntegrityError:
            return False  # another process created it first
        return True

    async def release(self, name: str, holder: str, now: datetime) -> None:
        """Give the lease up (a graceful stop), so that the next holder need not wait it out."""
        await self.session.execute(update(LeaseRow).where(LeaseRow.name == name,
                                                          LeaseRow.holder == holder)
                                   .values(expires_at=now))
