"""Deployment settings (environment) and the desk's policy (`frontdesk.toml`), validated once.

Both are read at start, before anything talks to Telegram, and every mistake becomes one
`ConfigError` line that names the variable or the dotted key and what was expected.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import SplitResult, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from domain.durations import Span, parse_duration, parse_span
from domain.policy import (
    LANGUAGES,
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

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///frontdesk.sqlite3"
DEFAULT_CONFIG_PATH = Path("frontdesk.toml")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{30,}")
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_URL_PASSWORD = re.compile(r"(://[^:/@]*:)[^@/]*@")


class ConfigError(Exception):
    """One clear line naming the key or variable and what is expected."""


# --------------------------------------------------------------------------- environment


@dataclass(frozen=True)
class Settings:
    """How this process is deployed: secrets, addresses and where the policy file is."""

    bot_token: str = field(repr=False)
    staff_chat_id: int
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8080
    metrics_port: int | None = None  # /healthz, /readyz, /metrics in polling mode
    redis_url: str | None = None
    telegram_rate_scale: float = 1.0  # Telegram's sending intervals multiplied by this
    config_path: Path = DEFAULT_CONFIG_PATH
    log_level: str = "INFO"
    config_explicit: bool = False  # FRONTDESK_CONFIG was set: a missing file is then an error

    def __repr__(self) -> str:
        # Written by hand (dataclass keeps it) so that passwords inside URLs are masked too.
        shown = {
            "staff_chat_id": self.staff_chat_id,
            "database_url": _mask_password(self.database_url),
            "telegram_api_url": self.telegram_api_url,
            "webhook_url": self.webhook_url,
            "webhook_listen": self.webhook_listen,
            "webhook_port": self.webhook_port,
            "metrics_port": self.metrics_port,
            "redis_url": _mask_password(self.redis_url),
            "telegram_rate_scale": self.telegram_rate_scale,
            "config_path": self.config_path,
            "log_level": self.log_level,
        }
        inner = ", ".join(f"{name}={value!r}" for name, value in shown.items())
        return f"Settings({inner})"

    __str__ = __repr__

    @property
    def uses_webhook(self) -> bool:
        """Whether updates come by webhook (else long polling)."""
        return self.webhook_url is not None


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Read and check the deployment settings from environment variables."""
    env = {name: value.strip() for name, value in environ.items() if value.strip()}
    try:
        return _settings_from(env)
    except ConfigError as error:
        raise ConfigError(_redact(str(error), env)) from None


def _settings_from(env: Mapping[str, str]) -> Settings:
    # The two variables every deployment needs are checked first.
    bot_token = _bot_token(env.get("BOT_TOKEN"))
    staff_chat_id = _staff_chat_id(env.get("STAFF_CHAT_ID"))
    webhook_url = _webhook_url(env.get("WEBHOOK_URL"))
    webhook_secret = env.get("WEBHOOK_SECRET")
    if webhook_secret is not None and not _WEBHOOK_SECRET.fullmatch(webhook_secret):
        raise ConfigError("WEBHOOK_SECRET is malformed: expected 1-256 letters, digits, _ or -")
    if webhook_url is not None and webhook_secret is None:
        raise ConfigError("WEBHOOK_SECRET is not set: it is required when WEBHOOK_URL is set "
                          "(1-256 letters, digits, _ or -)")
    config = env.get("FRONTDESK_CONFIG")
    return Settings(
        bot_token=bot_token,
        staff_chat_id=staff_chat_id,
        database_url=_database_url(env.get("DATABASE_URL", DEFAULT_DATABASE_URL)),
        telegram_api_url=_http_url("TELEGRAM_API_URL", env.get("TELEGRAM_API_URL")),
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        webhook_listen=env.get("WEBHOOK_LISTEN", "0.0.0.0"),
        webhook_port=_port(env.get("WEBHOOK_PORT", "8080")),
        metrics_port=_port(env["METRICS_PORT"], "METRICS_PORT") if "METRICS_PORT" in env else None,
        redis_url=_redis_url(env.get("REDIS_URL")),
        telegram_rate_scale=_rate_scale(env.get("TELEGRAM_RATE_SCALE", "1")),
        config_path=Path(config) if config else DEFAULT_CONFIG_PATH,
        log_level=_log_level(env.get("LOG_LEVEL", "INFO")),
        config_explicit=config is not None,
    )


