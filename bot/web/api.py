"""`/api/v1`: incidents for scripts and other tools, with bearer tokens from the config's `api.tokens`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from bot.apply import token_digest
from bot.bootstrap import Container
from bot.db.tables import Alert, ApiToken, Incident, QuickSilence, TimelineEntry
from bot.directory import Directory
from bot.services.incidents import act
from bot.services.records import incident_view
from bot.services.silences import SilenceRefused, active, end_silence, silence_incident
from core.incident import SNOOZE_PRESETS, snooze_length
from core.model import Action

StatusName = Literal["triggered", "acknowledged", "resolved"]
IncidentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the incident's id")]


class IncidentOut(BaseModel):
    id: int
    number: int
    title: str
    status: StatusName
    severity: Literal["critical", "warning", "info"]
    service: str
    alert_count: int
    labels: dict[str, str]
    created_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    snoozed_until: datetime | None = Field(description="set while the acknowledged incident is snoozed: then "
                                                        "it is triggered again and paged from level 1")
    description: str = Field("", description="written by people: when opening it by hand or editing it")


class TimelineOut(BaseModel):
    at: datetime
    kind: str
    actor: str | None
    data: dict[str, Any]


class IncidentDetail(IncidentOut):
    timeline: list[TimelineOut]


class IncidentList(BaseModel):
    incidents: list[IncidentOut]


class AlertOut(BaseModel):
    id: int
    service: str
    source: str
    key: str
    status: Literal["firing", "resolved"]
    severity: Literal["critical", "warning", "info"]
    title: str
    labels: dict[str, str]
    incident_id: int | None = Field(description="None while the alert is muted")
    muted_by: str | None = Field(description="silence:<name> or inhibit:<name>: stored, never notified")
    links: list[str] = Field(description="links the monitoring tool sent (graph, dashboard, runbook)")
    starts_at: datetime
    ends_at: datetime | None
    received_at: datetime


class AlertList(BaseModel):
    alerts: list[AlertOut]


Preset = Literal["30m", "1h", "12h", "1d", "1w"]


class SilenceIn(BaseModel):
    preset: Preset = Field(description="how long: 30m, 1h, 12h, 1d or 1w from now")


class SilenceOut(BaseModel):
    id: int
    service: str
    incident_id: int | None
    labels: dict[str, str] = Field(description="alerts of the service carrying all of these labels are silenced")
    starts_at: datetime
    ends_at: datetime
    created_by: str


class SilenceList(BaseModel):
    silences: list[SilenceOut]


def _silence_out(row: QuickSilence) -> SilenceOut:
    return SilenceOut(id=row.id, service=row.service_id, incident_id=row.incident_id,
                      labels={str(k): str(v) for k, v in row.labels.items()}, starts_at=row.starts_at,
                      ends_at=row.ends_at, created_by=row.created_by)


class CommentIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)


class SnoozeIn(BaseModel):
    duration: str = Field(min_length=1, max_length=32, examples=list(SNOOZE_PRESETS),
                          description="how long, from 1m to 24h: the presets 30m, 2h, 4h, 12h, or e.g. 1h30m")


class ResolveIn(BaseModel):
    root_cause: str | None = Field(None, max_length=10_000)
    resolution: str | None = Field(None, max_length=10_000)
    impact: str | None = Field(None, max_length=10_000)


class ActionOut(BaseModel):
    changed: bool
    incident: IncidentOut


async def _out(session: Any, incident: Incident, directory: Directory) -> IncidentOut:
    view = await incident_view(session, incident, directory)
    return IncidentOut(id=view.id, number=view.number, title=view.title, status=view.status.value,
                       severity=view.severity.value, service=view.service_id, alert_count=view.alert_count,
                       labels=dict(view.labels), created_at=view.created_at, acknowledged_at=view.acknowledged_at,
                       acknowledged_by=incident.acknowledged_by, resolved_at=view.resolved_at,
                       snoozed_until=view.snoozed_until, description=view.description)


async def api_user(request: Request) -> str:
    """The Dutybot user behind the request's bearer token (401 without a known one)."""
    container: Container = request.app.state.container
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise HTTPException(401, "missing bearer token", headers={"WWW-Authenticate": "Bearer"})
    user = await token_user(container, token.strip())
    if user is None:
        raise HTTPException(401, "unknown token", headers={"WWW-Authenticate": "Bearer"})
    return user


