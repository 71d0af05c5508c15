"""Incident state changes: which transitions are allowed, what they leave behind, how long a snooze may be.

The states are triggered → acknowledged → resolved. A snoozed incident is an acknowledged one with a wake time:
when it comes, the incident is triggered again and its escalation starts over from the first level, as when
somebody un-acknowledges or reopens it (PagerDuty and Flashduty behave the same way).
"""

from __future__ import annotations

from datetime import timedelta

from core.duration import parse_duration
from core.model import Action, IncidentStatus

TRIGGERED, ACKNOWLEDGED, RESOLVED = IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED

SNOOZE_PRESETS = ("30m", "2h", "4h", "12h")  # what a card offers; the API also takes any length in range
MIN_SNOOZE = timedelta(minutes=1)
MAX_SNOOZE = timedelta(hours=24)

_ALLOWED = {
    Action.ACKNOWLEDGE: {TRIGGERED},
    Action.UNACKNOWLEDGE: {ACKNOWLEDGED},
    Action.SNOOZE: {TRIGGERED, ACKNOWLEDGED},  # snoozing a triggered incident acknowledges it
    Action.WAKE: {ACKNOWLEDGED},  # and only while snoozed (see transition)
    Action.RESOLVE: {TRIGGERED, ACKNOWLEDGED},
    Action.REOPEN: {RESOLVED},
    Action.COMMENT: {TRIGGERED, ACKNOWLEDGED, RESOLVED},
}
_RESULT = {Action.ACKNOWLEDGE: ACKNOWLEDGED, Action.UNACKNOWLEDGE: TRIGGERED, Action.SNOOZE: ACKNOWLEDGED,
           Action.WAKE: TRIGGERED, Action.RESOLVE: RESOLVED, Action.REOPEN: TRIGGERED}
_RENOTIFY = {Action.UNACKNOWLEDGE, Action.WAKE, Action.REOPEN}


def transition(status: IncidentStatus, action: Action, snoozed: bool = False) -> IncidentStatus | None:
    """The status after `action`, or None when the action changes nothing (double clicks are no-ops).

    A snooze of an acknowledged incident changes its wake time, so it is never a no-op; waking needs a snooze."""
    if status not in _ALLOWED[action] or (action is Action.WAKE and not snoozed):
        return None
    return _RESULT.get(action, status)


def stops_escalation(status: IncidentStatus, until: str = "acknowledged", snoozed: bool = False) -> bool:
    """Escalation pages while nobody holds the incident; with a policy's `until: resolved` also while it is
    acknowledged, unless it is snoozed (a snooze is someone saying "not now")."""
    if status is TRIGGERED:
        return False
    return not (until == "resolved" and status is ACKNOWLEDGED and not snoozed)


def renotifies(action: Action) -> bool:
    """Whether the action puts the incident back in front of people: escalation starts over at level 1."""
    return action in _RENOTIFY


def snooze_length(text: str) -> timedelta:
    """How long a snooze written as `30m`, `2h`, `1h30m` lasts; ValueError naming the input and the range."""
    length = parse_duration(text)
    if not MIN_SNOOZE <= length <= MAX_SNOOZE:
        raise ValueError(f"a snooze lasts from 1m to 24h, not {text!r}")
    return length
