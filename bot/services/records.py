"""Small shared writes: timeline entries, outbox rows, views of incidents."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.tables import Alert, Incident, OutboxMessage, TimelineEntry, Timer
from bot.directory import Directory
from core.delivery import limit_key
from core.model import IncidentStatus, IncidentView, Severity
from core.ports import Destination
from core.webhooks import event_of


def add_timeline(session: AsyncSession, incident_id: int, kind: str, at: datetime, actor: str | None = None,
                 **data: Any) -> None:
    """A timeline entry; one that is an incident event (core/webhooks.py) also queues it for the webhooks."""
    session.add(TimelineEntry(incident_id=incident_id, kind=kind, at=at, actor=actor, data=data))
    event = event_row(incident_id, kind, at, actor, data)
    if event is not None:
        session.add(OutboxMessage(**event))


def event_row(incident_id: int, kind: str, at: datetime, actor: str | None,
              data: Mapping[str, Any]) -> dict[str, Any] | None:
    """The outbox row of an incident event, fanned out to the subscribed webhooks by the dispatcher; its
    `event_id` is made here, once, so every retry of every delivery carries the same one."""
    name = event_of(kind)
    if name is None:
        return None
    payload = {"event_id": uuid.uuid4().hex, "event": name, "occurred_at": at.isoformat(), "actor": actor,
               "data": dict(data)}
    return {"incident_id": incident_id, "kind": "event", "destination": {}, "payload": payload,
            "status": "pending", "attempts": 0, "created_at": at, "next_attempt_at": at}


def enqueue_post(session: AsyncSession, incident_id: int, destination: Destination, now: datetime,
                 responder: bool = False) -> None:
    """A new card to post, sent by the worker's dispatcher after this transaction commits. A `responder` page
    (someone added them) is delivered even when the incident is acknowledged meanwhile."""
    session.add(OutboxMessage(incident_id=incident_id, kind="post", destination=asdict(destination),
                              destination_key=limit_key(destination), status="pending", attempts=0, created_at=now,
                              next_attempt_at=now, payload={"responder": True} if responder else None))


def enqueue_update(session: AsyncSession, incident_id: int, now: datetime) -> None:
    """Refresh every card of the incident, wherever it was posted, to its current state."""
    session.add(OutboxMessage(incident_id=incident_id, kind="update", destination={}, status="pending",
                              attempts=0, created_at=now, next_attempt_at=now))


ESCALATION_TIMERS = ("escalate", "repeat")  # a level's next step and its repeat pages


async def cancel_timers(session: AsyncSession, incident_id: int,
                        kinds: tuple[str, ...] | None = ESCALATION_TIMERS) -> None:
    """Cancel the incident's pending timers of `kinds` (None: every kind). Acknowledging stops escalation but
    keeps the auto-resolve timer; resolving cancels everything."""
    query = update(Timer).where(Timer.incident_id == incident_id, Timer.status == "pending")
    if kinds is not None:
        query = query.where(Timer.kind.in_(kinds))
    await session.execute(query.values(status="cancelled"))


async def incident_view(session: AsyncSession, incident: Incident, directory: Directory) -> IncidentView:
    """What people are shown: the incident row, its alert count and names instead of ids."""
    alert_count = await session.scalar(select(func.count()).select_from(Alert)
                                       .where(Alert.incident_id == incident.id)) or 0
    service = directory.services.get(incident.service_id)
    return IncidentView(
        id=incident.id, number=incident.id, title=incident.title, status=IncidentStatus(incident.status),
        severity=Severity(incident.severity), service_id=incident.service_id,
        service_name=(service.name or service.id) if service else incident.service_id,
        alert_count=int(alert_count), labels=dict(incident.labels), created_at=incident.created_at,
        acknowledged_at=incident.acknowledged_at, acknowledged_by=_name(directory, incident.acknowledged_by),
        resolved_at=incident.resolved_at, resolved_by=_name(directory, incident.resolved_by),
        snoozed_until=incident.snoozed_until if incident.status == IncidentStatus.ACKNOWLEDGED.value else None,
        description=incident.description or "",
        levels=len((incident.policy or {}).get("steps") or ()),
    )


def _name(directory: Directory, actor: str | None) -> str | None:
    """Users by display name; other actors (one-click links) as recorded."""
    if actor is None:
        return None
    return directory.display_name(actor) if actor in directory.users else actor
