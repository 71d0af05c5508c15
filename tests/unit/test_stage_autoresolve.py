"""core/stages/autoresolve.py, stage 10: resolve when all alerts recover, and after a quiet timeout."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.conditions import ConditionError
from core.stages.autoresolve import AutoResolve, parse_auto_resolve, should_resolve, timeout_due

PATH = "services[0].auto_resolve"
T0 = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(("data", "expected"), [
    (None, AutoResolve(True, None)),
    ({}, AutoResolve(True, None)),
    ({"when_alerts_recover": False}, AutoResolve(False, None)),
    ({"after": "4h"}, AutoResolve(True, timedelta(hours=4))),
    ({"when_alerts_recover": False, "after": "1m"}, AutoResolve(False, timedelta(minutes=1))),
    ({"after": "30d"}, AutoResolve(True, timedelta(days=30))),
    ({"after": None}, AutoResolve(True, None)),
])
def test_parse_auto_resolve(data: Any, expected: AutoResolve) -> None:
    assert parse_auto_resolve(data, PATH) == expected


@pytest.mark.parametrize(("data", "path", "fragment"), [
    (True, PATH, "must be a mapping"),
    ("4h", PATH, "must be a mapping"),
    ({"timeout": "4h"}, f"{PATH}.timeout", "unknown field"),
    ({"when_alerts_recover": "yes"}, f"{PATH}.when_alerts_recover", "true or false"),
    ({"when_alerts_recover": None}, f"{PATH}.when_alerts_recover", "true or false"),
    ({"after": "59s"}, f"{PATH}.after", "between 1m and 30d"),
    ({"after": "30d1s"}, f"{PATH}.after", "between 1m and 30d"),
    ({"after": 240}, f"{PATH}.after", "with a unit"),
    ({"after": "four hours"}, f"{PATH}.after", "not a duration"),
])
def test_bad_auto_resolve_names_its_path(data: Any, path: str, fragment: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_auto_resolve(data, PATH)
    assert caught.value.path == path
    assert fragment in caught.value.message


@pytest.mark.parametrize(("firing", "config", "expected"), [
    (0, AutoResolve(), True),
    (1, AutoResolve(), False),
    (250, AutoResolve(), False),
    (0, AutoResolve(when_alerts_recover=False), False),           # switched off: people resolve it
    (0, AutoResolve(when_alerts_recover=False, after=timedelta(hours=1)), False),
])
def test_should_resolve(firing: int, config: AutoResolve, expected: bool) -> None:
    assert should_resolve(firing, config) is expected


def test_should_resolve_refuses_a_negative_count() -> None:
    with pytest.raises(ValueError, match="negative"):
        should_resolve(-1, AutoResolve())


@pytest.mark.parametrize(("config", "expected"), [
    (AutoResolve(), None),
    (AutoResolve(after=timedelta(hours=4)), T0 + timedelta(hours=4)),
    (AutoResolve(when_alerts_recover=False, after=timedelta(minutes=1)), T0 + timedelta(minutes=1)),
])
def test_timeout_due(config: AutoResolve, expected: datetime | None) -> None:
    assert timeout_due(T0, config) == expected


def test_timeout_due_needs_an_aware_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        timeout_due(datetime(2026, 1, 5, 10, 0), AutoResolve(after=timedelta(hours=1)))
