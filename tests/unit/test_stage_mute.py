"""Stages 5 and 6, silences and inhibit rules (core/stages/mute.py, docs/silences.md).

Times in the tables are UTC unless they carry an offset; comments give the wall time in the silence's zone.
2026-01-05 is a Monday. DST in 2026: Berlin springs forward on 29 March (02:00 CET → 03:00 CEST) and falls
back on 25 October (03:00 CEST → 02:00 CET); New York on 8 March (02:00 EST → 03:00 EDT) and 1 November
(02:00 EDT → 01:00 EST).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from core.conditions import ConditionError, matches, parse_rule, parse_value
from core.model import AlertEvent, AlertStatus, Severity
from core.stages import ActiveAlert, Context, Passage, run
from core.stages.mute import (
    Inhibit,
    MuteConfigError,
    Muter,
    Once,
    RestDays,
    Silence,
    Weekly,
    active_silences,
    literal,
    parse_inhibits,
    parse_silences,
    quick_silence,
)

SH, NY, BER = "Asia/Shanghai", "America/New_York", "Europe/Berlin"
NOW = datetime(2026, 1, 5, 10, tzinfo=UTC)
NATIONAL_DAY, MAKEUP_SATURDAY = date(2026, 10, 1), date(2026, 10, 10)


def cn_workday(day: date) -> bool:
    """A small stand-in for China's calendar: weekdays, but not 1 October; Saturday 10 October is worked."""
    return day == MAKEUP_SATURDAY or (day.weekday() < 5 and day != NATIONAL_DAY)


CALENDARS: Mapping[str, Callable[[date], bool]] = {
    "cn-workdays": cn_workday, "no-sundays": lambda day: day.weekday() != 6,
}


def utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def event(status: AlertStatus = AlertStatus.FIRING, severity: str = "warning", title: str = "disk full",
          fingerprint: str = "e1", source: str = "alertmanager", **labels: str) -> AlertEvent:
    return AlertEvent(source=source, fingerprint=fingerprint, status=status, severity=Severity(severity),
                      title=title, labels=labels, annotations={}, starts_at=NOW)


def resolved(**labels: str) -> AlertEvent:
    return event(AlertStatus.RESOLVED, **labels)


def active(fingerprint: str = "a1", minutes_ago: float = 1, severity: str = "critical", title: str = "node down",
           **labels: str) -> ActiveAlert:
    return ActiveAlert(fingerprint=fingerprint, labels=labels, severity=severity, title=title, source="alertmanager",
                       last_active=NOW - timedelta(minutes=minutes_ago))


def when_silence(when: dict[str, Any], zone: str) -> Silence:
    return parse_silences([{"name": "s", "if": [], **when}], "silences", zone, CALENDARS)[0]


def env_is(*values: str) -> list[list[dict[str, Any]]]:
    return [[{"key": "labels.env", "in": list(values)}]]


# when a silence is active -------------------------------------------------------------------------------

ONCE_SH = {"once": {"start": "2026-12-01T22:00", "end": "2026-12-02T06:00"}}
NIGHTS = {"weekly": [["mon 22:00", "tue 06:00"]]}
WEEKEND = {"weekly": [["sat 00:00", "mon 00:00"]]}
SUNDAY_NIGHT = {"weekly": [["sun 22:00", "mon 06:00"]]}
BER_EARLY_SUNDAY = {"weekly": [["sun 01:30", "sun 03:00"]]}
REST_CN = {"rest_days": {"calendar": "cn-workdays"}}
REST_SUNDAYS = {"rest_days": {"calendar": "no-sundays"}}


