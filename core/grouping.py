"""Which incident an alert belongs to (pipeline stage 7; docs/grouping.md).

Two pure decisions, applied by the application with database state:

- `group_key_for(event, grouping)`: the alert's group key. Alerts with the same key belong together.
- `joins(open, grouping, now)`: whether an alert arriving at `now` joins the open incident of its key, or a
  new incident must open (the window ran out, or the incident holds `max_alerts` alerts).

The application keeps at most ONE open incident per (service, key): the incident row holds its key in
`open_group_key` while it takes alerts, and a unique `(service_id, open_group_key)` index makes concurrent
requests agree. When `joins` says no, the application clears the old incident's `open_group_key` (the
incident stays open for people — triggered or acknowledged, escalating as before — it just takes no more
alerts) and opens a new incident under the same key in the same transaction. Two requests that both decide
to open race on the unique index; the loser retries, finds the new incident and joins it.

Arrival order: windows are measured from arrival times (`now`), so what is independent of the order is exactly
this: for alerts that all arrive within one window length of the first (latest − earliest < length), with no
cap reached, every alert joins the first incident of its key whatever the order, so the partition into
incidents is the partition by `group_key_for`. With a cap the partition's shape is still order-independent
(a key with n alerts makes ⌈n / max_alerts⌉ incidents, all full but the last) but which alert lands in which
incident follows arrival order. Across a window boundary order matters: which alert arrives first decides
where the window starts (tests/unit/test_grouping_rules.py checks both).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from core.conditions import ConditionError, Rule, matches, parse_rule
from core.duration import format_duration, parse_duration
from core.model import AlertEvent

MAX_BY = 5
MAX_CASES = 50
MAX_CASE_NAME = 64
MAX_ALERTS_LIMIT = 100_000
MIN_WINDOW = timedelta(minutes=1)
MAX_WINDOW = timedelta(days=7)
WINDOW_KINDS = ("tumbling", "sliding")
GROUPING_FIELDS = ("by", "cases", "default_by", "window", "strict", "max_alerts")
CASE_FIELDS = ("name", "if", "by")

WindowKind = Literal["tumbling", "sliding"]


def group_key(labels: Mapping[str, str], by: Sequence[str]) -> str:
    """A stable key from the values of the `by` labels; missing labels count as empty.

    With no `by` labels every alert of the service shares one open incident, as Alertmanager does
    for a route without `group_by`.
    """
    return json.dumps([[name, labels.get(name, "")] for name in by], ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Window:
    """`tumbling`: an incident takes alerts for `length` after it opened; `sliding`: for `length` after the
    last alert that joined it (each joining alert extends it)."""

    kind: WindowKind
    length: timedelta


@dataclass(frozen=True)
class GroupCase:
    """One case of conditional grouping: alerts matching `if_` are grouped by the `by` labels.

    `name` is part of the group key, so two cases never share an incident, and naming cases keeps the keys of
    open incidents when the cases are reordered (an unnamed case is called `case-<position from 1>`)."""

    if_: Rule
    by: tuple[str, ...]
    name: str


@dataclass(frozen=True)
class Grouping:
    """How a service groups alerts into incidents.

    Either `by` (the plain form: the values of up to 5 labels) or `cases` (ordered, the first whose `if_`
    matches decides; `by` is then unused). An alert that matches no case is grouped by `default_by`, or gets an
    incident of its own when `default_by` is None. `strict`: an alert whose value of one of its `by` labels is
    missing or empty groups with no other alert (its own incident, keyed by its fingerprint); otherwise missing
    counts as empty. `window`: None means an incident takes alerts as long as it is open. `max_alerts`: an
    incident holding that many alerts takes no more; the next alert of the key opens a new incident.
    """

    by: tuple[str, ...] = ()
    cases: tuple[GroupCase, ...] = ()
    default_by: tuple[str, ...] | None = None
    window: Window | None = None
    strict: bool = False
    max_alerts: int | None = None


@dataclass(frozen=True)
class OpenIncident:
    """What `joins` needs to know about the open incident of a key.

    `started_at`: when it opened (the arrival of its first alert). `last_merge_at`: the arrival of the last
    alert that joined it (`started_at` until one did; a repeated report of an alert it already holds is not a
    merge). `alert_count`: the alerts it holds, firing or recovered (every alert that ever joined it)."""

    started_at: datetime
    last_merge_at: datetime
    alert_count: int


def group_key_for(event: AlertEvent, grouping: Grouping) -> str:
    """The key of the incident `event` belongs to under `grouping` (JSON text, stable across restarts).

    The plain form gives exactly `group_key(labels, by)`, so incidents opened before conditional grouping
    existed keep their keys. The other keys start with a tag, so no two forms ever collide:
    `["case", <name>, <pairs>]`, `["default", <pairs>]` and `["alert", <fingerprint>]` (strict with a
    missing value, or no case matched and no `default_by`)."""
    if not grouping.cases:
        if grouping.strict and _lacks_value(event, grouping.by):
            return _alert_key(event)
        return group_key(event.labels, grouping.by)
    for case in grouping.cases:
        if matches(case.if_, event):
            if grouping.strict and _lacks_value(event, case.by):
                return _alert_key(event)
            return _dumps(["case", case.name, _pairs(event, case.by)])
    if grouping.default_by is None or (grouping.strict and _lacks_value(event, grouping.default_by)):
        return _alert_key(event)
    return _dumps(["default", _pairs(event, grouping.default_by)])


def joins(open: OpenIncident, grouping: Grouping, now: datetime) -> bool:
    """Whether an alert arriving at `now` joins `open`, the open incident of its key; False: a new one opens.

    False when the incident holds `max_alerts` alerts, or its window ran out: tumbling at
    `started_at + length`, sliding at `last_merge_at + length` (an alert arriving exactly then opens a new
    incident). An arrival before the window's start (clocks of two processes) joins."""
    if open.alert_count < 0:
        raise ValueError(f"alert_count must not be negative, got {open.alert_count}")
    if grouping.max_alerts is not None and open.alert_count >= grouping.max_alerts:
        return False
    window = grouping.window
    if window is None:
        return True
    start = open.started_at if window.kind == "tumbling" else open.last_merge_at
    return now < start + window.length


