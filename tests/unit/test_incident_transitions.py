"""core/incident.py: every status × action, so a double click or a stale card changes nothing."""

from __future__ import annotations

import itertools

import pytest

from core.incident import stops_escalation, transition
from core.model import Action, IncidentStatus

TRIGGERED, ACKNOWLEDGED, RESOLVED = IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED

# (status, action) → status afterwards; None: nothing changes and the person is told so
TABLE = {
    (TRIGGERED, Action.ACKNOWLEDGE): ACKNOWLEDGED,
    (TRIGGERED, Action.RESOLVE): RESOLVED,
    (TRIGGERED, Action.COMMENT): TRIGGERED,
    (ACKNOWLEDGED, Action.ACKNOWLEDGE): None,   # already acknowledged: the second click is a no-op
    (ACKNOWLEDGED, Action.RESOLVE): RESOLVED,
    (ACKNOWLEDGED, Action.COMMENT): ACKNOWLEDGED,
    (RESOLVED, Action.ACKNOWLEDGE): None,       # a stale card cannot reopen a resolved incident
    (RESOLVED, Action.RESOLVE): None,
    (RESOLVED, Action.COMMENT): RESOLVED,       # comments are still welcome on a resolved incident
}


def test_table_covers_every_status_and_action() -> None:
    assert set(TABLE) == set(itertools.product(IncidentStatus, Action))


@pytest.mark.parametrize(("status", "action"), sorted(TABLE, key=str), ids=lambda value: value.value)
def test_transition(status: IncidentStatus, action: Action) -> None:
    assert transition(status, action) == TABLE[(status, action)]


@pytest.mark.parametrize(("status", "stops"), [(TRIGGERED, False), (ACKNOWLEDGED, True), (RESOLVED, True)])
def test_only_a_triggered_incident_keeps_paging(status: IncidentStatus, stops: bool) -> None:
    assert stops_escalation(status) is stops


@pytest.mark.parametrize("action", list(Action), ids=lambda action: action.value)
def test_repeating_an_action_never_changes_the_status_again(action: Action) -> None:
    for status in IncidentStatus:
        after = transition(status, action)
        if after is not None and after is not status:
            assert transition(after, action) in (None, after)