@pytest.mark.parametrize(("when", "zone", "now", "expected"), [
    # once: naive times are wall times of the zone; the start is included, the end excluded
    (ONCE_SH, SH, "2026-12-01T13:59:59", False),                                      # 21:59:59
    (ONCE_SH, SH, "2026-12-01T14:00", True),                                          # 22:00 on the dot
    (ONCE_SH, SH, "2026-12-01T21:59:59", True),                                       # 05:59:59
    (ONCE_SH, SH, "2026-12-01T22:00", False),                                         # 06:00: over
    ({"once": {"start": "2026-12-01T22:00+00:00", "end": "2026-12-01T23:00Z"}}, SH, "2026-12-01T22:30", True),
    ({"once": {"start": "2026-12-01T22:00+00:00", "end": "2026-12-01T23:00Z"}}, SH, "2026-12-01T14:30", False),
    # weekly across midnight: Monday 22:00 to Tuesday 06:00 in Shanghai (UTC+8)
    (NIGHTS, SH, "2026-01-05T13:59:59", False),                                       # Mon 21:59:59
    (NIGHTS, SH, "2026-01-05T14:00", True),                                           # Mon 22:00
    (NIGHTS, SH, "2026-01-05T21:59:59", True),                                        # Tue 05:59:59
    (NIGHTS, SH, "2026-01-05T22:00", False),                                          # Tue 06:00
    (NIGHTS, SH, "2026-01-06T14:30", False),                                          # Tue 22:30: Mondays only
    # weekly across the end of the week
    (WEEKEND, SH, "2026-01-09T15:59:59", False),                                      # Fri 23:59:59
    (WEEKEND, SH, "2026-01-09T16:00", True),                                          # Sat 00:00
    (WEEKEND, SH, "2026-01-11T15:59:59", True),                                       # Sun 23:59:59
    (WEEKEND, SH, "2026-01-11T16:00", False),                                         # Mon 00:00
    (SUNDAY_NIGHT, SH, "2026-01-04T21:00", True),                                     # Mon 05:00, begun Sunday
    (SUNDAY_NIGHT, SH, "2026-01-04T22:00", False),                                    # Mon 06:00
    ({"weekly": [["wed 10:00", "wed 10:00"]]}, SH, "2026-01-07T02:00", True),         # same points: whole week
    ({"weekly": [["mon 22:00", "tue 06:00"], ["fri 12:00", "fri 13:00"]]}, SH, "2026-01-09T04:30", True),
    # Berlin, spring forward: 01:30–03:00 is 01:30 CET–03:00 CEST, half an hour of real time
    (BER_EARLY_SUNDAY, BER, "2026-03-29T00:29:59", False),                            # 01:29:59 CET
    (BER_EARLY_SUNDAY, BER, "2026-03-29T00:30", True),                                # 01:30 CET
    (BER_EARLY_SUNDAY, BER, "2026-03-29T00:59:59", True),                             # 01:59:59 CET
    (BER_EARLY_SUNDAY, BER, "2026-03-29T01:00", False),                               # 03:00 CEST
    (BER_EARLY_SUNDAY, BER, "2026-03-22T01:59:59", True),                             # a plain Sunday: 02:59:59
    # Berlin, fall back: the same window is 01:30 CEST–03:00 CET, two and a half hours
    (BER_EARLY_SUNDAY, BER, "2026-10-24T23:30", True),                                # 01:30 CEST
    (BER_EARLY_SUNDAY, BER, "2026-10-25T01:59:59", True),                             # 02:59:59 CET
    (BER_EARLY_SUNDAY, BER, "2026-10-25T02:00", False),                               # 03:00 CET
    # a repeated wall time means its first occurrence: 02:00–02:45 is only the CEST pass
    ({"weekly": [["sun 02:00", "sun 02:45"]]}, BER, "2026-10-25T00:15", True),        # 02:15 CEST
    ({"weekly": [["sun 02:00", "sun 02:45"]]}, BER, "2026-10-25T01:15", False),       # 02:15 CET
    # New York, spring forward: 02:30 never happens, so the window starts when the clocks jump
    ({"weekly": [["sun 02:30", "sun 04:00"]]}, NY, "2026-03-08T06:59:59", False),     # 01:59:59 EST
    ({"weekly": [["sun 02:30", "sun 04:00"]]}, NY, "2026-03-08T07:00", True),         # 03:00 EDT
    ({"weekly": [["sun 02:30", "sun 04:00"]]}, NY, "2026-03-08T08:00", False),        # 04:00 EDT
    ({"weekly": [["sun 02:00", "sun 03:00"]]}, NY, "2026-03-08T06:59:59", False),     # a window that never is
    ({"weekly": [["sun 02:00", "sun 03:00"]]}, NY, "2026-03-08T07:00", False),
    ({"weekly": [["sun 02:00", "sun 03:00"]]}, NY, "2026-03-15T06:30", True),         # next Sunday 02:30 EDT
    # New York, fall back: 01:00–02:00 is 01:00 EDT–02:00 EST, two hours, the repeated hour included
    ({"weekly": [["sun 01:00", "sun 02:00"]]}, NY, "2026-11-01T04:59:59", False),     # 00:59:59 EDT
    ({"weekly": [["sun 01:00", "sun 02:00"]]}, NY, "2026-11-01T05:30", True),         # 01:30 EDT
    ({"weekly": [["sun 01:00", "sun 02:00"]]}, NY, "2026-11-01T06:30", True),         # 01:30 EST
    ({"weekly": [["sun 01:00", "sun 02:00"]]}, NY, "2026-11-01T07:00", False),        # 02:00 EST
    # rest days: whole local days the calendar says are not workdays
    (REST_CN, SH, "2026-09-30T15:59:59", False),                                      # Wed 30 Sep 23:59:59
    (REST_CN, SH, "2026-09-30T16:00", True),                                          # National Day 00:00
    (REST_CN, SH, "2026-10-03T04:00", True),                                          # a Saturday
    (REST_CN, SH, "2026-10-10T04:00", False),                                         # a Saturday worked
    (REST_CN, SH, "2026-01-05T04:00", False),                                         # a Monday
    (REST_SUNDAYS, BER, "2026-03-28T22:59:59", False),                                # Sat 23:59:59 CET
    (REST_SUNDAYS, BER, "2026-03-28T23:00", True),                                    # Sun 00:00 CET
    (REST_SUNDAYS, BER, "2026-03-29T21:59:59", True),                                 # Sun 23:59:59 CEST
    (REST_SUNDAYS, BER, "2026-03-29T22:00", False),                                   # Mon 00:00: 23 hours
])
def test_when_active(when: dict[str, Any], zone: str, now: str, expected: bool) -> None:
    assert when_silence(when, zone).active(utc(now), CALENDARS) is expected


