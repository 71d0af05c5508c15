"""Alert events → alert rows (deduplicated by fingerprint) → incidents (grouped by labels).

The stages that need the database run here, in the pipeline's order (core/stages/__init__.py): dedup (one open
alert per key; a recovery closes it; severity only rises), muted alerts kept without an incident, grouping into
incidents. A muted alert (silenced or inhibited) is stored and marked but opens or joins no incident, so it
notifies nobody; if it fires again unmuted it joins its incident then, as a new alert would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.database import Database
from bot.db.tables import Alert, Incident, OutboxMessage, TimelineEntry, Timer
from bot.directory import Directory
from bot.pipeline import ServiceRules, rules_of
from bot.services import destinations
from bot.services.incidents import act
from bot.services.records import cancel_timers
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
    return (await ingest_group(db, directory, [Submission(passages, now, acknowledged, source)]))[0]


@dataclass(frozen=True)
class Submission:
    """One request's passages (and tool acknowledgements), received at `now`."""

    passages: Sequence[Passage]
    now: datetime
    acknowledged: Sequence[tuple[str, str]] = ()
    source: str = ""


async def ingest_group(db: Database, directory: Directory, submissions: Sequence[Submission]) -> list[IngestResult]:
    """Several requests' passages in one transaction, in the order given, as if each had its own: one commit for
    all of them. Open alerts and open incidents are read in one query each, new rows are inserted a table at a
    time, and each touched incident's cards are refreshed once: 100 alerts cost a handful of statements."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            async with db.transaction() as session:
                batch = _Batch(session, directory, submissions[0].now, IngestResult())
                await batch.prefetch([passage for submission in submissions for passage in submission.passages
                                      if not passage.stopped])
                results = []
                for submission in submissions:
                    batch.now, batch.result = submission.now, IngestResult()
                    kept = [passage for passage in submission.passages if not passage.stopped]
                    batch.result.dropped = len(submission.passages) - len(kept)
                    for passage in kept:
                        await _ingest_one(batch, passage)
                    await batch.write()
                    for service_id, key in submission.acknowledged:
                        await _acknowledge(session, service_id, key, submission.source, submission.now, batch.result)
                    results.append(batch.result)
                await batch.finish()
                return results
        except IntegrityError:
            if attempt == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


class IngestQueue:
    """Group commit for the webhooks and the mail listener: a request that arrives while a transaction is being
    written waits for the next one, which takes every request waiting by then (up to `max_alerts` alerts). Each
    request is still answered only after the commit that holds its alerts; a group that fails is written again
    one request at a time, so one bad request fails alone."""

    def __init__(self, db: Database, max_alerts: int = 2000) -> None:
        self._db = db
        self._max_alerts = max_alerts
        self._waiting: list[tuple[Directory, Submission, asyncio.Future[IngestResult]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, directory: Directory, submission: Submission) -> IngestResult:
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._waiting.append((directory, submission, future))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            group, alerts = [], 0
            while self._waiting and (not group or alerts + len(self._waiting[0][1].passages) <= self._max_alerts):
                item = self._waiting.pop(0)
                group.append(item)
                alerts += len(item[1].passages)
            try:
                results = await ingest_group(self._db, group[-1][0], [submission for _, submission, _ in group])
            except Exception:  # noqa: BLE001 - isolate the request that fails; the others are written alone
                for directory, submission, future in group:
                    try:
                        result = (await ingest_group(self._db, directory, [submission]))[0]
                    except Exception as problem:  # noqa: BLE001 - handed to the request that sent it
                        if not future.done():
                            future.set_exception(problem)
                    else:
                        if not future.done():
                            future.set_result(result)
                continue
            for (_, _, future), result in zip(group, results, strict=True):
                if not future.done():
                    future.set_result(result)


@dataclass
class _Batch:
    """One request's transaction, with what it read so far: open alerts by key, open incidents by group."""

    session: AsyncSession
    directory: Directory
    now: datetime
    result: IngestResult
    alerts: dict[tuple[str, str], Alert | NewAlert | None] = field(default_factory=dict)
    incidents: dict[tuple[str, str], Incident | None] = field(default_factory=dict)
    touched: dict[int, None] = field(default_factory=dict)  # incidents whose cards must show the change
    armed: set[int] = field(default_factory=set)  # incidents whose auto-resolve timer was moved
    pending: list[NewAlert] = field(default_factory=list)  # new alerts (a key may recur), inserted together
    notes: list[dict[str, Any]] = field(default_factory=list)  # timeline entries, inserted together

    async def prefetch(self, passages: Sequence[Passage]) -> None:
        by_service: dict[str, list[Passage]] = {}
        for passage in passages:
            by_service.setdefault(passage.service_id, []).append(passage)
        for service_id, items in by_service.items():
            keys = list(dict.fromkeys(item.event.fingerprint for item in items))
            for chunk in _chunks(keys):
                found = await self.session.scalars(select(Alert).where(Alert.service_id == service_id,
                                                                       Alert.open_fingerprint.in_(chunk)))
                self.alerts.update({(service_id, fingerprint): None for fingerprint in chunk})
                self.alerts.update({(service_id, row.fingerprint): row for row in found})
            grouping = rules_of(self.directory, service_id).grouping
            groups = list(dict.fromkeys(group_key_for(item.event, grouping) for item in items
                                        if item.event.status is AlertStatus.FIRING))
            for chunk in _chunks(groups):
                found_incidents = await self.session.scalars(select(Incident).where(
                    Incident.service_id == service_id, Incident.open_group_key.in_(chunk)))
                self.incidents.update({(service_id, key): None for key in chunk})
                self.incidents.update({(service_id, row.open_group_key or ""): row for row in found_incidents})

    async def open_alert(self, service_id: str, fingerprint: str) -> Alert | NewAlert | None:
        key = (service_id, fingerprint)
        if key not in self.alerts:
            self.alerts[key] = await self.session.scalar(select(Alert).where(
                Alert.service_id == service_id, Alert.open_fingerprint == fingerprint))
        return self.alerts[key]

    async def open_incident(self, service_id: str, group: str) -> Incident | None:
        key = (service_id, group)
        if key not in self.incidents:
            self.incidents[key] = await self.session.scalar(select(Incident).where(
                Incident.service_id == service_id, Incident.open_group_key == group))
        return self.incidents[key]

    def touch(self, incident_id: int) -> None:
        self.touched[incident_id] = None

    def add_alert(self, row: NewAlert) -> None:
        self.pending.append(row)
        self.alerts[(row.service_id, row.fingerprint)] = row

    def note(self, incident_id: int, kind: str, **data: Any) -> None:
        self.notes.append({"incident_id": incident_id, "kind": kind, "at": self.now, "actor": None, "data": data})

    async def write(self) -> None:
        """Insert the new alerts and timeline entries, each kind in one statement (ORM inserts with RETURNING go
        one row at a time). An alert inserted here is read again from the database if the request touches it
        once more."""
        if self.pending:
            await self.session.execute(insert(Alert), [_alert_values(row) for row in self.pending])
            for row in self.pending:
                self.alerts.pop((row.service_id, row.fingerprint), None)
            self.pending.clear()
        if self.notes:
            await self.session.execute(insert(TimelineEntry), self.notes)
            self.notes = []

    async def finish(self) -> None:
        await self.write()
        if self.touched:
            await self.session.execute(insert(OutboxMessage), [
                {"incident_id": incident_id, "kind": "update", "destination": {}, "status": "pending",
                 "attempts": 0, "created_at": self.now, "next_attempt_at": self.now}
                for incident_id in self.touched])


