"""core/incident.py: every status × action, so a double click or a stale card changes nothing."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from core.incident import renotifies, snooze_length, stops_escalation, transition
from core.model import Action, IncidentStatus

TRIGGERED, ACKNOWLEDGED, RESOLVED = IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED

# (status, action) → status afterwards, for an incident that is not snoozed; None: nothing changes and the
# person is told so
TABLE = {
    (TRIGGERED, Action.ACKNOWLEDGE): ACKNOWLEDGED,
    (TRIGGERED, Action.UNACKNOWLEDGE): None,     # nobody holds it: nothing to give back
    (TRIGGERED, Action.SNOOZE): ACKNOWLEDGED,    # snoozing takes the incident
    (TRIGGERED, Action.WAKE): None,
    (TRIGGERED, Action.RESOLVE): RESOLVED,
    (TRIGGERED, Action.REOPEN): None,
    (TRIGGERED, Action.COMMENT): TRIGGERED,
    (ACKNOWLEDGED, Action.ACKNOWLEDGE): None,   # already acknowledged: the second click is a no-op
    (ACKNOWLEDGED, Action.UNACKNOWLEDGE): TRIGGERED,
    (ACKNOWLEDGED, Action.SNOOZE): ACKNOWLEDGED,
    (ACKNOWLEDGED, Action.WAKE): None,           # acknowledged without a snooze: nothing to wake
    (ACKNOWLEDGED, Action.RESOLVE): RESOLVED,
    (ACKNOWLEDGED, Action.REOPEN): None,
    (ACKNOWLEDGED, Action.COMMENT): ACKNOWLEDGED,
    (RESOLVED, Action.ACKNOWLEDGE): None,       # a stale card cannot reopen a resolved incident
    (RESOLVED, Action.UNACKNOWLEDGE): None,
    (RESOLVED, Action.SNOOZE): None,
    (RESOLVED, Action.WAKE): None,
    (RESOLVED, Action.RESOLVE): None,
    (RESOLVED, Action.REOPEN): TRIGGERED,       # only an explicit reopen brings it back
    (RESOLVED, Action.COMMENT): RESOLVED,       # comments are still welcome on a resolved incident
}

# a snoozed incident is acknowledged with a wake time
SNOOZED = {
    Action.ACKNOWLEDGE: None,
    Action.UNACKNOWLEDGE: TRIGGERED,   # gives it back at once
    Action.SNOOZE: ACKNOWLEDGED,       # a new wake time
    Action.WAKE: TRIGGERED,
    Action.RESOLVE: RESOLVED,
    Action.REOPEN: None,
    Action.COMMENT: ACKNOWLEDGED,
}


def test_tables_cover_every_status_and_action() -> None:
    assert set(TABLE) == set(itertools.product(IncidentStatus, Action))
    assert set(SNOOZED) == set(Action)


@pytest.mark.parametrize(("status", "action"), sorted(TABLE, key=str), ids=lambda value: value.value)
def test_transition(status: IncidentStatus, action: Action) -> None:
    assert transition(status, action) == TABLE[(status, action)]


@pytest.mark.parametrize("action", list(Action), ids=lambda action: action.value)
def test_transition_of_a_snoozed_incident(action: Action) -> None:
    assert transition(ACKNOWLEDGED, action, snoozed=True) == SNOOZED[action]


@pytest.mark.parametrize(("status", "stops"), [(TRIGGERED, False), (ACKNOWLEDGED, True), (RESOLVED, True)])
def test_only_a_triggered_incident_keeps_paging(status: IncidentStatus, stops: bool) -> None:
    assert stops_escalation(status) is stops


@pytest.mark.parametrize(("status", "snoozed", "stops"), [
    (TRIGGERED, False, False), (ACKNOWLEDGED, False, False), (ACKNOWLEDGED, True, True), (RESOLVED, False, True)])
def test_until_resolved_keeps_paging_an_acknowledged_incident_unless_snoozed(status: IncidentStatus, snoozed: bool,
                                                                            stops: bool) -> None:
    assert stops_escalation(status, until="resolved", snoozed=snoozed) is stops


def test_what_puts_an_incident_back_in_front_of_people() -> None:
    assert {action for action in Action if renotifies(action)} == {
        Action.UNACKNOWLEDGE, Action.WAKE, Action.REOPEN}
    for action in Action:  # and every such action lands on triggered, where escalation runs
        if renotifies(action):
            assert transition(ACKNOWLEDGED, action, snoozed=True) in (TRIGGERED, None)


@pytest.mark.parametrize("action", list(Action), ids=lambda action: action.value)
def test_repeating_an_action_never_changes_the_status_again(action: Action) -> None:
    for status in IncidentStatus:
        after = transition(status, action)
        if after is not None and after is not status:
            assert transition(after, action) in (None, after)


@pytest.mark.parametrize(("text", "expected"), [
    ("30m", timedelta(minutes=30)), ("2h", timedelta(hours=2)), ("4h", timedelta(hours=4)),
    ("12h", timedelta(hours=12)), ("1m", timedelta(minutes=1)), ("1h30m", timedelta(minutes=90)),
    ("24h", timedelta(hours=24)), ("1d", timedelta(hours=24)),
])
def test_snooze_length(text: str, expected: timedelta) -> None:
    assert snooze_length(text) == expected


@pytest.mark.parametrize(("text", "fragment"), [
    ("24h1s", "from 1m to 24h"), ("2d", "from 1m to 24h"), ("30s", "from 1m to 24h"), ("0m", "from 1m to 24h"),
    ("soon", "not a duration"), ("", "not a duration"), ("-5m", "not a duration"),
])
def test_snooze_length_refuses(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        snooze_length(text)