def test_rest_days_without_the_calendar_in_the_context_are_not_active() -> None:
    silence = when_silence(REST_CN, SH)
    assert silence.active(utc("2026-10-03T04:00"), {}) is False


@pytest.mark.parametrize(("text", "zone", "expected"), [
    ("2026-12-01T22:00", SH, "2026-12-01T14:00+00:00"),
    ("2026-12-01 22:00", SH, "2026-12-01T14:00+00:00"),
    ("2026-12-01", SH, "2026-11-30T16:00+00:00"),                                     # a date: its 00:00
    ("2026-12-01T22:00:00+01:00", SH, "2026-12-01T21:00+00:00"),                      # an offset wins
    ("2026-03-29T02:30", BER, "2026-03-29T01:00+00:00"),                              # skipped: the jump, 03:00 CEST
    ("2026-10-25T02:30", BER, "2026-10-25T00:30+00:00"),                              # repeated: first, CEST
    ("2026-03-08T02:30", NY, "2026-03-08T07:00+00:00"),
])
def test_once_times(text: str, zone: str, expected: str) -> None:
    when = when_silence({"once": {"start": text, "end": "2027-01-01T00:00"}}, zone).when
    assert isinstance(when, Once)
    assert when.start == utc(expected)
    assert when.start.utcoffset() is not None


def test_once_from_yaml_timestamps() -> None:
    data = yaml.safe_load("""
- name: db upgrade
  if: [[{key: labels.team, in: [db]}]]
  action: drop
  once: {start: 2026-12-01 22:00:00, end: '2026-12-02T02:00'}
""")
    silence = parse_silences(data, "silences", SH, ())[0]
    assert silence.when == Once(utc("2026-12-01T14:00"), utc("2026-12-01T18:00"))
    assert silence.action == "drop"
    assert parse_silences(data[:0], "silences", SH, ()) == ()
    assert parse_silences(None, "silences", SH, ()) == ()


