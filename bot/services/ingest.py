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

from pydantic import ValidationError
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import PolicyConfig
from bot.db.bulk import BulkRows, RowsIn
from bot.db.database import Database
from bot.db.tables import Alert, Incident, OutboxMessage, TimelineEntry, Timer
from bot.directory import Directory, policy_from_config
from bot.pipeline import ServiceRules, calendar_predicates, rules_of
from bot.services import destinations
from bot.services.incidents import act
from bot.services.records import cancel_timers, event_row
from cards.i18n import Translator
from core.escalation import choose_policy, first_firing
from core.grouping import Grouping, OpenIncident, group_key_for, joins
from core.model import Action, AlertEvent, AlertStatus, IncidentStatus, Severity, higher_severity
from core.stages import Passage
from core.stages.autoresolve import should_resolve, timeout_due
from core.stages.dedup import Dedup, OpenAlertFields, decide, refreshed
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
                        await _acknowledge(batch, service_id, key, submission.source)
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


@dataclass(slots=True)
class AlertRow:
    """An alert as this transaction sees it: read from the database (`id` set) or opened here (`id` None, inserted
    with the others at the end). A plain object: ORM instances for rows written in bulk cost most of the ingest
    time, so alerts are read as plain rows and written with one statement per kind (`bot.db.bulk`)."""

    id: int | None
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

    def values(self) -> tuple[Any, ...]:  # in _ALERT_COLUMNS order
        return (self.incident_id, self.service_id, self.source, self.fingerprint, self.open_fingerprint, self.status,
                self.severity, self.title, self.labels, self.annotations, self.starts_at, self.ends_at,
                self.received_at, self.updated_at, self.muted_by, self.changes, self.flapping, self.links)


@dataclass(slots=True)
class IncidentRow:
    """What ingest reads and changes of an incident, as a plain row (see `AlertRow`)."""

    id: int
    service_id: str
    title: str
    severity: str
    status: str
    open_group_key: str | None
    created_at: datetime
    last_merge_at: datetime | None
    alert_total: int
    resolved_at: datetime | None
    edited: list[str] | None = None  # fields people set by hand: alerts do not change them

    def values(self) -> tuple[Any, ...]:  # in _INCIDENT_CHANGES order
        return (self.severity, self.status, self.open_group_key, self.last_merge_at, self.alert_total,
                self.resolved_at)


_INCIDENT_READ = ("id", "service_id", "title", "severity", "status", "open_group_key", "created_at", "last_merge_at",
                  "alert_total", "resolved_at", "edited")
_INCIDENTS_OPEN_IN = RowsIn(Incident.__table__, _INCIDENT_READ, "service_id", "open_group_key")
_INCIDENTS_BY_ID = RowsIn(Incident.__table__, _INCIDENT_READ, "1", "id")  # WHERE 1 = 1 AND id IN (…)
_INCIDENT_CHANGES = ("severity", "status", "open_group_key", "last_merge_at", "alert_total", "resolved_at")
_INCIDENTS = BulkRows(Incident.__table__, _INCIDENT_CHANGES)
_ALERT_COLUMNS = ("incident_id", "service_id", "source", "fingerprint", "open_fingerprint", "status", "severity",
                  "title", "labels", "annotations", "starts_at", "ends_at", "received_at", "updated_at", "muted_by",
                  "changes", "flapping", "links")
_ALERTS_OPEN_IN = RowsIn(Alert.__table__, ("id", *_ALERT_COLUMNS), "service_id", "open_fingerprint")
_ALERTS = BulkRows(Alert.__table__, _ALERT_COLUMNS)
_TIMELINE = BulkRows(TimelineEntry.__table__, ("incident_id", "at", "kind", "actor", "data"))
_EVENT_COLUMNS = ("incident_id", "kind", "destination", "payload", "status", "attempts", "created_at",
                  "next_attempt_at")
