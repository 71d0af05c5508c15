"""Escalation: which policy an incident follows, which level pages whom, and when the next page is due.

A service lists escalation rules; the first whose condition matches the incident's first alert and whose time
window holds the moment it opens picks the policy (the service's `escalation_policy` when none does). A policy
has levels (`steps`); each pages its targets, may page them again inside the level (`repeat_every` ×
`repeat_times`, only before the next level is due), and hands over to the next level after its `after`. The
whole policy may run again (`repeat` passes) while nobody acknowledges — or, with `until: resolved`, while the
incident is open at all. A `delay` holds the first level: an incident resolved inside it pages nobody.

Pure: data in, due times out; every datetime is aware and is only added to, so DST never moves a timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypeAlias

from core.conditions import ConditionError, Rule, matches, parse_rule
from core.incident import stops_escalation
from core.model import AlertEvent, IncidentStatus
from core.stages._config import as_list, as_name, as_object, unique_names
from core.stages.mute import RestDays, Weekly, Workdays, parse_rest_days, parse_weekly

DEFAULT_REPEAT_AFTER = timedelta(minutes=5)
MIN_REPEAT_EVERY = timedelta(seconds=30)  # inside a level, no faster than this (a phone buzzing every 30 s)
Until: TypeAlias = Literal["acknowledged", "resolved"]


@dataclass(frozen=True)
class Target:
    """Whom a step pages: a user, every member of a team, or whoever is on call on a schedule (optionally only
    one role)."""

    user: str | None = None
    team: str | None = None
    schedule: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Step:
    after: timedelta  # since the previous step started; the first step: since the incident opened
    targets: tuple[Target, ...]
    via: tuple[str, ...] = ("dm",)  # "dm" and/or channel ids
    repeat_every: timedelta | None = None  # page this level's targets again this often…
    repeat_times: int = 0  # …at most this many more times, and only before the next level is due


@dataclass(frozen=True)
class Policy:
    id: str
    steps: tuple[Step, ...]
    repeat: int = 0  # how many more passes over all steps while nobody acknowledges
    repeat_after: timedelta | None = None  # gap between the last step and the next pass
    delay: timedelta = timedelta(0)  # before the first level: nothing is sent if the incident resolves inside it
    until: Until = "acknowledged"  # "resolved": keep escalating after an acknowledgement, until it is resolved

    def escalates(self, status: IncidentStatus, snoozed: bool) -> bool:
        """Whether an incident in `status` still climbs the levels (core.incident.stops_escalation)."""
        return not stops_escalation(status, self.until, snoozed)


@dataclass(frozen=True)
class Firing:
    """A step to run: `position` counts steps over all passes (pass = position // len(steps))."""

    position: int
    step_index: int
    due_at: datetime


def first_firing(policy: Policy, opened_at: datetime) -> Firing | None:
    """The first step of a newly opened incident, due `after` the incident opened."""
    if not policy.steps:
        return None
    return Firing(position=0, step_index=0, due_at=opened_at + policy.delay + policy.steps[0].after)


def next_firing(policy: Policy, fired: Firing, fired_at: datetime) -> Firing | None:
    """The step after `fired` (run at `fired_at`), or None when the policy is exhausted."""
    count = len(policy.steps)
    position = fired.position + 1
    if position >= count * (policy.repeat + 1):
        return None
    index = position % count
    return Firing(position=position, step_index=index, due_at=fired_at + gap_before(policy, index))


def gap_before(policy: Policy, index: int) -> timedelta:
    """The wait before step `index`; a new pass waits `repeat_after` (default: the last gap, or 5m)."""
    if index > 0:
        return policy.steps[index].after
    if policy.repeat_after is not None:
        return policy.repeat_after
    last_gap = policy.steps[-1].after if len(policy.steps) > 1 else timedelta(0)
    return max(last_gap, policy.steps[0].after) or DEFAULT_REPEAT_AFTER


def restart_firing(policy: Policy, at: datetime) -> Firing | None:
    """Escalation starting over when an incident is back in front of people (un-acknowledged, woken from a
    snooze, reopened): the first level at once, the later levels after their usual gaps, all passes again."""
    if not policy.steps:
        return None
    return Firing(position=0, step_index=0, due_at=at)


def next_repeat(step: Step, done: int, fired_at: datetime, next_level_due: datetime | None) -> datetime | None:
    """When a level pages its targets again, after `done` repeats so far (the last of them, or the level
    itself, at `fired_at`); None when its repeats are used up or the next level would come first."""
    if step.repeat_every is None or done >= step.repeat_times:
        return None
    due = fired_at + step.repeat_every
    if next_level_due is not None and due >= next_level_due:
        return None
    return due


# which policy: escalation rules ----------------------------------------------------------------------------

Window: TypeAlias = Weekly | RestDays | Workdays
RULE_FIELDS = ("name", "if", "policy", "weekly", "workdays", "rest_days")
WINDOW_FIELDS = ("weekly", "workdays", "rest_days")
Calendars: TypeAlias = Mapping[str, Callable[[date], bool]]


@dataclass(frozen=True)
class EscalationRule:
    """Incidents whose first alert matches `rule` (empty: all), opened while `window` holds (None: any time),
    follow the policy `policy`."""

    name: str
    rule: Rule
    policy: str
    window: Window | None = None

    def picks(self, event: AlertEvent, now: datetime, calendars: Calendars) -> bool:
        if self.window is not None and not self.window.active(now, calendars):
            return False
        return matches(self.rule, event)


def choose_policy(rules: Sequence[EscalationRule], default: str, event: AlertEvent, now: datetime,
                  calendars: Calendars) -> tuple[str, str | None]:
    """The policy of an incident opened at `now` by `event`, and the name of the rule that chose it (None: the
    service's default)."""
    for rule in rules:
        if rule.picks(event, now, calendars):
            return rule.policy, rule.name
    return default, None


def parse_escalation_rules(data: Any, path: str, timezone: str, calendar_ids: Collection[str],
                           policy_ids: Collection[str] | None = None) -> tuple[EscalationRule, ...]:
    """`[{name, if: <rule>, policy, weekly: [[from, to], …] | workdays: {calendar} | rest_days: {calendar}}]`;
    `if` and the window may be left out. Windows are in `timezone`, like silences' (docs/silences.md)."""
    if data is None:
        return ()
    found = []
    for index, item in enumerate(as_list(data, path)):
        here = f"{path}[{index}]"
        item = as_object(item, here, RULE_FIELDS, ("name", "policy"))
        name = as_name(item["name"], f"{here}.name")
        policy = item["policy"]
        if not isinstance(policy, str) or (policy_ids is not None and policy not in policy_ids):
            known = ", ".join(sorted(policy_ids or ())) or "none"
            raise ConditionError(f"{here}.policy", f"no escalation policy {policy!r}; policies are {known}")
        rule = parse_rule(item["if"], f"{here}.if") if "if" in item else ()
        given = [key for key in WINDOW_FIELDS if key in item]
        if len(given) > 1:
            raise ConditionError(here, f"give at most one of weekly, workdays or rest_days (got {', '.join(given)})")
        window: Window | None = None
        if given == ["weekly"]:
            window = Weekly(parse_weekly(item["weekly"], f"{here}.weekly"), timezone)
        elif given:
            rest = parse_rest_days(item[given[0]], f"{here}.{given[0]}", timezone, calendar_ids)
            window = rest if given == ["rest_days"] else Workdays(rest.calendar_id, timezone)
        found.append(EscalationRule(name=name, rule=rule, policy=policy, window=window))
    unique_names([rule.name for rule in found], path)
    return tuple(found)
