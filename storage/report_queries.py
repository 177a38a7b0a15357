"""The report of a period summed up in SQL (`domain.reports.ReportSource`), and the whole
histories it can be checked against (`domain.reports.HistorySource`).

**The sums.** Each ticket keeps its measures (`measured_columns`, taken by `TicketRepository`
whenever a status change or the first response is stored), so a figure is a GROUP BY of the
tickets whose moment lies in the period, by local day, agent and queue: the tickets opened
(``created_at``), first responses (``first_response_at``), final closes (``final_close_at``)
and due times (``first_response_due``, ``resolution_due``). Each moment has a covering index
(``ix_tickets_opened``, ``ix_tickets_first_responses``, ``ix_tickets_final_closes``,
``ix_tickets_first_response_targets``, ``ix_tickets_resolution_targets``) that holds the
assignee, the queue and the measure too, so the table itself is not read. A target met counts
on the day it was met (``first_answer_at``, ``final_resolution_at``: indexes
``ix_tickets_first_responses_met``, ``ix_tickets_resolutions_met``), one missed on its due day.

The local days are a small table of the period's UTC midnights (`days_of`), and each day's
groups are summed by a subquery of their own that returns them as one JSON array: one range
scan of the covering index per day, a few hundred rows to group at a time instead of a sort
of the whole period (SQLite has no hash aggregation), and a few hundred rows to read
instead of one per group. The durations come as comma-separated texts in it; the targets as
the number met and the due times of the others (whether those count depends on the moment
the report is made). The ratings are summed the same way (``ix_ratings_given``), with the
rated ticket's queue.

The status changes: each day's closes, declines and reopens are three range counts of
``ix_ticket_events_new_kind_at``. By agent and queue, the closes are the final closes (from
the tickets, above) and the closes a reopen undid: only a ticket reopened since the start can
have one in the period, so those few tickets' closes are read (``ix_ticket_events_ticket``);
the declines and reopens are few too, and joined to their tickets.

Every query reads the period's rows once: a year's report reads each ticket of the year about
five times in index entries, and the table rows of the few reopened or declined ones.

**The backlog** at the period's end is the status now of each ticket created before the end
and not finished before it (``closed_at`` null or at or after the end), unless a status
changed at or after the end: those few are replayed from their status changes.

**The histories.** The *scope* of a period is every ticket that may have anything in
[start, end): a ticket that was not finished during the whole period — opened before the end,
and open now (``closed_at`` null) or finished at or after the start — plus the tickets
finished before it with a due time or (answered after the close) a first response in it.
``closed_at`` is set by every close or decline and cleared by a reopen, so a ticket whose
``closed_at`` is before the start changed no status since. Each part is an index range scan
and the parts do not overlap; their status changes are then read by lists of ids
(``ix_ticket_events_ticket``).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from functools import partial
from operator import itemgetter
from typing import Any

from sqlalchemy import (
    ARRAY,
    CompoundSelect,
    DateTime,
    Dialect,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    column,
    exists,
    func,
    or_,
    select,
    text,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import CTE

from domain.reports import (
    CLOSED,
    DECLINED,
    FIRST_RESPONSE,
    FIRST_RESPONSES,
    OPENED,
    RATINGS,
    REOPENED,
    RESOLUTION,
    RESOLUTIONS,
    SCORE_TOTAL,
    Measures,
    Period,
    PeriodRows,
    RatingFacts,
    StatusChange,
    Sums,
    TicketFacts,
    microseconds,
)
from storage.models import (
    AgentRow,
    DeflectionRow,
    EventRow,
    RatingRow,
    TicketRow,
    UTCDateTime,
)

IDS_PER_QUERY = 5_000
_Rows = Sequence[Any]  # the rows of a statement


def measured_columns(measures: Measures) -> dict[str, Any]:
    """The `TicketRow` columns that keep a ticket's measures."""
    return {
        "first_response_us": _microseconds(measures.first_response),
        "first_answer_at": measures.first_answer_at,
        "final_resolution_at": measures.resolved_at,
        "resolution_us": _microseconds(measures.resolution),
        "final_close_at": measures.final_close_at,
    }