_EVENTS = BulkRows(OutboxMessage.__table__, _EVENT_COLUMNS)  # incident events for the webhooks
_TIMER_COLUMNS = ("incident_id", "kind", "position", "repeat", "due_at", "status")
_TIMERS = BulkRows(Timer.__table__, _TIMER_COLUMNS)  # a storm's new incidents arm theirs with one statement
_UPDATES = BulkRows(OutboxMessage.__table__, ("incident_id", "kind", "destination", "status", "attempts",
                                              "created_at", "next_attempt_at"))
FOLDED_LISTED = 20  # alert keys named in one folded timeline entry; its `count` has them all


@dataclass
class _Batch:
    """One transaction, with what it read so far: open alerts by key, open incidents by group."""

    session: AsyncSession
    directory: Directory
    now: datetime
    result: IngestResult
    alerts: dict[tuple[str, str], AlertRow | None] = field(default_factory=dict)  # the open alert of each key
    latest: dict[tuple[str, str], AlertRow] = field(default_factory=dict)  # the newest row of a key seen here
    incidents: dict[tuple[str, str], IncidentRow | None] = field(default_factory=dict)  # open for grouping
    by_id: dict[int, IncidentRow] = field(default_factory=dict)  # every incident read or opened here
    changed_incidents: dict[int, IncidentRow] = field(default_factory=dict)
    touched: dict[int, None] = field(default_factory=dict)  # incidents whose cards must show the change
    armed: set[int] = field(default_factory=set)  # incidents whose auto-resolve timer was moved
    firing: dict[int, int] = field(default_factory=dict)  # firing alerts per incident, once counted here
    pending: list[AlertRow] = field(default_factory=list)  # new alerts (a key may recur), inserted together
    changed: dict[int, AlertRow] = field(default_factory=dict)  # stored alerts changed here, updated together
    group_keys: dict[int, str] = field(default_factory=dict)  # by id() of the events of this transaction
    folded: dict[tuple[int, str], list[str]] = field(default_factory=dict)  # alert keys per (incident, kind)
    notes: list[tuple[Any, ...]] = field(default_factory=list)  # timeline entries, inserted together
    timers: list[tuple[Any, ...]] = field(default_factory=list)  # new timers (_TIMER_COLUMNS), inserted together

    async def prefetch(self, passages: Sequence[Passage]) -> None:
        by_service: dict[str, list[Passage]] = {}
        for passage in passages:
            by_service.setdefault(passage.service_id, []).append(passage)
        for service_id, items in by_service.items():
            keys = list(dict.fromkeys(item.event.fingerprint for item in items))
            for chunk in _chunks(keys):
                self.alerts.update({(service_id, fingerprint): None for fingerprint in chunk})
                for row in await _ALERTS_OPEN_IN.fetch(self.session, service_id, chunk):
                    self._keep_alert(AlertRow(*row))
            grouping = rules_of(self.directory, service_id).grouping
            groups = list(dict.fromkeys(self.group_key(item.event, grouping) for item in items
                                        if item.event.status is AlertStatus.FIRING))
            for chunk in _chunks(groups):
                self.incidents.update({(service_id, key): None for key in chunk})
                for row in await _INCIDENTS_OPEN_IN.fetch(self.session, service_id, chunk):
                    self._keep_incident(IncidentRow(*row))

    def _keep_alert(self, alert: AlertRow) -> AlertRow:
        self.alerts[(alert.service_id, alert.fingerprint)] = self.latest[(alert.service_id, alert.fingerprint)] = alert
        return alert

    def _keep_incident(self, found: IncidentRow) -> IncidentRow:
        incident = self.by_id.setdefault(found.id, found)
        if incident.open_group_key is not None:
            self.incidents[(incident.service_id, incident.open_group_key)] = incident
        return incident

    def group_key(self, event: AlertEvent, grouping: Grouping) -> str:
        """The event's group key, computed once per event in this transaction."""
        key = self.group_keys.get(id(event))
        if key is None:
            key = self.group_keys[id(event)] = group_key_for(event, grouping)
        return key

    async def open_alert(self, service_id: str, fingerprint: str) -> AlertRow | None:
        key = (service_id, fingerprint)
        if key not in self.alerts:
            self.alerts[key] = None
            for row in await _ALERTS_OPEN_IN.fetch(self.session, service_id, [fingerprint]):
                self._keep_alert(AlertRow(*row))
        return self.alerts[key]

    async def open_incident(self, service_id: str, group: str) -> IncidentRow | None:
        key = (service_id, group)
        if key not in self.incidents:
            self.incidents[key] = None
            for row in await _INCIDENTS_OPEN_IN.fetch(self.session, service_id, [group]):
                self._keep_incident(IncidentRow(*row))
        return self.incidents[key]

    async def incident(self, incident_id: int) -> IncidentRow | None:
        if incident_id not in self.by_id:
            for row in await _INCIDENTS_BY_ID.fetch(self.session, 1, [incident_id]):
                self._keep_incident(IncidentRow(*row))
        return self.by_id.get(incident_id)

    def change_incident(self, incident: IncidentRow) -> None:
        self.changed_incidents[incident.id] = incident

    async def write_incidents(self) -> None:
        await _INCIDENTS.update(self.session, [(row.id, row.values()) for row in self.changed_incidents.values()])
        self.changed_incidents.clear()

    def forget_incident(self, incident_id: int) -> None:
        """Changed outside these rows (a tool's acknowledgement through `act`): read it again when needed."""
        row = self.by_id.pop(incident_id, None)
        if row is not None:
            for key in [key for key, value in self.incidents.items() if value is row]:
                del self.incidents[key]

    def touch(self, incident_id: int) -> None:
        self.touched[incident_id] = None

    def add_alert(self, row: AlertRow) -> None:
        self.pending.append(row)
        self.alerts[(row.service_id, row.fingerprint)] = self.latest[(row.service_id, row.fingerprint)] = row
        if row.incident_id is not None:
            self.count_firing(row.incident_id, +1)

    def change(self, row: AlertRow) -> None:
        """`row` was changed here: written with the others (a row opened here is inserted as it is by then)."""
        if row.id is not None:
            self.changed[row.id] = row

    def count_firing(self, incident_id: int, delta: int) -> None:
        if incident_id in self.firing:
            self.firing[incident_id] += delta

    async def firing_alerts(self, incident_id: int) -> int:
        """The incident's firing alerts, counted in the database once per transaction and kept up to date here."""
        if incident_id not in self.firing:
            await self.write()
            self.firing[incident_id] = int(await self.session.scalar(select(func.count()).select_from(Alert).where(
                Alert.incident_id == incident_id, Alert.status == AlertStatus.FIRING.value)) or 0)
        return self.firing[incident_id]

    def fold(self, incident_id: int, kind: str, fingerprint: str) -> None:
        """A timeline entry about one alert, folded with the others of its incident and kind in this request into
        one entry (`alerts_merged`, `alerts_resolved`): a storm of 10,000 alerts is not 10,000 lines."""
        self.folded.setdefault((incident_id, kind), []).append(fingerprint)

    def note(self, incident_id: int, kind: str, **data: Any) -> None:
        self._unfold(incident_id)  # what happened to its alerts so far comes first
        self.notes.append((incident_id, self.now, kind, None, data))

    def _unfold(self, incident_id: int | None = None) -> None:
        for key in [key for key in self.folded if incident_id is None or key[0] == incident_id]:
            fingerprints = self.folded.pop(key)
            self.notes.append((key[0], self.now, key[1], None,
                               {"count": len(fingerprints), "fingerprints": fingerprints[:FOLDED_LISTED]}))

    async def write(self) -> None:
        """Write what this transaction changed so far, each kind with one statement: changed alerts first (a
        recovery frees its key for a new alert of the same key), then new alerts, then timeline entries."""
        await self.write_incidents()
        await _TIMERS.insert(self.session, self.timers)
        self.timers = []
        await _ALERTS.update(self.session, [(row.id, row.values()) for row in self.changed.values()])
        self.changed.clear()
        if self.pending:
            await _ALERTS.insert(self.session, [row.values() for row in self.pending])
            for row in self.pending:  # without its id now: read again should the transaction touch it once more
                key = (row.service_id, row.fingerprint)
                if self.alerts.get(key) is row:
                    del self.alerts[key]
                if self.latest.get(key) is row:
                    del self.latest[key]
            self.pending.clear()
        self._unfold()
        await _TIMELINE.insert(self.session, self.notes)
        events = [event_row(incident_id, kind, at, actor, data) for incident_id, at, kind, actor, data in self.notes]
        await _EVENTS.insert(self.session, [tuple(event[c] for c in _EVENT_COLUMNS) for event in events if event])
        self.notes = []

    async def finish(self) -> None:
        """The last writes, and one card refresh per touched incident unless one is already waiting unclaimed
        (several changes before the dispatcher gets to it are shown by one update)."""
        await self.write()
        if not self.touched:
            return
        waiting = select(OutboxMessage.incident_id).where(
            OutboxMessage.kind == "update", OutboxMessage.status == "pending", OutboxMessage.attempts == 0,
            OutboxMessage.incident_id.in_(list(self.touched)))
        if (await self.session.connection()).dialect.name != "sqlite":
            waiting = waiting.with_for_update()  # a dispatcher claiming it now waits until this commit
        covered = set((await self.session.scalars(waiting)).all())
        await _UPDATES.insert(self.session, [(incident_id, "update", {}, "pending", 0, self.now, self.now)
                                             for incident_id in self.touched if incident_id not in covered])


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[start:start + size] for start in range(0, len(items), size)]


