"""The desk's policy file (`frontdesk.toml`), declared as pydantic models that build a `Policy`.

Each TOML table is a model that refuses unknown keys, and each value a type that says what it
expects (`bot/policy_values.py`). The first mistake becomes one `ConfigError` line naming the
file and the dotted key (`sla.levels.premium.targets.high`), with a "did you mean" hint for an
unknown key. The domain never sees pydantic: `PolicyFile.to_policy()` returns `domain.policy`
values.
"""

from __future__ import annotations

import difflib
import re
import tomllib
import types
from collections.abc import Iterable, Mapping
from datetime import time
from pathlib import Path
from types import MappingProxyType
from typing import Any, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.policy_values import (
    ContractExample,
    Dates,
    Duration,
    Flag,
    GroupChatId,
    Key,
    Keywords,
    Language,
    Mistake,
    NotePrefix,
    OpeningHours,
    PositiveInt,
    Share,
    ShortDays,
    SlaSpan,
    String,
    TextValue,
    TimeZone,
    UserIds,
    WebUrl,
)
from bot.settings import DEFAULT_CONFIG_PATH, ConfigError
from domain.policy import (
    CalendarSpec,
    CannedAnswer,
    FaqEntry,
    Policy,
    PriorityLevel,
    Queue,
    RequestType,
    SlaLevel,
    SlaTarget,
    Text,
    calendars_zone,
    default_policy,
)

DEFAULTS = default_policy()
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Loc = tuple[str | int, ...]


class PolicyMistake(Exception):
    """A mistake in the policy: the key path it is at (empty: the message says) and what."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(message)
        self.loc = loc

    def line(self, source: str) -> str:
        """The one line the operator reads."""
        return f"{source}: {dotted(self.loc)}: {self}" if self.loc else f"{source}: {self}"


# --------------------------------------------------------------------------- tables


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeskTable(_Table):
    """`[desk]`: the desk's general settings, named as `Policy` names them."""

    allow_without_contract: Flag = DEFAULTS.allow_without_contract
    note_prefix: NotePrefix = DEFAULTS.note_prefix
    default_language: Language = DEFAULTS.default_language
    staff_language: Language = DEFAULTS.staff_language
    staff_timezone: TimeZone | None = None  # not set: the zone the desk's calendars keep
    supervisors: UserIds = DEFAULTS.supervisors
    show_agent_name: Flag = DEFAULTS.show_agent_name
    auto_close_after: Duration = DEFAULTS.auto_close_after
    reopen_window: Duration = DEFAULTS.reopen_window
    warn_at: Share = Field(default=DEFAULTS.warn_at, alias="escalation_warn_at")
    unassigned_after: Duration = DEFAULTS.unassigned_after
    flood_limit: PositiveInt = DEFAULTS.flood_limit
    flood_window: Duration = DEFAULTS.flood_window
    subject_max_length: PositiveInt = DEFAULTS.subject_max_length
    contract_example: ContractExample = DEFAULTS.contract_example


class RequestTypeTable(_Table):
    """One `[[request_types]]` entry."""

    key: Key
    title: TextValue | None = None
    queue: Key

    def to_domain(self) -> RequestType:
        """The request type."""
        return RequestType(self.key, self.title or Text.of(self.key), self.queue)


class PriorityTable(_Table):
    """One `[[priorities]]` entry; its rank is its place in the list."""

    key: Key
    title: TextValue | None = None
    description: TextValue | None = None
    emoji: String = ""

    @field_validator("key")
    @classmethod
    def _not_special(cls, key: str) -> str:
        if key == "special":
            raise Mistake("'special' is reserved for special requests (sla targets); "
                          "choose another key")
        return key

    def to_domain(self, rank: int) -> PriorityLevel:
        """The priority level."""
        return PriorityLevel(self.key, self.title or Text.of(self.key),
                             self.description or Text.of(""), self.emoji, rank)


