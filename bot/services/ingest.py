"""Alert events → alert rows (deduplicated by fingerprint) → incidents (grouped by labels).

The stages that need the database run here, in the pipeline's order (core/stages/__init__.py): dedup (one open
alert per key; a recovery closes it; severity only rises), muted alerts kept without an incident, grouping into
incidents. A muted alert (silenced or inhibited) is stored and marked but opens or joins no incident, so it
notifies nobody; if it fires again unmuted it joins its incident then, as a new alert would.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.database import Database
from bot.db.tables import Alert, Incident, OutboxMessage, Timer
from bot.directory import Directory
from bot.pipeline import ServiceRules, rules_of
from bot.services import destinations
from bot.services.incidents import act
from bot.services.records import add_timeline, cancel_timers, enqueue_update
from cards.i18n import Translator
from core.escalation import first_firing
from core.grouping import OpenIncident, group_key_for, joins
from core.model import Action, AlertEvent, AlertStatus, IncidentStatus, Severity, higher_severity
from core.stages import Passage
from core.stages.autoresolve import should_resolve, timeout_due
from core.stages.flapping import flap_action, is_flapping
from core.stages.storm import crossed

MAX_CHANGES = 100  # state changes kept per alert key for flapping
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
            await _resolve_alert(session, alert, event, rules_of(directory, service_id), now, result)
        return
    rules = rules_of(directory, service_id)
    if alert is not None:
        alert.labels, alert.annotations, alert.updated_at = dict(event.labels), dict(event.annotations), now
        alert.severity = higher_severity(Severity(alert.severity), event.severity).value
        if alert.incident_id is not None:
            await _raise_incident_severity(session, alert.incident_id, event.severity, now)
            await _arm_auto_resolve(session, alert.incident_id, rules, now)
        elif passage.muted_by is None:  # muted until now: it joins its incident as a new alert would
            alert.muted_by = None
            alert.incident_id = (await _open_incident(session, directory, service_id, event, now, result)).id
        else:
            alert.muted_by = passage.muted_by
        return
    changes, flapping, muted_by = await _flapping(session, service_id, event, rules, now, passage.muted_by)
    if muted_by is not None and passage.muted_by is None:
        result.muted += 1
    incident = None
    if muted_by is None:
        incident = await _open_incident(session, directory, service_id, event, now, result)
    session.add(Alert(incident_id=None if incident is None else incident.id, service_id=service_id,
                      source=event.source, fingerprint=event.fingerprint, open_fingerprint=event.fingerprint,
                      status=AlertStatus.FIRING.value, severity=event.severity.value, title=event.title,
                      labels=dict(event.labels), annotations=dict(event.annotations),
                      starts_at=event.starts_at, ends_at=None, received_at=now, updated_at=now,
                      muted_by=muted_by, changes=changes, flapping=flapping))
    await session.flush()
    if incident is not None and flapping and changes and not _was_flapping(changes[:-1], rules, now):
        add_timeline(session, incident.id, "alert_flapping", now, fingerprint=event.fingerprint,
                     changes=len(changes))
        enqueue_update(session, incident.id, now)


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
    """The open incident of the event's group, or a new one with its first escalation timer.

    An open incident stops taking alerts when its grouping window is over or it holds `max_alerts`: it keeps
    its state for people, and the next alert of its group opens a new incident."""
    rules = rules_of(directory, service_id)
    key = group_key_for(event, rules.grouping)
    incident = await session.scalar(select(Incident).where(Incident.service_id == service_id,
                                                           Incident.open_group_key == key))
    if incident is not None:
        group = OpenIncident(started_at=incident.created_at, last_merge_at=incident.last_merge_at or
                             incident.created_at, alert_count=incident.alert_total)
        if joins(group, rules.grouping, now):
            add_timeline(session, incident.id, "alert_merged", now, fingerprint=event.fingerprint,
                         title=event.title)
            await _raise_incident_severity(session, incident.id, event.severity, now)
            before, incident.alert_total, incident.last_merge_at = incident.alert_total, incident.alert_total + 1, now
            _storm_warnings(session, directory, incident, crossed(before, incident.alert_total, rules.storm), now)
            await _arm_auto_resolve(session, incident.id, rules, now)
            enqueue_update(session, incident.id, now)  # the alert count on the card changed
            return incident
        incident.open_group_key = None  # full or past its window: it takes no more alerts
        add_timeline(session, incident.id, "grouping_closed", now, alerts=incident.alert_total)
        await session.flush()
    policy = directory.policy_for(service_id)
    incident = Incident(service_id=service_id, group_key=key, open_group_key=key, title=event.title,
                        severity=event.severity.value, status=IncidentStatus.TRIGGERED.value,
                        labels=dict(event.labels), policy=_policy_snapshot(directory, service_id),
                        created_at=now, last_merge_at=now, alert_total=1)
    session.add(incident)
    await session.flush()
    await _arm_auto_resolve(session, incident.id, rules, now)
    add_timeline(session, incident.id, "created", now, source=event.source, fingerprint=event.fingerprint)
    firing = first_firing(policy, now)
    if firing is not None:
        session.add(Timer(incident_id=incident.id, kind="escalate", position=firing.position,
                          due_at=firing.due_at, status="pending"))
    result.created.append(incident.id)
    return incident


async def _resolve_alert(session: AsyncSession, alert: Alert, event: AlertEvent, rules: ServiceRules,
                         now: datetime, result: IngestResult) -> None:
    alert.status, alert.open_fingerprint = AlertStatus.RESOLVED.value, None
    alert.ends_at, alert.updated_at = event.ends_at or now, now
    if rules.flapping is not None:
        alert.changes = [*(alert.changes or [now.isoformat()])[-MAX_CHANGES + 1:], now.isoformat()]
    await session.flush()
    if alert.incident_id is None:  # a muted alert: no incident to tell
        return
    add_timeline(session, alert.incident_id, "alert_resolved", now, fingerprint=alert.fingerprint)
    still_firing = await session.scalar(select(func.count()).select_from(Alert).where(
        Alert.incident_id == alert.incident_id, Alert.status == AlertStatus.FIRING.value))
    incident = await session.get(Incident, alert.incident_id)
    if incident is None or incident.status == IncidentStatus.RESOLVED.value:
        return
    if not should_resolve(int(still_firing or 0), rules.auto_resolve):
        return
    incident.status, incident.open_group_key, incident.resolved_at = IncidentStatus.RESOLVED.value, None, now
    add_timeline(session, incident.id, "resolved", now, reason="all alerts resolved")
    await cancel_timers(session, incident.id, kinds=None)
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


async def _flapping(session: AsyncSession, service_id: str, event: AlertEvent, rules: ServiceRules, now: datetime,
                    muted_by: str | None) -> tuple[list[str] | None, bool, str | None]:
    """A new firing alert's state changes so far, whether it flaps, and whether that mutes it
    (`alert-then-mute`: notified when it starts flapping, muted while it goes on)."""
    if rules.flapping is None:
        return None, False, muted_by
    previous = await session.scalar(select(Alert).where(Alert.service_id == service_id,
                                                        Alert.fingerprint == event.fingerprint)
                                    .order_by(Alert.id.desc()).limit(1))
    changes = [*((previous.changes or []) if previous is not None else [])[-MAX_CHANGES + 1:], now.isoformat()]
    flapping = is_flapping([datetime.fromisoformat(item) for item in changes], now, rules.flapping)
    action = flap_action(previous is not None and previous.flapping, flapping, rules.flapping.mode)
    return changes, flapping, (muted_by or ("flapping" if action == "mute" else None))


def _was_flapping(changes: list[str], rules: ServiceRules, now: datetime) -> bool:
    return rules.flapping is not None and is_flapping([datetime.fromisoformat(item) for item in changes], now,
                                                      rules.flapping)


async def _arm_auto_resolve(session: AsyncSession, incident_id: int, rules: ServiceRules, now: datetime) -> None:
    """(Re)arm the incident's auto-resolve timer: `auto_resolve.after` past its latest firing alert."""
    due = timeout_due(now, rules.auto_resolve)
    if due is None:
        return
    timer = await session.scalar(select(Timer).where(Timer.incident_id == incident_id, Timer.kind == "auto_resolve",
                                                     Timer.status == "pending"))
    if timer is None:
        session.add(Timer(incident_id=incident_id, kind="auto_resolve", position=0, due_at=due, status="pending"))
    else:
        timer.due_at = due


