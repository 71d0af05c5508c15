"""Dependencies point inward (SPEC §2, HOUSE_STYLE 1–2): core/ is pure and reads no clock."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CLOCK_READS = frozenset({
    "datetime.datetime.now", "datetime.datetime.utcnow", "datetime.datetime.today", "datetime.date.today",
    "time.time", "time.time_ns",
})
# package → top-level packages of this project it must never import
FORBIDDEN_INWARD = {"cards": {"adapters", "bot"}, "adapters": {"bot"}, "core": {"cards", "adapters", "bot"}}


def python_files(package: str) -> list[Path]:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"no Python files under {package}/"
    return files


def imported_modules(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, absolute module) for every import; relative imports stay inside the package and are skipped."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module


def non_stdlib_imports(source: str) -> list[str]:
    """Imports of anything but the standard library and `core` itself."""
    return [f"line {line}: {module}" for line, module in imported_modules(ast.parse(source))
            if module.split(".")[0] not in sys.stdlib_module_names and module.split(".")[0] != "core"]


def clock_reads(source: str) -> list[str]:
    """References to the wall clock, however the name was imported (`from datetime import datetime as dt`)."""
    tree = ast.parse(source)
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)):
            dotted = _dotted(node)
            if dotted is None:
                continue
            head, _, rest = dotted.partition(".")
            qualified = aliases.get(head, head) + (f".{rest}" if rest else "")
            if qualified in CLOCK_READS:
                found.append(f"line {node.lineno}: {dotted}")
    return found


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


@pytest.mark.parametrize("path", python_files("core"), ids=lambda path: str(path.relative_to(ROOT)))
def test_core_imports_only_the_standard_library_and_itself(path: Path) -> None:
    assert non_stdlib_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("path", python_files("core"), ids=lambda path: str(path.relative_to(ROOT)))
def test_core_never_reads_the_clock(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    assert clock_reads(source) == []
    # belt and braces: the plain text too, in case a read hides in a string passed to eval or similar
    for needle in ("datetime.now(", "datetime.utcnow(", "date.today(", "time.time("):
        assert needle not in source, f"{path.name} mentions {needle}"


@pytest.mark.parametrize("package", sorted(FORBIDDEN_INWARD))
def test_dependencies_point_inward(package: str) -> None:
    violations = []
    for path in python_files(package):
        for line, module in imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            if module.split(".")[0] in FORBIDDEN_INWARD[package]:
                violations.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert violations == []


# The checks above must be able to fail: each one is shown a violation it has to report.
@pytest.mark.parametrize(("source", "expected"), [
    ("import sqlalchemy\n", ["line 1: sqlalchemy"]),
    ("from pydantic import BaseModel\n", ["line 1: pydantic"]),
    ("from bot.config import Config\n", ["line 1: bot.config"]),
    ("import json\nfrom core.model import Severity\nfrom . import model\n", []),
    ("def later():\n    import httpx\n", ["line 2: httpx"]),
])
def test_import_check_reports_violations(source: str, expected: list[str]) -> None:
    assert non_stdlib_imports(source) == expected


@pytest.mark.parametrize(("source", "reported"), [
    ("from datetime import datetime\nx = datetime.now()\n", True),
    ("import datetime\nx = datetime.datetime.utcnow()\n", True),
    ("from datetime import date\nx = date.today()\n", True),
    ("import time\nx = time.time()\n", True),
    ("from time import time\nx = time()\n", True),
    ("from datetime import datetime as dt\nnow = dt.now\n", True),
    ("from datetime import datetime\nx = datetime.fromisoformat('2026-01-01')\n", False),
    ("import time\nx = time.strftime\n", False),
])
def test_clock_check_reports_reads(source: str, reported: bool) -> None:
    assert bool(clock_reads(source)) is reported
