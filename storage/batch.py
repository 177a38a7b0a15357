"""A batch of updates in one transaction, each update undone alone when it fails.

A burst of client messages comes from Telegram as batches of up to 100 updates. Handled in a
transaction each, every message would cost its own round trips to the database: its id
recorded, its client, ticket and conversation state read, its copy put in the outbox, a
commit. Handled as a batch (`bot.middlewares.UpdateMiddleware.batch`), the ids are recorded
in one statement, the clients and their open tickets read ahead in two (`start`; the states,
by `storage.fsm`, in one more), the deliveries inserted in one at the commit, and one commit.

Each update is a `part`: when it fails, its changes are undone (back to a savepoint) and the
other updates' are kept, as if each had had a transaction of its own. A savepoint costs two
statements, as much as all the rest of a burst's message; but a relayed message makes no
statement at all (what it reads was read ahead, its copy waits for the commit, its ticket has
nothing to store), so the savepoint is moved only past a part that made statements: until
then, the one before still marks where the batch stands.

What was read ahead holds until a part makes a statement (the part may have changed a client
or a ticket by any means): from the end of that part on, the database is asked again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.fsm import READ_AHEAD
from storage.uow import SqlUnitOfWork

_SAVEPOINT = "update_part"  # one name: on PostgreSQL, a name per part costs a statement more


class Batch:
    """The parts of one transaction: `start`, a `part` per update, `stop`, then commit."""

    def __init__(self, uow: SqlUnitOfWork) -> None:
        self.uow = uow
        self.statements = 0  # made since the savepoint (or since the start)
        self.saved = False  # whether the savepoint was taken
        self.connection: AsyncConnection | None = None

    async def start(self, telegram_users: Collection[int]) -> None:
        """Count the statements from now on; read ahead the clients behind these accounts and
        their open tickets."""
        self.connection = await self.uow.session.connection()
        event.listen(self.connection.sync_connection, "before_cursor_execute", self._counted)
        client_ids = await self.uow.clients.read_ahead(telegram_users)
        await self.uow.tickets.read_ahead(client_ids)
        self.statements = 1  # the first part starts with a savepoint

    def stop(self) -> None:
        """Stop counting (the connection goes back to the pool with the commit)."""
        if self.connection is not None:
            event.remove(self.connection.sync_connection, "before_cursor_execute",
                         self._counted)

    @asynccontextmanager
    async def part(self) -> AsyncIterator[None]:
        """One update: on an error, its changes are undone and the error goes on."""
        assert self.connection is not None, "start the batch first"
        if self.statements:
            if self.saved:
                await self.connection.exec_driver_sql(f"RELEASE SAVEPOINT {_SAVEPOINT}")
            await self.connection.exec_driver_sql(f"SAVEPOINT {_SAVEPOINT}")
            self.saved, self.statements = True, 0
        deliveries = len(self.uow.outbox.new)
        try:
            yield
            await self.uow.session.flush()
        except BaseException:
            del self.uow.outbox.new[deliveries:]
            if self.statements:
                await self.connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
                self.statements = 0
            self.uow.session.expunge_all()  # its rows may hold what was undone
            self._forget_read_ahead()
            raise
        if self.statements:
            self._forget_read_ahead()

    def _counted(self, *_statement: Any) -> None:
        self.statements += 1

    def _forget_read_ahead(self) -> None:
        self.uow.clients.forget_read_ahead()
        self.uow.tickets.forget_read_ahead()
        self.uow.session.info.pop(READ_AHEAD, None)