# the stage ----------------------------------------------------------------------------------------------

ALWAYS = {"weekly": [["mon 00:00", "mon 00:00"]]}
PAST = {"once": {"start": "2026-01-01T00:00", "end": "2026-01-02T00:00"}}


def silence_cfg(name: str = "s", action: str = "mark", rule: Any = None, when: dict[str, Any] = ALWAYS
                ) -> dict[str, Any]:
    return {"name": name, "if": env_is("prod") if rule is None else rule, "action": action, **when}


CRIT_TO_WARN = {"name": "node-down", "source": [[{"key": "severity", "in": ["critical"]}]],
                "target": [[{"key": "severity", "in": ["warning"]}]], "equal": ["cluster"]}
ANY_TO_ANY = {"name": "all", "source": [], "target": [], "equal": ["cluster"]}


@pytest.mark.parametrize(("silences", "inhibits", "alert", "others", "dropped_by", "muted_by"), [
    # silences: mark keeps the event, drop takes it, only while active and only when the rule matches
    ([silence_cfg()], [], event(env="prod"), [], None, "silence:s"),
    ([silence_cfg(action="drop")], [], event(env="prod"), [], "silence:s", None),
    ([silence_cfg(action="drop")], [], event(env="dev"), [], None, None),
    ([silence_cfg(action="drop")], [], event(), [], None, None),                       # no env label
    ([silence_cfg(when=PAST)], [], event(env="prod"), [], None, None),                 # expired
    ([silence_cfg(rule=[])], [], event(env="dev"), [], None, "silence:s"),             # mark all: a maintenance
    # a drop silence wins over a mark one; among one kind the first names the reason
    ([silence_cfg("m"), silence_cfg("d", "drop")], [], event(env="prod"), [], "silence:d", None),
    ([silence_cfg("m1"), silence_cfg("m2")], [], event(env="prod"), [], None, "silence:m1"),
    # a recovery is never dropped: a drop silence only marks it
    ([silence_cfg(action="drop")], [], resolved(env="prod"), [], None, "silence:s"),
    ([silence_cfg("m"), silence_cfg("d", "drop")], [], resolved(env="prod"), [], None, "silence:m"),
    ([silence_cfg()], [], resolved(env="dev"), [], None, None),
    # inhibit: a recent matching source with the same `equal` labels mutes a matching target
    ([], [CRIT_TO_WARN], event(cluster="a"), [active(cluster="a")], None, "inhibit:node-down"),
    ([], [CRIT_TO_WARN], event(cluster="a"), [active(cluster="b")], None, None),       # equal label differs
    ([], [CRIT_TO_WARN], event(), [active()], None, "inhibit:node-down"),              # both lack it: equal
    ([], [CRIT_TO_WARN], event(), [active(cluster="a")], None, None),                  # one lacks it
    ([], [CRIT_TO_WARN], event(cluster=""), [active()], None, None),                   # empty is not missing
    ([], [CRIT_TO_WARN], event(cluster="a"), [active(minutes_ago=10, cluster="a")], None, "inhibit:node-down"),
    ([], [CRIT_TO_WARN], event(cluster="a"), [active(minutes_ago=10.01, cluster="a")], None, None),  # stale
    ([], [CRIT_TO_WARN], event(cluster="a"), [active(minutes_ago=-1, cluster="a")], None, "inhibit:node-down"),
    ([], [CRIT_TO_WARN], event(cluster="a"), [active(severity="warning", cluster="a")], None, None),  # not a source
    ([], [CRIT_TO_WARN], event(cluster="a"), [active(severity="fatal", cluster="a")], None, None),    # unreadable
    ([], [CRIT_TO_WARN], event(severity="critical", cluster="a"), [active(cluster="a")], None, None),  # no target
    ([], [CRIT_TO_WARN], resolved(cluster="a"), [active(cluster="a")], None, None),      # recoveries: never
    ([], [CRIT_TO_WARN], event(cluster="a"), [active(minutes_ago=20, cluster="a"), active("a2", cluster="a")],
     None, "inhibit:node-down"),                                                       # any source will do
    # the alert itself is no source, and two alerts matching both sides do not mute each other
    ([], [ANY_TO_ANY], event(cluster="a"), [active("e1", cluster="a")], None, None),
    ([], [ANY_TO_ANY], event(cluster="a"), [active("a2", cluster="a")], None, None),
    ([], [{**ANY_TO_ANY, "source": [[{"key": "title", "in": ["node down"]}]]}], event(cluster="a"),
     [active(cluster="a")], None, "inhibit:all"),
    # silences come first
    ([silence_cfg()], [CRIT_TO_WARN], event(env="prod", cluster="a"), [active(cluster="a")], None, "silence:s"),
    ([silence_cfg(action="drop")], [CRIT_TO_WARN], event(env="prod", cluster="a"), [active(cluster="a")],
     "silence:s", None),
])
def test_muter(silences: list[dict[str, Any]], inhibits: list[dict[str, Any]], alert: AlertEvent,
               others: list[ActiveAlert], dropped_by: str | None, muted_by: str | None) -> None:
    muter = Muter(parse_silences(silences, "silences", BER, CALENDARS), parse_inhibits(inhibits, "inhibits"))
    context = Context(now=NOW, active=others, calendars=CALENDARS)
    passage = run(Passage(alert, "payments"), [muter.mute], context)
    assert (passage.dropped_by, passage.muted_by) == (dropped_by, muted_by)
    assert muter.why(alert, context) == (dropped_by or muted_by)
    assert muter(Passage(alert, "payments"), context) == passage