def _microseconds(duration: timedelta | None) -> int | None:
    return None if duration is None else microseconds(duration)


# -- SQL the two databases spell differently --------------------------------------------------

class _JsonArray(FunctionElement[str]):
    """A JSON array of its arguments (one group)."""

    type = String()
    inherit_cache = True


class _JsonAgg(FunctionElement[str]):
    """The JSON array of a value over the rows of a group (an aggregate)."""

    type = String()
    inherit_cache = True


class _Joined(FunctionElement[str]):
    """The non-null values of a group as one comma-separated text (an aggregate): cheaper
    than a JSON array inside the day's JSON, which SQLite would parse and write again."""

    type = String()
    inherit_cache = True


class _Unindexed(FunctionElement[datetime]):
    """A column compared without using an index for the comparison (SQLite's unary plus):
    SQLite then seeks by the other columns of the condition — in `undone_closes`, a reopened
    ticket's closes by ``ix_ticket_events_ticket``, not every close of the period by
    ``ix_ticket_events_new_kind_at``. PostgreSQL plans well without it."""

    type = UTCDateTime()
    inherit_cache = True


class _InstantText(FunctionElement[str]):
    """A timestamp as fixed-width UTC text, ``YYYY-MM-DD HH:MM:SS.ffffff``."""

    type = String()
    inherit_cache = True