def _lacks_value(event: AlertEvent, by: Sequence[str]) -> bool:
    return any(not event.labels.get(name) for name in by)


def _pairs(event: AlertEvent, by: Sequence[str]) -> list[list[str]]:
    return [[name, event.labels.get(name, "")] for name in by]


def _alert_key(event: AlertEvent) -> str:
    return _dumps(["alert", event.fingerprint])


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def parse_grouping(data: Any, path: str) -> Grouping:
    """A `Grouping` from config data; None (no `grouping:`) is the default: every alert in one incident.

    `{by: [...]}` or `{cases: [{name?, if, by}, ...], default_by?: [...]}`, each with optional
    `window: {tumbling: 30m} | {sliding: 10m}`, `strict: true`, `max_alerts: 500`. Raises `ConditionError`
    naming the path of whatever cannot be read."""
    if data is None:
        return Grouping()
    if not isinstance(data, Mapping):
        raise ConditionError(path, "must be a mapping like {by: [alertname, cluster]}")
    unknown = sorted(str(name) for name in data if name not in GROUPING_FIELDS)
    if unknown:
        raise ConditionError(f"{path}.{unknown[0]}", f"unknown field; grouping has {', '.join(GROUPING_FIELDS)}")
    if "by" in data and "cases" in data:
        raise ConditionError(path, "has both by and cases; use by for one rule, or cases with default_by")
    if "default_by" in data and "cases" not in data:
        raise ConditionError(f"{path}.default_by", "only goes with cases; without cases write by")
    cases: tuple[GroupCase, ...] = ()
    default_by: tuple[str, ...] | None = None
    by: tuple[str, ...] = ()
    if "cases" in data:
        cases = _parse_cases(data["cases"], f"{path}.cases")
        if data.get("default_by") is not None:
            default_by = parse_by(data["default_by"], f"{path}.default_by")
    elif data.get("by") is not None:
        by = parse_by(data["by"], f"{path}.by")
    return Grouping(by=by, cases=cases, default_by=default_by,
                    window=parse_window(data.get("window"), f"{path}.window"),
                    strict=_parse_strict(data.get("strict", False), f"{path}.strict"),
                    max_alerts=_parse_max_alerts(data.get("max_alerts"), f"{path}.max_alerts"))