def test_muter_leaves_stopped_and_already_muted_passages() -> None:
    muter = Muter(parse_silences([silence_cfg()], "silences", BER, CALENDARS))
    context = Context(now=NOW)
    dropped = Passage(event(env="prod"), "payments").dropped("drop:x")
    assert muter.mute(dropped, context) == dropped
    muted = Passage(event(env="prod"), "payments").muted("earlier")
    assert muter.mute(muted, context).muted_by == "earlier"


def test_muter_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        Muter().mute(Passage(event(), "payments"), Context(now=datetime(2026, 1, 5, 10)))


# quick silences -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("preset", "length"), [
    ("30m", timedelta(minutes=30)), ("1h", timedelta(hours=1)), ("12h", timedelta(hours=12)),
    ("1d", timedelta(days=1)), ("1w", timedelta(days=7)),
])
def test_quick_silence_presets(preset: str, length: timedelta) -> None:
    silence = quick_silence(preset, {"alertname": "DiskFull", "instance": "db-1"}, "payments", NOW, "alice")
    assert silence.when == Once(NOW, NOW + length)
    assert (silence.action, silence.created_by, silence.service, silence.id) == ("mark", "alice", "payments", None)
    muter = Muter([silence])
    hit = event(alertname="DiskFull", instance="db-1", env="prod")                     # more labels are fine
    assert muter.why(hit, Context(now=NOW + length - timedelta(seconds=1))) == f"silence:{silence.name}"
    assert muter.why(hit, Context(now=NOW + length)) is None
    assert active_silences([silence], NOW + length) == ()


@pytest.mark.parametrize("preset", ["2h", "30M", "", "1y", "forever"])
def test_quick_silence_unknown_preset(preset: str) -> None:
    with pytest.raises(ValueError, match="preset"):
        quick_silence(preset, {"alertname": "x"}, "payments", NOW, "alice")


def test_quick_silence_needs_labels_and_keeps_to_its_service() -> None:
    with pytest.raises(ValueError, match="without labels"):
        quick_silence("1h", {}, "payments", NOW, "alice")
    muter = Muter([quick_silence("1h", {"alertname": "DiskFull"}, "payments", NOW, "alice")])
    context = Context(now=NOW)
    assert muter.mute(Passage(event(alertname="DiskFull"), "payments"), context).muted_by is not None
    assert muter.mute(Passage(event(alertname="DiskFull"), "billing"), context).muted_by is None
    assert muter.mute(Passage(event(), "payments"), context).muted_by is None        # lacks the label


