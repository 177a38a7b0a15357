"""Long texts are cut into valid messages within Telegram's limits, losing nothing."""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.splitting import split_html, visible_length


def _plain(html: str) -> str:
    from html import unescape

    return unescape(re.sub(r"<[^>]+>", "", html))


class _Balance(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.ok = True

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.ok = False


def _balanced(html: str) -> bool:
    parser = _Balance()
    parser.feed(html)
    return parser.ok and not parser.stack


def test_short_text_is_one_part() -> None:
    assert split_html("<b>hi</b> there") == ["<b>hi</b> there"]


def test_long_text_is_cut_at_paragraphs_and_keeps_every_character() -> None:
    paragraph = "word " * 150  # 750 characters
    text = "\n\n".join(paragraph.strip() for _ in range(12))
    parts = split_html(text)
    assert len(parts) > 1
    assert all(visible_length(part) <= 4096 for part in parts)
    assert all(part.endswith("word") for part in parts)  # cut between paragraphs
    assert "".join(_plain(p) for p in parts).replace("\n", "").replace(" ", "") == \
        text.replace("\n", "").replace(" ", "")


def test_a_tag_open_at_the_cut_is_closed_and_reopened() -> None:
    text = "<b>" + "x" * 5000 + "</b>"
    parts = split_html(text)
    assert [visible_length(p) for p in parts] == [4096, 904]
    assert all(p.startswith("<b>") and p.endswith("</b>") for p in parts)


def test_entities_count_as_one_character_and_are_never_cut() -> None:
    text = "&lt;" * 5000
    parts = split_html(text, limit=100)
    assert all(visible_length(p) <= 100 for p in parts)
    assert "".join(parts) == text


@settings(max_examples=150, deadline=None)
@given(words=st.lists(st.text(alphabet="ab <>&\n", min_size=1, max_size=30), min_size=1,
                      max_size=200),
       bold=st.lists(st.booleans(), min_size=200, max_size=200),
       limit=st.integers(min_value=20, max_value=400))
def test_any_text_splits_into_valid_parts_within_the_limit(words: list[str],
                                                           bold: list[bool],
                                                           limit: int) -> None:
    html = "".join(f"<b>{escape(w)}</b>" if b else escape(w)
                   for w, b in zip(words, bold, strict=False))
    parts = split_html(html, limit)
    assert all(visible_length(part) <= limit for part in parts)
    assert all(_balanced(part) for part in parts)
    joined = "".join(_plain(part) for part in parts)
    assert joined.split() == _plain(html).split() or \
        joined.replace(" ", "").replace("\n", "") == \
        _plain(html).replace(" ", "").replace("\n", "")
