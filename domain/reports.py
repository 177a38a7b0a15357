"""Report arithmetic: the desk's figures for a period, computed from tickets' status changes.

Everything here is pure: the storage hands over plain rows (`TicketFacts` with the ticket's
status changes, `RatingFacts`, deflection times) and `build_report` counts and measures.

The rules
---------
A period is ``[start, end)`` between two local midnights of the staff time zone; a figure
belongs to the period (and to the local day) of the moment named here.

* **opened** — the ticket's registration (``created_at``).
* **closed / declined / reopened** — every status change *into* that status in the period.
  A ticket closed, reopened and closed again counts two closes and one reopen, so that
  ``open at end = open at start + opened + reopened - closed - declined`` (a reopen from
  ``resolved`` — the client's "still a problem" — counts as a reopen of a ticket that was
  still open, so it is the one exception to that sum).
* **first response time** — counted at the first response: the business time (the SLA level's
  calendar) from the registration to the first agent reply, minus the business time the ticket
  spent waiting for the client or a third party before it.
* **resolution time** — counted once, at the ticket's *final* close (a ticket closed now whose
  last change into ``closed`` falls in the period; an earlier close undone by a reopen counts
  no resolution). It is the business time from the registration to the final resolution, minus
  the time spent waiting for the client or a third party. The final resolution is the moment
  the ticket entered ``resolved`` on its way to that close (the client's confirmation or the
  auto-close adds nothing), or the close itself when it skipped ``resolved``. Time between an
  early resolution and a reopen counts: the problem was not solved then. Declined tickets have
  no resolution time.
* **SLA compliance** — a ticket counts in the period that holds its due time
  (``first_response_due``, ``resolution_due``: the desk's own deadlines, which already moved
  while the clock was stopped), once its outcome is known: met when the first response (or a
  resolution, close or decline before any reply) came by the due time; the resolution target
  is met when the final resolution came by it. A due time that has passed unmet is a breach;
  one still ahead and unmet is left out. Declined tickets have no resolution target.
* **CSAT** — ratings given in the period (their score and the agent they rate).
* **backlog** — the status of every ticket at the period's end, replayed from its status
  changes (exact for any past period); closed and declined tickets are not backlog.
* **per agent** — the ticket's assignee (now); ratings count for the agent they name.
  **per queue** — the ticket's queue (now). **per day** — the local day of the moment above.

Medians are `statistics.median` (the mean of the two middle values for an even count); the
90th percentile is the nearest-rank value: the smallest duration with at least 90 % of the
durations at or below it (always one that occurred).
"""

from __future__ import annotations

import math
import re
import statistics
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Protocol
from zoneinfo import ZoneInfo

from domain.calendar import BusinessCalendar
from domain.errors import DeskError
from domain.policy import CalendarSpec, Policy
from domain.tickets import Status

NEW, RESOLVED, CLOSED = Status.NEW.value, Status.RESOLVED.value, Status.CLOSED.value
DECLINED, REOPENED = Status.DECLINED.value, Status.REOPENED.value
WAITING = frozenset({Status.WAITING_CLIENT.value, Status.WAITING_THIRD_PARTY.value})
SETTLED = frozenset({RESOLVED, CLOSED})
ANSWERED_BY = frozenset({RESOLVED, CLOSED, DECLINED})
FINISHED = frozenset({CLOSED, DECLINED})
COUNTED = frozenset({CLOSED, DECLINED, REOPENED})
NOBODY = ""  # the agent key of unassigned tickets


class BadPeriod(DeskError):
    """The period is not one of: today, week, month, YYYY, YYYY-MM, YYYY-MM-DD[..YYYY-MM-DD]."""


# -- the period -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Period:
    """Local days ``first .. last`` (inclusive) in a time zone, as the instants [start, end)."""

    first: date
    last: date
    zone: str

    @cached_property
    def start(self) -> datetime:
        """The period's first instant (local midnight of `first`)."""
        return _midnight(self.first, self.zone)

    @cached_property
    def end(self) -> datetime:
        """The instant right after the period (local midnight after `last`)."""
        return _midnight(self.last + timedelta(days=1), self.zone)

    def days(self) -> list[date]:
        """Every local day of the period, in order."""
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def day_of(self, moment: datetime) -> date:
        """The local day of an instant."""
        return moment.astimezone(ZoneInfo(self.zone)).date()

    def holds(self, moment: datetime | None) -> bool:
        """Whether an instant lies in [start, end)."""
        return moment is not None and self.start <= moment < self.end


