"""Database errors that pass (a restart, a dropped connection, a busy SQLite file), and retrying.

Work that must not be lost — an update being recorded, a delivery being marked as sent — is
tried again while the database comes back, instead of being dropped on the first error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy import exc

log = logging.getLogger(__name__)
T = TypeVar("T")

# SQLSTATE classes: 08 connection exception, 53 insufficient resources, 57 operator
# intervention (shutdown, "the database system is starting up"); and two codes that ask to try
# the transaction again: serialization failure and deadlock.
_PASSING_CLASSES = ("08", "53", "57")
_PASSING_CODES = ("40001", "40P01")


def is_transient(error: BaseException) -> bool:
    """Whether the same database work may well succeed if tried again in a moment."""
    if isinstance(error, OSError | TimeoutError | exc.TimeoutError):
        return True  # refused or reset connections, timeouts, an exhausted pool
    if not isinstance(error, exc.DBAPIError):
        return False
    if error.connection_invalidated:
        return True
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        return True
    state = _sqlstate(error)
    return state is not None and (state[:2] in _PASSING_CLASSES or state in _PASSING_CODES)


def _sqlstate(error: exc.DBAPIError) -> str | None:
    for candidate in (error.orig, getattr(error.orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str):
            return state
    return None


async def retry_transient(operation: Callable[[], Awaitable[T]], what: str,
                          give_up_after: float | None = None) -> T:
    """Run `operation`, again and again (with a growing pause) while its errors are transient.

    With `give_up_after` (seconds) the last transient error is raised once that much time has
    passed; without it, the operation is tried until it succeeds or fails for good.
    """
    loop = asyncio.get_running_loop()
    deadline = None if give_up_after is None else loop.time() + give_up_after
    pause = 0.05
    while True:
        try:
            return await operation()
        except Exception as error:
            if not is_transient(error) or (deadline is not None and loop.time() >= deadline):
                raise
            log.warning("%s: the database is unavailable (%s); trying again in %.2fs",
                        what, type(error).__name__, pause)
        await asyncio.sleep(pause)
        pause = min(pause * 2, 2.0)