def _arguments(element: FunctionElement[Any], compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_JsonArray)
def _json_array(element: _JsonArray, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_array({_arguments(element, compiler, **kw)})"


@compiles(_JsonArray, "postgresql")
def _json_build_array(element: _JsonArray, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_build_array({_arguments(element, compiler, **kw)})"


@compiles(_JsonAgg)
def _json_group_array(element: _JsonAgg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array({_arguments(element, compiler, **kw)})"


@compiles(_JsonAgg, "postgresql")
def _json_agg(element: _JsonAgg, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg({_arguments(element, compiler, **kw)})"


@compiles(_Joined)
def _group_concat(element: _Joined, compiler: SQLCompiler, **kw: Any) -> str:
    return f"group_concat({_arguments(element, compiler, **kw)}, ',')"


@compiles(_Joined, "postgresql")
def _string_agg(element: _Joined, compiler: SQLCompiler, **kw: Any) -> str:
    return f"string_agg(CAST({_arguments(element, compiler, **kw)} AS TEXT), ',')"


@compiles(_Unindexed)
def _unary_plus(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return f"+{_arguments(element, compiler, **kw)}"


@compiles(_Unindexed, "postgresql")
def _plain(element: _Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return _arguments(element, compiler, **kw)


@compiles(_InstantText)
def _instant_text(element: _InstantText, compiler: SQLCompiler, **kw: Any) -> str:
    return _arguments(element, compiler, **kw)  # SQLite keeps timestamps as this text


@compiles(_InstantText, "postgresql")
def _to_char(element: _InstantText, compiler: SQLCompiler, **kw: Any) -> str:
    return f"to_char({_arguments(element, compiler, **kw)}, 'YYYY-MM-DD HH24:MI:SS.US')"


def days_of(period: Period, dialect: Dialect) -> CTE:
    """The local days of the period as rows (n, since, until): the n-th day is [since, until)
    in UTC. The midnights travel as one parameter (a JSON text for SQLite, two arrays for
    PostgreSQL): a statement with a row of parameters per day would be compiled anew each
    time, at tens of milliseconds a statement."""
    midnights = period.midnights
    if dialect.name == "postgresql":
        naive = [moment.astimezone(UTC).replace(tzinfo=None) for moment in midnights]
        days = text(
            "SELECT CAST(n AS INTEGER) - 1 AS n, since, until FROM unnest("
            "CAST(:sinces AS TIMESTAMP WITHOUT TIME ZONE[]), "
            "CAST(:untils AS TIMESTAMP WITHOUT TIME ZONE[])) "
            "WITH ORDINALITY AS days (since, until, n)").bindparams(
            bindparam("sinces", naive[:-1], type_=ARRAY(DateTime())),
            bindparam("untils", naive[1:], type_=ARRAY(DateTime())))
    else:
        stored = UTCDateTime().dialect_impl(dialect).bind_processor(dialect) or str
        texts = [stored(moment) for moment in midnights]
        days = text(
            "SELECT CAST(key AS INTEGER) AS n, json_extract(value, '$[0]') AS since, "
            "json_extract(value, '$[1]') AS until FROM json_each(:days)").bindparams(
            days=json.dumps(list(zip(texts, texts[1:], strict=False))))
    return days.columns(column("n", Integer), column("since", UTCDateTime),
                        column("until", UTCDateTime)).cte("days")


# -- the sums ---------------------------------------------------------------------------------

def _per_day(days: CTE, groups: Select) -> Select:  # type: ignore[type-arg]
    """Each day with its groups (`groups`: a GROUP BY correlated to the day) as a JSON array
    of arrays, one per group, of the columns of `groups`."""
    group = groups.correlate(days).subquery("g")
    return select(days.c.n, select(_JsonAgg(_JsonArray(*group.c))).scalar_subquery())


def _tickets_of_day(days: CTE, moment: Any, *figures: Any) -> Select:  # type: ignore[type-arg]
    """The tickets whose `moment` is in a day, by agent and queue: `figures` of each group."""
    return (select(TicketRow.assignee_id, TicketRow.queue, *figures)
            .where(moment >= days.c.since, moment < days.c.until)
            .group_by(TicketRow.assignee_id, TicketRow.queue))


def opened_rows(days: CTE) -> Select:  # type: ignore[type-arg]
    """The tickets registered each day, and the newest of them (for the agent's label)."""
    return _per_day(days, _tickets_of_day(days, TicketRow.created_at, func.count(),
                                          func.max(TicketRow.number)))


def final_close_rows(days: CTE) -> Select:  # type: ignore[type-arg]
    """The final closes each day, with their resolution times."""
    return _per_day(days, _tickets_of_day(days, TicketRow.final_close_at, func.count(),
                                          _Joined(TicketRow.resolution_us)))


def first_response_rows(days: CTE) -> Select:  # type: ignore[type-arg]
    """The first-response times, on the day of the first response."""
    return _per_day(days, _tickets_of_day(days, TicketRow.first_response_at,
                                          _Joined(TicketRow.first_response_us))
                    .where(TicketRow.first_response_us.is_not(None)))


def _met(days: CTE, done: Any, due: Any,
         *only: ColumnElement[bool]) -> Select:  # type: ignore[type-arg]
    """The targets met each day, on the day they were met."""
    return _per_day(days, _tickets_of_day(days, done, func.count()).where(done <= due, *only))


def _missed(days: CTE, done: Any, due: Any,
            *only: ColumnElement[bool]) -> Select:  # type: ignore[type-arg]
    """The due times of the targets not met by them, on their due day."""
    return _per_day(days, _tickets_of_day(days, due, _Joined(_InstantText(due)))
                    .where(or_(done.is_(None), done > due), *only))


def first_response_met_rows(days: CTE) -> Select:  # type: ignore[type-arg]
    """The first-response targets met each day (the first answer came by the due time)."""
    return _met(days, TicketRow.first_answer_at, TicketRow.first_response_due)


def first_response_missed_rows(days: CTE) -> Select:  # type: ignore[type-arg]
    """The first-response targets due each day and not met by then."""
    return _missed(days, TicketRow.first_answer_at, TicketRow.first_response_due)


def resolution_met_rows(days: CTE) -> Select:  # type: ignore[type-arg]
    """The resolution targets met each day (declined tickets have none)."""
    return _met(days, TicketRow.final_resolution_at, TicketRow.resolution_due,
                TicketRow.status != DECLINED)


def resolution_missed_rows(days: CTE) -> Select:  # type: ignore[type-arg]
    """The resolution targets due each day and not met by then (declined tickets have none)."""
    return _missed(days, TicketRow.final_resolution_at, TicketRow.resolution_due,
                   TicketRow.status != DECLINED)


def rating_rows_by_day(days: CTE) -> Select:  # type: ignore[type-arg]
    """The ratings given each day, by the agent they rate and the ticket's queue."""
    return _per_day(days, select(RatingRow.agent_id, TicketRow.queue, func.count(),
                                 func.sum(RatingRow.score))
                    .join(TicketRow, TicketRow.id == RatingRow.ticket_id)
                    .where(RatingRow.at >= days.c.since, RatingRow.at < days.c.until)
                    .group_by(RatingRow.agent_id, TicketRow.queue))


def deflection_rows_by_day(days: CTE) -> Select:  # type: ignore[type-arg]
    """The intakes ended by a known answer each day."""
    return (select(days.c.n, func.count()).select_from(days)
            .join(DeflectionRow, and_(DeflectionRow.at >= days.c.since,
                                      DeflectionRow.at < days.c.until))
            .group_by(days.c.n))


def changes_by_day(days: CTE) -> Select:  # type: ignore[type-arg]
    """How many changes into closed, declined and reopened each day had: three range counts
    of ``ix_ticket_events_new_kind_at`` per day (its agents and queues: `changes_by_agent`,
    the final closes and `undone_closes`)."""
    def changes(status: str) -> Any:
        return (select(func.count()).where(
            EventRow.new == status, EventRow.kind == "status", EventRow.at >= days.c.since,
            EventRow.at < days.c.until).scalar_subquery())

    return select(days.c.n, changes(CLOSED), changes(DECLINED), changes(REOPENED))


def changes_by_agent(start: datetime, end: datetime) -> Select:  # type: ignore[type-arg]
    """How many declines and reopens each agent and queue had in [start, end)."""
    return (select(EventRow.new, TicketRow.assignee_id, TicketRow.queue, func.count())
            .select_from(EventRow).join(TicketRow, TicketRow.id == EventRow.ticket_id)
            .where(EventRow.new.in_((DECLINED, REOPENED)), EventRow.kind == "status",
                   _within(EventRow.at, start, end))
            .group_by(EventRow.new, TicketRow.assignee_id, TicketRow.queue))


_REOPENS = EventRow.__table__.alias("reopens")


def undone_closes(start: datetime, end: datetime) -> Select:  # type: ignore[type-arg]
    """How many closes in [start, end) a reopen undid, by agent and queue: a ticket's closes
    in the period but its final one. Only a ticket reopened since `start` can have one, and
    those are few: their closes are read by ``ix_ticket_events_ticket``."""
    reopened_since = (select(_REOPENS.c.ticket_id)
                      .where(_REOPENS.c.new == REOPENED, _REOPENS.c.kind == "status",
                             _REOPENS.c.at >= start))
    final_in_period = and_(TicketRow.status == CLOSED,
                           _within(TicketRow.final_close_at, start, end))
    per_ticket = (select(TicketRow.assignee_id, TicketRow.queue,
                         (func.count() - case((final_in_period, 1), else_=0)).label("undone"))
                  .select_from(EventRow).join(TicketRow, TicketRow.id == EventRow.ticket_id)
                  .where(EventRow.ticket_id.in_(reopened_since), EventRow.kind == "status",
                         EventRow.new == CLOSED, _within(_Unindexed(EventRow.at), start, end))
                  .group_by(TicketRow.id).subquery("per_ticket"))
    return (select(per_ticket.c.assignee_id, per_ticket.c.queue,
                   func.sum(per_ticket.c.undone))
            .group_by(per_ticket.c.assignee_id, per_ticket.c.queue))


def _unfinished_at(end: datetime) -> list[ColumnElement[bool]]:
    """The tickets that may be open at `end`, in two disjoint index range scans: created
    before it and open now, or finished at or after it."""
    return [and_(TicketRow.closed_at.is_(None), TicketRow.created_at < end),
            and_(TicketRow.closed_at >= end, TicketRow.created_at < end)]


def _changed_since(end: datetime) -> ColumnElement[bool]:
    return exists().where(EventRow.ticket_id == TicketRow.id, EventRow.kind == "status",
                          EventRow.at >= end)


def backlog_rows(end: datetime, changed_since: bool) -> list[Select]:  # type: ignore[type-arg]
    """The status now of the tickets that may be open at `end` and changed no status since
    (with `changed_since`: of every one, when no status changed since). One row each, not a
    GROUP BY: SQLite would walk ``ix_tickets_status`` through the whole table for its order."""
    unchanged = ~_changed_since(end) if changed_since else and_(True)
    return [select(TicketRow.status).where(part, unchanged) for part in _unfinished_at(end)]


def changed_tickets(end: datetime) -> list[Select]:  # type: ignore[type-arg]
    """The tickets that may be open at `end` and changed status since: replayed."""
    return [select(TicketRow.id, _utc(TicketRow.created_at)).where(part, _changed_since(end))
            for part in _unfinished_at(end)]


def _day_groups(joined: str | list[list[Any]] | None) -> list[list[Any]]:
    """A day's groups: the JSON text (SQLite), or what asyncpg decoded of it already."""
    if isinstance(joined, str):
        return json.loads(joined)  # type: ignore[no-any-return]
    return joined or []


def _floats(joined: str | None) -> list[float]:
    """Whole microseconds (`_Joined`) as floats (see `domain.reports.Tally`)."""
    return list(map(float, joined.split(","))) if joined else []


def _instants(joined: str | None) -> list[datetime]:
    """UTC instants (`_Joined` `_InstantText`)."""
    return [datetime.fromisoformat(value + "+00:00") for value in joined.split(",")] \
        if joined else []


class _Reading:
    """What the rows of each sum add to the period's `Sums`."""

    def __init__(self, period: Period) -> None:
        self.first, self.sums = period.first, Sums(period)
        self.newest: dict[int, int] = {}  # agent -> number of their newest ticket opened
        self.deflected: dict[date, int] = {}

    def _days(self, rows: _Rows) -> Iterator[tuple[date, list[list[Any]]]]:
        for n, joined in rows:
            yield self.first + timedelta(days=n), _day_groups(joined)

    def opened(self, rows: _Rows) -> None:
        """`opened_rows`."""
        for day, groups in self._days(rows):
            self.sums.count(OPENED, day, ((agent, queue, opened)
                                          for agent, queue, opened, _ in groups))
            for agent, _, _, number in groups:
                if agent is not None and number > self.newest.get(agent, -1):
                    self.newest[agent] = number

    def final_closes(self, rows: _Rows) -> None:
        """`final_close_rows`: the days count every close (`changes_by_day`), the agents
        and queues their final closes here."""
        for day, groups in self._days(rows):
            self.sums.count_agents(CLOSED, ((agent, queue, closed)
                                            for agent, queue, closed, _ in groups))
            self.sums.durations(RESOLUTIONS, day, ((agent, queue, _floats(values))
                                                   for agent, queue, _, values in groups))

    def first_responses(self, rows: _Rows) -> None:
        """`first_response_rows`."""
        for day, groups in self._days(rows):
            self.sums.durations(FIRST_RESPONSES, day, ((agent, queue, _floats(values))
                                                       for agent, queue, values in groups))

    def met(self, figure: str, rows: _Rows) -> None:
        """`first_response_met_rows`, `resolution_met_rows`."""
        for day, groups in self._days(rows):
            self.sums.targets(figure, day, ((agent, queue, met, [])
                                            for agent, queue, met in groups))

    def missed(self, figure: str, rows: _Rows) -> None:
        """`first_response_missed_rows`, `resolution_missed_rows`."""
        for day, groups in self._days(rows):
            self.sums.targets(figure, day, ((agent, queue, 0, _instants(missed))
                                            for agent, queue, missed in groups))

    def ratings(self, rows: _Rows) -> None:
        """`rating_rows_by_day`."""
        for day, groups in self._days(rows):
            self.sums.count(RATINGS, day, ((agent, queue, ratings)
                                           for agent, queue, ratings, _ in groups))
            self.sums.count(SCORE_TOTAL, day, ((agent, queue, scores)
                                               for agent, queue, _, scores in groups))

    def changes_by_day(self, rows: _Rows) -> None:
        """`changes_by_day`."""
        for index, status in enumerate((CLOSED, DECLINED, REOPENED), start=1):
            self.sums.count_days(status, ((self.first + timedelta(days=row[0]), row[index])
                                          for row in rows))

    def changes_by_agent(self, rows: _Rows) -> None:
        """`changes_by_agent`."""
        for new, agent, queue, count in rows:
            self.sums.count_agents(new, ((agent, queue, count),))

    def undone_closes(self, rows: _Rows) -> None:
        """`undone_closes`."""
        self.sums.count_agents(CLOSED, ((agent, queue, int(count))  # a sum: PostgreSQL's numeric
                                        for agent, queue, count in rows))

    def deflections(self, rows: _Rows) -> None:
        """`deflection_rows_by_day`."""
        self.deflected = {self.first + timedelta(days=n): count for n, count in rows}


async def _read(connection: AsyncConnection,
                steps: Sequence[tuple[Executable, Callable[[_Rows], None]]]) -> None:
    """Run each statement and hand its rows to its reader. On PostgreSQL the next statement
    already runs in the server while Python reads the rows of the one before (a year's sums
    keep both busy for about as long); SQLite works in this process, and a statement in
    aiosqlite's thread would only compete with the reading for the interpreter."""
    async def rows_of(statement: Executable) -> _Rows:
        return (await connection.execute(statement)).all()

    if connection.dialect.name != "postgresql":
        for statement, read in steps:
            read(await rows_of(statement))
        return
    running = asyncio.ensure_future(rows_of(steps[0][0]))
    try:
        for index, (_, read) in enumerate(steps):
            rows = await running
            if index + 1 < len(steps):
                running = asyncio.ensure_future(rows_of(steps[index + 1][0]))
                await asyncio.sleep(0)  # it sends its statement
            read(rows)
    except BaseException:
        with suppress(Exception):
            await running  # the connection is free again only once its statement ended
        raise


# -- the histories ----------------------------------------------------------------------------

class _ReadUTC(UTCDateTime):
    """`UTCDateTime` read with one plain function per value: histories hold many of them."""

    cache_ok = True

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any]:
        if dialect.name == "sqlite":  # stored as ISO text, UTC: parsed aware in one call
            def from_text(value: str | None) -> datetime | None:
                return None if value is None else datetime.fromisoformat(value + "+00:00")
            return from_text

        def from_naive(value: datetime | None) -> datetime | None:
            return None if value is None else value.replace(tzinfo=UTC)
        return from_naive


def _utc(column: Any) -> Any:
    """A timestamp column read the fast way."""
    return type_coerce(column, _ReadUTC()).label(column.key)


def _within(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(column >= start, column < end)


def _outside(column: Any, start: datetime, end: datetime) -> ColumnElement[bool]:
    return or_(column.is_(None), column < start, column >= end)


def scope(start: datetime, end: datetime) -> list[ColumnElement[bool]]:
    """Which tickets the period [start, end) needs (see the module's docstring), in disjoint
    parts: each is one index range scan, and no ticket is in two of them."""
    first_due, resolution_due = TicketRow.first_response_due, TicketRow.resolution_due
    finished_before = TicketRow.closed_at < start  # false for open tickets (null)
    return [
        and_(TicketRow.closed_at.is_(None), TicketRow.created_at < end),
        and_(TicketRow.closed_at >= start, TicketRow.created_at < end),
        and_(_within(first_due, start, end), finished_before),
        and_(_within(resolution_due, start, end), finished_before,
             _outside(first_due, start, end)),
        and_(_within(TicketRow.first_response_at, start, end), finished_before,
             _outside(first_due, start, end), _outside(resolution_due, start, end)),
    ]


def ticket_rows(start: datetime, end: datetime) -> CompoundSelect:
    """The scope's tickets: what a replay needs of each. The parts are disjoint, so their
    rows are simply put together: no sort, no join back to the whole table."""
    columns = (TicketRow.id, TicketRow.number, TicketRow.queue, TicketRow.sla_level,
               TicketRow.assignee_id, TicketRow.assignee_name, _utc(TicketRow.created_at),
               _utc(TicketRow.first_response_at), _utc(TicketRow.first_response_due),
               _utc(TicketRow.resolution_due))
    return union_all(*(select(*columns).where(condition) for condition in scope(start, end)))


def status_changes(ticket_ids: Sequence[int]) -> Select:  # type: ignore[type-arg]
    """Every status change of these tickets, by ticket, oldest first."""
    return (select(EventRow.ticket_id, _utc(EventRow.at), EventRow.old, EventRow.new)
            .where(EventRow.kind == "status", EventRow.ticket_id.in_(ticket_ids))
            .order_by(EventRow.ticket_id, EventRow.id))


def rating_rows(start: datetime, end: datetime) -> Select:  # type: ignore[type-arg]
    """The ratings given in [start, end), with the rated ticket's queue."""
    return (select(RatingRow.at, RatingRow.score, RatingRow.agent_id, TicketRow.queue)
            .join(TicketRow, TicketRow.id == RatingRow.ticket_id)
            .where(_within(RatingRow.at, start, end)))


def deflection_rows(start: datetime, end: datetime) -> Select:  # type: ignore[type-arg]
    """When intakes in [start, end) ended with a known answer."""
    return select(DeflectionRow.at).where(_within(DeflectionRow.at, start, end))


async def _changes_of(connection: AsyncConnection,
                      ticket_ids: Sequence[int]) -> dict[int, list[StatusChange]]:
    """The status changes of these tickets, by lists of ids (index lookups, not a join the
    planner may turn into a scan of the whole history; lists short enough for any driver)."""
    changes: dict[int, list[StatusChange]] = {}
    for first in range(0, len(ticket_ids), IDS_PER_QUERY):
        chunk = ticket_ids[first:first + IDS_PER_QUERY]
        for ticket_id, at, old, new in (await connection.execute(status_changes(chunk))).all():
            changes.setdefault(ticket_id, []).append(StatusChange(at, old, new or ""))
    return changes


# -- the port ---------------------------------------------------------------------------------

class ReportQueries:
    """Reads a report period: its sums (`domain.reports.ReportSource`) or its whole histories
    (`domain.reports.HistorySource`)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def period_rows(self, period: Period) -> PeriodRows:
        """The period's figures summed up per local day, agent and queue; its backlog."""
        # Core rows through the session's connection: no ORM bookkeeping.
        connection = await self.session.connection()
        if connection.dialect.name == "postgresql":
            # Many short statements: compiling one to machine code (JIT) or starting workers
            # for it costs more than it saves.
            await connection.execute(text("SET LOCAL jit = off"))
            await connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        days, start, end = days_of(period, connection.dialect), period.start, period.end
        reading = _Reading(period)
        await _read(connection, [
            (opened_rows(days), reading.opened),
            (final_close_rows(days), reading.final_closes),
            (first_response_rows(days), reading.first_responses),
            (first_response_met_rows(days), partial(reading.met, FIRST_RESPONSE)),
            (first_response_missed_rows(days), partial(reading.missed, FIRST_RESPONSE)),
            (resolution_met_rows(days), partial(reading.met, RESOLUTION)),
            (resolution_missed_rows(days), partial(reading.missed, RESOLUTION)),
            (rating_rows_by_day(days), reading.ratings),
            (changes_by_day(days), reading.changes_by_day),
            (changes_by_agent(start, end), reading.changes_by_agent),
            (undone_closes(start, end), reading.undone_closes),
            (deflection_rows_by_day(days), reading.deflections),
        ])
        return PeriodRows(reading.sums, await self._backlog(connection, end), reading.deflected,
                          await self._names(connection, reading.newest))

    async def _backlog(self, connection: AsyncConnection, end: datetime) -> dict[str, int]:
        """Tickets by status at `end`: the status now, or replayed if it changed since."""
        # the newest event of any kind: one step down `ix_ticket_events_at`
        latest = (await connection.execute(
            select(type_coerce(func.max(EventRow.at), _ReadUTC())))).scalar()
        changed_since = latest is not None and latest >= end
        backlog: Counter[str] = Counter()
        for query in backlog_rows(end, changed_since):
            backlog.update((await connection.execute(query)).scalars())
        if changed_since:
            created: dict[int, datetime] = {
                ticket_id: created_at for query in changed_tickets(end)
                for ticket_id, created_at in (await connection.execute(query)).all()}
            changes = await _changes_of(connection, sorted(created))
            for ticket_id, created_at in created.items():
                facts = TicketFacts(ticket_id, "", "", None, None, created_at,
                                    changes=tuple(changes.get(ticket_id, ())))
                status = facts.status_at(end)
                if status is not None:
                    backlog[status] += 1
        return dict(backlog)

    async def _names(self, connection: AsyncConnection,
                     newest: dict[int, int]) -> dict[int, str]:
        """The agents' labels: the name on the newest ticket opened for them in the period
        (`newest`: agent -> number), else the one the bot saw last."""
        names = await self.agent_names()
        numbers = list(newest.values())
        for first in range(0, len(numbers), IDS_PER_QUERY):
            rows = await connection.execute(
                select(TicketRow.assignee_id, TicketRow.assignee_name)
                .where(TicketRow.number.in_(numbers[first:first + IDS_PER_QUERY])))
            names.update((agent, name) for agent, name in rows if agent is not None and name)
        return names

    async def tickets(self, start: datetime, end: datetime) -> list[TicketFacts]:
        """Every ticket the period needs, with all its status changes, oldest first."""
        connection = await self.session.connection()
        rows = sorted((await connection.execute(ticket_rows(start, end))).all(),
                      key=itemgetter(0))
        changes = await _changes_of(connection, [row[0] for row in rows])
        return [TicketFacts(number, queue, sla_level, assignee_id, assignee_name, created_at,
                            first_response_at, first_response_due, resolution_due,
                            tuple(changes.get(ticket_id, ())))
                for (ticket_id, number, queue, sla_level, assignee_id, assignee_name,
                     created_at, first_response_at, first_response_due, resolution_due) in rows]

    async def ratings(self, start: datetime, end: datetime) -> list[RatingFacts]:
        """The ratings given in [start, end), with the rated ticket's queue."""
        rows = await self.session.execute(rating_rows(start, end))
        return [RatingFacts(at, score, agent_id, queue) for at, score, agent_id, queue in rows]

    async def deflections(self, start: datetime, end: datetime) -> list[datetime]:
        """When intakes in [start, end) ended with a known answer."""
        result = await self.session.execute(deflection_rows(start, end))
        return [at for (at,) in result]

    async def agent_names(self) -> dict[int, str]:
        """The names of the staff members the bot has seen (for agents rated, not assigned)."""
        rows = await self.session.execute(select(AgentRow.user_id, AgentRow.name))
        return {int(user_id): str(name) for user_id, name in rows}