@dataclass(slots=True)
class NewAlert:
    """An alert row this request opens, inserted with the others at the end (a plain object: building ORM
    instances for rows that are inserted in bulk cost a quarter of the ingest time)."""

    incident_id: int | None
    service_id: str
    source: str
    fingerprint: str
    open_fingerprint: str | None
    status: str
    severity: str
    title: str
    labels: dict[str, Any]
    annotations: dict[str, Any]
    starts_at: datetime
    ends_at: datetime | None
    received_at: datetime
    updated_at: datetime
    muted_by: str | None
    changes: list[str] | None
    flapping: bool
    links: list[str] | None


def _alert_values(row: NewAlert) -> dict[str, Any]:
    return {column: getattr(row, column) for column in _ALERT_COLUMNS}


_ALERT_COLUMNS = ("incident_id", "service_id", "source", "fingerprint", "open_fingerprint", "status", "severity",
                  "title", "labels", "annotations", "starts_at", "ends_at", "received_at", "updated_at", "muted_by",
                  "changes", "flapping", "links")


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


async def _ingest_one(batch: _Batch, passage: Passage) -> None:
    session, directory, now, result = batch.session, batch.directory, batch.now, batch.result
    event, service_id = passage.event, passage.service_id
    result.alerts += 1
    if passage.muted_by is not None:
        result.muted += 1
    alert = await batch.open_alert(service_id, event.fingerprint)
    rules = rules_of(directory, service_id)
    if event.status is AlertStatus.RESOLVED:
        if alert is not None:
            batch.alerts[(service_id, event.fingerprint)] = None
            await _resolve_alert(batch, alert, event, rules)
        return
    if alert is not None:
        alert.labels, alert.annotations, alert.updated_at = dict(event.labels), dict(event.annotations), now
        alert.links = list(event.links) or alert.links
        alert.severity = higher_severity(Severity(alert.severity), event.severity).value
        if alert.incident_id is not None:
            await _raise_incident_severity(batch, alert.incident_id, event.severity)
            await _arm_auto_resolve(batch, alert.incident_id, rules)
        elif passage.muted_by is None:  # muted until now: it joins its incident as a new alert would
            alert.muted_by = None
            alert.incident_id = (await _open_incident(batch, service_id, event)).id
        else:
            alert.muted_by = passage.muted_by
        return
    changes, flapping, muted_by = await _flapping(session, service_id, event, rules, now, passage.muted_by)
    if muted_by is not None and passage.muted_by is None:
        result.muted += 1
    incident = None
    if muted_by is None:
        incident = await _open_incident(batch, service_id, event)
    row = NewAlert(incident_id=None if incident is None else incident.id, service_id=service_id,
                source=event.source, fingerprint=event.fingerprint, open_fingerprint=event.fingerprint,
                status=AlertStatus.FIRING.value, severity=event.severity.value, title=event.title,
                labels=dict(event.labels), annotations=dict(event.annotations),
                starts_at=event.starts_at, ends_at=None, received_at=now, updated_at=now,
                muted_by=muted_by, changes=changes, flapping=flapping, links=list(event.links) or None)
    batch.add_alert(row)
    if incident is not None and flapping and changes and not _was_flapping(changes[:-1], rules, now):
        batch.note(incident.id, "alert_flapping", fingerprint=event.fingerprint, changes=len(changes))
        batch.touch(incident.id)


