"""The message catalogs (HOUSE_STYLE 18): both locales say the same things, and every id the code asks for exists."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.services.incident_changes import REASONS as CHANGE_REASONS
from cards.i18n import LOCALES, Translator
from core.incident import SNOOZE_PRESETS
from core.model import Action, IncidentStatus, Severity
from core.stages.mute import QUICK_PRESETS

ROOT = Path(__file__).resolve().parents[2]
CATALOG_DIR = ROOT / "cards" / "locales"
SCANNED = ("bot", "cards", "adapters")
TRANSLATOR_NAMES = {"t", "translator"}          # t("id") / translator("id")
TRANSLATOR_FACTORIES = {"Translator", "_t"}     # Translator(locale)("id") / _t(config)("id")
# f-string ids and the values their placeholder can take
ID_FAMILIES = {
    "severity.{}": [severity.value for severity in Severity],
    "status.{}": [status.value for status in IncidentStatus],
    "button.{}": [action.value for action in Action],
    "action.{}": ["ack", "resolve"],               # the one-click links carry only these (bot/web/links.py)
    "cli.verb.{}": ["create", "update", "delete"],  # bot/apply.py: Change.verb
    "override.form.{}": ["title", "schedule", "user", "start", "end", "submit"],  # bot/services/chat_overrides.py
    "silence.preset.{}": list(QUICK_PRESETS),      # cards/build.py: silence_duration
    "snooze.preset.{}": list(SNOOZE_PRESETS),      # cards/build.py: _snooze_menu
    "change.{}": list(CHANGE_REASONS),             # bot/services/incident_changes.py: ChangeRefused
}


def catalog(locale: str) -> dict[str, str]:
    path = CATALOG_DIR / locale.replace("-", "_") / "LC_MESSAGES" / "dutybot.po"
    with path.open("rb") as handle:
        return {str(message.id): str(message.string) for message in read_po(handle) if message.id}


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


CATALOGS = {locale: catalog(locale) for locale in LOCALES}


def test_the_catalog_folders_are_exactly_the_locales() -> None:
    folders = {path.name for path in CATALOG_DIR.iterdir() if (path / "LC_MESSAGES" / "dutybot.po").exists()}
    assert folders == {locale.replace("-", "_") for locale in LOCALES}


def test_both_catalogs_have_the_same_ids() -> None:
    zh, en = CATALOGS["zh-CN"], CATALOGS["en"]
    assert sorted(set(zh) - set(en)) == [], "only in zh-CN"
    assert sorted(set(en) - set(zh)) == [], "only in en"


@pytest.mark.parametrize("msgid", sorted(CATALOGS["en"]))
def test_same_placeholders_and_a_translation_in_both(msgid: str) -> None:
    texts = {locale: CATALOGS[locale].get(msgid, "") for locale in LOCALES}
    assert all(texts.values()), f"untranslated: {texts}"
    assert placeholders(texts["zh-CN"]) == placeholders(texts["en"]), texts
    for text in texts.values():  # no stray braces: every text formats with its own placeholders
        text.format(**dict.fromkeys(placeholders(text), "x"))


def string_ids(node: ast.expr, assigned: dict[str, list[ast.expr]]) -> Iterator[str]:
    """The ids a translator argument can take: a literal, a known f-string family, or a local variable."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        pattern = "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
        assert pattern in ID_FAMILIES, f"line {node.lineno}: add the values of f-string id {pattern!r} to ID_FAMILIES"
        yield from (pattern.format(value) for value in ID_FAMILIES[pattern])
    elif isinstance(node, ast.IfExp):
        yield from string_ids(node.body, assigned)
        yield from string_ids(node.orelse, assigned)
    elif isinstance(node, ast.Name) and node.id in assigned:
        for value in assigned[node.id]:
            yield from string_ids(value, assigned)
    else:
        raise AssertionError(f"line {node.lineno}: cannot tell which message id {ast.unparse(node)} is")


def is_translator_call(node: ast.Call) -> bool:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in TRANSLATOR_NAMES
    return isinstance(func, ast.Call) and isinstance(func.func, ast.Name) and func.func.id in TRANSLATOR_FACTORIES


def ids_used_in(source: str) -> set[str]:
    tree = ast.parse(source)
    used: set[str] = set()
    for scope in [tree, *(n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)))]:
        assigned: dict[str, list[ast.expr]] = {}
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
        for node in ast.walk(scope):
            if isinstance(node, ast.Call) and is_translator_call(node) and node.args:
                used.update(string_ids(node.args[0], assigned))
    return used


def source_files() -> list[Path]:
    return [path for package in SCANNED for path in sorted((ROOT / package).rglob("*.py"))]


def all_used_ids() -> set[str]:
    return {msgid for path in source_files() for msgid in ids_used_in(path.read_text(encoding="utf-8"))}


def test_the_scan_finds_the_ids_the_code_uses() -> None:
    used = all_used_ids()
    # a few ids known to be used, one per way of calling: t("…"), t(f"…"), a variable, _t()("…")
    assert {"card.status.acknowledged", "severity.critical", "button.comment", "link.done.body",
            "link.unchanged.body", "cli.migrated"} <= used


@pytest.mark.parametrize("locale", LOCALES)
def test_every_id_used_in_the_code_is_in_the_catalog(locale: str) -> None:
    assert sorted(all_used_ids() - set(CATALOGS[locale])) == []


@pytest.mark.parametrize(("source", "expected"), [
    ('t("a.b")', {"a.b"}),
    ('Translator("en")("a.b", x=1)', {"a.b"}),
    ('_t()("cli.x")', {"cli.x"}),
    ('t(f"status.{s.value}")', {"status.triggered", "status.acknowledged", "status.resolved"}),
    ('def f(ok):\n    key = "a.yes" if ok else "a.no"\n    return t(key)\n', {"a.yes", "a.no"}),
    ('print("not.an.id")', set()),
])
def test_id_scan(source: str, expected: set[str]) -> None:
    assert ids_used_in(source) == expected


def test_id_scan_refuses_what_it_cannot_read() -> None:
    with pytest.raises(AssertionError, match="cannot tell"):
        ids_used_in("t(make_id())")
    with pytest.raises(AssertionError, match="ID_FAMILIES"):
        ids_used_in('t(f"new.{thing}")')


@pytest.mark.parametrize("locale", LOCALES)
def test_translator_fills_placeholders_and_refuses_unknown_ids(locale: str) -> None:
    t = Translator(locale)
    assert "42" in t("chat.incident_missing", number=42)
    with pytest.raises(KeyError, match="no.such.id"):
        t("no.such.id")