async def _ingest_one(batch: _Batch, passage: Passage) -> None:
    directory, now, result = batch.directory, batch.now, batch.result
    event, service_id = passage.event, passage.service_id
    result.alerts += 1
    if passage.muted_by is not None:
        result.muted += 1
    alert = await batch.open_alert(service_id, event.fingerprint)
    rules = rules_of(directory, service_id)
    decision = decide(event, alert is not None)
    if decision is Dedup.IGNORE:
        return
    if decision is Dedup.RESOLVE:
        assert alert is not None
        batch.alerts[(service_id, event.fingerprint)] = None
        await _resolve_alert(batch, alert, event, rules)
        return
    if alert is not None:
        await _refire(batch, alert, passage, rules)
        return
    changes, flapping, muted_by = await _flapping(batch, service_id, event, rules, passage.muted_by)
    if muted_by is not None and passage.muted_by is None:
        result.muted += 1
    incident = None
    if muted_by is None:
        incident = await _open_incident(batch, service_id, event)
    row = AlertRow(id=None, incident_id=None if incident is None else incident.id, service_id=service_id,
                   source=event.source, fingerprint=event.fingerprint, open_fingerprint=event.fingerprint,
                   status=AlertStatus.FIRING.value, severity=event.severity.value, title=event.title,
                   labels=dict(event.labels), annotations=dict(event.annotations),
                   starts_at=event.starts_at, ends_at=None, received_at=now, updated_at=now,
                   muted_by=muted_by, changes=changes, flapping=flapping, links=list(event.links) or None)
    batch.add_alert(row)
    if incident is not None and flapping and changes and not _was_flapping(changes[:-1], rules, now):
        batch.note(incident.id, "alert_flapping", fingerprint=event.fingerprint, changes=len(changes))
        batch.touch(incident.id)