def _midnight(day: date, zone: str) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(zone))


_DAY = r"(\d{4})-(\d{2})-(\d{2})"
_WORDS = {"today": "today", "сегодня": "today", "week": "week", "неделя": "week",
          "month": "month", "месяц": "month", "year": "year", "год": "year"}
MAX_DAYS = 3 * 366


def parse_period(text: str | None, today: date, zone: str, default: str = "month") -> Period:
    """A period from what a person typed (BadPeriod if it is none of the accepted forms).

    ``today``, ``week`` (Monday to Sunday of this week), ``month``, ``year`` (this calendar
    month or year), ``2026`` (a year), ``2026-10`` (a month), ``2026-10-05`` (a day) and
    ``2026-10-01..2026-10-15`` (both days included). Russian words work too.
    """
    word = (text or default).strip().lower()
    try:
        first, last = _bounds(_WORDS.get(word, word), today)
    except ValueError:  # a malformed or impossible date
        raise BadPeriod(word) from None
    if last < first or (last - first).days >= MAX_DAYS:
        raise BadPeriod(word)
    return Period(first, last, zone)


def _bounds(word: str, today: date) -> tuple[date, date]:
    if word == "today":
        return today, today
    if word == "week":
        monday = today - timedelta(days=today.weekday())
        return monday, monday + timedelta(days=6)
    if word == "month":
        return _month(today.year, today.month)
    if word == "year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    if re.fullmatch(r"\d{4}", word):
        return date(int(word), 1, 1), date(int(word), 12, 31)
    if found := re.fullmatch(r"(\d{4})-(\d{2})", word):
        return _month(int(found[1]), int(found[2]))
    if found := re.fullmatch(_DAY, word):
        day = date(int(found[1]), int(found[2]), int(found[3]))
        return day, day
    if found := re.fullmatch(_DAY + r"\s*\.\.\s*" + _DAY, word):
        numbers = [int(part) for part in found.groups()]
        return date(*numbers[:3]), date(*numbers[3:])
    raise ValueError(word)


