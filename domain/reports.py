"""Report arithmetic: the desk's figures for a period, computed from tickets' status changes.

Everything here is pure. `measure` takes a ticket's timings from its status changes; the
storage keeps them with the ticket, taken again whenever a status change or the first response
is stored, with the calendar of the ticket's SLA level then (so a later change of a calendar
does not rewrite the past). For a report the storage sums them up in `Sums` — per local day and
per agent and queue: counts, the durations, the targets met and the due times of the others —
adds the backlog at the period's end and the deflections (`PeriodRows`), and `summarize` turns
them into the figures. `replay` makes the same sums from whole histories (`TicketFacts` with
the ticket's status changes, `RatingFacts`, deflection times): the definition the storage's
sums must equal, and what `build_report` and the tests use.

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
* **SLA compliance** — a target counts on the day its outcome happened, never ahead of it:
  the first-response target is met when the first response (or a resolution, close or decline
  before any reply) came by the due time (``first_response_due``: the desk's own deadline,
  which already moved while the clock was stopped), and counts on the day it came; the
  resolution target is met when the final resolution came by ``resolution_due``, and counts
  on that day. A target not met by its due time is a breach, counted on the due day once that
  time has passed; one still ahead and unmet is left out. Declined tickets have no resolution
  target.
* **CSAT** — ratings given in the period (their score and the agent they rate).
* **backlog** — the status of every ticket at the period's end, replayed from its status
  changes (exact for any past period); closed and declined tickets are not backlog.
* **per agent** — the ticket's assignee (now); ratings count for the agent they name. An
  agent's label is the name on the newest ticket opened for them in the period, else the
  name the bot saw last. **per queue** — the ticket's queue (now). **per day** — the local
  day of the moment above: the day between whose local midnights it lies.

Medians are `statistics.median` (the mean of the two middle values for an even count); the
90th percentile is the nearest-rank value: the smallest duration with at least 90 % of the
durations at or below it (always one that occurred).
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
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
_US = timedelta(microseconds=1)


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

    @cached_property
    def midnights(self) -> tuple[datetime, ...]:
        """Where each local day of the period begins, in UTC, and then `end`: the n-th day is
        [midnights[n], midnights[n + 1]) (what a database compares its timestamps with)."""
        return tuple(_midnight(self.first + timedelta(days=n), self.zone).astimezone(UTC)
                     for n in range((self.last - self.first).days + 2))

    def day_of(self, moment: datetime) -> date:
        """The local day of an instant (of the period: the day between whose midnights it is)."""
        if self.holds(moment):
            return self.first + timedelta(days=bisect_right(self.midnights, moment) - 1)
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


# -- a ticket's history -----------------------------------------------------------------------

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


# -- the sums ---------------------------------------------------------------------------------

OPENED, RATINGS, SCORE_TOTAL = "opened", "ratings", "score_total"  # counted figures
FIRST_RESPONSES, RESOLUTIONS = "first_responses", "resolutions"  # durations
FIRST_RESPONSE, RESOLUTION = "first_response", "resolution"  # targets
_MET = {FIRST_RESPONSE: "first_response_met", RESOLUTION: "resolution_met"}
_DUE = {FIRST_RESPONSE: "first_response_due", RESOLUTION: "resolution_due"}

Pair = tuple[int | None, str | None]  # an agent (None: unassigned) and a queue


def microseconds(duration: timedelta) -> int:
    """A duration as a whole number of microseconds (exact: timedeltas hold no less)."""
    return duration // _US


@dataclass
class Tally:
    """Counts and samples of one slice while summing: counted figures by name (`OPENED`, the
    statuses, `RATINGS`, `SCORE_TOTAL`, the targets met and due), the durations in whole
    microseconds as floats (a year holds hundreds of thousands: floats hold them exactly and
    sort several times faster than timedeltas, twice as fast as big ints), and the due times
    of the targets not met (they count once they have passed)."""

    counts: Counter[str] = field(default_factory=Counter)
    durations: dict[str, list[float]] = field(
        default_factory=lambda: {FIRST_RESPONSES: [], RESOLUTIONS: []})
    missed: dict[str, list[datetime]] = field(
        default_factory=lambda: {FIRST_RESPONSE: [], RESOLUTION: []})

    def settle(self, now: datetime) -> None:
        """Count the targets due: those met, and those not met whose due time has passed."""
        for target, missed in self.missed.items():
            self.counts[_DUE[target]] = self.counts[_MET[target]] + sum(
                1 for moment in missed if moment <= now)

    def counts_anything(self) -> bool:
        """Whether anything counts in it (once settled)."""
        return any(self.counts.values()) or any(self.durations.values())

    def add(self, other: Tally) -> None:
        """Add the settled counts and the durations of `other`."""
        self.counts.update(other.counts)
        for figure, values in other.durations.items():
            self.durations[figure] += values

    def figures(self) -> Figures:
        """The finished figures of this slice."""
        counts = self.counts
        first_responses = sorted(self.durations[FIRST_RESPONSES])
        resolutions = sorted(self.durations[RESOLUTIONS])
        ratings = counts[RATINGS]
        return Figures(
            opened=counts[OPENED], closed=counts[CLOSED], declined=counts[DECLINED],
            reopened=counts[REOPENED],
            first_response_median=_median(first_responses),
            first_response_p90=_nearest_rank(first_responses, 90),
            first_responses=len(first_responses),
            resolution_median=_median(resolutions),
            resolution_p90=_nearest_rank(resolutions, 90),
            resolutions=len(resolutions),
            first_response_met=counts[_MET[FIRST_RESPONSE]],
            first_response_due=counts[_DUE[FIRST_RESPONSE]],
            resolution_met=counts[_MET[RESOLUTION]], resolution_due=counts[_DUE[RESOLUTION]],
            # statistics.fmean of the scores: their exact sum over their count
            csat=counts[SCORE_TOTAL] / ratings if ratings else None,
            ratings=ratings)


class Sums:
    """A period's figures summed per local day and per agent and queue: what the storage's
    GROUP BYs return (or `replay` finds ticket by ticket), and `summarize` reports.

    Every figure is added for a local day, an agent — the ticket's assignee now (for a rating:
    the agent it rates) — and a queue, the ticket's queue now.
    """

    def __init__(self, period: Period) -> None:
        self.first = period.first
        self.midnights = period.midnights
        self.days = [Tally() for _ in period.days()]
        self.pairs: dict[Pair, Tally] = {}

    def count(self, figure: str, day: date,
              groups: Iterable[tuple[int | None, str | None, int]]) -> None:
        """`figure` (`OPENED`, a status, `RATINGS`, `SCORE_TOTAL`) on `day`: how many each
        agent and queue had."""
        pair, whole = self._pair, 0
        for agent, queue, amount in groups:
            pair(agent, queue).counts[figure] += amount
            whole += amount
        self._day(day).counts[figure] += whole

    def count_at(self, figure: str, moment: datetime, agent: int | None, queue: str | None,
                 amount: int = 1) -> None:
        """One fact of `figure` (`amount` of it) at `moment`, an instant of the period."""
        self.count(figure, self.day_of(moment), ((agent, queue, amount),))

    def count_days(self, figure: str, days: Iterable[tuple[date, int]]) -> None:
        """How many of `figure` each day had, whoever and wherever: the days' side only, for
        a figure whose agents and queues `count_agents` adds."""
        for day, amount in days:
            self._day(day).counts[figure] += amount

    def count_agents(self, figure: str,
                     groups: Iterable[tuple[int | None, str | None, int]]) -> None:
        """How many of `figure` each agent and queue had over the period (see `count_days`)."""
        pair = self._pair
        for agent, queue, amount in groups:
            pair(agent, queue).counts[figure] += amount

    def durations(self, figure: str, day: date,
                  groups: Iterable[tuple[int | None, str | None, list[float]]]) -> None:
        """First-response or resolution times (`FIRST_RESPONSES`, `RESOLUTIONS`) on `day`,
        of each agent and queue."""
        pair, whole = self._pair, self._day(day).durations[figure]
        for agent, queue, values in groups:
            pair(agent, queue).durations[figure] += values
            whole += values

    def targets(self, figure: str, day: date,
                groups: Iterable[tuple[int | None, str | None, int, list[datetime]]]) -> None:
        """First-response or resolution targets (`FIRST_RESPONSE`, `RESOLUTION`) due on
        `day`, of each agent and queue: how many were met, and the due times of the others."""
        pair, whole, met_key = self._pair, self._day(day), _MET[figure]
        for agent, queue, met, missed in groups:
            tally = pair(agent, queue)
            tally.counts[met_key] += met
            tally.missed[figure] += missed
            whole.counts[met_key] += met
            whole.missed[figure] += missed

    def day_of(self, moment: datetime) -> date:
        """The local day of an instant of the period (between whose midnights it is)."""
        index = bisect_right(self.midnights, moment) - 1
        if not 0 <= index < len(self.days):
            raise ValueError(f"{moment} is not in the period")
        return self.first + timedelta(days=index)

    def _day(self, day: date) -> Tally:
        index = (day - self.first).days
        if not 0 <= index < len(self.days):
            raise ValueError(f"{day} is not a day of the period")
        return self.days[index]

    def _pair(self, agent: int | None, queue: str | None) -> Tally:
        tally = self.pairs.get((agent, queue))
        if tally is None:
            tally = self.pairs[agent, queue] = Tally()
        return tally


@dataclass(frozen=True)
class PeriodRows:
    """What a period's report is built from."""

    sums: Sums
    backlog: Mapping[str, int]  # status -> tickets in it at the period's end (any status)
    deflected_by_day: Mapping[date, int]
    agent_names: Mapping[int, str] = field(default_factory=dict)  # labels of agent ids