class QueueTable(_Table):
    """One `[[queues]]` entry."""

    key: Key
    title: TextValue | None = None
    agents: UserIds = ()
    round_robin: Flag = False
    staff_chat_id: GroupChatId | None = None

    @field_validator("round_robin")
    @classmethod
    def _needs_agents(cls, round_robin: bool, info: ValidationInfo) -> bool:
        if round_robin and not info.data.get("agents"):
            raise Mistake("true needs the queue's agents to take turns: "
                          "list them in agents = [...]")
        return round_robin

    def to_domain(self) -> Queue:
        """The queue."""
        return Queue(self.key, self.title or Text.of(self.key), self.agents, self.round_robin,
                     self.staff_chat_id)


class FaqTable(_Table):
    """One `[[faq]]` entry."""

    title: TextValue
    url: WebUrl
    keywords: Keywords

    @field_validator("keywords")
    @classmethod
    def _some(cls, keywords: tuple[str, ...]) -> tuple[str, ...]:
        if not keywords:
            raise Mistake("expected at least one keyword")
        return keywords


class TargetTable(_Table):
    """`{ first_response = "1h", resolution = "1d" }`: one SLA target."""

    first_response: SlaSpan
    resolution: SlaSpan

    @model_validator(mode="after")
    def _first_response_first(self) -> TargetTable:
        if self.first_response.nominal > self.resolution.nominal:
            raise Mistake("first_response must not be longer than resolution")
        return self


class WeekHoursTable(_Table):
    """`hours = { mon = "09:00-18:00", ... }`: the working hours of each working day."""

    mon: OpeningHours | None = None
    tue: OpeningHours | None = None
    wed: OpeningHours | None = None
    thu: OpeningHours | None = None
    fri: OpeningHours | None = None
    sat: OpeningHours | None = None
    sun: OpeningHours | None = None

    @model_validator(mode="after")
    def _some(self) -> WeekHoursTable:
        if not self.by_weekday():
            raise Mistake('expected at least one working day like { mon = "09:00-18:00" } '
                          '(or calendar = "24x7")')
        return self

    def by_weekday(self) -> Mapping[int, tuple[time, time]]:
        """The hours per weekday number (0 = Monday) of the working days."""
        return MappingProxyType({number: hours for number, day in enumerate(WEEKDAYS)
                                 if (hours := getattr(self, day)) is not None})


class CalendarTable(_Table):
    """A working-hours calendar (`calendar = "24x7"` is none: the clock always runs)."""

    timezone: TimeZone = "UTC"
    hours: WeekHoursTable
    holidays: Dates = frozenset()
    short_days: ShortDays = Field(default_factory=lambda: MappingProxyType({}))

    def to_domain(self) -> CalendarSpec:
        """The calendar."""
        return CalendarSpec(timezone=self.timezone, always_open=False,
                            hours=self.hours.by_weekday(), holidays=self.holidays,
                            short_days=self.short_days)


class SlaLevelTable(_Table):
    """`[sla.levels.KEY]`: a level of service."""

    title: TextValue | None = None
    calendar: CalendarTable | None = None  # None: always open ("24x7")
    # Checked once the priorities are known, its keys before its values (PolicyFile.to_policy).
    targets: dict[str, Any] = {}

    @field_validator("calendar", mode="before")
    @classmethod
    def _always_open(cls, calendar: Any) -> Any:
        if calendar == "24x7":
            return None
        if not isinstance(calendar, dict):
            raise Mistake(f'expected "24x7" or a table with timezone and hours, got {calendar!r}')
        return calendar


class SlaTable(_Table):
    """`[sla]`: the levels of service, best first."""

    levels: dict[Key, SlaLevelTable] | None = None

    @field_validator("levels")
    @classmethod
    def _some(cls, levels: dict[str, SlaLevelTable]) -> dict[str, SlaLevelTable]:
        if not levels:
            raise Mistake("expected at least one level")
        return levels


