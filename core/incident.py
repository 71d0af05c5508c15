"""Incident state changes: which transitions are allowed and what they leave behind."""

from __future__ import annotations

from core.model import Action, IncidentStatus

_ALLOWED = {
    Action.ACKNOWLEDGE: {IncidentStatus.TRIGGERED},
    Action.RESOLVE: {IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED},
    Action.COMMENT: {IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED},
}
_RESULT = {Action.ACKNOWLEDGE: IncidentStatus.ACKNOWLEDGED, Action.RESOLVE: IncidentStatus.RESOLVED}


def transition(status: IncidentStatus, action: Action) -> IncidentStatus | None:
    """The status after `action`, or None when the action changes nothing (double clicks are no-ops)."""
    if status not in _ALLOWED[action]:
        return None
    return _RESULT.get(action, status)


def stops_escalation(status: IncidentStatus) -> bool:
    """Escalation pages only while nobody holds the incident."""
    return status is not IncidentStatus.TRIGGERED