def _month(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


# -- the rows the storage hands over ----------------------------------------------------------

@dataclass(frozen=True)
class StatusChange:
    """One change of a ticket's status."""

    at: datetime
    old: str | None
    new: str


@dataclass(frozen=True)
class TicketFacts:
    """What the report needs of one ticket: its attributes now and every status change."""

    number: int
    queue: str
    sla_level: str
    assignee_id: int | None
    assignee_name: str | None
    created_at: datetime
    first_response_at: datetime | None = None
    first_response_due: datetime | None = None
    resolution_due: datetime | None = None
    changes: tuple[StatusChange, ...] = ()  # oldest first

    @property
    def status(self) -> str:
        """The status now."""
        return self.changes[-1].new if self.changes else NEW

    def status_at(self, moment: datetime) -> str | None:
        """The status just before `moment` (None if the ticket did not exist yet)."""
        if self.created_at >= moment:
            return None
        status = NEW
        for change in self.changes:
            if change.at >= moment:
                break
            status = change.new
        return status


@dataclass(frozen=True)
class RatingFacts:
    """A satisfaction rating: when, how much, for which agent, in which queue."""

    at: datetime
    score: int
    agent_id: int | None
    queue: str | None = None


# -- one ticket's measures --------------------------------------------------------------------

@dataclass(frozen=True)
class Measures:
    """The timings of one ticket, from its history."""

    first_response: timedelta | None  # business time to the first reply, waiting excluded
    first_answer_at: datetime | None  # first reply, or resolution/close/decline before one
    resolved_at: datetime | None  # the final resolution, if the ticket is resolved or closed
    resolution: timedelta | None  # business time to `resolved_at`, waiting excluded
    final_close_at: datetime | None  # the last change into closed, if closed now


def measure(ticket: TicketFacts, calendar: BusinessCalendar) -> Measures:
    """The ticket's first response and resolution times and the moments they count at."""
    waiting = _waiting_intervals(ticket)
    first_response = None
    if ticket.first_response_at is not None:
        first_response = _working_time(ticket.created_at, ticket.first_response_at, waiting,
                                       calendar)
    first_answer = ticket.first_response_at
    for change in ticket.changes:
        if change.new in ANSWERED_BY:
            if first_answer is None or change.at < first_answer:
                first_answer = change.at
            break
    resolved_at = _final_resolution(ticket.changes)
    resolution = None
    if resolved_at is not None:
        resolution = _working_time(ticket.created_at, resolved_at, waiting, calendar)
    final_close = ticket.changes[-1].at if ticket.status == CLOSED else None
    return Measures(first_response, first_answer, resolved_at, resolution, final_close)


def _waiting_intervals(ticket: TicketFacts) -> list[tuple[datetime, datetime | None]]:
    """The intervals spent waiting for the client or a third party (the last may be open)."""
    intervals: list[tuple[datetime, datetime | None]] = []
    since: datetime | None = None
    for change in ticket.changes:
        if change.new in WAITING and since is None:
            since = change.at
        elif change.new not in WAITING and since is not None:
            intervals.append((since, change.at))
            since = None
    if since is not None:
        intervals.append((since, None))
    return intervals


def _working_time(start: datetime, end: datetime,
                  waiting: Sequence[tuple[datetime, datetime | None]],
                  calendar: BusinessCalendar) -> timedelta:
    """Business time in [start, end) outside the waiting intervals."""
    total = calendar.elapsed(start, end)
    for since, until in waiting:
        lo, hi = max(since, start), min(until or end, end)
        if lo < hi:
            total -= calendar.elapsed(lo, hi)
    return total


def _final_resolution(changes: Sequence[StatusChange]) -> datetime | None:
    """Where the last run of changes into resolved/closed began (None if it is not settled)."""
    moment = None
    for change in reversed(changes):
        if change.new not in SETTLED:
            break
        moment = change.at
    return moment


# -- the figures ------------------------------------------------------------------------------

@dataclass
class Tally:
    """Counts and samples of one slice (the desk, an agent, a queue, a day) while counting."""

    opened: int = 0
    closed: int = 0
    declined: int = 0
    reopened: int = 0
    first_responses: list[timedelta] = field(default_factory=list)
    resolutions: list[timedelta] = field(default_factory=list)
    first_response_met: int = 0
    first_response_due: int = 0
    resolution_met: int = 0
    resolution_due: int = 0
    scores: list[int] = field(default_factory=list)

    def count(self, status: str) -> None:
        """One more change into closed, declined or reopened."""
        if status == CLOSED:
            self.closed += 1
        elif status == DECLINED:
            self.declined += 1
        elif status == REOPENED:
            self.reopened += 1

    def figures(self) -> Figures:
        """The finished figures of this slice."""
        return Figures(
            opened=self.opened, closed=self.closed, declined=self.declined,
            reopened=self.reopened,
            first_response_median=_median(self.first_responses),
            first_response_p90=_nearest_rank(self.first_responses, 90),
            first_responses=len(self.first_responses),
            resolution_median=_median(self.resolutions),
            resolution_p90=_nearest_rank(self.resolutions, 90),
            resolutions=len(self.resolutions),
            first_response_met=self.first_response_met,
            first_response_due=self.first_response_due,
            resolution_met=self.resolution_met, resolution_due=self.resolution_due,
            csat=statistics.fmean(self.scores) if self.scores else None,
            ratings=len(self.scores))


@dataclass(frozen=True)
class Figures:
    """The figures of one slice of the period."""

    opened: int = 0
    closed: int = 0
    declined: int = 0
    reopened: int = 0
    first_response_median: timedelta | None = None
    first_response_p90: timedelta | None = None
    first_responses: int = 0
    resolution_median: timedelta | None = None
    resolution_p90: timedelta | None = None
    resolutions: int = 0
    first_response_met: int = 0
    first_response_due: int = 0
    resolution_met: int = 0
    resolution_due: int = 0
    csat: float | None = None
    ratings: int = 0

    @property
    def first_response_compliance(self) -> float | None:
        """Share of first-response targets met, in percent (None when none was due)."""
        return _percent(self.first_response_met, self.first_response_due)

    @property
    def resolution_compliance(self) -> float | None:
        """Share of resolution targets met, in percent (None when none was due)."""
        return _percent(self.resolution_met, self.resolution_due)

    @property
    def compliance(self) -> float | None:
        """Both targets together, in percent."""
        return _percent(self.first_response_met + self.resolution_met,
                        self.first_response_due + self.resolution_due)


@dataclass(frozen=True)
class Slice:
    """The figures of one agent or queue (`key` is the agent id as text, or the queue key)."""

    key: str
    label: str
    figures: Figures


@dataclass(frozen=True)
class Report:
    """Everything `/stats` and `frontdesk report` show for a period."""

    period: Period
    total: Figures
    deflected: int
    backlog: dict[str, int]  # status -> tickets in it at the period's end (open statuses)
    by_agent: tuple[Slice, ...]
    by_queue: tuple[Slice, ...]
    by_day: tuple[tuple[date, Figures], ...]
    deflected_by_day: dict[date, int]


def _percent(part: int, whole: int) -> float | None:
    return None if whole == 0 else 100.0 * part / whole


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def _nearest_rank(values: list[timedelta], percent: int) -> timedelta | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


class _Slices:
    """The tallies of the whole desk, each agent, each queue and each day at once."""

    def __init__(self, period: Period) -> None:
        self.period = period
        # UTC bounds: comparing datetimes of one tzinfo is the fast path
        self.start, self.end = period.start.astimezone(UTC), period.end.astimezone(UTC)
        self.midnights = [_midnight(day, period.zone).astimezone(UTC) for day in period.days()]
        self.total = Tally()
        self.agents: dict[str, Tally] = {}
        self.agent_names: dict[str, str] = {}
        self.queues: dict[str, Tally] = {}
        self.days = [Tally() for _ in self.midnights]
        self._pairs: dict[tuple[int | None, str | None], tuple[Tally, ...]] = {}

    def holds(self, moment: datetime | None) -> bool:
        """Whether an instant lies in the period."""
        return moment is not None and self.start <= moment < self.end

    def at(self, moment: datetime, agent: int | None, queue: str | None) -> list[Tally]:
        """The tallies a fact of `agent` and `queue` at `moment` (in the period) counts in."""
        pair = self._pairs.get((agent, queue))
        if pair is None:
            tallies = [self.total, self.agents.setdefault(
                NOBODY if agent is None else str(agent), Tally())]
            if queue is not None:
                tallies.append(self.queues.setdefault(queue, Tally()))
            pair = self._pairs[agent, queue] = tuple(tallies)
        return [*pair, self.days[bisect_right(self.midnights, moment) - 1]]

    def of(self, ticket: TicketFacts, moment: datetime) -> list[Tally]:
        """The tallies a fact about `ticket` at `moment` (in the period) counts in."""
        return self.at(moment, ticket.assignee_id, ticket.queue)


def build_report(period: Period, tickets: Iterable[TicketFacts],
                 ratings: Iterable[RatingFacts], deflections: Iterable[datetime],
                 calendar_for: Callable[[str], BusinessCalendar], now: datetime,
                 agent_names: dict[int, str] | None = None) -> Report:
    """The period's figures (see the module's docstring for what counts where).

    `tickets` must hold every ticket with anything in the period — opened, a status change,
    a first response or a due time in it, or open at its end — each with all its changes.
    """
    slices = _Slices(period)
    backlog: Counter[str] = Counter()
    for ticket in tickets:
        _count_ticket(slices, ticket, calendar_for(ticket.sla_level), now)
        if ticket.assignee_id is not None and ticket.assignee_name:
            slices.agent_names[str(ticket.assignee_id)] = ticket.assignee_name
        status = ticket.status_at(slices.end)
        if status is not None and status not in FINISHED:
            backlog[status] += 1
    for rating in ratings:
        if slices.holds(rating.at):
            for tally in slices.at(rating.at, rating.agent_id, rating.queue):
                tally.scores.append(rating.score)
    deflected_by_day: Counter[date] = Counter(
        period.day_of(moment) for moment in deflections if slices.holds(moment))
    names = {str(agent): name for agent, name in (agent_names or {}).items()}
    names.update(slices.agent_names)
    return Report(
        period=period, total=slices.total.figures(),
        deflected=sum(deflected_by_day.values()),
        backlog={status.value: backlog[status.value] for status in Status
                 if backlog[status.value]},
        by_agent=tuple(Slice(key, names.get(key, key), tally.figures())
                       for key, tally in sorted(slices.agents.items(),
                                                key=lambda item: _agent_order(item, names))),
        by_queue=tuple(Slice(key, key, tally.figures())
                       for key, tally in sorted(slices.queues.items())),
        by_day=tuple((day, tally.figures()) for day, tally in zip(period.days(), slices.days,
                                                                  strict=True)),
        deflected_by_day=dict(deflected_by_day))


def _agent_order(item: tuple[str, Tally], names: dict[str, str]) -> tuple[bool, str]:
    key = item[0]
    return key == NOBODY, names.get(key, key).casefold()


def _count_ticket(slices: _Slices, ticket: TicketFacts, calendar: BusinessCalendar,
                  now: datetime) -> None:
    holds = slices.holds
    if holds(ticket.created_at):
        for tally in slices.of(ticket, ticket.created_at):
            tally.opened += 1
    for change in ticket.changes:
        if change.new in COUNTED and holds(change.at):
            for tally in slices.of(ticket, change.at):
                tally.count(change.new)
    fr_due, res_due = ticket.first_response_due, ticket.resolution_due
    wanted = (holds(ticket.first_response_at) or holds(fr_due) or holds(res_due)
              or (ticket.changes and ticket.changes[-1].new == CLOSED
                  and holds(ticket.changes[-1].at)))
    if not wanted:
        return
    measures = measure(ticket, calendar)
    if measures.first_response is not None and holds(ticket.first_response_at):
        assert ticket.first_response_at is not None
        for tally in slices.of(ticket, ticket.first_response_at):
            tally.first_responses.append(measures.first_response)
    if (measures.resolution is not None and measures.final_close_at is not None
            and holds(measures.final_close_at)):
        for tally in slices.of(ticket, measures.final_close_at):
            tally.resolutions.append(measures.resolution)
    if fr_due is not None and holds(fr_due):
        met = measures.first_answer_at is not None and measures.first_answer_at <= fr_due
        if met or fr_due <= now:
            for tally in slices.of(ticket, fr_due):
                tally.first_response_due += 1
                tally.first_response_met += int(met)
    if res_due is not None and holds(res_due) and ticket.status != DECLINED:
        met = measures.resolved_at is not None and measures.resolved_at <= res_due
        if met or res_due <= now:
            for tally in slices.of(ticket, res_due):
                tally.resolution_due += 1
                tally.resolution_met += int(met)


# -- from the storage to the report -----------------------------------------------------------

class ReportSource(Protocol):
    """Where the rows of a period come from (the storage implements it)."""

    async def tickets(self, start: datetime, end: datetime) -> list[TicketFacts]: ...
    async def ratings(self, start: datetime, end: datetime) -> list[RatingFacts]: ...
    async def deflections(self, start: datetime, end: datetime) -> list[datetime]: ...
    async def agent_names(self) -> dict[int, str]: ...


def calendars_of(policy: Policy) -> Callable[[str], BusinessCalendar]:
    """The business calendar of each SLA level (24x7 for a level no longer configured)."""
    known = {level.key: BusinessCalendar.from_spec(level.calendar) for level in policy.sla_levels}
    always = BusinessCalendar.from_spec(CalendarSpec())
    return lambda key: known.get(key, always)


@dataclass(frozen=True)
class PeriodRows:
    """The rows a period's report is built from."""

    tickets: list[TicketFacts]
    ratings: list[RatingFacts]
    deflections: list[datetime]
    agent_names: dict[int, str] = field(default_factory=dict)


async def fetch_rows(source: ReportSource, period: Period) -> PeriodRows:
    """Read the period's rows from `source`."""
    start, end = period.start, period.end
    return PeriodRows(await source.tickets(start, end), await source.ratings(start, end),
                      await source.deflections(start, end), await source.agent_names())


def report_from(rows: PeriodRows, policy: Policy, period: Period, now: datetime) -> Report:
    """The report of a period from its rows (CPU only: may run in a worker thread)."""
    return build_report(period, rows.tickets, rows.ratings, rows.deflections,
                        calendars_of(policy), now, rows.agent_names)


async def compile_report(source: ReportSource, policy: Policy, period: Period,
                         now: datetime) -> Report:
    """Fetch the period's rows from `source` and build its report."""
    return report_from(await fetch_rows(source, period), policy, period, now)
