"""core/escalation.py: which policy an incident follows (rules by condition and time window), a level's
repeat pages, the delay before the first level."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from core.conditions import ConditionError
from core.escalation import Policy, Step, Target, choose_policy, first_firing, next_repeat, parse_escalation_rules
from core.model import AlertEvent, AlertStatus, Severity

SHANGHAI = "Asia/Shanghai"
POLICIES = ("default", "db", "night", "holiday", "office")


def event(severity: str = "warning", **labels: str) -> AlertEvent:
    return AlertEvent(source="alertmanager", fingerprint="e1", status=AlertStatus.FIRING,
                      severity=Severity(severity), title="disk full", labels=labels, annotations={},
                      starts_at=datetime(2026, 12, 7, tzinfo=UTC))


def workday(day: date) -> bool:  # a calendar: weekdays, except 2026-10-01 (a holiday) and 2026-10-10 (worked)
    if day == date(2026, 10, 10):
        return True
    return day.weekday() < 5 and day != date(2026, 10, 1)


CALENDARS = {"cn": workday}
RULES: list[dict[str, Any]] = [
    {"name": "databases", "if": [[{"key": "labels.team", "in": ["db"]}]], "policy": "db"},
    {"name": "nights", "weekly": [["mon 19:00", "tue 09:00"], ["tue 19:00", "wed 09:00"]], "policy": "night"},
    {"name": "holidays", "rest_days": {"calendar": "cn"}, "if": [[{"key": "severity", "in": ["critical"]}]],
     "policy": "holiday"},
    {"name": "office", "workdays": {"calendar": "cn"}, "policy": "office"},
]


def local(text: str) -> datetime:
    return datetime.fromisoformat(text + "+08:00")


@pytest.mark.parametrize(("at", "alert", "expected"), [
    (local("2026-12-08T03:00"), event(team="db"), ("db", "databases")),  # the first matching rule wins
    (local("2026-12-07T20:00"), event(), ("night", "nights")),  # Monday 20:00 in Shanghai
    (local("2026-12-08T08:59"), event(), ("night", "nights")),
    (local("2026-12-08T09:00"), event(), ("office", "office")),  # the window's end is not in it
    (local("2026-10-01T10:00"), event("critical"), ("holiday", "holidays")),  # a Thursday, but a holiday
    (local("2026-10-01T10:00"), event("warning"), ("default", None)),  # the holiday rule wants critical
    (local("2026-10-10T10:00"), event(), ("office", "office")),  # a Saturday the calendar makes a workday
    (local("2026-12-12T10:00"), event(), ("default", None)),  # a Saturday: no rule, the service's default
])
def test_the_first_rule_that_matches_picks_the_policy(at: datetime, alert: AlertEvent,
                                                      expected: tuple[str, str | None]) -> None:
    rules = parse_escalation_rules(RULES, "services[0].escalation_rules", SHANGHAI, {"cn"}, POLICIES)
    assert choose_policy(rules, "default", alert, at, CALENDARS) == expected


def test_a_calendar_the_context_lacks_picks_nothing() -> None:
    rules = parse_escalation_rules(RULES[3:], "r", SHANGHAI, {"cn"}, POLICIES)
    assert choose_policy(rules, "default", event(), local("2026-12-08T10:00"), {}) == ("default", None)


def test_weekly_windows_follow_dst_in_their_zone() -> None:
    rules = parse_escalation_rules([{"name": "n", "weekly": [["sun 01:30", "sun 03:00"]], "policy": "night"}],
                                   "r", "Europe/Berlin", set(), POLICIES)
    # 2026-03-29 Berlin springs forward at 02:00 CET: the window is 01:30 CET – 03:00 CEST, 30 minutes
    assert choose_policy(rules, "default", event(), datetime(2026, 3, 29, 0, 45, tzinfo=UTC), {})[0] == "night"
    assert choose_policy(rules, "default", event(), datetime(2026, 3, 29, 1, 0, tzinfo=UTC), {})[0] == "default"


@pytest.mark.parametrize(("rules", "path", "message"), [
    ([{"name": "x", "policy": "nope"}], "r[0].policy", "no escalation policy 'nope'"),
    ([{"name": "x"}], "r[0]", "policy"),
    ([{"name": "x", "policy": "db", "weekly": [["mon 09:00", "fri 18:00"]], "workdays": {"calendar": "cn"}}],
     "r[0]", "at most one of weekly, workdays or rest_days"),
    ([{"name": "x", "policy": "db", "weekly": [["monday 9", "fri 18:00"]]}], "r[0].weekly[0][0]", "weekday"),
    ([{"name": "x", "policy": "db", "workdays": {"calendar": "mars"}}], "r[0].workdays.calendar",
     "unknown calendar 'mars'"),
    ([{"name": "x", "policy": "db", "if": [{"key": "severity", "in": ["critical"]}]}], "r[0].if", ""),
    ([{"name": "x", "policy": "db"}, {"name": "x", "policy": "night"}], "r", "x"),
    ([{"name": "x", "policy": "db", "when": "always"}], "r[0]", "when"),
])
def test_a_wrong_rule_names_its_path(rules: list[dict[str, Any]], path: str, message: str) -> None:
    with pytest.raises(ConditionError) as raised:
        parse_escalation_rules(rules, "r", SHANGHAI, {"cn"}, POLICIES)
    assert raised.value.path.startswith(path) and message in str(raised.value)


AT = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
LEVEL = Step(after=timedelta(0), targets=(Target(user="alice"),), repeat_every=timedelta(minutes=2), repeat_times=3)


def test_a_level_repeats_its_pages_then_stops() -> None:
    dues, done, at = [], 0, AT
    while (due := next_repeat(LEVEL, done, at, None)) is not None:
        dues.append(due - AT)
        done, at = done + 1, due
    assert dues == [timedelta(minutes=2), timedelta(minutes=4), timedelta(minutes=6)]


def test_repeats_stop_before_the_next_level() -> None:
    next_level = AT + timedelta(minutes=4)
    assert next_repeat(LEVEL, 0, AT, next_level) == AT + timedelta(minutes=2)
    assert next_repeat(LEVEL, 1, AT + timedelta(minutes=2), next_level) is None  # 4 min: the next level's turn
    assert next_repeat(Step(after=timedelta(0), targets=()), 0, AT, None) is None  # a level without repeats


def test_the_delay_holds_the_first_level() -> None:
    policy = Policy("p", (Step(after=timedelta(minutes=1), targets=()),), delay=timedelta(minutes=3))
    assert first_firing(policy, AT).due_at == AT + timedelta(minutes=4)  # type: ignore[union-attr]
