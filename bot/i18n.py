"""Translations: gettext catalogs in `locales/`, compiled at install, or read from .po if not."""

from __future__ import annotations

import gettext
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from domain.policy import LANGUAGES

LOCALES = Path(__file__).resolve().parent.parent / "locales"

class DeskI18n(I18n):
    """aiogram's I18n that also loads a catalog whose .mo was not compiled (a source checkout)."""

    @contextmanager
    def context(self) -> Iterator[I18n]:
        """Make this the current I18n for aiogram's `gettext` (registered under I18n itself)."""
        token = I18n.set_current(self)
        try:
            yield self
        finally:
            I18n.reset_current(token)

    def find_locales(self) -> dict[str, gettext.GNUTranslations]:
        """Load every locale: the compiled .mo, or the .po compiled in memory."""
        translations: dict[str, gettext.GNUTranslations] = {}
        for folder in sorted(self.path.iterdir()):
            if not folder.is_dir():
                continue
            mo_path = folder / "LC_MESSAGES" / f"{self.domain}.mo"
            po_path = mo_path.with_suffix(".po")
            if mo_path.exists() and (not po_path.exists()
                                     or mo_path.stat().st_mtime >= po_path.stat().st_mtime):
                with mo_path.open("rb") as handle:
                    translations[folder.name] = gettext.GNUTranslations(handle)
            elif po_path.exists():
                with po_path.open("rb") as handle:
                    catalog = read_po(handle, locale=folder.name)
                buffer = io.BytesIO()
                write_mo(buffer, catalog)
                buffer.seek(0)
                translations[folder.name] = gettext.GNUTranslations(buffer)
        return translations


def make_i18n(default_locale: str = "en") -> DeskI18n:
    """The application's translations."""
    return DeskI18n(path=LOCALES, default_locale=default_locale, domain="messages")


def pick_language(code: str | None, default: str = "en") -> str:
    """Our language for a Telegram language code (`ru-RU` → `ru`; unknown → default)."""
    if code:
        short = code.split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return default