@pytest.mark.parametrize(("value", "near_miss"), [
    ("*", "anything"),
    ("db-?", "db-1"),
    ("a*b", "axxb"),
    ("/x/", "x"),
    ("/.*/", "abc"),
    ("/", "//"),
    ("cidr:10.0.0.0/8", "10.0.0.1"),
    ("num:gt:1", "2"),
    ("a.b", "axb"),
    ("(a+)+$", "aaa"),
    ("", " "),
    ("line\nbreak", "line break"),
    ("10.0.0.1:9100", "10.0.0.1:9101"),
])
def test_quick_silence_matches_label_values_literally(value: str, near_miss: str) -> None:
    silence = quick_silence("1h", {"odd": value, "alertname": "X"}, "payments", NOW, "bob")
    assert matches(silence.rule, event(odd=value, alertname="X"))
    assert not matches(silence.rule, event(odd=near_miss, alertname="X"))
    # the matchers' text reads back the same through the condition language, so the rule can be stored
    data = [[{"key": condition.key, "in": [matcher.text for matcher in condition.values]}
             for condition in group] for group in silence.rule]
    assert parse_rule(data, "silence.if") == silence.rule


@given(st.text(max_size=60), st.text(max_size=60))
def test_literal_matches_only_its_text(text: str, other: str) -> None:
    matcher = literal(text)
    assert matcher.matches(text)
    assert matcher.matches(other) is (other == text)
    assert parse_value("labels.x", matcher.text, "x") == matcher


# expiry -------------------------------------------------------------------------------------------------

def test_active_silences_let_expired_ones_go() -> None:
    def once(name: str, start: str, end: str) -> Silence:
        return Silence(name, (), "mark", Once(utc(start), utc(end)))

    over = once("over", "2026-01-01T00:00", "2026-01-05T09:00")
    ends_now = once("ends-now", "2026-01-05T09:00", "2026-01-05T10:00")
    running = once("running", "2026-01-05T09:00", "2026-01-05T10:00:01")
    later = once("later", "2026-02-01T00:00", "2026-02-02T00:00")
    weekly = Silence("weekly", (), "mark", Weekly((), BER))
    rest = Silence("rest", (), "mark", RestDays("cn-workdays", SH))
    kept = active_silences([over, ends_now, running, later, weekly, rest], NOW)
    assert [silence.name for silence in kept] == ["running", "later", "weekly", "rest"]


def test_silence_values_check_themselves() -> None:
    with pytest.raises(ValueError, match="end after"):
        Once(NOW, NOW)
    with pytest.raises(ValueError, match="aware"):
        Once(datetime(2026, 1, 1), datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="action"):
        Silence("s", (), "snooze", Once(NOW, NOW + timedelta(hours=1)))  # type: ignore[arg-type]


# bad config ---------------------------------------------------------------------------------------------

ONE_HOUR = {"once": {"start": "2026-12-01T22:00", "end": "2026-12-01T23:00"}}