# -- the figures ------------------------------------------------------------------------------

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


def _median(ordered: list[float]) -> timedelta | None:
    if not ordered:
        return None
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return timedelta(microseconds=int(ordered[middle]))
    return timedelta(microseconds=int(ordered[middle - 1]) + int(ordered[middle])) / 2


def _nearest_rank(ordered: list[float], percent: int) -> timedelta | None:
    if not ordered:
        return None
    rank = max(1, math.ceil(percent * len(ordered) / 100))
    return timedelta(microseconds=int(ordered[rank - 1]))


def summarize(rows: PeriodRows, period: Period, now: datetime) -> Report:
    """The period's figures from its rows (see the module's docstring for what counts where)."""
    sums = rows.sums
    total, agents, queues = Tally(), dict[str, Tally](), dict[str, Tally]()
    for tally in sums.days:
        tally.settle(now)
    for (agent, queue), pair in sums.pairs.items():
        pair.settle(now)
        if not pair.counts_anything():  # only targets not due yet
            continue
        for values in pair.durations.values():
            values.sort()  # sorted runs: the merges below are cheap
        total.add(pair)
        agents.setdefault(NOBODY if agent is None else str(agent), Tally()).add(pair)
        if queue is not None:
            queues.setdefault(queue, Tally()).add(pair)
    names = {str(agent): name for agent, name in rows.agent_names.items()}
    return Report(
        period=period, total=total.figures(),
        deflected=sum(rows.deflected_by_day.values()),
        backlog={status.value: count for status in Status
                 if status.value not in FINISHED and (count := rows.backlog.get(status.value))},
        by_agent=tuple(Slice(key, names.get(key, key), tally.figures())
                       for key, tally in sorted(agents.items(),
                                                key=lambda item: _agent_order(item, names))),
        by_queue=tuple(Slice(key, key, tally.figures())
                       for key, tally in sorted(queues.items())),
        by_day=tuple((day, tally.figures()) for day, tally in zip(period.days(), sums.days,
                                                                  strict=True)),
        deflected_by_day={day: count for day, count in rows.deflected_by_day.items() if count})


