"""What people type, read the desk's way: ticket numbers, visible text, bidi controls.

One reading for every place a number or a line of text comes in, so that a number that is not
ours is "no such request" everywhere, and a subject that shows nothing is empty everywhere.
"""

from __future__ import annotations

import re
import unicodedata

MAX_TICKET_NUMBER = 2**63 - 1
"""The largest number the tickets' column holds (BIGINT)."""

_TICKET_NUMBER = re.compile(r"#?([0-9]{1,19})")

BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e"  # embeddings and overrides (LRE RLE PDF LRO RLO)
    "\u2066\u2067\u2068\u2069"  # isolates (LRI RLI FSI PDI)
    "\u200e\u200f\u061c"  # marks (LRM RLM ALM)
)
_STRIP_BIDI = {ord(char): None for char in BIDI_CONTROLS}

# Characters that take a place but show nothing, beyond whitespace and format controls.
_BLANK_LOOKING = frozenset("\u3164\u115f\u1160\uffa0\u2800\u180e\u034f")

FSI, PDI = "\u2068", "\u2069"


def ticket_number(text: str) -> int | None:
    """A ticket number as people type it (`1042` or `#1042`): ASCII digits only, within
    the range the desk stores; None for anything else (`²`, `١٢`, 20 digits, `0`)."""
    found = _TICKET_NUMBER.fullmatch(text.strip())
    if found is None:
        return None
    number = int(found.group(1))
    return number if 1 <= number <= MAX_TICKET_NUMBER else None


def is_visible(char: str) -> bool:
    """Whether a character shows something (not a space, a control, a filler)."""
    if char in _BLANK_LOOKING:
        return False
    return unicodedata.category(char)[0] not in "ZC"


def has_visible_text(text: str) -> bool:
    """Whether the text shows anything at all: zero-width characters, Hangul fillers, bidi
    controls and whitespace alone count as empty."""
    return any(is_visible(char) for char in text)


def without_bidi_controls(text: str) -> str:
    """The text without the controls that reorder what follows it (an RLO flips the rest of
    a topic's name); the letters keep their own direction."""
    return text.translate(_STRIP_BIDI)


def one_line(text: str) -> str:
    """A line of a person's text as the desk keeps it: no bidi controls, whitespace runs as
    one space."""
    return " ".join(without_bidi_controls(text).split())


def isolated(text: str) -> str:
    """A person's text to show next to ours (a topic's name, the card): without bidi
    controls, and right-to-left text isolated (FSI…PDI) so that our text around it keeps
    its order."""
    line = without_bidi_controls(text)
    if any(unicodedata.bidirectional(char) in ("R", "AL") for char in line):
        return FSI + line + PDI
    return line
