"""Stages 5 and 6, silences and inhibit rules: one `Muter` that says why it muted (docs/silences.md).

Modelled on Alertmanager's notify/mute.go: a silence mutes the alerts that match it while it is active, an
inhibit rule mutes the alerts that match its target while a matching source alert is around. Here a muted
event is stored and marked (`Passage.muted`) and never notified; a silence with action `drop` takes it
instead (`Passage.dropped`). A recovery is never lost: inhibit rules skip it and a silence only marks it.

When a silence is active:
- `Once(start, end)`: from `start` (included) to `end` (excluded); once `end` has passed it is expired and
  `active_silences` lets it go.
- `Weekly(windows, timezone)`: every week in the wall time of `timezone`, with the schedules' rules for DST
  (`core.localtime`): a wall time the clocks skip means the moment they jump, so a window 01:30–03:00 on a
  Berlin spring-forward night lasts 30 minutes (01:30 CET–03:00 CEST); a wall time that happens twice means
  its first occurrence, so on the autumn night the same window lasts 2 h 30 min and a window 02:00–02:45
  covers only the first pass through 02:00–02:45.
- `RestDays(calendar_id, timezone)`: all through the local days (00:00–24:00 in `timezone`, 23 or 25 hours
  on DST days) that the service calendar says are not workdays.

Pure: config data and a `Context` in, decisions out; time is `Context.now`, always aware.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any, ClassVar, Literal, TypeAlias
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.conditions import (
    LABEL_PREFIX,
    Condition,
    ConditionError,
    Exact,
    Matcher,
    Regex,
    Rule,
    matches,
    parse_rule,
)
from core.localtime import to_instant, utc_naive
from core.model import AlertEvent, AlertStatus, Severity
from core.restrictions import Coverage, Restriction, WeeklyWindow
from core.stages import ActiveAlert, Context, Passage
from core.stages._config import as_list, as_name, as_object, unique_names

Action: TypeAlias = Literal["drop", "mark"]
ACTIONS: tuple[Action, ...] = ("drop", "mark")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKLY_POINT = re.compile(r"(mon|tue|wed|thu|fri|sat|sun) (([01]\d|2[0-3]):[0-5]\d)")
INHIBIT_HORIZON = timedelta(minutes=10)  # a source alert inhibits while it was active this recently
QUICK_PRESETS: Mapping[str, timedelta] = {
    "30m": timedelta(minutes=30), "1h": timedelta(hours=1), "12h": timedelta(hours=12),
    "1d": timedelta(days=1), "1w": timedelta(weeks=1),
}
SILENCE_FIELDS = ("name", "if", "action", "once", "weekly", "rest_days")
WHEN_FIELDS = ("once", "weekly", "rest_days")
INHIBIT_FIELDS = ("name", "source", "target", "equal")
TICK = timedelta(microseconds=1)

Calendars: TypeAlias = Mapping[str, Callable[[date], bool]]


class MuteConfigError(ConditionError):
    """A silence or inhibit rule in the config that cannot be read; `path` says where."""


@dataclass(frozen=True)
class Once:
    """One window: active from `start` (included) to `end` (excluded); both kept in UTC.

    (Python never finds an aware datetime in a repeated wall hour equal to one in another zone, so local
    values would make equal windows compare unequal.)"""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            utc_naive(getattr(self, name))  # refuses naive datetimes
            object.__setattr__(self, name, getattr(self, name).astimezone(UTC))
        if self.end <= self.start:
            raise ValueError(f"a silence must end after it starts ({self.start} – {self.end})")

    def active(self, now: datetime, calendars: Calendars) -> bool:
        return self.start <= now < self.end

    def expired(self, now: datetime) -> bool:
        return now >= self.end


@dataclass(frozen=True)
class Weekly:
    """Weekly windows ("mon 22:00"–"tue 06:00") in the wall time of `timezone`; see the module doc for DST."""

    windows: tuple[WeeklyWindow, ...]
    timezone: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "windows", tuple(self.windows))
        ZoneInfo(self.timezone)  # an unknown zone fails here, not at the first alert

    def active(self, now: datetime, calendars: Calendars) -> bool:
        instant = utc_naive(now)
        return bool(_coverage(self.windows).instants(ZoneInfo(self.timezone), instant, instant + TICK))


@dataclass(frozen=True)
class _CalendarDays:
    """The whole local days (00:00–24:00 in `timezone`) that the calendar `calendar_id` counts as workdays
    (`WORKDAYS` True) or not. A calendar the context does not hold makes it inactive: an alert rather notifies
    than vanishes."""

    WORKDAYS: ClassVar[bool]
    calendar_id: str
    timezone: str

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)

    def active(self, now: datetime, calendars: Calendars) -> bool:
        is_workday = calendars.get(self.calendar_id)
        if is_workday is None:
            return False
        utc_naive(now)
        return bool(is_workday(now.astimezone(ZoneInfo(self.timezone)).date())) == self.WORKDAYS


@dataclass(frozen=True)
class RestDays(_CalendarDays):
    """The whole local days the calendar `calendar_id` says are not workdays."""

    WORKDAYS: ClassVar[bool] = False


@dataclass(frozen=True)
class Workdays(_CalendarDays):
    """The whole local days the calendar `calendar_id` says are workdays (what `RestDays` leaves out)."""

    WORKDAYS: ClassVar[bool] = True


When: TypeAlias = Once | Weekly | RestDays


@dataclass(frozen=True)
class Silence:
    """Mutes the events matching `rule` while `when` is active: `drop` takes them (a recovery is only marked),
    `mark` stores them marked and does not notify. `service`, when set, limits it to that service's events."""

    name: str
    rule: Rule
    action: Action
    when: When
    created_by: str | None = None
    id: str | None = None
    service: str | None = None

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"unknown silence action {self.action!r}; actions are {', '.join(ACTIONS)}")

    def active(self, now: datetime, calendars: Calendars) -> bool:
        return self.when.active(now, calendars)

    def applies(self, event: AlertEvent, service_id: str | None, context: Context) -> bool:
        """Whether the silence holds `event` now (`service_id` None: any service)."""
        if self.service is not None and service_id is not None and service_id != self.service:
            return False
        return self.active(context.now, context.calendars) and matches(self.rule, event)