class PolicyFile(_Table):
    """The whole file; every key is optional, and a list given replaces the default one."""

    desk: DeskTable = DeskTable()
    request_types: list[RequestTypeTable] | None = None
    priorities: list[PriorityTable] | None = None
    sla: SlaTable = SlaTable()
    queues: list[QueueTable] | None = None
    faq: list[FaqTable] = []
    canned: dict[Key, TextValue] = {}

    @field_validator("request_types", "priorities", "queues")
    @classmethod
    def _some_with_unique_keys(cls, entries: list[Any]) -> list[Any]:
        if not entries:
            raise Mistake("expected at least one entry")
        seen: set[str] = set()
        for entry in entries:
            if entry.key in seen:
                raise Mistake(f"key {entry.key!r} is used twice")
            seen.add(entry.key)
        return entries

    def to_policy(self) -> Policy:
        """The policy this file describes, defaults filled in (PolicyMistake across keys)."""
        priorities = (DEFAULTS.priorities if self.priorities is None else
                      tuple(entry.to_domain(rank) for rank, entry in enumerate(self.priorities)))
        request_types = (DEFAULTS.request_types if self.request_types is None else
                         tuple(entry.to_domain() for entry in self.request_types))
        sla_levels = self._sla_levels([level.key for level in priorities])
        return Policy(
            request_types=request_types,
            priorities=priorities,
            sla_levels=sla_levels,
            queues=self._queues(request_types),
            faq=tuple(FaqEntry(entry.title, entry.url, entry.keywords) for entry in self.faq),
            canned=tuple(CannedAnswer(name, text) for name, text in self.canned.items()),
            staff_timezone=self.desk.staff_timezone or calendars_zone(sla_levels),
            **self.desk.model_dump(exclude={"staff_timezone"}),
        )

    def _queues(self, request_types: tuple[RequestType, ...]) -> tuple[Queue, ...]:
        """The queues; without `[[queues]]`, one per queue the request types name."""
        if self.queues is not None:
            queues = tuple(entry.to_domain() for entry in self.queues)
        else:
            known = {queue.key: queue for queue in DEFAULTS.queues}
            named = dict.fromkeys(kind.queue for kind in request_types)
            queues = tuple(known.get(key, Queue(key, Text.of(key))) for key in named)
        keys = [queue.key for queue in queues]
        for number, kind in enumerate(request_types):
            if kind.queue not in keys:
                raise PolicyMistake(("request_types", number, "queue"),
                                    f"request type {kind.key!r} names unknown queue "
                                    f"{kind.queue!r} (known: {', '.join(keys)})")
        return queues

    def _sla_levels(self, priority_keys: list[str]) -> tuple[SlaLevel, ...]:
        """The SLA levels, best first; each has a target for every priority and no other."""
        if self.sla.levels is None:
            for level in DEFAULTS.sla_levels:
                missing = [key for key in priority_keys if key not in level.targets]
                if missing:
                    raise PolicyMistake((), f"priority {missing[0]!r} has no SLA target in "
                                            f"level {level.key!r} (define [sla.levels] with "
                                            f"targets for every priority)")
            return tuple(
                SlaLevel(level.key, level.title, level.rank, level.calendar,
                         MappingProxyType({key: level.targets[key] for key in priority_keys}),
                         level.special)
                for level in DEFAULTS.sla_levels
            )
        return tuple(self._sla_level(key, level, rank, priority_keys)
                     for rank, (key, level) in enumerate(self.sla.levels.items()))

    @staticmethod
    def _sla_level(key: str, level: SlaLevelTable, rank: int,
                   priority_keys: list[str]) -> SlaLevel:
        where: Loc = ("sla", "levels", key, "targets")
        known = [*priority_keys, "special"]
        for name in level.targets:
            if name not in known:
                raise unknown_key(where, name, known)
        for priority in priority_keys:
            if priority not in level.targets:
                raise PolicyMistake((), f"priority {priority!r} has no SLA target in level "
                                        f"{key!r} (add it to [{dotted(where)}])")

        def target(name: str) -> SlaTarget:
            try:
                table = TargetTable.model_validate(level.targets[name])
            except ValidationError as error:
                raise first_mistake(error, TargetTable, at=(*where, name)) from None
            return SlaTarget(table.first_response, table.resolution)

        return SlaLevel(
            key=key,
            title=level.title or Text.of(key),
            rank=rank,
            calendar=level.calendar.to_domain() if level.calendar else CalendarSpec(),
            targets=MappingProxyType({priority: target(priority) for priority in priority_keys}),
            special=target("special") if "special" in level.targets else None,
        )


