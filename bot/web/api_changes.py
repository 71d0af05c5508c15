"""`/api/v1` changes beyond the lifecycle actions: open an incident by hand, edit, escalate now, reassign, add
responders, merge (bot/services/incident_changes.py; docs/incidents.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal, TypeVar

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from bot.bootstrap import Container
from bot.db.tables import Incident
from bot.services import incident_changes as changes
from bot.services.incident_changes import ChangeRefused, Reassignment
from bot.web.api import ActionOut, IncidentId, IncidentOut, User, _out
from cards.i18n import Translator
from core.model import Severity

SeverityName = Literal["critical", "warning", "info"]
UserId = Annotated[str, Field(min_length=1, max_length=64)]
Level = Annotated[int, Field(ge=1, le=100)]
_T = TypeVar("_T")


class CreateIn(BaseModel):
    service: str = Field(min_length=1, max_length=64, description="the service id")
    title: str = Field(min_length=1, max_length=500)
    severity: SeverityName = "warning"
    description: str | None = Field(None, max_length=10_000)


class EditIn(BaseModel):
    title: str | None = Field(None, min_length=1, max_length=500)
    severity: SeverityName | None = None
    description: str | None = Field(None, max_length=10_000)


class EscalateIn(BaseModel):
    level: Level | None = Field(None, description="1-based; default: the level after the one that paged last")


class ReassignIn(BaseModel):
    users: list[UserId] = Field(default_factory=list, max_length=50)
    team: str | None = Field(None, max_length=64, description="every member of the team")
    schedule: str | None = Field(None, max_length=64)
    role: str | None = Field(None, max_length=40)
    level: Level | None = None


class RespondersIn(BaseModel):
    users: list[UserId] = Field(min_length=1, max_length=50)


class MergeIn(BaseModel):
    sources: list[Annotated[int, Field(ge=1, le=2**31 - 1)]] = Field(min_length=1, max_length=100,
                                                                   description="incidents merged into this one")


class EscalateOut(ActionOut):
    level: int


class RespondersOut(ActionOut):
    unreachable: list[str] = Field(description="added people without a bound chat account: not paged")


class MergeOut(ActionOut):
    alerts_moved: int


_STATUS = {"not_found": 404, "resolved": 409, "merge_into_itself": 409}


def add_change_routes(router: APIRouter, container: Container) -> None:
    async def run(incident_id: int, change: Callable[..., Awaitable[_T]]) -> tuple[_T, IncidentOut]:
        """Apply `change(session, directory, now)` in one transaction and answer with the incident after it; a
        refused change answers 404 / 409 / 422 with the catalog's message and writes nothing."""
        directory = await container.directory()
        try:
            async with container.db.transaction() as session:
                done = await change(session, directory, container.clock())
                incident = await session.get(Incident, incident_id)
                assert incident is not None
                out = await _out(session, incident, directory)
        except ChangeRefused as refused:
            t = Translator(directory.locale)
            raise HTTPException(_STATUS.get(refused.reason, 422), t(f"change.{refused.reason}",
                                                                    **refused.values)) from None
        container.worker.wake()
        return done, out

    @router.post("/incidents", response_model=IncidentOut, status_code=201)
    async def create_incident(user: User, body: CreateIn) -> IncidentOut:
        """Open an incident by hand on a service: it follows the policy the service's escalation rules pick and
        pages like any other."""
        directory = await container.directory()
        try:
            async with container.db.transaction() as session:
                incident_id = await changes.create(session, directory, body.service, body.title,
                                                   Severity(body.severity), body.description, user, container.clock())
                incident = await session.get(Incident, incident_id)
                assert incident is not None
                out = await _out(session, incident, directory)
        except ChangeRefused as refused:
            raise HTTPException(422, Translator(directory.locale)(f"change.{refused.reason}",
                                                                  **refused.values)) from None
        container.worker.wake()
        return out

    @router.patch("/incidents/{incident_id}", response_model=ActionOut)
    async def edit_incident(user: User, incident_id: IncidentId, body: EditIn) -> ActionOut:
        """Set the title, severity or description. A field set here stays: later alerts do not raise the
        severity of an incident whose severity someone set."""
        changed, out = await run(incident_id, lambda session, directory, now: changes.edit(
            session, incident_id, user, now, title=body.title,
            severity=Severity(body.severity) if body.severity else None, description=body.description))
        return ActionOut(changed=changed, incident=out)

    @router.post("/incidents/{incident_id}/escalate", response_model=EscalateOut)
    async def escalate(user: User, incident_id: IncidentId, body: EscalateIn | None = None) -> EscalateOut:
        """Page a level of the incident's policy now (default: the next one); triggered again until someone
        acknowledges, the later levels follow with their usual gaps."""
        level, out = await run(incident_id, lambda session, directory, now: changes.escalate_now(
            session, incident_id, user, now, body.level if body else None))
        return EscalateOut(changed=True, incident=out, level=level)

    @router.post("/incidents/{incident_id}/reassign", response_model=ActionOut)
    async def reassign(user: User, incident_id: IncidentId, body: ReassignIn) -> ActionOut:
        """To people, a team or a schedule (`{schedule, role?}`): only they are paged, now; or to a `level` of the
        policy (the same as escalate). Triggered again until one of them acknowledges."""
        to = Reassignment(users=tuple(body.users), team=body.team, schedule=body.schedule, role=body.role,
                          level=body.level)
        _, out = await run(incident_id, lambda session, directory, now: changes.reassign(
            session, directory, incident_id, user, now, to))
        return ActionOut(changed=True, incident=out)

    @router.post("/incidents/{incident_id}/responders", response_model=RespondersOut)
    async def add_responders(user: User, incident_id: IncidentId, body: RespondersIn) -> RespondersOut:
        """Page more people now by DM, whether or not the incident is acknowledged; who holds it and its
        escalation do not change."""
        unreachable, out = await run(incident_id, lambda session, directory, now: changes.add_responders(
            session, directory, incident_id, user, now, body.users))
        return RespondersOut(changed=True, incident=out, unreachable=unreachable)

    @router.post("/incidents/{incident_id}/merge", response_model=MergeOut)
    async def merge(user: User, incident_id: IncidentId, body: MergeIn) -> MergeOut:
        """Merge the `sources` into this incident: it takes their alerts; each source is resolved, its timeline
        saying where it went."""
        moved, out = await run(incident_id, lambda session, directory, now: changes.merge(
            session, incident_id, body.sources, user, now))
        return MergeOut(changed=True, incident=out, alerts_moved=moved)
