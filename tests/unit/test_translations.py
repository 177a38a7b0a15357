"""Every text the bot can show exists in English and Russian, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _code_messages() -> set[str]:
    found: set[str] = set()
    for folder in ("domain", "bot", "handlers"):
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")],
                keywords={"_": None, "__": None, "lazy_gettext": None}):
            if isinstance(message, str):
                found.add(message)
    return found


def _catalog(language: str):  # type: ignore[no-untyped-def]
    path = ROOT / "locales" / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def test_every_text_in_the_code_has_a_russian_translation() -> None:
    catalog = _catalog("ru")
    missing = sorted(m for m in _code_messages()
                     if catalog.get(m) is None or not catalog.get(m).string
                     or catalog.get(m).fuzzy)
    assert missing == [], "untranslated (run pybabel extract/update, then translate):\n" + \
        "\n".join(missing)


@pytest.mark.parametrize("language", ["ru", "en"])
def test_translations_keep_the_placeholders(language: str) -> None:
    for message in _catalog(language):
        if not message.id or not message.string:
            continue
        assert sorted(PLACEHOLDER.findall(str(message.id))) == \
            sorted(PLACEHOLDER.findall(str(message.string))), message.id
