"""The values of the policy file (`frontdesk.toml`), each a type that checks one kind of value
and says what it expects ("expected a duration like 45s, 30m, 4h, 2d, got 3"), for the models
of `bot/policy_file.py`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import PlainValidator

from domain.durations import Span, parse_duration, parse_span
from domain.policy import LANGUAGES, Text

_KEY = re.compile(r"[a-z0-9_-]{1,32}")
_HOURS = re.compile(r"(\d{2}):(\d{2})\s*-\s*(\d{2}):(\d{2})")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DURATION_HINT = "a duration like 45s, 30m, 4h, 2d"


class Mistake(ValueError):
    """What is wrong with a value; `inside` names the key within the value, when it is there."""

    def __init__(self, message: str, inside: str | None = None) -> None:
        super().__init__(message)
        self.inside = inside




def _expect(test: Callable[[Any], object], expected: str,
            convert: Callable[[Any], Any] = lambda value: value) -> PlainValidator:
    """A validator that converts the values `test` accepts and says `expected` of the others."""
    def check(value: Any) -> Any:
        if not test(value):
            raise Mistake(f"{expected}, got {value!r}")
        return convert(value)
    return PlainValidator(check)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _duration(value: Any) -> timedelta:
    try:
        parsed = parse_duration(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if parsed is None:
        raise Mistake(f"expected {_DURATION_HINT}, got {value!r}")
    if parsed <= timedelta(0):
        raise Mistake(f"expected a duration above zero, got {value!r}")
    return parsed


def _span(value: Any) -> Span:
    _duration(value)
    return parse_span(value)


def _timezone(value: Any) -> str:
    if not isinstance(value, str):
        raise Mistake(f'expected a time zone name like "Europe/Moscow", got {value!r}')
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise Mistake(f"unknown time zone {value!r}") from None
    return value


def _text(value: Any) -> Text:
    if isinstance(value, str) and value.strip():
        return Text.of(value)
    if not isinstance(value, dict) or not value:
        raise Mistake(f'expected a string or {{ en = "...", ru = "..." }}, got {value!r}')
    for lang, text in value.items():
        if lang not in LANGUAGES:
            raise Mistake(f"unknown language {lang!r} (expected {', '.join(LANGUAGES)})")
        if not isinstance(text, str) or not text.strip():
            raise Mistake(f"expected a non-empty string, got {text!r}", inside=lang)
    return Text(MappingProxyType(dict(value)))


def _hours(value: Any) -> tuple[time, time]:
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
        raise Mistake(f'expected hours like "09:00-18:00", got {value!r}') from None
    if not midnight and opens >= closes:
        raise Mistake(f"opening must come before closing, got {value!r}")
    return opens, closes


def _date(value: Any) -> date:
    """A TOML date or an ISO string `YYYY-MM-DD`."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise Mistake(f"expected a date like 2026-01-01, got {value!r}")


def _dates(value: Any) -> frozenset[date]:
    if not isinstance(value, list):
        raise Mistake(f'expected a list of dates like ["2026-01-01"], got {value!r}')
    return frozenset(_date(item) for item in value)


def _short_days(value: Any) -> Mapping[date, tuple[time, time]]:
    if not isinstance(value, dict):
        raise Mistake(f'expected a table like {{ "2026-12-30" = "09:00-17:00" }}, got {value!r}')
    days = {}
    for day, hours in value.items():
        when = _date(day)
        try:
            days[when] = _hours(hours)
        except Mistake as mistake:
            raise Mistake(str(mistake), inside=day) from None
    return MappingProxyType(days)


Flag = Annotated[bool, _expect(lambda v: isinstance(v, bool), "expected true or false")]
String = Annotated[str, _expect(lambda v: isinstance(v, str), "expected a string")]
ContractExample = Annotated[str, _expect(lambda v: isinstance(v, str), "expected a string",
                                         lambda v: v.strip()[:64])]
Key = Annotated[str, _expect(lambda v: isinstance(v, str) and _KEY.fullmatch(v),
                             "expected a key of lowercase letters, digits, _ or - (at most 32)")]
NotePrefix = Annotated[str, _expect(lambda v: isinstance(v, str) and v.strip(),
                                    'expected a non-empty prefix like "//"')]
PositiveInt = Annotated[int, _expect(lambda v: _is_int(v) and v > 0,
                                     "expected a whole number above 0")]
Share = Annotated[float, _expect(lambda v: (_is_int(v) or isinstance(v, float)) and 0 < v < 1,
                                 "expected a share between 0 and 1 like 0.8", float)]
Language = Annotated[str, _expect(lambda v: v in LANGUAGES,
                                  f"expected one of {', '.join(LANGUAGES)}")]
UserIds = Annotated[tuple[int, ...], _expect(
    lambda v: isinstance(v, list) and all(_is_int(item) and item > 0 for item in v),
    "expected a list of Telegram user ids like [1001, 1002]", tuple)]
GroupChatId = Annotated[int, _expect(lambda v: _is_int(v) and v < 0,
                                     "expected a group chat id like -1001234567890")]
Keywords = Annotated[tuple[str, ...], _expect(
    lambda v: isinstance(v, list) and all(isinstance(item, str) and item.strip() for item in v),
    "expected a list of non-empty strings", tuple)]
WebUrl = Annotated[str, _expect(
    lambda v: isinstance(v, str) and urlsplit(v).scheme in ("http", "https"),
    "expected an http(s) link")]
Duration = Annotated[timedelta, PlainValidator(_duration)]
SlaSpan = Annotated[Span, PlainValidator(_span)]  # its days stay working days (`3d`, `1d4h`)
TimeZone = Annotated[str, PlainValidator(_timezone)]
TextValue = Annotated[Text, PlainValidator(_text)]  # "..." (English) or { en = "...", ru = ... }
OpeningHours = Annotated[tuple[time, time], PlainValidator(_hours)]
Dates = Annotated[frozenset[date], PlainValidator(_dates)]
ShortDays = Annotated[Mapping[date, tuple[time, time]], PlainValidator(_short_days)]
