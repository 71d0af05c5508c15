"""core/reach.py: how a paged person is reached, by their preferences per severity and their quiet hours."""

from __future__ import annotations

from datetime import datetime

import pytest

from core.model import Severity
from core.reach import Preferences, Reach, reach
from core.stages.mute import Weekly, parse_weekly

CRITICAL, WARNING, INFO = Severity.CRITICAL, Severity.WARNING, Severity.INFO
NIGHTS = Weekly(parse_weekly([["mon 22:00", "tue 07:00"]], "quiet"), "Asia/Shanghai")
MONDAY_NIGHT = datetime.fromisoformat("2026-12-07T23:30+08:00")
TUESDAY_DAY = datetime.fromisoformat("2026-12-08T10:00+08:00")
PREFS = Preferences(by_severity={"critical": ("slack", "email"), "info": ("email",)}, quiet=NIGHTS)


@pytest.mark.parametrize(("prefs", "severity", "via", "bound", "at", "expected"), [
    (Preferences(), WARNING, ("dm",), ("slack", "email"), TUESDAY_DAY, Reach(("slack",))),  # the default: a DM
    (Preferences(), WARNING, ("dm", "email"), ("slack", "email"), TUESDAY_DAY, Reach(("slack", "email"))),
    (Preferences(), WARNING, ("email",), ("slack", "email"), TUESDAY_DAY, Reach(("email",))),
    (Preferences(), WARNING, ("ops-channel",), ("slack", "email"), TUESDAY_DAY, Reach(())),  # channels only
    (PREFS, CRITICAL, ("dm",), ("slack", "email"), TUESDAY_DAY, Reach(("slack", "email"))),  # in their order
    (PREFS, INFO, ("dm",), ("slack", "email"), TUESDAY_DAY, Reach(("email",))),
    (PREFS, WARNING, ("dm",), ("slack", "email"), TUESDAY_DAY, Reach(("slack",))),  # no list for warning
    (PREFS, CRITICAL, ("dm",), ("slack",), TUESDAY_DAY, Reach(("slack",))),  # no address: email left out
    (PREFS, INFO, ("dm",), ("slack",), TUESDAY_DAY, Reach(())),
    (PREFS, WARNING, ("dm",), ("slack", "email"), MONDAY_NIGHT, Reach((), quiet=True)),  # quiet hours
    (PREFS, CRITICAL, ("dm",), ("slack", "email"), MONDAY_NIGHT, Reach(("slack", "email"))),  # critical: always
])
def test_reach(prefs: Preferences, severity: Severity, via: tuple[str, ...], bound: tuple[str, ...], at: datetime,
               expected: Reach) -> None:
    assert reach(prefs, severity, via, bound, at) == expected