@pytest.mark.parametrize(("data", "path", "message"), [
    ({"name": "s"}, "silences", "must be a list"),
    ([{"if": [], **ONE_HOUR}], "silences[0].name", "is required"),
    ([{"name": "s", **ONE_HOUR}], "silences[0].if", "is required"),
    ([{"name": " ", "if": [], **ONE_HOUR}], "silences[0].name", "non-empty"),
    ([{"name": "s", "if": [], "until": "tomorrow", **ONE_HOUR}], "silences[0].until", "unknown field"),
    ([{"name": "s", "if": [], "action": "snooze", **ONE_HOUR}], "silences[0].action", "drop, mark"),
    ([{"name": "s", "if": [], "action": "drop", **ONE_HOUR}], "silences[0].if", "drop every alert"),
    ([{"name": "s", "if": [[{"key": "sevrity", "in": ["critical"]}]], **ONE_HOUR}], "silences[0].if[0][0].key",
     "unknown key"),
    ([{"name": "s", "if": []}], "silences[0]", "exactly one of once, weekly or rest_days"),
    ([{"name": "s", "if": [], **ONE_HOUR, **NIGHTS}], "silences[0]", "(got once, weekly)"),
    ([{"name": "s", "if": [], "once": {"start": "2026-12-01T22:00"}}], "silences[0].once.end", "is required"),
    ([{"name": "s", "if": [], "once": {"start": "tonight", "end": "2026-12-01T23:00"}}], "silences[0].once.start",
     "not a time"),
    ([{"name": "s", "if": [], "once": {"start": 1700000000, "end": "2026-12-01T23:00"}}], "silences[0].once.start",
     "must be a time"),
    ([{"name": "s", "if": [], "once": {"start": "2026-12-01T22:00", "end": "2026-12-01T22:00"}}],
     "silences[0].once.end", "must be after start"),
    ([{"name": "s", "if": [], "once": {"start": "2026-12-01T22:00", "end": "2026-12-01T21:00"}}],
     "silences[0].once.end", "must be after start"),
    ([{"name": "s", "if": [], "weekly": []}], "silences[0].weekly", "at least one window"),
    ([{"name": "s", "if": [], "weekly": ["mon 22:00"]}], "silences[0].weekly[0]", "two points"),
    ([{"name": "s", "if": [], "weekly": [["mon 22:00", "tue 06:00", "wed 01:00"]]}], "silences[0].weekly[0]",
     "two points"),
    ([{"name": "s", "if": [], "weekly": [["mon 22:00", "tue 06:00"], ["monday 22:00", "tue 06:00"]]}],
     "silences[0].weekly[1][0]", "weekday and time"),
    ([{"name": "s", "if": [], "weekly": [["mon 22:00", "tue 24:00"]]}], "silences[0].weekly[0][1]",
     "weekday and time"),
    ([{"name": "s", "if": [], "rest_days": {"calendar": "cn-holidays"}}], "silences[0].rest_days.calendar",
     "unknown calendar 'cn-holidays'; calendars are cn-workdays, no-sundays"),
    ([{"name": "s", "if": [], "rest_days": {}}], "silences[0].rest_days.calendar", "is required"),
    ([{"name": "s", "if": [], **ONE_HOUR}, {"name": "s", "if": [], **NIGHTS}], "silences[1].name", "used twice"),
])
def test_bad_silences(data: Any, path: str, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_silences(data, "silences", SH, CALENDARS)
    assert caught.value.path == path
    assert message in caught.value.message


def test_bad_time_zone() -> None:
    with pytest.raises(MuteConfigError, match="unknown time zone 'Mars/Olympus'") as caught:
        parse_silences([], "services.db.silences", "Mars/Olympus", CALENDARS)
    assert caught.value.path == "services.db.silences"


SOURCE, TARGET = [[{"key": "severity", "in": ["critical"]}]], [[{"key": "severity", "in": ["warning"]}]]


@pytest.mark.parametrize(("data", "path", "message"), [
    ("node-down", "inhibits", "must be a list"),
    ([{"name": "i", "source": SOURCE}], "inhibits[0].target", "is required"),
    ([{"name": "i", "target": TARGET}], "inhibits[0].source", "is required"),
    ([{"source": SOURCE, "target": TARGET}], "inhibits[0].name", "is required"),
    ([{"name": "i", "source": SOURCE, "target": TARGET, "equals": ["x"]}], "inhibits[0].equals", "unknown field"),
    ([{"name": "i", "source": SOURCE, "target": TARGET, "equal": "cluster"}], "inhibits[0].equal", "must be a list"),
    ([{"name": "i", "source": SOURCE, "target": TARGET, "equal": ["cluster", ""]}], "inhibits[0].equal[1]",
     "label name"),
    ([{"name": "i", "source": SOURCE, "target": TARGET, "equal": ["labels.cluster"]}], "inhibits[0].equal[0]",
     "'cluster'"),
    ([{"name": "i", "source": [[{"key": "description", "in": ["*"]}]], "target": TARGET}],
     "inhibits[0].source[0][0].key", "cannot use description"),
    ([{"name": "i", "source": SOURCE, "target": [[{"key": "labels.ip", "in": ["cidr:x"]}]]}],
     "inhibits[0].target[0][0].in[0]", "bad network"),
    ([{"name": "i", "source": SOURCE, "target": TARGET}, {"name": "i", "source": [], "target": []}],
     "inhibits[1].name", "used twice"),
])
def test_bad_inhibits(data: Any, path: str, message: str) -> None:
    with pytest.raises(ConditionError) as caught:
        parse_inhibits(data, "inhibits")
    assert caught.value.path == path
    assert message in caught.value.message


def test_inhibits_from_yaml() -> None:
    data = yaml.safe_load("""
- name: node down hides its services
  source: [[{key: labels.alertname, in: [NodeDown]}]]
  target: [[{key: labels.alertname, not_in: [NodeDown]}]]
  equal: [instance]
- {name: no equal, source: [], target: [[{key: severity, in: [info]}]]}
""")
    first, second = parse_inhibits(data, "inhibits")
    assert first.equal == ("instance",) and second.equal == ()
    assert isinstance(first, Inhibit)


# property -----------------------------------------------------------------------------------------------

WINDOW_POINTS = st.builds(lambda day, hour, minute: f"{day} {hour:02d}:{minute:02d}",
                          st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]),
                          st.integers(0, 23), st.sampled_from([0, 30]))