async def token_user(container: Container, token: str) -> str | None:
    """The user of one of the config's API tokens, or None for an unknown token (looked up by its SHA-256)."""
    async with container.db.transaction() as session:
        row = await session.get(ApiToken, token_digest(token))
    return None if row is None else row.user_id


User = Annotated[str, Depends(api_user)]


def api_router(container: Container) -> APIRouter:
    router = APIRouter(prefix="/api/v1", tags=["incidents"])

    @router.get("/incidents", response_model=IncidentList)
    async def list_incidents(user: User, status: StatusName | None = None,
                             limit: Annotated[int, Query(ge=1, le=500)] = 100,
                             offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> IncidentList:
        """Incidents, newest first, optionally only those in one status."""
        directory = await container.directory()
        query = select(Incident).order_by(Incident.created_at.desc(), Incident.id.desc()).limit(limit).offset(offset)
        if status is not None:
            query = query.where(Incident.status == status)
        async with container.db.transaction() as session:
            rows = (await session.scalars(query)).all()
            return IncidentList(incidents=[await _out(session, row, directory) for row in rows])

    @router.get("/alerts", response_model=AlertList, tags=["alerts"])
    async def list_alerts(user: User, status: Literal["firing", "resolved"] | None = None,
                          muted: bool | None = Query(None, description="true: only silenced or inhibited alerts"),
                          service: Annotated[str | None, Query(max_length=64)] = None,
                          limit: Annotated[int, Query(ge=1, le=500)] = 100,
                          offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> AlertList:
        """Alerts, newest first: silenced and inhibited ones (`muted=true`) are only seen here."""
        query = select(Alert).order_by(Alert.received_at.desc(), Alert.id.desc()).limit(limit).offset(offset)
        if status is not None:
            query = query.where(Alert.status == status)
        if muted is not None:
            query = query.where(Alert.muted_by.is_not(None) if muted else Alert.muted_by.is_(None))
        if service is not None:
            query = query.where(Alert.service_id == service)
        async with container.db.transaction() as session:
            rows = (await session.scalars(query)).all()
        return AlertList(alerts=[AlertOut(
            id=row.id, service=row.service_id, source=row.source, key=row.fingerprint, status=row.status,
            severity=row.severity, title=row.title, labels={str(k): str(v) for k, v in row.labels.items()},
            incident_id=row.incident_id, muted_by=row.muted_by, links=list(row.links or []),
            starts_at=row.starts_at, ends_at=row.ends_at,
            received_at=row.received_at) for row in rows])

    @router.get("/incidents/{incident_id}", response_model=IncidentDetail)
    async def get_incident(user: User, incident_id: IncidentId) -> IncidentDetail:
        """One incident with its timeline, oldest entry first."""
        directory = await container.directory()
        async with container.db.transaction() as session:
            incident = await session.get(Incident, incident_id)
            if incident is None:
                raise HTTPException(404, f"incident {incident_id} not found")
            entries = (await session.scalars(select(TimelineEntry).where(TimelineEntry.incident_id == incident_id)
                                             .order_by(TimelineEntry.at, TimelineEntry.id))).all()
            base = await _out(session, incident, directory)
        timeline = [TimelineOut(at=e.at, kind=e.kind, actor=e.actor, data=dict(e.data)) for e in entries]
        return IncidentDetail(**base.model_dump(), timeline=timeline)

    async def _act(incident_id: int, action: Action, user: str, comment: str | None = None,
                   snooze_for: timedelta | None = None, details: dict[str, str] | None = None) -> ActionOut:
        directory = await container.directory()
        async with container.db.transaction() as session:
            result = await act(session, incident_id, action, user, container.clock(), comment=comment, via="api",
                               snooze_for=snooze_for, details=details)
            if not result.found:
                raise HTTPException(404, f"incident {incident_id} not found")
            incident = await session.get(Incident, incident_id)
            assert incident is not None
            out = await _out(session, incident, directory)
        container.worker.wake()
        return ActionOut(changed=result.changed, incident=out)

    @router.post("/incidents/{incident_id}/ack", response_model=ActionOut)
    async def acknowledge(user: User, incident_id: IncidentId) -> ActionOut:
        """Acknowledge as the token's user; stops escalation. Acknowledging twice changes nothing."""
        return await _act(incident_id, Action.ACKNOWLEDGE, user)

    @router.post("/incidents/{incident_id}/unack", response_model=ActionOut)
    async def unacknowledge(user: User, incident_id: IncidentId) -> ActionOut:
        """Give an acknowledged (or snoozed) incident back: triggered again, paged from the first level."""
        return await _act(incident_id, Action.UNACKNOWLEDGE, user)

    @router.post("/incidents/{incident_id}/snooze", response_model=ActionOut)
    async def snooze(user: User, incident_id: IncidentId, body: SnoozeIn) -> ActionOut:
        """Acknowledge until `duration` from now (a triggered incident is acknowledged by the snooze); then it is
        triggered again and paged from the first level. Snoozing a snoozed incident sets a new wake time."""
        try:
            length = snooze_length(body.duration)
        except ValueError as problem:
            raise HTTPException(422, f"duration: {problem}") from None
        return await _act(incident_id, Action.SNOOZE, user, snooze_for=length)

    @router.post("/incidents/{incident_id}/wake", response_model=ActionOut)
    async def wake(user: User, incident_id: IncidentId) -> ActionOut:
        """End a snooze now: triggered again, paged from the first level."""
        return await _act(incident_id, Action.WAKE, user)

    @router.post("/incidents/{incident_id}/resolve", response_model=ActionOut)
    async def resolve(user: User, incident_id: IncidentId, body: ResolveIn | None = None) -> ActionOut:
        """Resolve as the token's user, optionally with a root cause, the resolution and the impact (kept on
        the `resolved` timeline entry)."""
        details = body.model_dump(exclude_none=True) if body is not None else None
        return await _act(incident_id, Action.RESOLVE, user, details=details)

    @router.post("/incidents/{incident_id}/reopen", response_model=ActionOut)
    async def reopen(user: User, incident_id: IncidentId) -> ActionOut:
        """Reopen a resolved incident: triggered again, paged from the first level. New alerts of its group
        still open a new incident (the reopened one takes no more alerts)."""
        return await _act(incident_id, Action.REOPEN, user)

    @router.post("/incidents/{incident_id}/comments", response_model=ActionOut, status_code=201)
    async def comment(user: User, incident_id: IncidentId, body: CommentIn) -> ActionOut:
        """Add a comment to the timeline."""
        return await _act(incident_id, Action.COMMENT, user, comment=body.body)

    @router.post("/incidents/{incident_id}/silence", response_model=SilenceOut, status_code=201, tags=["silences"])
    async def silence(user: User, incident_id: IncidentId, body: SilenceIn) -> SilenceOut:
        """Quick silence: new alerts of the incident's service that carry all of its labels are stored but
        notify nobody, for the preset time. The incident itself is not changed."""
        async with container.db.transaction() as session:
            try:
                row = await silence_incident(session, incident_id, body.preset, user, container.clock())
            except SilenceRefused as problem:
                raise HTTPException(409, str(problem)) from None
            if row is None:
                raise HTTPException(404, f"incident {incident_id} not found")
            out = _silence_out(row)
        container.forget_directory()  # this process applies it at once; the others within seconds
        return out

    @router.get("/silences", response_model=SilenceList, tags=["silences"])
    async def list_silences(user: User) -> SilenceList:
        """Quick silences in force now, ending soonest first."""
        async with container.db.transaction() as session:
            return SilenceList(silences=[_silence_out(row) for row in await active(session, container.clock())])

    @router.delete("/silences/{silence_id}", status_code=204, tags=["silences"])
    async def unsilence(user: User, silence_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> None:
        """End a quick silence now."""
        async with container.db.transaction() as session:
            if not await end_silence(session, silence_id, user, container.clock()):
                raise HTTPException(404, f"no quick silence {silence_id} in force")
        container.forget_directory()

    from bot.web.api_changes import add_change_routes  # they use this module's models (imported late: cycle)

    add_change_routes(router, container)
    return router