def _storm_warnings(session: AsyncSession, directory: Directory, incident: Incident, thresholds: Sequence[int],
                    now: datetime) -> None:
    """A timeline entry and one warning message per threshold crossed, to the channels of the service's policy
    (each once: the outbox deduplicates by incident and threshold)."""
    if not thresholds:
        return
    t = Translator(directory.locale)
    policy = directory.policies.get(directory.services[incident.service_id].escalation_policy)
    channel_ids = dict.fromkeys(via for step in (policy.steps if policy else []) for via in step.via if via != "dm")
    for threshold in thresholds:
        add_timeline(session, incident.id, "storm_warning", now, alerts=threshold)
        text = t("storm.warning", number=incident.id, title=incident.title, count=threshold)
        for channel_id in channel_ids:
            target = destinations.channel(directory, channel_id)
            if target is not None:
                session.add(OutboxMessage(incident_id=incident.id, kind="message", destination=asdict(target),
                                          payload={"text": text},
                                          dedupe_key=f"storm:{incident.id}:{threshold}:{channel_id}",
                                          status="pending", attempts=0, created_at=now, next_attempt_at=now))


def _policy_snapshot(directory: Directory, service_id: str) -> dict[str, object]:
    """The policy config as it is now; a running incident keeps it even if the policy is edited."""
    return directory.policies[directory.services[service_id].escalation_policy].model_dump(mode="json")