WHENS = st.one_of(
    st.builds(lambda start, hours: {"once": {"start": start.isoformat(), "end": (start + hours).isoformat()}},
              st.datetimes(datetime(2025, 12, 1), datetime(2026, 2, 1)),
              st.integers(1, 24 * 30).map(lambda hours: timedelta(hours=hours))),
    st.builds(lambda windows: {"weekly": windows}, st.lists(st.lists(WINDOW_POINTS, min_size=2, max_size=2),
                                                            min_size=1, max_size=3)),
    st.just(REST_CN),
)
RULES = st.sampled_from([[], env_is("prod"), env_is("dev", "prod"), [[{"key": "severity", "in": ["critical"]}]]])
SILENCES = st.lists(st.builds(lambda action, rule, when: {"if": rule if rule or action == "mark" else env_is("prod"),
                                                          "action": action, **when},
                              st.sampled_from(["drop", "mark"]), RULES, WHENS), max_size=5)
INHIBITS = st.lists(st.builds(lambda source, target, equal: {"source": source, "target": target, "equal": equal},
                              RULES, RULES, st.lists(st.sampled_from(["env", "cluster"]), max_size=2)), max_size=3)
LABELS = st.dictionaries(st.sampled_from(["env", "cluster"]), st.sampled_from(["prod", "dev", "a"]), max_size=2)


@given(SILENCES, INHIBITS, LABELS, st.sampled_from(["critical", "warning", "info"]),
       st.lists(st.builds(lambda labels, ago: active("a", ago, **labels), LABELS, st.integers(-5, 30)), max_size=3),
       st.datetimes(datetime(2025, 12, 1), datetime(2026, 2, 1), timezones=st.just(UTC)))
def test_a_recovery_is_never_dropped(silences: list[dict[str, Any]], inhibits: list[dict[str, Any]],
                                     labels: dict[str, str], severity: str, others: list[ActiveAlert],
                                     now: datetime) -> None:
    named = [{"name": f"s{index}", **item} for index, item in enumerate(silences)]
    muter = Muter(parse_silences(named, "silences", BER, CALENDARS),
                  parse_inhibits([{"name": f"i{index}", **item} for index, item in enumerate(inhibits)], "inhibits"))
    context = Context(now=now, active=others, calendars=CALENDARS)
    recovery = Passage(event(AlertStatus.RESOLVED, severity, **labels), "payments")
    passage = muter.mute(recovery, context)
    assert not passage.stopped
    assert passage.muted_by is None or passage.muted_by.startswith("silence:")
    firing = muter.mute(Passage(event(AlertStatus.FIRING, severity, **labels), "payments"), context)
    # the recovery is muted exactly when some silence holds the same alert firing
    assert (passage.muted_by is not None) is (firing.muted_by or firing.dropped_by or "").startswith("silence:")