def _bot_token(value: str | None) -> str:
    if value is None:
        raise ConfigError("BOT_TOKEN is not set: give the token @BotFather issued "
                          "(like 123456:ABC-DEF...)")
    if not _TOKEN.fullmatch(value):
        raise ConfigError("BOT_TOKEN is malformed: expected <digits>:<at least 30 letters, "
                          "digits, _ or ->")
    return value


def _staff_chat_id(value: str | None) -> int:
    if value is None:
        raise ConfigError("STAFF_CHAT_ID is not set: give the id of the staff supergroup, "
                          "like -1001234567890")
    try:
        chat_id = int(value)
    except ValueError:
        raise ConfigError(f"STAFF_CHAT_ID must be an integer chat id like -1001234567890, "
                          f"got {value!r}") from None
    if chat_id >= 0:
        # Group ids are negative; a positive one is a person, usually the operator's own id.
        raise ConfigError(f"STAFF_CHAT_ID must be a group chat id (negative, like "
                          f"-1001234567890), got {chat_id} (a user id?)")
    return chat_id


def _database_url(value: str) -> str:
    scheme, sep, rest = value.partition("://")
    if not sep:
        raise ConfigError("DATABASE_URL is malformed: expected postgresql://user:password@host/db"
                          " or sqlite:///path/to/file.sqlite3")
    scheme = scheme.lower()
    if scheme in ("postgresql", "postgres", "postgresql+asyncpg"):
        return f"postgresql+asyncpg://{rest}"
    if scheme in ("sqlite", "sqlite+aiosqlite"):
        return f"sqlite+aiosqlite://{rest}"
    raise ConfigError(f"DATABASE_URL has unsupported scheme {scheme!r}: expected "
                      f"postgresql://user:password@host/db or sqlite:///path/to/file.sqlite3")


def _http_url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    parts = _split_url(name, value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{name} must be an http(s) URL like http://localhost:8081, "
                          f"got {value!r}")
    return value.rstrip("/")


def _webhook_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = _split_url("WEBHOOK_URL", value)
    loopback = (parts.hostname or "") in _LOOPBACK_HOSTS or (
        parts.hostname or "").startswith("127.")
    if not parts.hostname or parts.scheme not in ("http", "https"):
        raise ConfigError(f"WEBHOOK_URL must be an https URL like "
                          f"https://bot.example.com/telegram, got {value!r}")
    if parts.scheme == "http" and not loopback:
        raise ConfigError(f"WEBHOOK_URL must use https (Telegram calls only https webhooks; "
                          f"http is allowed for localhost only), got {value!r}")
    return value


def _redis_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = _split_url("REDIS_URL", value)
    if parts.scheme not in ("redis", "rediss"):
        raise ConfigError(f"REDIS_URL must be redis://host:6379/0 or rediss://..., "
                          f"got scheme {parts.scheme!r}")
    return value


def _split_url(name: str, value: str) -> SplitResult:
    try:
        parts = urlsplit(value)
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError:
        raise ConfigError(f"{name} is not a valid URL") from None
    return parts


def _port(value: str, name: str = "WEBHOOK_PORT") -> int:
    try:
        port = int(value)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name} must be a TCP port number 1-65535, got {value!r}")
    return port


def _rate_scale(value: str) -> float:
    try:
        scale = float(value)
    except ValueError:
        scale = 0.0
    if not 0 < scale <= 100:  # also refuses nan and inf
        raise ConfigError(f"TELEGRAM_RATE_SCALE must be a number above 0 (1 keeps Telegram's "
                          f"limits; 0.01 is for a test server that counts them 100 times "
                          f"faster), got {value!r}")
    return scale


def _log_level(value: str) -> str:
    level = value.upper()
    if level not in LOG_LEVELS:
        raise ConfigError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
    return level


def _mask_password(url: str | None) -> str | None:
    return None if url is None else _URL_PASSWORD.sub(r"\1***@", url)