@dataclass(frozen=True)
class Inhibit:
    """Events matching `target` are muted while another alert matching `source`, with the same values of the
    `equal` labels, has been active within the last 10 minutes."""

    name: str
    source: Rule
    target: Rule
    equal: tuple[str, ...] = ()

    def inhibits(self, event: AlertEvent, active: Iterable[ActiveAlert], now: datetime) -> bool:
        """Whether some alert of `active` inhibits `event` (recoveries are the `Muter`'s business)."""
        if not matches(self.target, event):
            return False
        # As in Alertmanager: when the event matches both sides, alerts that match both sides too do not count,
        # or two such alerts would mute each other and nobody would hear of either.
        two_sided = matches(self.source, event)
        horizon = now - INHIBIT_HORIZON
        for alert in active:
            if alert.fingerprint == event.fingerprint or alert.last_active < horizon:
                continue
            # a label both lack is equal; a missing label is not equal to an empty one (docs/conditions.md)
            if any(alert.labels.get(label) != event.labels.get(label) for label in self.equal):
                continue
            view = active_event(alert)
            if view is None or not matches(self.source, view):
                continue
            if two_sided and matches(self.target, view):
                continue
            return True
        return False


class Muter:
    """Stages 5 and 6 as one stage: silences first, then inhibit rules.

    A firing event under a silence with action `drop` is dropped ("silence:<name>"), under one with action
    `mark` (and no drop silence) it is muted ("silence:<name>"); otherwise an inhibit rule may mute it
    ("inhibit:<name>"). The first matching silence or rule of its kind names the reason. A recovery is never
    dropped or inhibited: any matching silence only marks it."""

    def __init__(self, silences: Iterable[Silence] = (), inhibits: Iterable[Inhibit] = ()) -> None:
        self.silences = tuple(silences)
        self.inhibits = tuple(inhibits)

    def __call__(self, passage: Passage, context: Context) -> Passage:
        return self.mute(passage, context)

    def mute(self, passage: Passage, context: Context) -> Passage:
        if passage.stopped:
            return passage
        reason, drop = self._reason(passage.event, passage.service_id, context)
        if reason is None:
            return passage
        if drop:
            return passage.dropped(reason)
        return passage if passage.muted_by is not None else passage.muted(reason)

    def why(self, event: AlertEvent, context: Context, service_id: str | None = None) -> str | None:
        """What would take or mute `event` now: "silence:<name>", "inhibit:<name>", or None.

        `service_id` is the event's service; None skips the service check of service-bound silences."""
        return self._reason(event, service_id, context)[0]

    def _reason(self, event: AlertEvent, service_id: str | None, context: Context) -> tuple[str | None, bool]:
        """The reason and whether it drops."""
        utc_naive(context.now)
        recovery = event.status is AlertStatus.RESOLVED
        held = [silence for silence in self.silences if silence.applies(event, service_id, context)]
        if held:
            dropping = [silence for silence in held if silence.action == "drop"]
            if dropping and not recovery:
                return f"silence:{dropping[0].name}", True
            return f"silence:{held[0].name}", False
        if recovery:
            return None, False
        for rule in self.inhibits:
            if rule.inhibits(event, context.active, context.now):
                return f"inhibit:{rule.name}", False
        return None, False


