"""Alert events → alert rows (deduplicated by fingerprint) → incidents (grouped by labels).

The stages that need the database run here, in the pipeline's order (core/stages/__init__.py): dedup (one open
alert per key; a recovery closes it; severity only rises), muted alerts kept without an incident, grouping into
incidents. A muted alert (silenced or inhibited) is stored and marked but opens or joins no incident, so it
notifies nobody; if it fires again unmuted it joins its incident then, as a new alert would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.database import Database
from bot.db.tables import Alert, Incident, Timer
from bot.directory import Directory
from bot.services.incidents import act
from bot.services.records import add_timeline, cancel_timers, enqueue_update
from core.escalation import first_firing
from core.grouping import group_key
from core.model import Action, AlertEvent, AlertStatus, IncidentStatus, Severity, higher_severity
from core.stages import Passage

MAX_ATTEMPTS = 5  # concurrent requests opening the same group race on a unique index; the loser retries


@dataclass
class IngestResult:
    alerts: int = 0
    created: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)
    dropped: int = 0
    muted: int = 0


async def ingest(db: Database, directory: Directory, service_id: str, events: Sequence[AlertEvent],
                 now: datetime, acknowledged: Sequence[str] = (), source: str = "") -> IngestResult:
    """`events` of one service, as they came (no pipeline rules); see `ingest_passages`."""
    return await ingest_passages(db, directory, [Passage(event, service_id) for event in events], now,
                                 [(service_id, key) for key in acknowledged], source)


async def ingest_passages(db: Database, directory: Directory, passages: Sequence[Passage], now: datetime,
                          acknowledged: Sequence[tuple[str, str]] = (), source: str = "") -> IngestResult:
    """Store every passage that was not dropped, in one transaction; returns only after the commit (the 2xx
    promise).

    `acknowledged` holds (service, alert key) pairs whose incidents the monitoring tool acknowledged
    (PagerDuty's `acknowledge`): each open alert's incident is acknowledged by `source:<source>`; an unknown key
    is no error.
    """
    for attempt in range(MAX_ATTEMPTS):
        try:
            async with db.transaction() as session:
                result = IngestResult()
                for passage in passages:
                    if passage.stopped:
                        result.dropped += 1
                        continue
                    await _ingest_one(session, directory, passage, now, result)
                for service_id, key in acknowledged:
                    await _acknowledge(session, service_id, key, source, now, result)
                return result
        except IntegrityError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


async def _ingest_one(session: AsyncSession, directory: Directory, passage: Passage, now: datetime,
                      result: IngestResult) -> None:
    event, service_id = passage.event, passage.service_id
    result.alerts += 1
    if passage.muted_by is not None:
        result.muted += 1
    alert = await session.scalar(select(Alert).where(Alert.service_id == service_id,
                                                     Alert.open_fingerprint == event.fingerprint))
    if event.status is AlertStatus.RESOLVED:
        if alert is not None:
            await _resolve_alert(session, alert, event, now, result)
        return
    if alert is not None:
        alert.labels, alert.annotations, alert.updated_at = dict(event.labels), dict(event.annotations), now
        alert.severity = higher_severity(Severity(alert.severity), event.severity).value
        if alert.incident_id is not None:
            await _raise_incident_severity(session, alert.incident_id, event.severity, now)
        elif passage.muted_by is None:  # muted until now: it joins its incident as a new alert would
            alert.muted_by = None
            alert.incident_id = (await _open_incident(session, directory, service_id, event, now, result)).id
        else:
            alert.muted_by = passage.muted_by
        return
    incident_id = None
    if passage.muted_by is None:
        incident_id = (await _open_incident(session, directory, service_id, event, now, result)).id
    session.add(Alert(incident_id=incident_id, service_id=service_id, source=event.source,
                      fingerprint=event.fingerprint, open_fingerprint=event.fingerprint,
                      status=AlertStatus.FIRING.value, severity=event.severity.value, title=event.title,
                      labels=dict(event.labels), annotations=dict(event.annotations),
                      starts_at=event.starts_at, ends_at=None, received_at=now, updated_at=now,
                      muted_by=passage.muted_by))
    await session.flush()


async def _acknowledge(session: AsyncSession, service_id: str, key: str, source: str, now: datetime,
                       result: IngestResult) -> None:
    alert = await session.scalar(select(Alert).where(Alert.service_id == service_id, Alert.open_fingerprint == key))
    if alert is None or alert.incident_id is None:
        return
    done = await act(session, alert.incident_id, Action.ACKNOWLEDGE, f"source:{source}", now, via="source")
    if done.changed:
        result.acknowledged.append(alert.incident_id)


async def _open_incident(session: AsyncSession, directory: Directory, service_id: str, event: AlertEvent,
                         now: datetime, result: IngestResult) -> Incident:
    """The open incident of the event's group, or a new one with its first escalation timer."""
    service = directory.services[service_id]
    key = group_key(event.labels, service.grouping.by)
    incident = await session.scalar(select(Incident).where(Incident.service_id == service_id,
                                                           Incident.open_group_key == key))
    if incident is not None:
        add_timeline(session, incident.id, "alert_merged", now, fingerprint=event.fingerprint, title=event.title)
        await _raise_incident_severity(session, incident.id, event.severity, now)
        enqueue_update(session, incident.id, now)  # the alert count on the card changed
        return incident
    policy = directory.policy_for(service_id)
    incident = Incident(service_id=service_id, group_key=key, open_group_key=key, title=event.title,
                        severity=event.severity.value, status=IncidentStatus.TRIGGERED.value,
                        labels=dict(event.labels), policy=_policy_snapshot(directory, service_id),
                        created_at=now)
    session.add(incident)
    await session.flush()
    add_timeline(session, incident.id, "created", now, source=event.source, fingerprint=event.fingerprint)
    firing = first_firing(policy, now)
    if firing is not None:
        session.add(Timer(incident_id=incident.id, kind="escalate", position=firing.position,
                          due_at=firing.due_at, status="pending"))
    result.created.append(incident.id)
    return incident


async def _resolve_alert(session: AsyncSession, alert: Alert, event: AlertEvent, now: datetime,
                         result: IngestResult) -> None:
    alert.status, alert.open_fingerprint = AlertStatus.RESOLVED.value, None
    alert.ends_at, alert.updated_at = event.ends_at or now, now
    await session.flush()
    if alert.incident_id is None:  # a muted alert: no incident to tell
        return
    add_timeline(session, alert.incident_id, "alert_resolved", now, fingerprint=alert.fingerprint)
    still_firing = await session.scalar(select(func.count()).select_from(Alert).where(
        Alert.incident_id == alert.incident_id, Alert.status == AlertStatus.FIRING.value))
    incident = await session.get(Incident, alert.incident_id)
    if still_firing or incident is None or incident.status == IncidentStatus.RESOLVED.value:
        return
    incident.status, incident.open_group_key, incident.resolved_at = IncidentStatus.RESOLVED.value, None, now
    add_timeline(session, incident.id, "resolved", now, reason="all alerts resolved")
    await cancel_timers(session, incident.id)
    enqueue_update(session, incident.id, now)
    result.resolved.append(incident.id)


async def _raise_incident_severity(session: AsyncSession, incident_id: int, severity: Severity,
                                   now: datetime) -> None:
    incident = await session.get(Incident, incident_id)
    if incident is None:
        return
    raised = higher_severity(Severity(incident.severity), severity)
    if raised.value != incident.severity:
        incident.severity = raised.value
        add_timeline(session, incident_id, "severity_raised", now, severity=raised.value)
        enqueue_update(session, incident_id, now)


def _policy_snapshot(directory: Directory, service_id: str) -> dict[str, object]:
    """The policy config as it is now; a running incident keeps it even if the policy is edited."""
    return directory.policies[directory.services[service_id].escalation_policy].model_dump(mode="json")
