"""Time zones as people name them: an IANA name, a city (in English or Russian) or an offset."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import available_timezones

# Cities people name in Russian, and a few in English that the zone database names otherwise.
CITIES = {
    "москва": "Europe/Moscow", "санкт-петербург": "Europe/Moscow", "питер": "Europe/Moscow",
    "спб": "Europe/Moscow", "казань": "Europe/Moscow", "нижний новгород": "Europe/Moscow",
    "воронеж": "Europe/Moscow", "ростов-на-дону": "Europe/Moscow", "краснодар": "Europe/Moscow",
    "сочи": "Europe/Moscow", "калининград": "Europe/Kaliningrad", "самара": "Europe/Samara",
    "ижевск": "Europe/Samara", "волгоград": "Europe/Volgograd", "саратов": "Europe/Saratov",
    "ульяновск": "Europe/Ulyanovsk", "екатеринбург": "Asia/Yekaterinburg",
    "челябинск": "Asia/Yekaterinburg", "пермь": "Asia/Yekaterinburg",
    "уфа": "Asia/Yekaterinburg", "тюмень": "Asia/Yekaterinburg", "омск": "Asia/Omsk",
    "новосибирск": "Asia/Novosibirsk", "томск": "Asia/Tomsk", "барнаул": "Asia/Barnaul",
    "красноярск": "Asia/Krasnoyarsk", "кемерово": "Asia/Novokuznetsk",
    "иркутск": "Asia/Irkutsk", "чита": "Asia/Chita", "якутск": "Asia/Yakutsk",
    "владивосток": "Asia/Vladivostok", "хабаровск": "Asia/Vladivostok",
    "магадан": "Asia/Magadan", "сахалин": "Asia/Sakhalin",
    "петропавловск-камчатский": "Asia/Kamchatka", "камчатка": "Asia/Kamchatka",
    "минск": "Europe/Minsk", "киев": "Europe/Kyiv", "алматы": "Asia/Almaty",
    "астана": "Asia/Almaty", "ташкент": "Asia/Tashkent", "бишкек": "Asia/Bishkek",
    "тбилиси": "Asia/Tbilisi", "ереван": "Asia/Yerevan", "баку": "Asia/Baku",
    "лондон": "Europe/London", "берлин": "Europe/Berlin", "париж": "Europe/Paris",
    "нью-йорк": "America/New_York", "дубай": "Asia/Dubai", "стамбул": "Europe/Istanbul",
    "saint petersburg": "Europe/Moscow", "st petersburg": "Europe/Moscow",
    "kazan": "Europe/Moscow", "kiev": "Europe/Kyiv", "ufa": "Asia/Yekaterinburg",
    "san francisco": "America/Los_Angeles", "washington": "America/New_York",
    "beijing": "Asia/Shanghai", "delhi": "Asia/Kolkata", "mumbai": "Asia/Kolkata",
}
_OFFSET = re.compile(r"^(?:utc|gmt|мск|msk)?\s*([+\-−])\s*(\d{1,2})(?::?00)?$")
_MOSCOW_BASED = re.compile(r"^(?:мск|msk)\s*([+\-−])\s*(\d{1,2})$")


def zone_from_text(text: str) -> str | None:
    """The IANA zone a person means (`Europe/Moscow`, `Екатеринбург`, `New York`, `UTC+5`,
    `МСК+2`), or None. Offsets are whole hours (the zone database has no fixed half hours)."""
    typed = " ".join(text.strip().split()).casefold()
    if not typed or len(typed) > 64:
        return None
    if typed in ("utc", "gmt", "z"):
        return "UTC"
    if typed in ("мск", "msk"):
        return "Europe/Moscow"
    moscow = _MOSCOW_BASED.match(typed)
    if moscow:  # МСК+2: as Russians name their zones, hours from Moscow (UTC+3)
        hours = 3 + int(moscow.group(2)) * (1 if moscow.group(1) == "+" else -1)
        return _fixed(hours)
    offset = _OFFSET.match(typed)
    if offset:
        return _fixed(int(offset.group(2)) * (1 if offset.group(1) == "+" else -1))
    if typed in CITIES:
        return CITIES[typed]
    return _by_name().get(typed.replace(" ", "_"))


def _fixed(hours: int) -> str | None:
    """The zone of a whole-hour offset from UTC (POSIX `Etc/GMT` zones count the other way)."""
    if hours == 0:
        return "UTC"
    if not -12 <= hours <= 14:
        return None
    return f"Etc/GMT{-hours:+d}"


@lru_cache(maxsize=1)
def _by_name() -> dict[str, str]:
    """Every zone by its full name and by its city (`europe/moscow`, `moscow`), lowercased."""
    names: dict[str, str] = {}
    for key in sorted(available_timezones()):
        if key.startswith(("posix/", "right/")):
            continue
        names[key.casefold()] = key
        if "/" in key and not key.startswith(("Etc/", "SystemV/")):
            names.setdefault(key.rsplit("/", 1)[1].casefold(), key)
    return names