def active_silences(silences: Iterable[Silence], now: datetime) -> tuple[Silence, ...]:
    """`silences` without the expired ones (a `Once` whose end has passed); one yet to start stays."""
    utc_naive(now)
    return tuple(silence for silence in silences
                 if not (isinstance(silence.when, Once) and silence.when.expired(now)))


def active_event(alert: ActiveAlert) -> AlertEvent | None:
    """An active alert as an event, for inhibit source rules; None when its severity is not one Dutybot knows.

    It has no annotations, so a source rule cannot look at `description` (`parse_inhibits` refuses that)."""
    try:
        severity = Severity(alert.severity)
    except ValueError:
        return None
    return AlertEvent(source=alert.source, fingerprint=alert.fingerprint, status=AlertStatus.FIRING,
                      severity=severity, title=alert.title, labels=alert.labels, annotations={},
                      starts_at=alert.last_active)


# quick silences -------------------------------------------------------------------------------------------


def quick_silence(preset: str, incident_labels: Mapping[str, str], incident_service: str, now: datetime,
                  by: str) -> Silence:
    """A silence from an incident card: `preset` long from `now`, for the events of `incident_service` that
    carry every label of the incident with exactly its value (more labels are fine); action mark."""
    length = QUICK_PRESETS.get(preset)
    if length is None:
        raise ValueError(f"unknown quick silence preset {preset!r}; presets are {', '.join(QUICK_PRESETS)}")
    rule = quick_silence_rule(incident_labels)
    return Silence(name=f"quick {preset} by {by}", rule=rule, action="mark", when=Once(now, now + length),
                   created_by=by, service=incident_service)


def quick_silence_rule(labels: Mapping[str, str]) -> Rule:
    """One group: `labels.<name> IN [<value>]` for every label, each value matched literally.

    An incident without labels is refused: its silence would match every alert of the service."""
    if not labels:
        raise ValueError("an incident without labels cannot be silenced from its card: the silence would match "
                         "every alert of the service; write a silence with conditions instead")
    return (tuple(Condition(key=f"{LABEL_PREFIX}{name}", values=(literal(value),), negate=False)
                  for name, value in sorted(labels.items())),)


def literal(text: str) -> Matcher:
    """A matcher for exactly `text`, written so that the condition language reads it back the same way.

    Text the language would read as a pattern (`*` or `?` inside, a `cidr:` or `num:` start, wrapped in
    slashes) becomes an escaped regex, `a*b` → `/a\\*b/`, as docs/conditions.md advises. (A regex longer
    than the 500 characters a config may write is built all the same: an escaped text cannot backtrack.)"""
    if _reads_as_exact(text):
        return Exact(text)
    escaped = re.escape(text)
    return Regex(f"/{escaped}/", re.compile(escaped))


def _reads_as_exact(text: str) -> bool:
    wrapped = len(text) >= 2 and text.startswith("/") and text.endswith("/")
    return not (wrapped or text.startswith(("cidr:", "num:")) or "*" in text or "?" in text)


# config ---------------------------------------------------------------------------------------------------


def parse_silences(data: Any, path: str, timezone: str, calendar_ids: Collection[str]) -> tuple[Silence, ...]:
    """`[{name, if, action: drop | mark, once: {start, end} | weekly: [[from, to], …] | rest_days: {calendar}}]`.

    Naive times are wall times in `timezone`, which is also the zone of weekly windows and rest days."""
    if data is None:
        return ()
    zone = _zone(timezone, path)
    silences = []
    for index, item in enumerate(as_list(data, path)):
        here = f"{path}[{index}]"
        item = as_object(item, here, SILENCE_FIELDS, ("name", "if"))
        name = as_name(item["name"], f"{here}.name")
        rule = parse_rule(item["if"], f"{here}.if")
        action = item.get("action", "mark")
        if action not in ACTIONS:
            raise MuteConfigError(f"{here}.action", f"must be one of {', '.join(ACTIONS)} (got {action!r})")
        if action == "drop" and not rule:
            raise MuteConfigError(f"{here}.if", "an empty rule would drop every alert; give at least one "
                                                "condition, or use action mark")
        given = [key for key in WHEN_FIELDS if key in item]
        if len(given) != 1:
            raise MuteConfigError(here, "needs exactly one of once, weekly or rest_days"
                                        + (f" (got {', '.join(given)})" if given else ""))
        key = given[0]
        when: When
        if key == "once":
            when = _parse_once(item[key], f"{here}.once", zone)
        elif key == "weekly":
            when = Weekly(parse_weekly(item[key], f"{here}.weekly"), timezone)
        else:
            when = parse_rest_days(item[key], f"{here}.rest_days", timezone, calendar_ids)
        silences.append(Silence(name=name, rule=rule, action=action, when=when))
    unique_names([silence.name for silence in silences], path)
    return tuple(silences)


