"""The desk's policy: what the operator configures, as frozen values the rules read.

`bot/policy_file.py` builds a `Policy` from `frontdesk.toml`; `default_policy()` is what a desk
gets with no file at all (values taken from the support regulations the desk follows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from types import MappingProxyType

from domain.durations import Span, parse_span

LANGUAGES: Mapping[str, str] = MappingProxyType({"en": "English", "ru": "Русский"})
"""The languages the desk speaks (a catalog each in locales/), each named in itself."""


@dataclass(frozen=True)
class Text:
    """A piece of configured text in several languages; falls back to English, then any."""

    values: Mapping[str, str]

    @classmethod
    def of(cls, en: str, ru: str | None = None) -> Text:
        """Build a text from its English and (optional) Russian versions."""
        values = {"en": en}
        if ru is not None:
            values["ru"] = ru
        return cls(MappingProxyType(values))

    def get(self, lang: str) -> str:
        """The text in `lang`, or the best fallback."""
        if lang in self.values:
            return self.values[lang]
        if "en" in self.values:
            return self.values["en"]
        return next(iter(self.values.values()), "")

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.values.items())))


@dataclass(frozen=True)
class RequestType:
    """A kind of request the client picks; it decides the queue."""

    key: str
    title: Text
    queue: str


@dataclass(frozen=True)
class PriorityLevel:
    """A priority with the one-line description clients see; rank 0 is the most urgent."""

    key: str
    title: Text
    description: Text
    emoji: str
    rank: int


@dataclass(frozen=True)
class CalendarSpec:
    """When the clock runs: always, or working hours per weekday (0 = Monday) in a time zone."""

    timezone: str = "UTC"
    always_open: bool = True
    hours: Mapping[int, tuple[time, time]] = field(default_factory=lambda: MappingProxyType({}))
    holidays: frozenset[date] = frozenset()
    short_days: Mapping[date, tuple[time, time]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def __hash__(self) -> int:
        return hash((self.timezone, self.always_open, tuple(sorted(self.hours.items())),
                     self.holidays, tuple(sorted(self.short_days.items()))))


@dataclass(frozen=True)
class SlaTarget:
    """How long the desk may take to answer first, and to resolve (business time; days are
    working days on a working-hours calendar)."""

    first_response: Span
    resolution: Span


@dataclass(frozen=True)
class SlaLevel:
    """A level of service: a calendar and targets per priority key."""

    key: str
    title: Text
    rank: int
    calendar: CalendarSpec
    targets: Mapping[str, SlaTarget]
    special: SlaTarget | None = None

    def target_for(self, priority: str, special: bool = False) -> SlaTarget:
        """The target for a priority key (special requests use the special target if any)."""
        if special and self.special is not None:
            return self.special
        return self.targets[priority]

    def __hash__(self) -> int:
        return hash((self.key, self.rank))


@dataclass(frozen=True)
class Queue:
    """A queue of tickets; may name its agents and its own staff supergroup."""

    key: str
    title: Text
    agents: tuple[int, ...] = ()
    round_robin: bool = False
    staff_chat_id: int | None = None


@dataclass(frozen=True)
class FaqEntry:
    """A known answer shown before a ticket is filed when its keywords match the subject."""

    title: Text
    url: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class CannedAnswer:
    """A prepared answer an agent sends with `/canned NAME`."""

    name: str
    text: Text


@dataclass(frozen=True)
class Policy:
    """Everything the desk's rules need to know about this desk."""

    request_types: tuple[RequestType, ...]
    priorities: tuple[PriorityLevel, ...]
    sla_levels: tuple[SlaLevel, ...]
    queues: tuple[Queue, ...]
    faq: tuple[FaqEntry, ...] = ()
    canned: tuple[CannedAnswer, ...] = ()
    allow_without_contract: bool = True
    auto_close_after: timedelta = timedelta(days=3)
    reopen_window: timedelta = timedelta(days=7)
    note_prefix: str = "//"
    default_language: str = "en"
    staff_language: str = "en"
    staff_timezone: str = "UTC"  # how the staff read times; the settings default it to the
    # zone of the desk's calendars (`calendars_zone`)
    supervisors: tuple[int, ...] = ()
    show_agent_name: bool = True
    warn_at: float = 0.8
    unassigned_after: timedelta = timedelta(minutes=30)
    flood_limit: int = 20
    flood_window: timedelta = timedelta(minutes=1)
    subject_max_length: int = 120
    contract_example: str = ""  # shown in the contract prompt; "" = the registry's shape

    def priority(self, key: str) -> PriorityLevel:
        """The priority level with this key (KeyError if none)."""
        for level in self.priorities:
            if level.key == key:
                return level
        raise KeyError(key)

    def request_type(self, key: str) -> RequestType:
        """The request type with this key (KeyError if none)."""
        for kind in self.request_types:
            if kind.key == key:
                return kind
        raise KeyError(key)

    def sla_level(self, key: str) -> SlaLevel:
        """The SLA level with this key (KeyError if none)."""
        for level in self.sla_levels:
            if level.key == key:
                return level
        raise KeyError(key)

    def queue(self, key: str) -> Queue:
        """The queue with this key (KeyError if none)."""
        for queue in self.queues:
            if queue.key == key:
                return queue
        raise KeyError(key)

    @property
    def lowest_sla_level(self) -> SlaLevel:
        """The level given to clients without a contract (highest rank number)."""
        return max(self.sla_levels, key=lambda level: level.rank)