# --------------------------------------------------------------------------- mistakes


def first_mistake(error: ValidationError, model: type[BaseModel], at: Loc = ()) -> PolicyMistake:
    """Pydantic's first error in a table read by `model` (found at `at`), said in one line.

    An unknown key comes first: a misspelt key also leaves the one it meant missing.
    """
    errors = error.errors()
    first = next((each for each in errors if each["type"] == "extra_forbidden"), errors[0])
    loc: Loc = (*at, *(part for part in first["loc"] if part != "[key]"))  # a dict's key: its own
    kind = first["type"]
    if kind == "extra_forbidden":
        return unknown_key(loc[:-1], str(loc[-1]), fields_at(model, first["loc"][:-1]))
    if kind == "missing":
        return PolicyMistake(loc[:-1], f"{loc[-1]} is required")
    if kind in ("model_type", "dict_type"):
        return PolicyMistake(loc, f"expected a table, got {first['input']!r}")
    if kind == "list_type":
        return PolicyMistake(loc, f"expected a list of tables ([[{loc[-1]}]] sections)")
    cause = first.get("ctx", {}).get("error")
    if isinstance(cause, Mistake):
        return PolicyMistake((*loc, cause.inside) if cause.inside else loc, str(cause))
    return PolicyMistake(loc, first["msg"])


def unknown_key(where: Loc, key: str, known: Iterable[str]) -> PolicyMistake:
    """An unknown key in the table at `where`, with the closest known one as a hint."""
    known = list(known)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
    place = f"[{dotted(where)}] unknown key" if where else "unknown top-level key"
    return PolicyMistake((), f"{place} {key!r} ({hint})")


def fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the table at `loc` may have: steps through fields, list items and dict values."""
    node: Any = model
    for part in loc:
        if isinstance(node, type) and issubclass(node, BaseModel):
            node = node.model_fields[part].annotation
        else:  # list[X] or dict[K, X]: an item
            node = get_args(node)[-1]
        if get_origin(node) in (Union, types.UnionType):  # X | None
            node = next(arg for arg in get_args(node) if arg is not type(None))
    return [field.alias or name for name, field in node.model_fields.items()]


def dotted(loc: Loc) -> str:
    """`("sla", "levels", "premium")` as `sla.levels.premium`, list items as `queues[1]`."""
    text = ""
    for part in loc:
        text += f"[{part + 1}]" if isinstance(part, int) else f".{part}" if text else part
    return text


# --------------------------------------------------------------------------- reading


def load_policy(path: Path, *, explicit: bool | None = None) -> Policy:
    """Read the desk's policy from a TOML file; a missing default file means the defaults.

    `explicit` says the operator named the file (FRONTDESK_CONFIG), so it must exist; when not
    given, any path other than the default `frontdesk.toml` counts as named.
    """
    if explicit is None:
        explicit = path != DEFAULT_CONFIG_PATH
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"{path}: the policy file does not exist (FRONTDESK_CONFIG names "
                              f"it; unset it to use the defaults)") from None
        return default_policy()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the policy file: {error.strerror}") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the policy file is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        line = re.search(r"at line (\d+)", str(error))
        where = f"{path}:{line.group(1)}" if line else str(path)
        raise ConfigError(f"{where}: invalid TOML: {error}") from None
    return policy_from_toml(document, source=str(path))


def policy_from_toml(document: Mapping[str, Any], source: str = "frontdesk.toml") -> Policy:
    """Build and validate a `Policy` from a parsed TOML document (every key optional)."""
    try:
        return PolicyFile.model_validate(document).to_policy()
    except ValidationError as error:
        mistake = first_mistake(error, PolicyFile)
    except PolicyMistake as found:
        mistake = found
    raise ConfigError(mistake.line(source))