async def _refire(batch: _Batch, alert: AlertRow, passage: Passage, rules: ServiceRules) -> None:
    """A repeated report of an open alert: the same alert, refreshed; it joins its incident if it was muted."""
    event = passage.event
    fields = refreshed(OpenAlertFields(severity=Severity(alert.severity), labels=alert.labels,
                                       annotations=alert.annotations, links=tuple(alert.links or ())), event)
    alert.labels, alert.annotations, alert.updated_at = dict(fields.labels), dict(fields.annotations), batch.now
    alert.links, alert.severity = list(fields.links) or None, fields.severity.value
    batch.change(alert)
    if alert.incident_id is not None:
        await _raise_incident_severity(batch, alert.incident_id, event.severity)
        await _arm_auto_resolve(batch, alert.incident_id, rules)
    elif passage.muted_by is None:  # muted until now: it joins its incident as a new alert would
        alert.muted_by = None
        alert.incident_id = (await _open_incident(batch, passage.service_id, event)).id
        batch.count_firing(alert.incident_id, +1)
    else:
        alert.muted_by = passage.muted_by


async def _acknowledge(batch: _Batch, service_id: str, key: str, source: str) -> None:
    """The tool acknowledged the alert of `key`: its incident is acknowledged (after this request's writes)."""
    alert = await batch.open_alert(service_id, key)
    if alert is None or alert.incident_id is None:
        return
    await batch.write()
    done = await act(batch.session, alert.incident_id, Action.ACKNOWLEDGE, f"source:{source}", batch.now,
                     via="source")
    await batch.session.flush()
    batch.forget_incident(alert.incident_id)
    if done.changed:
        batch.result.acknowledged.append(alert.incident_id)


