"""The desk's one reading of ticket numbers and of text that shows nothing."""

from __future__ import annotations

import pytest

from domain.text import (
    FSI,
    MAX_TICKET_NUMBER,
    PDI,
    has_visible_text,
    isolated,
    one_line,
    ticket_number,
)


@pytest.mark.parametrize(("typed", "number"), [
    ("1042", 1042), ("#1042", 1042), (" 7 ", 7), (str(MAX_TICKET_NUMBER), MAX_TICKET_NUMBER),
])
def test_ticket_numbers_as_people_type_them(typed: str, number: int) -> None:
    assert ticket_number(typed) == number


@pytest.mark.parametrize("typed", [
    "", "#", "0", "-3", "+3", "1.5", "1e3", "0x1f", "1_000", "²", "١٢", "１２", "12abc",
    "99999999999999999999", str(MAX_TICKET_NUMBER + 1), "##12", "1 2",
])
def test_anything_else_is_no_ticket_number(typed: str) -> None:
    assert ticket_number(typed) is None


@pytest.mark.parametrize("text", [
    "", "   ", "\u200b\u200c\u200d\u2060", "\u3164", "\u115f\u1160", "\uffa0", "\u202e\u2066",
    "\u200e\u200f\u061c", "\t\n\u00a0\u3000", "\ufeff", "\u2800",
])
def test_text_of_invisible_characters_is_empty(text: str) -> None:
    assert not has_visible_text(text)


@pytest.mark.parametrize("text", ["a", "\u3164x", "\u200b.", "Вход", "日本", "😀", "٣"])
def test_text_with_anything_visible_is_not_empty(text: str) -> None:
    assert has_visible_text(text)


def test_a_line_loses_its_bidi_controls() -> None:
    assert one_line("  evil\u202e gnp.exe \u2066x\u2069\u200f ") == "evil gnp.exe x"


def test_right_to_left_text_is_isolated_and_latin_is_left_alone() -> None:
    assert isolated("\u202eשלום") == FSI + "שלום" + PDI
    assert isolated("ACME \u202eevil") == "ACME evil"
