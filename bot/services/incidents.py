"""Responder actions on an incident: acknowledge, un-acknowledge, snooze, wake, resolve, reopen, comment.

Each runs inside the caller's transaction, is written to the timeline with who and how, refreshes every posted
card, and is idempotent under double clicks (a no-op leaves no trace). An action that puts the incident back in
front of people (un-acknowledge, wake, reopen) starts its escalation over at the first level, with the policy the
incident opened with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import PolicyConfig
from bot.db.tables import Alert, Incident, Timer
from bot.directory import policy_from_config
from bot.services.records import ESCALATION_TIMERS, add_timeline, cancel_timers, enqueue_update
from core.escalation import Policy, restart_firing
from core.incident import renotifies, stops_escalation, transition
from core.model import Action, AlertStatus, IncidentStatus

SNOOZE_ACTOR = "snooze"  # who wakes an incident whose snooze ran out (cards/build.py actor_name)
RESOLVE_DETAILS = ("root_cause", "resolution", "impact")


@dataclass(frozen=True)
class ActResult:
    found: bool
    changed: bool
    status: IncidentStatus | None = None


async def act(session: AsyncSession, incident_id: int, action: Action, actor: str, now: datetime,
              comment: str | None = None, via: str = "api", snooze_for: timedelta | None = None,
              details: Mapping[str, str] | None = None) -> ActResult:
    """Apply `action` as `actor` inside the caller's transaction; a no-op leaves no trace.

    `snooze_for` is required for a snooze (checked by the caller with `core.incident.snooze_length`);
    `details` are a resolution's optional root cause, resolution and impact, kept on the timeline."""
    incident = await session.get(Incident, incident_id, with_for_update=True)
    if incident is None:
        return ActResult(found=False, changed=False)
    current = IncidentStatus(incident.status)
    if action is Action.COMMENT:
        add_timeline(session, incident.id, "commented", now, actor=actor, via=via, text=comment or "")
        return ActResult(found=True, changed=True, status=current)
    if action is Action.SNOOZE and snooze_for is None:
        raise ValueError("a snooze needs its length")
    snoozed = current is IncidentStatus.ACKNOWLEDGED and incident.snoozed_until is not None
    new_status = transition(current, action, snoozed=snoozed)
    if new_status is None:
        return ActResult(found=True, changed=False, status=current)
    incident.status = new_status.value
    if action is Action.ACKNOWLEDGE:
        incident.acknowledged_at, incident.acknowledged_by = now, actor
        add_timeline(session, incident.id, "acknowledged", now, actor=actor, via=via)
    elif action is Action.SNOOZE:
        assert snooze_for is not None
        await _snooze(session, incident, current, actor, now, snooze_for, via)
    elif action is Action.RESOLVE:
        await _resolve(session, incident, actor, now, via, details or {})
    else:  # un-acknowledge, wake, reopen: back to triggered, nobody holds it
        kind = {Action.UNACKNOWLEDGE: "unacknowledged", Action.WAKE: "woken", Action.REOPEN: "reopened"}[action]
        extra = {"early": True} if action is Action.WAKE and actor != SNOOZE_ACTOR else {}
        add_timeline(session, incident.id, kind, now, actor=actor, via=via, **extra)
        incident.acknowledged_at = incident.acknowledged_by = incident.snoozed_until = None
        incident.resolved_at = incident.resolved_by = None
    policy = policy_from_config(PolicyConfig.model_validate(incident.policy))  # as it was when it opened
    if stops_escalation(new_status, policy.until, snoozed=incident.snoozed_until is not None):
        resolved = new_status is IncidentStatus.RESOLVED
        await cancel_timers(session, incident.id, kinds=None if resolved else ESCALATION_TIMERS)
    if renotifies(action):
        await cancel_timers(session, incident.id, kinds=(*ESCALATION_TIMERS, "wake"))
        _restart_escalation(session, incident, policy, now)
    enqueue_update(session, incident.id, now)
    return ActResult(found=True, changed=True, status=new_status)


async def _snooze(session: AsyncSession, incident: Incident, current: IncidentStatus, actor: str, now: datetime,
                  length: timedelta, via: str) -> None:
    """Acknowledged until `now + length` (a new snooze replaces the old wake time); then a `wake` timer."""
    if current is IncidentStatus.TRIGGERED:
        incident.acknowledged_at, incident.acknowledged_by = now, actor
    incident.snoozed_until = now + length
    await cancel_timers(session, incident.id, kinds=("wake",))
    session.add(Timer(incident_id=incident.id, kind="wake", position=0, due_at=incident.snoozed_until,
                      status="pending"))
    add_timeline(session, incident.id, "snoozed", now, actor=actor, via=via, until=incident.snoozed_until.isoformat(),
                 minutes=int(length.total_seconds() // 60))


async def _resolve(session: AsyncSession, incident: Incident, actor: str, now: datetime, via: str,
                   details: Mapping[str, str]) -> None:
    incident.resolved_at, incident.resolved_by, incident.open_group_key = now, actor, None
    incident.snoozed_until = None
    kept = {name: details[name] for name in RESOLVE_DETAILS if details.get(name)}
    add_timeline(session, incident.id, "resolved", now, actor=actor, via=via, **kept)
    # a resolved incident owns no firing alerts: the next firing opens a new incident, as in PagerDuty
    await session.execute(update(Alert).where(Alert.incident_id == incident.id,
                                              Alert.status == AlertStatus.FIRING.value)
                          .values(status=AlertStatus.RESOLVED.value, open_fingerprint=None, ends_at=now,
                                  updated_at=now))


def _restart_escalation(session: AsyncSession, incident: Incident, policy: Policy, now: datetime) -> None:
    """The first level of the incident's own policy (as it was when it opened) now, the rest after it."""
    firing = restart_firing(policy, now)
    if firing is not None:
        session.add(Timer(incident_id=incident.id, kind="escalate", position=firing.position,
                          due_at=firing.due_at, status="pending"))