async def _open_incident(batch: _Batch, service_id: str, event: AlertEvent) -> IncidentRow:
    """The open incident of the event's group, or a new one with its first escalation timer.

    An open incident stops taking alerts when its grouping window is over or it holds `max_alerts`: it keeps
    its state for people, and the next alert of its group opens a new incident."""
    session, directory, now = batch.session, batch.directory, batch.now
    rules = rules_of(directory, service_id)
    key = batch.group_key(event, rules.grouping)
    incident = await batch.open_incident(service_id, key)
    if incident is not None:
        group = OpenIncident(started_at=incident.created_at, last_merge_at=incident.last_merge_at or
                             incident.created_at, alert_count=incident.alert_total)
        if joins(group, rules.grouping, now):
            batch.fold(incident.id, "alerts_merged", event.fingerprint)
            await _raise_incident_severity(batch, incident.id, event.severity)
            before, incident.alert_total, incident.last_merge_at = incident.alert_total, incident.alert_total + 1, now
            batch.change_incident(incident)
            await _storm_warnings(batch, incident, crossed(before, incident.alert_total, rules.storm))
            await _arm_auto_resolve(batch, incident.id, rules)
            batch.touch(incident.id)  # the alert count on the card changed
            return incident
        incident.open_group_key = None  # full or past its window: it takes no more alerts
        batch.change_incident(incident)
        batch.note(incident.id, "grouping_closed", alerts=incident.alert_total)
    await batch.write_incidents()  # an incident closed for grouping here frees its key first
    calendars = directory.rules("calendars", lambda: calendar_predicates(directory))
    policy_id, chosen_by = choose_policy(rules.escalation, directory.services[service_id].escalation_policy, event,
                                         now, calendars)
    snapshot = directory.policies[policy_id]  # a running incident keeps it even if the policy is edited
    policy = policy_from_config(snapshot)
    values = {"service_id": service_id, "group_key": key, "open_group_key": key, "title": event.title,
              "severity": event.severity.value, "status": IncidentStatus.TRIGGERED.value,
              "labels": dict(event.labels), "policy": snapshot.model_dump(mode="json"),
              "created_at": now, "last_merge_at": now, "alert_total": 1}
    incident_id = (await session.execute(insert(Incident).values(values).returning(Incident.id))).scalar_one()
    incident = IncidentRow(id=incident_id, service_id=service_id, title=event.title, severity=event.severity.value,
                           status=IncidentStatus.TRIGGERED.value, open_group_key=key, created_at=now,
                           last_merge_at=now, alert_total=1, resolved_at=None)
    batch.incidents[(service_id, key)] = batch.by_id[incident.id] = incident
    batch.firing[incident.id] = 0  # its first alert is added by the caller
    await _arm_auto_resolve(batch, incident.id, rules)
    batch.note(incident.id, "created", source=event.source, fingerprint=event.fingerprint, policy=policy_id,
               **({"rule": chosen_by} if chosen_by is not None else {}))
    firing = first_firing(policy, now)
    if firing is not None:
        batch.timers.append((incident.id, "escalate", firing.position, 0, firing.due_at, "pending"))
    batch.result.created.append(incident.id)
    return incident


