"""Time zones as people name them for /timezone."""

from __future__ import annotations

import pytest

from domain.zones import zone_from_text


@pytest.mark.parametrize(("typed", "zone"), [
    ("Europe/Moscow", "Europe/Moscow"), ("europe/moscow", "Europe/Moscow"),
    ("Москва", "Europe/Moscow"), ("МСК", "Europe/Moscow"), ("Екатеринбург", "Asia/Yekaterinburg"),
    ("Yekaterinburg", "Asia/Yekaterinburg"), ("New York", "America/New_York"),
    ("tokyo", "Asia/Tokyo"), ("UTC", "UTC"), ("UTC+5", "Etc/GMT-5"), ("+5", "Etc/GMT-5"),
    ("GMT-3", "Etc/GMT+3"), ("МСК+2", "Etc/GMT-5"), ("utc+0", "UTC"),
    ("Etc/GMT-5", "Etc/GMT-5"),
])
def test_names_cities_and_offsets_people_write(typed: str, zone: str) -> None:
    assert zone_from_text(typed) == zone


@pytest.mark.parametrize("typed", ["Mars", "", "+05:30", "UTC+20", "x" * 100])
def test_what_is_not_a_zone_is_refused(typed: str) -> None:
    assert zone_from_text(typed) is None