def calendars_zone(levels: tuple[SlaLevel, ...]) -> str:
    """The time zone of the desk's calendars: the first working-hours calendar's, else the
    first level's (UTC for a desk that only runs 24×7 in UTC)."""
    for level in levels:
        if not level.calendar.always_open:
            return level.calendar.timezone
    return levels[0].calendar.timezone if levels else "UTC"


def _targets(*rows: tuple[str, str, str]) -> Mapping[str, SlaTarget]:
    return MappingProxyType({
        key: SlaTarget(parse_span(first), parse_span(resolve))
        for key, first, resolve in rows
    })


WORKDAYS_9_18 = MappingProxyType({day: (time(9), time(18)) for day in range(5)})


def default_policy() -> Policy:
    """The desk a fresh install gets: the defaults of common support regulations."""
    moscow_office = CalendarSpec(timezone="Europe/Moscow", always_open=False, hours=WORKDAYS_9_18)
    return Policy(
        request_types=(
            RequestType("bug", Text.of("Failure / bug", "Сбой / ошибка"), "support"),
            RequestType("config", Text.of("Configuration", "Настройка"), "support"),
            RequestType("question", Text.of("Usage question", "Вопрос по использованию"),
                        "support"),
            RequestType("change", Text.of("Change / development request",
                                          "Запрос на доработку"), "development"),
            RequestType("other", Text.of("Other", "Другое"), "support"),
        ),
        priorities=(
            PriorityLevel("critical", Text.of("Critical", "Критический"),
                          Text.of("Business stopped or money being lost",
                                  "Работа остановлена или теряются деньги"), "🔴", 0),
            PriorityLevel("high", Text.of("High", "Высокий"),
                          Text.of("A major function is unavailable",
                                  "Недоступна важная функция"), "🟠", 1),
            PriorityLevel("normal", Text.of("Normal", "Обычный"),
                          Text.of("A problem with a workaround",
                                  "Проблема, которую можно обойти"), "🟡", 2),
            PriorityLevel("low", Text.of("Low", "Низкий"),
                          Text.of("Minor issue or consultation",
                                  "Мелкий вопрос или консультация"), "🟢", 3),
        ),
        sla_levels=(
            SlaLevel("premium", Text.of("Premium", "Премиум"), 0, CalendarSpec(),
                     _targets(("critical", "15m", "4h"), ("high", "1h", "1d"),
                              ("normal", "2h", "3d"), ("low", "4h", "5d")),
                     special=SlaTarget(parse_span("15m"), parse_span("4h"))),
            SlaLevel("standard", Text.of("Standard", "Стандарт"), 1, moscow_office,
                     _targets(("critical", "1h", "1d"), ("high", "2h", "3d"),
                              ("normal", "4h", "5d"), ("low", "8h", "10d"))),
            SlaLevel("basic", Text.of("Basic", "Базовый"), 2, moscow_office,
                     _targets(("critical", "4h", "2d"), ("high", "8h", "5d"),
                              ("normal", "16h", "10d"), ("low", "1d", "20d"))),
        ),
        queues=(
            Queue("support", Text.of("Support", "Поддержка")),
            Queue("development", Text.of("Development", "Разработка")),
        ),
        staff_timezone=moscow_office.timezone,  # the zone of the desk's calendars
    )