async def _acknowledge(session: AsyncSession, service_id: str, key: str, source: str, now: datetime,
                       result: IngestResult) -> None:
    alert = await session.scalar(select(Alert).where(Alert.service_id == service_id, Alert.open_fingerprint == key))
    if alert is None or alert.incident_id is None:
        return
    done = await act(session, alert.incident_id, Action.ACKNOWLEDGE, f"source:{source}", now, via="source")
    if done.changed:
        result.acknowledged.append(alert.incident_id)


async def _open_incident(batch: _Batch, service_id: str, event: AlertEvent) -> Incident:
    """The open incident of the event's group, or a new one with its first escalation timer.

    An open incident stops taking alerts when its grouping window is over or it holds `max_alerts`: it keeps
    its state for people, and the next alert of its group opens a new incident."""
    session, directory, now = batch.session, batch.directory, batch.now
    rules = rules_of(directory, service_id)
    key = group_key_for(event, rules.grouping)
    incident = await batch.open_incident(service_id, key)
    if incident is not None:
        group = OpenIncident(started_at=incident.created_at, last_merge_at=incident.last_merge_at or
                             incident.created_at, alert_count=incident.alert_total)
        if joins(group, rules.grouping, now):
            batch.note(incident.id, "alert_merged", fingerprint=event.fingerprint, title=event.title)
            await _raise_incident_severity(batch, incident.id, event.severity)
            before, incident.alert_total, incident.last_merge_at = incident.alert_total, incident.alert_total + 1, now
            _storm_warnings(batch, incident, crossed(before, incident.alert_total, rules.storm))
            await _arm_auto_resolve(batch, incident.id, rules)
            batch.touch(incident.id)  # the alert count on the card changed
            return incident
        incident.open_group_key = None  # full or past its window: it takes no more alerts
        batch.note(incident.id, "grouping_closed", alerts=incident.alert_total)
        await session.flush()
    policy = directory.policy_for(service_id)
    incident = Incident(service_id=service_id, group_key=key, open_group_key=key, title=event.title,
                        severity=event.severity.value, status=IncidentStatus.TRIGGERED.value,
                        labels=dict(event.labels), policy=_policy_snapshot(directory, service_id),
                        created_at=now, last_merge_at=now, alert_total=1)
    session.add(incident)
    await session.flush()
    batch.incidents[(service_id, key)] = incident
    await _arm_auto_resolve(batch, incident.id, rules)
    batch.note(incident.id, "created", source=event.source, fingerprint=event.fingerprint)
    firing = first_firing(policy, now)
    if firing is not None:
        session.add(Timer(incident_id=incident.id, kind="escalate", position=firing.position,
                          due_at=firing.due_at, status="pending"))
    batch.result.created.append(incident.id)
    return incident