async def _resolve_alert(batch: _Batch, alert: AlertRow, event: AlertEvent, rules: ServiceRules) -> None:
    session, now, result = batch.session, batch.now, batch.result
    alert.status, alert.open_fingerprint = AlertStatus.RESOLVED.value, None
    alert.ends_at, alert.updated_at = event.ends_at or now, now
    if rules.flapping is not None:
        alert.changes = [*(alert.changes or [now.isoformat()])[-MAX_CHANGES + 1:], now.isoformat()]
    batch.change(alert)
    if alert.incident_id is None:  # a muted alert: no incident to tell
        return
    batch.fold(alert.incident_id, "alerts_resolved", alert.fingerprint)
    batch.count_firing(alert.incident_id, -1)  # when not counted yet, the count below sees this recovery
    still_firing = await batch.firing_alerts(alert.incident_id)
    incident = await batch.incident(alert.incident_id)
    if incident is None or incident.status == IncidentStatus.RESOLVED.value:
        return
    if not should_resolve(still_firing, rules.auto_resolve):
        return
    if incident.open_group_key is not None:
        batch.incidents[(incident.service_id, incident.open_group_key)] = None
    incident.status, incident.open_group_key, incident.resolved_at = IncidentStatus.RESOLVED.value, None, now
    batch.change_incident(incident)
    batch.note(incident.id, "resolved", reason="all alerts resolved")
    await batch.write()  # its timers armed in this transaction too
    await cancel_timers(session, incident.id, kinds=None)
    batch.touch(incident.id)
    result.resolved.append(incident.id)


async def _raise_incident_severity(batch: _Batch, incident_id: int, severity: Severity) -> None:
    incident = await batch.incident(incident_id)
    if incident is None or "severity" in (incident.edited or ()):
        return  # a severity set by hand stays
    raised = higher_severity(Severity(incident.severity), severity)
    if raised.value != incident.severity:
        incident.severity = raised.value
        batch.change_incident(incident)
        batch.note(incident_id, "severity_raised", severity=raised.value)
        batch.touch(incident_id)


async def _flapping(batch: _Batch, service_id: str, event: AlertEvent, rules: ServiceRules,
                    muted_by: str | None) -> tuple[list[str] | None, bool, str | None]:
    """A new firing alert's state changes so far, whether it flaps, and whether that mutes it
    (`alert-then-mute`: notified when it starts flapping, muted while it goes on)."""
    if rules.flapping is None:
        return None, False, muted_by
    now = batch.now
    previous: Any = batch.latest.get((service_id, event.fingerprint))  # this request's own rows come first
    if previous is None:
        previous = (await batch.session.execute(
            select(Alert.changes, Alert.flapping).where(Alert.service_id == service_id,
                                                        Alert.fingerprint == event.fingerprint)
            .order_by(Alert.id.desc()).limit(1))).first()
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
        batch.timers.append((incident_id, "auto_resolve", 0, 0, due, "pending"))
    else:
        timer.due_at = due


async def _storm_warnings(batch: _Batch, incident: IncidentRow, thresholds: Sequence[int]) -> None:
    """A timeline entry and one warning message per threshold crossed, to the channels of the incident's own
    policy (the one its escalation rule picked when it opened; each once: the outbox deduplicates by incident and
    threshold)."""
    if not thresholds:
        return
    session, directory, now = batch.session, batch.directory, batch.now
    t = Translator(directory.locale)
    kept = await session.scalar(select(Incident.policy).where(Incident.id == incident.id))
    try:
        policy: PolicyConfig | None = PolicyConfig.model_validate(kept) if kept else None
    except ValidationError:  # a snapshot an older version wrote: the warning still goes out, to today's channels
        policy = None
    if policy is None:
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
