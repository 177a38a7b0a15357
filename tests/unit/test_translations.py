"""Every text the bot can show exists in English and Russian, with the same placeholders, and
every number that meets a noun goes through the plural forms (SPEC §11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-z_0-9]+\}")
# Placeholders that stand for a count of something ("{days} days", "{count} ratings").
COUNTS = re.compile(r"\{(count|n|days|hours|minutes|limit|total)\}")
KEYWORDS = {"_": None, "__": None, "lazy_gettext": None, "ngettext": (1, 2)}

Message = str | tuple[str, ...]


def _code_messages() -> set[Message]:
    found: set[Message] = set()
    for folder in ("domain", "bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS):
            if isinstance(message, str):
                found.add(message)
            elif isinstance(message, tuple) and all(isinstance(m, str) for m in message):
                found.add(tuple(message))
    return found


def _catalog(language: str):  # type: ignore[no-untyped-def]
    path = ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def _key(message: Message) -> str:
    return message if isinstance(message, str) else message[0]


def test_every_text_in_the_code_has_a_russian_translation() -> None:
    catalog = _catalog("ru")

    def translated(message: Message) -> bool:
        entry = catalog.get(_key(message))
        if entry is None or entry.fuzzy:
            return False
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        return all(strings) and isinstance(entry.id, tuple) == isinstance(message, tuple)

    missing = sorted(_key(m) for m in _code_messages() if not translated(m))
    assert missing == [], "untranslated (run pybabel extract/update, then translate):\n" + \
        "\n".join(missing)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_text_in_the_code_is_in_the_catalog(language: str) -> None:
    catalog = _catalog(language)
    missing = sorted(_key(m) for m in _code_messages() if catalog.get(_key(m)) is None)
    assert missing == [], "not in the catalog (run pybabel extract/update):\n" + \
        "\n".join(missing)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_translations_keep_the_placeholders(language: str) -> None:
    """Every form of an entry — the English ids (shown as they are when the English msgstr is
    empty) and each translated form — names the same placeholders."""
    checked = 0
    for message in _catalog(language):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = sorted(PLACEHOLDER.findall(ids[0]))
        for form in (*ids[1:], *(string for string in strings if string)):
            assert sorted(PLACEHOLDER.findall(form)) == wanted, (ids[0], form)
            checked += 1
    assert checked > 0


def test_every_number_that_meets_a_noun_has_plural_forms() -> None:
    """"1 ratings" cannot happen: a text with a count goes through ngettext, in English too."""
    singular_only = sorted(m for m in _code_messages()
                           if isinstance(m, str) and COUNTS.search(m))
    assert singular_only == [], "use ngettext for:\n" + "\n".join(singular_only)
