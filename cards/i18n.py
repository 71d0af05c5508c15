"""Message catalogs (gettext .po files read with Babel); every user-facing string comes from here."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.messages.pofile import read_po

LOCALES = ("zh-CN", "en")
DEFAULT_LOCALE = "zh-CN"
_CATALOG_DIR = Path(__file__).parent / "locales"


class Translator:
    """Looks up message ids in one locale's catalog and fills `{placeholders}`."""

    def __init__(self, locale: str) -> None:
        if locale not in LOCALES:
            raise ValueError(f"unknown locale {locale!r}; use one of {', '.join(LOCALES)}")
        self.locale = locale
        self._messages = load_catalog(locale)

    def __call__(self, msgid: str, **values: object) -> str:
        text = self._messages.get(msgid)
        if text is None:
            raise KeyError(f"message {msgid!r} is missing from the {self.locale} catalog")
        return text.format(**values) if values else text


@cache
def load_catalog(locale: str) -> dict[str, str]:
    """All translated messages of `locale` as msgid → text."""
    path = _CATALOG_DIR / locale.replace("-", "_") / "LC_MESSAGES" / "dutybot.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    return {str(message.id): str(message.string) for message in catalog if message.id and message.string}