def _agent_order(item: tuple[str, Tally], names: dict[str, str]) -> tuple[bool, str]:
    key = item[0]
    return key == NOBODY, names.get(key, key).casefold()


# -- the same sums replayed from whole histories ----------------------------------------------

def replay(period: Period, tickets: Iterable[TicketFacts], ratings: Iterable[RatingFacts],
           deflections: Iterable[datetime], calendar_for: Callable[[str], BusinessCalendar],
           agent_names: Mapping[int, str] | None = None) -> PeriodRows:
    """The period's rows from whole histories, every ticket measured again: what the storage's
    sums of the stored measures must equal (slow for a big period; tests and checks).

    `tickets` must hold every ticket with anything in the period — opened, a status change,
    a first response or a due time in it, or open at its end — each with all its changes.
    An agent's label is the name on the newest ticket (by number) opened for them in the
    period, else the one in `agent_names`.
    """
    sums = Sums(period)
    backlog: Counter[str] = Counter()
    newest: dict[int, tuple[int, str | None]] = {}
    for ticket in tickets:
        _replay_ticket(period, ticket, calendar_for(ticket.sla_level), sums)
        agent = ticket.assignee_id
        if period.holds(ticket.created_at) and agent is not None \
                and newest.get(agent, (-1, None))[0] < ticket.number:
            newest[agent] = ticket.number, ticket.assignee_name
        status = ticket.status_at(period.end)
        if status is not None:
            backlog[status] += 1
    for rating in ratings:
        if period.holds(rating.at):
            sums.count_at(RATINGS, rating.at, rating.agent_id, rating.queue)
            sums.count_at(SCORE_TOTAL, rating.at, rating.agent_id, rating.queue, rating.score)
    deflected = Counter(sums.day_of(moment) for moment in deflections if period.holds(moment))
    names = dict(agent_names or {})
    names.update({agent: name for agent, (_, name) in newest.items() if name})
    return PeriodRows(sums, dict(backlog), dict(deflected), names)


