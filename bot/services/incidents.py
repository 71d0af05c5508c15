"""Responder actions on an incident: acknowledge, resolve, comment; idempotent under double clicks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.tables import Alert, Incident
from bot.services.records import add_timeline, cancel_timers, enqueue_update
from core.incident import stops_escalation, transition
from core.model import Action, AlertStatus, IncidentStatus


@dataclass(frozen=True)
class ActResult:
    found: bool
    changed: bool
    status: IncidentStatus | None = None


async def act(session: AsyncSession, incident_id: int, action: Action, actor: str, now: datetime,
              comment: str | None = None, via: str = "api") -> ActResult:
    """Apply `action` as `actor` inside the caller's transaction; a no-op leaves no trace."""
    incident = await session.get(Incident, incident_id, with_for_update=True)
    if incident is None:
        return ActResult(found=False, changed=False)
    current = IncidentStatus(incident.status)
    if action is Action.COMMENT:
        add_timeline(session, incident.id, "commented", now, actor=actor, via=via, text=comment or "")
        return ActResult(found=True, changed=True, status=current)
    new_status = transition(current, action)
    if new_status is None:
        return ActResult(found=True, changed=False, status=current)
    incident.status = new_status.value
    if action is Action.ACKNOWLEDGE:
        incident.acknowledged_at, incident.acknowledged_by = now, actor
        add_timeline(session, incident.id, "acknowledged", now, actor=actor, via=via)
    else:
        incident.resolved_at, incident.resolved_by, incident.open_group_key = now, actor, None
        add_timeline(session, incident.id, "resolved", now, actor=actor, via=via)
        # a resolved incident owns no firing alerts: the next firing opens a new incident, as in PagerDuty
        await session.execute(update(Alert).where(Alert.incident_id == incident.id,
                                                  Alert.status == AlertStatus.FIRING.value)
                              .values(status=AlertStatus.RESOLVED.value, open_fingerprint=None, ends_at=now,
                                      updated_at=now))
    if stops_escalation(new_status):
        resolved = new_status is IncidentStatus.RESOLVED
        await cancel_timers(session, incident.id, kinds=None if resolved else ("escalate",))
    enqueue_update(session, incident.id, now)
    return ActResult(found=True, changed=True, status=new_status)