async def _resolve_alert(batch: _Batch, alert: Alert | NewAlert, event: AlertEvent, rules: ServiceRules) -> None:
    session, now, result = batch.session, batch.now, batch.result
    alert.status, alert.open_fingerprint = AlertStatus.RESOLVED.value, None
    alert.ends_at, alert.updated_at = event.ends_at or now, now
    if rules.flapping is not None:
        alert.changes = [*(alert.changes or [now.isoformat()])[-MAX_CHANGES + 1:], now.isoformat()]
    if alert.incident_id is None:  # a muted alert: no incident to tell
        return
    batch.note(alert.incident_id, "alert_resolved", fingerprint=alert.fingerprint)
    await batch.write()  # the count below must see the alerts this request opened
    still_firing = await session.scalar(select(func.count()).select_from(Alert).where(
        Alert.incident_id == alert.incident_id, Alert.status == AlertStatus.FIRING.value))
    incident = await session.get(Incident, alert.incident_id)
    if incident is None or incident.status == IncidentStatus.RESOLVED.value:
        return
    if not should_resolve(int(still_firing or 0), rules.auto_resolve):
        return
    if incident.open_group_key is not None:
        batch.incidents[(incident.service_id, incident.open_group_key)] = None
    incident.status, incident.open_group_key, incident.resolved_at = IncidentStatus.RESOLVED.value, None, now
    batch.note(incident.id, "resolved", reason="all alerts resolved")
    await cancel_timers(session, incident.id, kinds=None)
    batch.touch(incident.id)
    result.resolved.append(incident.id)


async def _raise_incident_severity(batch: _Batch, incident_id: int, severity: Severity) -> None:
    incident = await batch.session.get(Incident, incident_id)
    if incident is None:
        return
    raised = higher_severity(Severity(incident.severity), severity)
    if raised.value != incident.severity:
        incident.severity = raised.value
        batch.note(incident_id, "severity_raised", severity=raised.value)
        batch.touch(incident_id)


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


async def _arm_auto_resolve(batch: _Batch, incident_id: int, rules: ServiceRules) -> None:
    """(Re)arm the incident's auto-resolve timer: `auto_resolve.after` past its latest firing alert."""
    session, now = batch.session, batch.now
    due = timeout_due(now, rules.auto_resolve)
    if due is None or incident_id in batch.armed:
        return
    batch.armed.add(incident_id)
    timer = await session.scalar(select(Timer).where(Timer.incident_id == incident_id, Timer.kind == "auto_resolve",
                                                     Timer.status == "pending"))
    if timer is None:
        session.add(Timer(incident_id=incident_id, kind="auto_resolve", position=0, due_at=due, status="pending"))
    else:
        timer.due_at = due


def _storm_warnings(batch: _Batch, incident: Incident, thresholds: Sequence[int]) -> None:
    """A timeline entry and one warning message per threshold crossed, to the channels of the service's policy
    (each once: the outbox deduplicates by incident and threshold)."""
    if not thresholds:
        return
    session, directory, now = batch.session, batch.directory, batch.now
    t = Translator(directory.locale)
    policy = directory.policies.get(directory.services[incident.service_id].escalation_policy)
    channel_ids = dict.fromkeys(via for step in (policy.steps if policy else []) for via in step.via if via != "dm")
    for threshold in thresholds:
        batch.note(incident.id, "storm_warning", alerts=threshold)
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
