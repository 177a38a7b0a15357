"""Splitting long HTML texts into messages Telegram accepts (4096 visible characters each).

Cuts fall at the best place before the limit — a blank line, then a line end, then a space —
and tags open at a cut are closed at its end and reopened at the start of the next part, so
every part is valid HTML on its own.
"""

from __future__ import annotations

import re
from html import unescape

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_TOKEN = re.compile(r"(<[^>]+>)|(&[#a-zA-Z0-9]+;)|([^<&]+)|(&)")
_TAG = re.compile(r"<\s*(/)?\s*([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")


def visible_length(html: str) -> int:
    """How many characters Telegram counts: the text without tags, entities decoded."""
    return len(unescape(re.sub(r"<[^>]+>", "", html)))


def split_html(html: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Cut `html` into parts of at most `limit` visible characters, each valid on its own."""
    if visible_length(html) <= limit:
        return [html]
    atoms = _atoms(html)
    parts: list[str] = []
    start = 0
    open_tags: list[tuple[str, str]] = []  # (name, opening tag) open at `start`
    while start < len(atoms):
        end, count = start, 0
        while end < len(atoms) and count + atoms[end][1] <= limit:
            count += atoms[end][1]
            end += 1
        if end < len(atoms):
            end = _best_cut(atoms, start, end)
        body_tags = list(open_tags)
        chunk = "".join(tag for _, tag in open_tags)
        for text, _width in atoms[start:end]:
            chunk += text
            _track(text, body_tags)
        chunk += "".join(f"</{name}>" for name, _ in reversed(body_tags))
        parts.append(chunk.strip() or chunk)
        open_tags = body_tags
        start = end
    return [part for part in parts if visible_length(part) > 0] or [html[:limit]]


def _atoms(html: str) -> list[tuple[str, int]]:
    """The text as indivisible pieces with their visible width (tags are 0, characters 1)."""
    atoms: list[tuple[str, int]] = []
    for tag, entity, text, amp in _TOKEN.findall(html):
        if tag:
            atoms.append((tag, 0))
        elif entity:
            atoms.append((entity, 1))
        elif text:
            atoms.extend((char, 1) for char in text)
        elif amp:
            atoms.append(("&amp;", 1))
    return atoms


def _best_cut(atoms: list[tuple[str, int]], start: int, end: int) -> int:
    """The best index in (start, end] to cut at: after a blank line, a line end, a space."""
    floor = start + max(1, (end - start) // 2)
    for wanted in ("\n\n", "\n", " "):
        for index in range(end, floor, -1):
            if wanted == "\n\n":
                if (atoms[index - 1][0] == "\n" and index >= 2
                        and atoms[index - 2][0] == "\n"):
                    return index
            elif atoms[index - 1][0] == wanted:
                return index
    return end


def _track(text: str, open_tags: list[tuple[str, str]]) -> None:
    match = _TAG.fullmatch(text)
    if match is None:
        return
    closing, name = match.group(1), match.group(2).lower()
    if closing:
        for index in range(len(open_tags) - 1, -1, -1):
            if open_tags[index][0] == name:
                del open_tags[index]
                break
    elif not text.endswith("/>"):
        open_tags.append((name, text))
