"""Times as people read them (SPEC §11): "today 15:30", "tomorrow, Tue 8 Dec, 11:00", the
weekday and the local date format of the reader's language, and the zone named the way its
readers know it (МСК, Moscow time). Every text that shows a time goes through `shown`."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from aiogram.utils.i18n import get_i18n
from aiogram.utils.i18n import gettext as _
from babel.dates import format_date

from domain.policy import LANGUAGES

# Babel's locale where it is not the language's code: British English writes "Tue 8 Dec", as
# the desk's examples do
_LOCALES = {"en": "en_GB"}
_MOSCOW = "Europe/Moscow"
# Russian zones, which Russian readers name by their hours from Moscow (МСК+2)
_RUSSIAN_ZONES = frozenset({
    "Europe/Kaliningrad", "Europe/Samara", "Europe/Volgograd", "Europe/Saratov",
    "Europe/Ulyanovsk", "Europe/Astrakhan", "Europe/Kirov", "Asia/Yekaterinburg", "Asia/Omsk",
    "Asia/Novosibirsk", "Asia/Barnaul", "Asia/Tomsk", "Asia/Novokuznetsk", "Asia/Krasnoyarsk",
    "Asia/Irkutsk", "Asia/Chita", "Asia/Yakutsk", "Asia/Khandyga", "Asia/Vladivostok",
    "Asia/Ust-Nera", "Asia/Magadan", "Asia/Sakhalin", "Asia/Srednekolymsk", "Asia/Kamchatka",
    "Asia/Anadyr", "Europe/Simferopol",
})


def language() -> str:
    """The language of the text being written (the i18n context's), `en` outside one."""
    try:
        locale = get_i18n().current_locale
    except LookupError:
        return "en"
    return locale if locale in LANGUAGES else "en"


def shown(moment: datetime | None, zone: str, now: datetime) -> str:
    """A moment as the reader reads it, in their `zone`, relative to `now`: "today 15:30
    Moscow time", «завтра, вт 8 дек., 11:00 МСК», "Wed 9 Dec, 11:00 UTC+5"."""
    if moment is None:
        return "—"
    tz = ZoneInfo(zone)
    local, today = moment.astimezone(tz), now.astimezone(tz).date()
    clock = f"{local:%H:%M}"
    reader = language()
    locale = _LOCALES.get(reader, reader)
    pattern = "EEE d MMM" if local.year == today.year else "EEE d MMM y"
    day = format_date(local.date(), pattern, locale=locale)
    if local.date() == today:
        text = _("today {time}").format(time=clock)
    elif local.date() == today + timedelta(days=1):
        text = _("tomorrow, {date}, {time}").format(date=day, time=clock)
    elif local.date() == today - timedelta(days=1):
        text = _("yesterday {time}").format(time=clock)
    else:
        text = _("{date}, {time}").format(date=day, time=clock)
    return f"{text} {zone_name(zone, moment)}"


def zone_name(zone: str, at: datetime) -> str:
    """A zone as its readers name it: Moscow time / МСК, МСК+2 for the other Russian zones in
    Russian, the city's time in English, else the offset from UTC (UTC+5)."""
    if zone == _MOSCOW:
        return _("Moscow time")
    if zone == "UTC":
        return "UTC"
    offset = at.astimezone(ZoneInfo(zone)).utcoffset() or timedelta(0)
    if zone in _RUSSIAN_ZONES:
        if language() == "ru":
            return "МСК" + _signed(offset - timedelta(hours=3))
        return _("{city} time").format(city=zone.rsplit("/", 1)[1].replace("_", " "))
    return "UTC" + _signed(offset)


def _signed(offset: timedelta) -> str:
    """+5, −1, +5:30; empty for zero."""
    minutes = int(offset.total_seconds()) // 60
    if minutes == 0:
        return ""
    sign = "+" if minutes > 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"{sign}{hours}" + (f":{rest:02d}" if rest else "")