def parse_inhibits(data: Any, path: str) -> tuple[Inhibit, ...]:
    """`[{name, source: <rule>, target: <rule>, equal: [label names]}]`; `equal` may be left out."""
    if data is None:
        return ()
    inhibits = []
    for index, item in enumerate(as_list(data, path)):
        here = f"{path}[{index}]"
        item = as_object(item, here, INHIBIT_FIELDS, ("name", "source", "target"))
        name = as_name(item["name"], f"{here}.name")
        source = parse_rule(item["source"], f"{here}.source")
        for group_index, group in enumerate(source):
            for condition_index, condition in enumerate(group):
                if condition.key == "description":
                    raise MuteConfigError(f"{here}.source[{group_index}][{condition_index}].key",
                                          "a source rule cannot use description: Dutybot keeps only the labels, "
                                          "severity, title and source of active alerts")
        target = parse_rule(item["target"], f"{here}.target")
        equal = tuple(_parse_label_name(label, f"{here}.equal[{label_index}]")
                      for label_index, label in enumerate(as_list(item.get("equal", []), f"{here}.equal")))
        inhibits.append(Inhibit(name=name, source=source, target=target, equal=equal))
    unique_names([inhibit.name for inhibit in inhibits], path)
    return tuple(inhibits)


def _parse_label_name(data: Any, path: str) -> str:
    if not isinstance(data, str) or not data:
        raise MuteConfigError(path, "must be a label name, like cluster")
    if data.startswith(LABEL_PREFIX):
        raise MuteConfigError(path, f"write the label name alone, {data[len(LABEL_PREFIX):]!r}, "
                                    f"without {LABEL_PREFIX!r}")
    return data


def _zone(timezone: str, path: str) -> ZoneInfo:
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise MuteConfigError(path, f"unknown time zone {timezone!r}") from None


def _parse_once(data: Any, path: str, zone: ZoneInfo) -> Once:
    data = as_object(data, path, ("start", "end"), ("start", "end"))
    start = _parse_moment(data["start"], f"{path}.start", zone)
    end = _parse_moment(data["end"], f"{path}.end", zone)
    if end <= start:
        raise MuteConfigError(f"{path}.end", f"must be after start ({start.astimezone(zone).isoformat()})")
    return Once(start, end)


def _parse_moment(data: Any, path: str, zone: ZoneInfo) -> datetime:
    """ISO 8601 text (or a YAML timestamp or date); without an offset it is a wall time in `zone`."""
    if isinstance(data, datetime):
        moment = data
    elif isinstance(data, date):
        moment = datetime.combine(data, time())
    elif isinstance(data, str):
        try:
            moment = datetime.fromisoformat(data.strip())
        except ValueError:
            raise MuteConfigError(path, f"{data!r} is not a time; write it like 2026-12-01T22:00") from None
    else:
        raise MuteConfigError(path, "must be a time like 2026-12-01T22:00")
    if moment.tzinfo is None or moment.utcoffset() is None:
        return to_instant(moment, zone).replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def parse_weekly(data: Any, path: str) -> tuple[WeeklyWindow, ...]:
    windows = []
    items = as_list(data, path)
    if not items:
        raise MuteConfigError(path, 'must list at least one window, like ["mon 22:00", "tue 06:00"]')
    for index, window in enumerate(items):
        here = f"{path}[{index}]"
        if not isinstance(window, list) or len(window) != 2:
            raise MuteConfigError(here, 'must be a window of two points, like ["mon 22:00", "tue 06:00"]')
        start_day, start = _parse_point(window[0], f"{here}[0]")
        end_day, end = _parse_point(window[1], f"{here}[1]")
        windows.append(WeeklyWindow(start_day, start, end_day, end))
    return tuple(windows)


def _parse_point(data: Any, path: str) -> tuple[int, time]:
    found = WEEKLY_POINT.fullmatch(data) if isinstance(data, str) else None
    if found is None:
        raise MuteConfigError(path, f"{data!r} is not a weekday and time like 'mon 09:00'")
    return WEEKDAYS.index(found.group(1)), time.fromisoformat(found.group(2))


def parse_rest_days(data: Any, path: str, timezone: str, calendar_ids: Collection[str]) -> RestDays:
    data = as_object(data, path, ("calendar",), ("calendar",))
    calendar = data["calendar"]
    if not isinstance(calendar, str) or calendar not in calendar_ids:
        known = ", ".join(sorted(calendar_ids)) or "none"
        raise MuteConfigError(f"{path}.calendar", f"unknown calendar {calendar!r}; calendars are {known}")
    return RestDays(calendar, timezone)


@lru_cache(maxsize=1024)
def _coverage(windows: Sequence[WeeklyWindow]) -> Coverage:
    return Coverage(None, Restriction(weekly=tuple(windows)))