def parse_by(data: Any, path: str) -> tuple[str, ...]:
    """Up to 5 distinct label names, like `[alertname, cluster]`; `[]` puts every alert in one incident."""
    if not isinstance(data, list):
        raise ConditionError(path, "must be a list of label names, like [alertname, cluster]")
    if len(data) > MAX_BY:
        raise ConditionError(path, f"groups by at most {MAX_BY} labels, got {len(data)}")
    names: list[str] = []
    for index, name in enumerate(data):
        item = f"{path}[{index}]"
        if not isinstance(name, str) or not name.strip():
            raise ConditionError(item, "must be a label name, like alertname")
        if name != name.strip():
            raise ConditionError(item, f"label name {name!r} has spaces around it")
        if name.startswith("labels."):
            raise ConditionError(item, f"write the label name without 'labels.', like {name[len('labels.'):]!r}")
        if name in names:
            raise ConditionError(item, f"label {name!r} is listed twice")
        names.append(name)
    return tuple(names)


def _parse_cases(data: Any, path: str) -> tuple[GroupCase, ...]:
    if not isinstance(data, list) or not data:
        raise ConditionError(path, "must be a non-empty list of cases, like [{if: [...], by: [alertname]}]")
    if len(data) > MAX_CASES:
        raise ConditionError(path, f"at most {MAX_CASES} cases, got {len(data)}")
    cases: list[GroupCase] = []
    for index, item in enumerate(data):
        case = _parse_case(item, index, f"{path}[{index}]")
        for earlier in cases:
            if earlier.name == case.name:
                raise ConditionError(f"{path}[{index}].name", f"case name {case.name!r} is used twice")
        cases.append(case)
    return tuple(cases)


def _parse_case(data: Any, index: int, path: str) -> GroupCase:
    if not isinstance(data, Mapping):
        raise ConditionError(path, "must be a mapping like {if: [...], by: [alertname]}")
    unknown = sorted(str(name) for name in data if name not in CASE_FIELDS)
    if unknown:
        raise ConditionError(f"{path}.{unknown[0]}", f"unknown field; a case has {', '.join(CASE_FIELDS)}")
    name = data.get("name", f"case-{index + 1}")
    if not isinstance(name, str) or not name.strip() or name != name.strip() or len(name) > MAX_CASE_NAME:
        raise ConditionError(f"{path}.name", f"must be a text of 1 to {MAX_CASE_NAME} characters "
                                             "without spaces around it")
    if "if" not in data:
        raise ConditionError(f"{path}.if", "is required; [] matches every alert")
    if "by" not in data:
        raise ConditionError(f"{path}.by", "is required; [] puts every matching alert in one incident")
    rule = parse_rule(data["if"], f"{path}.if")
    return GroupCase(if_=rule, by=parse_by(data["by"], f"{path}.by"), name=name)


def parse_window(data: Any, path: str) -> Window | None:
    """`{tumbling: 30m}` or `{sliding: 10m}`, 1m to 7d; None (absent) is no window."""
    if data is None:
        return None
    if not isinstance(data, Mapping) or len(data) != 1:
        raise ConditionError(path, "must be one of {tumbling: 30m} or {sliding: 10m}")
    ((kind, raw),) = data.items()
    if kind not in WINDOW_KINDS:
        raise ConditionError(f"{path}.{kind}", f"unknown window; windows are {', '.join(WINDOW_KINDS)}")
    length = parse_bounded_duration(raw, f"{path}.{kind}", MIN_WINDOW, MAX_WINDOW)
    return Window(kind=kind, length=length)


def parse_bounded_duration(data: Any, path: str, least: timedelta, most: timedelta) -> timedelta:
    """A duration like `30m` between `least` and `most`, both included (shared by the stage parsers)."""
    if not isinstance(data, str):
        raise ConditionError(path, "must be a duration with a unit, like 30m, 4h or 1h30m")
    try:
        length = parse_duration(data)
    except ValueError as error:
        raise ConditionError(path, str(error)) from None
    if not least <= length <= most:
        raise ConditionError(path, f"must be between {format_duration(least)} and {format_duration(most)}, "
                                   f"got {format_duration(length)}")
    return length


def _parse_strict(data: Any, path: str) -> bool:
    if not isinstance(data, bool):
        raise ConditionError(path, "must be true or false")
    return data


def _parse_max_alerts(data: Any, path: str) -> int | None:
    if data is None:
        return None
    if isinstance(data, bool) or not isinstance(data, int) or not 1 <= data <= MAX_ALERTS_LIMIT:
        raise ConditionError(path, f"must be a whole number from 1 to {MAX_ALERTS_LIMIT}")
    return data