def _redact(message: str, env: Mapping[str, str]) -> str:
    # Belt and braces: no message may carry a secret, whatever variable it was pasted into.
    for name in ("BOT_TOKEN", "WEBHOOK_SECRET"):
        secret = env.get(name)
        if secret and len(secret) >= 8:
            message = message.replace(secret, "***")
    return message


# --------------------------------------------------------------------------- policy file

_KEY = re.compile(r"[a-z0-9_-]{1,32}")
_HOURS = re.compile(r"(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DURATION_HINT = "a duration like 45s, 30m, 4h, 2d"
_T = TypeVar("_T")


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
    return _PolicyReader(source).read(document)


class _PolicyReader:
    """Walks the TOML document; every error names `source` and the full dotted key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, message: str) -> ConfigError:
        """An error about the key at dotted path `where`."""
        return ConfigError(f"{self.source}: {where}: {message}" if where
                           else f"{self.source}: {message}")

    # -- the whole document

    def read(self, document: Mapping[str, Any]) -> Policy:
        """The policy the document describes, defaults filled in."""
        defaults = default_policy()
        self.check_keys("", document, ("desk", "request_types", "priorities", "sla", "queues",
                                       "faq", "canned"))
        desk = self.read_desk(self.table(document, "desk", ""), defaults)
        priorities = self.optional_list(document, "priorities", self.read_priority,
                                        defaults.priorities)
        priorities = tuple(
            PriorityLevel(level.key, level.title, level.description, level.emoji, rank)
            for rank, level in enumerate(priorities)
        )
        self.unique("priorities", (level.key for level in priorities))
        request_types = self.optional_list(document, "request_types", self.read_request_type,
                                           defaults.request_types)
        self.unique("request_types", (kind.key for kind in request_types))
        queues = self.read_queues(document, request_types, defaults)
        sla_levels = self.read_sla(self.table(document, "sla", ""), priorities, defaults)
        faq = self.optional_list(document, "faq", self.read_faq, ())
        canned = self.read_canned(self.table(document, "canned", ""))
        if desk["staff_timezone"] is None:  # not set: the zone the desk's calendars keep
            desk["staff_timezone"] = calendars_zone(sla_levels)
        return Policy(
            request_types=request_types,
            priorities=priorities,
            sla_levels=sla_levels,
            queues=queues,
            faq=faq,
            canned=canned,
            **desk,
        )

    def read_desk(self, desk: Mapping[str, Any], defaults: Policy) -> dict[str, Any]:
        """The `[desk]` settings as keyword arguments of `Policy`."""
        self.check_keys("desk", desk, (
            "allow_without_contract", "note_prefix", "default_language", "staff_language",
            "staff_timezone", "supervisors", "show_agent_name", "auto_close_after",
            "reopen_window", "escalation_warn_at", "unassigned_after", "flood_limit",
            "flood_window", "subject_max_length", "contract_example",
        ))
        values: dict[str, Any] = {}
        for name in ("allow_without_contract", "show_agent_name"):
            values[name] = self.get(desk, name, "desk", self.boolean, getattr(defaults, name))
        for name in ("auto_close_after", "reopen_window", "unassigned_after", "flood_window"):
            values[name] = self.get(desk, name, "desk", self.duration, getattr(defaults, name))
        for name in ("flood_limit", "subject_max_length"):
            values[name] = self.get(desk, name, "desk", self.positive_int,
                                    getattr(defaults, name))
        for name in ("default_language", "staff_language"):
            values[name] = self.get(desk, name, "desk", self.language, getattr(defaults, name))
        values["note_prefix"] = self.get(desk, "note_prefix", "desk", self.note_prefix,
                                         defaults.note_prefix)
        values["staff_timezone"] = self.get(desk, "staff_timezone", "desk", self.timezone, None)
        values["contract_example"] = self.get(desk, "contract_example", "desk", self.string,
                                              defaults.contract_example).strip()[:64]
        values["supervisors"] = self.get(desk, "supervisors", "desk", self.user_ids,
                                         defaults.supervisors)
        values["warn_at"] = self.get(desk, "escalation_warn_at", "desk", self.share,
                                     defaults.warn_at)
        return values

    # -- lists of entries

    def read_request_type(self, entry: Mapping[str, Any], where: str) -> RequestType:
        """One `[[request_types]]` entry."""
        self.check_keys(where, entry, ("key", "title", "queue"))
        key = self.required(entry, "key", where, self.key)
        title = self.get(entry, "title", where, self.text, Text.of(key))
        queue = self.required(entry, "queue", where, self.key)
        return RequestType(key, title, queue)

    def read_priority(self, entry: Mapping[str, Any], where: str) -> PriorityLevel:
        """One `[[priorities]]` entry (its rank is set by its place in the list)."""
        self.check_keys(where, entry, ("key", "title", "description", "emoji"))
        key = self.required(entry, "key", where, self.key)
        if key == "special":
            raise self.fail(f"{where}.key", "'special' is reserved for special requests "
                                            "(sla targets); choose another key")
        title = self.get(entry, "title", where, self.text, Text.of(key))
        description = self.get(entry, "description", where, self.text, Text.of(""))
        emoji = self.get(entry, "emoji", where, self.string, "")
        return PriorityLevel(key, title, description, emoji, 0)

    def read_queue(self, entry: Mapping[str, Any], where: str) -> Queue:
        """One `[[queues]]` entry."""
        self.check_keys(where, entry, ("key", "title", "agents", "round_robin",
                                       "staff_chat_id"))
        key = self.required(entry, "key", where, self.key)
        agents = self.get(entry, "agents", where, self.user_ids, ())
        round_robin = self.get(entry, "round_robin", where, self.boolean, False)
        if round_robin and not agents:
            raise self.fail(f"{where}.round_robin", "true needs the queue's agents to take "
                                                    "turns: list them in agents = [...]")
        return Queue(
            key=key,
            title=self.get(entry, "title", where, self.text, Text.of(key)),
            agents=agents,
            round_robin=round_robin,
            staff_chat_id=self.get(entry, "staff_chat_id", where, self.group_chat_id, None),
        )

    def read_faq(self, entry: Mapping[str, Any], where: str) -> FaqEntry:
        """One `[[faq]]` entry."""
        self.check_keys(where, entry, ("title", "url", "keywords"))
        keywords = self.required(entry, "keywords", where, self.string_list)
        if not keywords:
            raise self.fail(f"{where}.keywords", "expected at least one keyword")
        return FaqEntry(
            title=self.required(entry, "title", where, self.text),
            url=self.required(entry, "url", where, self.web_url),
            keywords=keywords,
        )

    def read_queues(self, document: Mapping[str, Any], request_types: tuple[RequestType, ...],
                    defaults: Policy) -> tuple[Queue, ...]:
        """The queues; without `[[queues]]`, one per queue the request types name."""
        if "queues" in document:
            queues = self.optional_list(document, "queues", self.read_queue, ())
        else:
            known = {queue.key: queue for queue in defaults.queues}
            named = dict.fromkeys(kind.queue for kind in request_types)
            queues = tuple(known.get(key, Queue(key, Text.of(key))) for key in named)
        self.unique("queues", (queue.key for queue in queues))
        keys = [queue.key for queue in queues]
        for number, kind in enumerate(request_types, start=1):
            if kind.queue not in keys:
                raise self.fail(f"request_types[{number}].queue",
                                f"request type {kind.key!r} names unknown queue {kind.queue!r} "
                                f"(known: {', '.join(keys)})")
        return queues

    def read_canned(self, canned: Mapping[str, Any]) -> tuple[CannedAnswer, ...]:
        """The `[canned]` answers, one per key."""
        answers = []
        for name, value in canned.items():
            self.key(name, f"canned.{name}")
            answers.append(CannedAnswer(name, self.text(value, f"canned.{name}")))
        return tuple(answers)

    # -- SLA

    def read_sla(self, sla: Mapping[str, Any], priorities: tuple[PriorityLevel, ...],
                 defaults: Policy) -> tuple[SlaLevel, ...]:
        """The SLA levels, best first; each must have a target for every priority."""
        self.check_keys("sla", sla, ("levels",))
        priority_keys = [level.key for level in priorities]
        if "levels" not in sla:
            for level in defaults.sla_levels:
                missing = [key for key in priority_keys if key not in level.targets]
                if missing:
                    raise ConfigError(f"{self.source}: priority {missing[0]!r} has no SLA target "
                                      f"in level {level.key!r} (define [sla.levels] with "
                                      f"targets for every priority)")
            return tuple(
                SlaLevel(level.key, level.title, level.rank, level.calendar,
                         MappingProxyType({key: level.targets[key] for key in priority_keys}),
                         level.special)
                for level in defaults.sla_levels
            )
        levels = self.table(sla, "levels", "sla")
        if not levels:
            raise self.fail("sla.levels", "expected at least one level")
        return tuple(
            self.read_level(key, self.table(levels, key, "sla.levels"), rank, priority_keys)
            for rank, key in enumerate(levels)
        )

    def read_level(self, key: str, level: Mapping[str, Any], rank: int,
                   priority_keys: list[str]) -> SlaLevel:
        """One `[sla.levels.KEY]` table."""
        where = f"sla.levels.{key}"
        self.key(key, where)
        self.check_keys(where, level, ("title", "calendar", "targets"))
        targets = self.table(level, "targets", where)
        self.check_keys(f"{where}.targets", targets, (*priority_keys, "special"))
        for priority in priority_keys:
            if priority not in targets:
                raise ConfigError(f"{self.source}: priority {priority!r} has no SLA target in "
                                  f"level {key!r} (add it to [{where}.targets])")
        return SlaLevel(
            key=key,
            title=self.get(level, "title", where, self.text, Text.of(key)),
            rank=rank,
            calendar=self.get(level, "calendar", where, self.calendar, CalendarSpec()),
            targets=MappingProxyType({
                priority: self.target(targets[priority], f"{where}.targets.{priority}")
                for priority in priority_keys
            }),
            special=self.get(targets, "special", f"{where}.targets", self.target, None),
        )

    def target(self, value: Any, where: str) -> SlaTarget:
        """A `{ first_response = "...", resolution = "..." }` table."""
        if not isinstance(value, Mapping):
            raise self.fail(where, f'expected {{ first_response = "1h", resolution = "1d" }}, '
                                   f"got {value!r}")
        self.check_keys(where, value, ("first_response", "resolution"))
        first = self.required(value, "first_response", where, self.span)
        resolution = self.required(value, "resolution", where, self.span)
        if first.nominal > resolution.nominal:
            raise self.fail(where, "first_response must not be longer than resolution")
        return SlaTarget(first, resolution)

    def calendar(self, value: Any, where: str) -> CalendarSpec:
        """`"24x7"` or a table of time zone, working hours, holidays and short days."""
        if value == "24x7":
            return CalendarSpec()
        if not isinstance(value, Mapping):
            raise self.fail(where, f'expected "24x7" or a table with timezone and hours, '
                                   f"got {value!r}")
        self.check_keys(where, value, ("timezone", "hours", "holidays", "short_days"))
        hours = self.required(value, "hours", where, self.table_value)
        self.check_keys(f"{where}.hours", hours, _WEEKDAYS)
        if not hours:
            raise self.fail(f"{where}.hours", 'expected at least one working day like '
                                              '{ mon = "09:00-18:00" } (or calendar = "24x7")')
        short_days = self.get(value, "short_days", where, self.table_value, {})
        return CalendarSpec(
            timezone=self.get(value, "timezone", where, self.timezone, "UTC"),
            always_open=False,
            hours=MappingProxyType({
                _WEEKDAYS.index(day): self.hours(hours[day], f"{where}.hours.{day}")
                for day in _WEEKDAYS if day in hours
            }),
            holidays=frozenset(self.get(value, "holidays", where, self.dates, ())),
            short_days=MappingProxyType({
                self.date(day, f"{where}.short_days"): self.hours(span,
                                                                  f"{where}.short_days.{day}")
                for day, span in short_days.items()
            }),
        )

    # -- structure helpers

    def check_keys(self, where: str, table: Mapping[str, Any], known: Iterable[str]) -> None:
        """Refuse any key not in `known`, suggesting the closest known one."""
        known = list(known)
        for key in table:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(known)}"
            place = f"[{where}] unknown key" if where else "unknown top-level key"
            raise ConfigError(f"{self.source}: {place} {key!r} ({hint})")

    def table(self, parent: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
        """A sub-table, empty when absent."""
        return self.get(parent, key, where, self.table_value, {})

    def optional_list(self, parent: Mapping[str, Any], key: str,
                      read: Callable[[Mapping[str, Any], str], _T],
                      default: tuple[_T, ...]) -> tuple[_T, ...]:
        """A `[[key]]` array of tables; given, it replaces the default list entirely."""
        if key not in parent:
            return default
        entries = parent[key]
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise self.fail(key, f"expected a list of tables ([[{key}]] sections)")
        if not entries and key in ("priorities", "request_types", "queues"):
            raise self.fail(key, "expected at least one entry")
        return tuple(read(entry, f"{key}[{number}]")
                     for number, entry in enumerate(entries, start=1))

    def unique(self, where: str, keys: Iterable[str]) -> None:
        """Refuse a key used twice in one list."""
        seen: set[str] = set()
        for key in keys:
            if key in seen:
                raise self.fail(where, f"key {key!r} is used twice")
            seen.add(key)

    def get(self, table: Mapping[str, Any], key: str, where: str,
            convert: Callable[[Any, str], _T], default: _T) -> _T:
        """`table[key]` converted and checked, or `default` when absent."""
        if key not in table:
            return default
        return convert(table[key], f"{where}.{key}" if where else key)

    def required(self, table: Mapping[str, Any], key: str, where: str,
                 convert: Callable[[Any, str], _T]) -> _T:
        """`table[key]` converted and checked; absent is an error."""
        if key not in table:
            raise self.fail(where, f"{key} is required")
        return convert(table[key], f"{where}.{key}")

    # -- value converters: (value, dotted path) -> checked value

    def table_value(self, value: Any, where: str) -> Mapping[str, Any]:
        """A TOML table."""
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a table, got {value!r}")
        return value

    def boolean(self, value: Any, where: str) -> bool:
        """true or false."""
        if not isinstance(value, bool):
            raise self.fail(where, f"expected true or false, got {value!r}")
        return value

    def string(self, value: Any, where: str) -> str:
        """Any string."""
        if not isinstance(value, str):
            raise self.fail(where, f"expected a string, got {value!r}")
        return value

    def key(self, value: Any, where: str) -> str:
        """An identifier: lowercase letters, digits, _ or - (fits in callback data)."""
        if not isinstance(value, str) or not _KEY.fullmatch(value):
            raise self.fail(where, f"expected a key of lowercase letters, digits, _ or - "
                                   f"(at most 32), got {value!r}")
        return value

    def note_prefix(self, value: Any, where: str) -> str:
        """A non-blank prefix that marks internal notes."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f'expected a non-empty prefix like "//", got {value!r}')
        return value

    def positive_int(self, value: Any, where: str) -> int:
        """A whole number above zero."""
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.fail(where, f"expected a whole number above 0, got {value!r}")
        return value

    def share(self, value: Any, where: str) -> float:
        """A share of a target, strictly between 0 and 1."""
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise self.fail(where, f"expected a share between 0 and 1 like 0.8, got {value!r}")
        return float(value)

    def duration(self, value: Any, where: str) -> timedelta:
        """A positive duration written like `30m` or `1d12h`."""
        if not isinstance(value, str):
            raise self.fail(where, f"expected {_DURATION_HINT}, got {value!r}")
        try:
            parsed = parse_duration(value)
        except ValueError:
            raise self.fail(where, f"expected {_DURATION_HINT}, got {value!r}") from None
        if parsed <= timedelta(0):
            raise self.fail(where, f"expected a duration above zero, got {value!r}")
        return parsed

    def span(self, value: Any, where: str) -> Span:
        """An SLA target: a positive duration whose days stay working days (`3d`, `1d4h`)."""
        self.duration(value, where)
        return parse_span(value)

    def language(self, value: Any, where: str) -> str:
        """One of the languages the bot speaks."""
        if value not in LANGUAGES:
            raise self.fail(where, f"expected one of {', '.join(LANGUAGES)}, got {value!r}")
        return str(value)

    def timezone(self, value: Any, where: str) -> str:
        """An IANA time zone name known to zoneinfo."""
        if not isinstance(value, str):
            raise self.fail(where, f'expected a time zone name like "Europe/Moscow", '
                                   f"got {value!r}")
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(where, f"unknown time zone {value!r}") from None
        return value

    def user_ids(self, value: Any, where: str) -> tuple[int, ...]:
        """A list of Telegram user ids."""
        if not isinstance(value, list) or not all(
            isinstance(item, int) and not isinstance(item, bool) and item > 0 for item in value
        ):
            raise self.fail(where, f"expected a list of Telegram user ids like [1001, 1002], "
                                   f"got {value!r}")
        return tuple(value)

    def group_chat_id(self, value: Any, where: str) -> int:
        """A group chat id (negative)."""
        if isinstance(value, bool) or not isinstance(value, int) or value >= 0:
            raise self.fail(where, f"expected a group chat id like -1001234567890, "
                                   f"got {value!r}")
        return value

    def string_list(self, value: Any, where: str) -> tuple[str, ...]:
        """A list of non-empty strings."""
        if not isinstance(value, list) or not all(
            isinstance(item, str) and item.strip() for item in value
        ):
            raise self.fail(where, f"expected a list of non-empty strings, got {value!r}")
        return tuple(value)

    def web_url(self, value: Any, where: str) -> str:
        """An http(s) link."""
        if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
            raise self.fail(where, f"expected an http(s) link, got {value!r}")
        return value

    def text(self, value: Any, where: str) -> Text:
        """A plain string (English) or a table of languages like `{ en = "...", ru = "..." }`."""
        if isinstance(value, str) and value.strip():
            return Text.of(value)
        if not isinstance(value, dict) or not value:
            raise self.fail(where, f'expected a string or {{ en = "...", ru = "..." }}, '
                                   f"got {value!r}")
        for lang, text in value.items():
            if lang not in LANGUAGES:
                raise self.fail(where, f"unknown language {lang!r} (expected "
                                       f"{', '.join(LANGUAGES)})")
            if not isinstance(text, str) or not text.strip():
                raise self.fail(f"{where}.{lang}", f"expected a non-empty string, got {text!r}")
        return Text(MappingProxyType(dict(value)))

    def hours(self, value: Any, where: str) -> tuple[time, time]:
        """Opening hours `"HH:MM-HH:MM"`, opening before closing; closing 24:00 is midnight."""
        match = _HOURS.fullmatch(value.strip()) if isinstance(value, str) else None
        try:
            if match is None:
                raise ValueError
            opens = time(int(match.group(1)), int(match.group(2)))
            # The calendar reads a closing time of 00:00 as the midnight that ends the day.
            midnight = match.group(3, 4) in (("24", "00"), ("00", "00"))
            closes = time(0) if midnight else time(int(match.group(3)), int(match.group(4)))
        except ValueError:
            raise self.fail(where, f'expected hours like "09:00-18:00", got {value!r}') from None
        if not midnight and opens >= closes:
            raise self.fail(where, f"opening must come before closing, got {value!r}")
        return opens, closes

    def date(self, value: Any, where: str) -> date:
        """A day: a TOML date or an ISO string `YYYY-MM-DD`."""
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        if isinstance(value, str) and _ISO_DATE.fullmatch(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(where, f"expected a date like 2026-01-01, got {value!r}")

    def dates(self, value: Any, where: str) -> tuple[date, ...]:
        """A list of days."""
        if not isinstance(value, list):
            raise self.fail(where, f'expected a list of dates like ["2026-01-01"], '
                                   f"got {value!r}")
        return tuple(self.date(item, where) for item in value)



def load_database_url(environ: Mapping[str, str]) -> str:
    """Just DATABASE_URL (for the commands that need no bot: `db`, `contracts`)."""
    value = (environ.get("DATABASE_URL") or "").strip() or DEFAULT_DATABASE_URL
    try:
        return _database_url(value)
    except ConfigError as error:
        raise ConfigError(_redact(str(error), environ)) from None


def load_config_path(environ: Mapping[str, str]) -> tuple[Path, bool]:
    """FRONTDESK_CONFIG (or the default), and whether it was named explicitly."""
    config = (environ.get("FRONTDESK_CONFIG") or "").strip()
    return (Path(config), True) if config else (DEFAULT_CONFIG_PATH, False)