def _replay_ticket(period: Period, ticket: TicketFacts, calendar: BusinessCalendar,
                   sums: Sums) -> None:
    """Add what `ticket` has in the period to `sums`."""
    holds, day_of = period.holds, sums.day_of
    agent, queue = ticket.assignee_id, ticket.queue
    if holds(ticket.created_at):
        sums.count_at(OPENED, ticket.created_at, agent, queue)
    for change in ticket.changes:
        if change.new in COUNTED and holds(change.at):
            sums.count_at(change.new, change.at, agent, queue)
    measures = measure(ticket, calendar)
    if measures.first_response is not None and ticket.first_response_at is not None \
            and holds(ticket.first_response_at):
        sums.durations(FIRST_RESPONSES, day_of(ticket.first_response_at),
                       [(agent, queue, [float(microseconds(measures.first_response))])])
    if (measures.resolution is not None and measures.final_close_at is not None
            and holds(measures.final_close_at)):
        sums.durations(RESOLUTIONS, day_of(measures.final_close_at),
                       [(agent, queue, [float(microseconds(measures.resolution))])])
    _replay_target(period, sums, FIRST_RESPONSE, ticket.first_response_due,
                   measures.first_answer_at, agent, queue)
    if ticket.status != DECLINED:
        _replay_target(period, sums, RESOLUTION, ticket.resolution_due, measures.resolved_at,
                       agent, queue)


def _replay_target(period: Period, sums: Sums, figure: str, due: datetime | None,
                   done: datetime | None, agent: int | None, queue: str | None) -> None:
    """A target met counts on the day it was met; one missed, on its due day (once past)."""
    if due is None:
        return
    if done is not None and done <= due:
        if period.holds(done):
            sums.targets(figure, sums.day_of(done), [(agent, queue, 1, [])])
    elif period.holds(due):
        sums.targets(figure, sums.day_of(due), [(agent, queue, 0, [due])])


def build_report(period: Period, tickets: Iterable[TicketFacts],
                 ratings: Iterable[RatingFacts], deflections: Iterable[datetime],
                 calendar_for: Callable[[str], BusinessCalendar], now: datetime,
                 agent_names: dict[int, str] | None = None) -> Report:
    """The period's report replayed from whole histories (see `replay`)."""
    return summarize(replay(period, tickets, ratings, deflections, calendar_for, agent_names),
                     period, now)


# -- from the storage to the report -----------------------------------------------------------

class ReportSource(Protocol):
    """Where a period's rows come from: the storage sums up the measures it keeps with each
    ticket (taken when they became known, with the calendar of the ticket's SLA level)."""

    async def period_rows(self, period: Period) -> PeriodRows: ...


class HistorySource(Protocol):
    """Whole histories of the tickets a period touches (the storage implements it too)."""

    async def tickets(self, start: datetime, end: datetime) -> list[TicketFacts]: ...
    async def ratings(self, start: datetime, end: datetime) -> list[RatingFacts]: ...
    async def deflections(self, start: datetime, end: datetime) -> list[datetime]: ...
    async def agent_names(self) -> dict[int, str]: ...


def calendars_of(policy: Policy) -> Callable[[str], BusinessCalendar]:
    """The business calendar of each SLA level (24x7 for a level no longer configured)."""
    known = {level.key: BusinessCalendar.from_spec(level.calendar) for level in policy.sla_levels}
    always = BusinessCalendar.from_spec(CalendarSpec())
    return lambda key: known.get(key, always)


async def fetch_rows(source: ReportSource, period: Period) -> PeriodRows:
    """Read the period's rows from `source`."""
    return await source.period_rows(period)


def report_from(rows: PeriodRows, policy: Policy, period: Period, now: datetime) -> Report:
    """The report of a period from its rows (CPU only: may run in a worker thread). The
    `policy` is not consulted: its calendars measured the tickets when they were stored."""
    return summarize(rows, period, now)


async def compile_report(source: ReportSource, policy: Policy, period: Period,
                         now: datetime) -> Report:
    """Fetch the period's rows from `source` and build its report."""
    return report_from(await fetch_rows(source, period), policy, period, now)


async def replay_report(source: HistorySource, policy: Policy, period: Period,
                        now: datetime) -> Report:
    """The period's report replayed from whole histories with `policy`'s calendars: a check
    of the stored measures (slow: a year takes many seconds)."""
    start, end = period.start, period.end
    rows = replay(period, await source.tickets(start, end), await source.ratings(start, end),
                  await source.deflections(start, end), calendars_of(policy),
                  await source.agent_names())
    return summarize(rows, period, now)
