"""`/api/v1/schedules/{id}/overrides` and `/audit`: overrides made at run time, and a schedule's audit trail.

Writes act as the token's user, run in one transaction with their audit row, and drop the cached directory
so the next `oncall` / `shifts` sees them. The config file's overrides are listed (`source: "config"`, no
id) but only changed by `dutybot apply`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from bot.bootstrap import Container
from bot.db.tables import ScheduleOverride
from bot.directory import Directory, config_overrides
from bot.services import audit, overrides
from bot.services.overrides import Draft, OverrideForbidden, OverrideNotFound, OverrideRejected, in_range
from bot.web.api import User

OverrideId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the override's id")]
TIME_HELP = "ISO 8601; without an offset it is read in the schedule's time zone"


class OverrideIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    start: datetime = Field(description=TIME_HELP)
    end: datetime = Field(description=TIME_HELP + "; after start, at most 31 days later")
    user: str = Field(min_length=1, max_length=64, description="the replacement: a user id of the config")
    role: str | None = Field(default=None, min_length=1, max_length=64,
                             description="replace only this role's holders (one of the config's roles)")


class OverridePatch(BaseModel):
    """Only the fields given change; `"role": null` clears the role."""

    model_config = ConfigDict(extra="forbid")
    start: datetime | None = Field(default=None, description=TIME_HELP)
    end: datetime | None = Field(default=None, description=TIME_HELP)
    user: str | None = Field(default=None, min_length=1, max_length=64)
    role: str | None = Field(default=None, min_length=1, max_length=64)


class OverrideOut(BaseModel):
    id: int | None = Field(description="null for an override of the config file")
    start: datetime
    end: datetime
    user: str
    role: str | None
    source: Literal["api", "config"]
    created_by: str | None = None
    created_at: datetime | None = None


class OverrideList(BaseModel):
    schedule: str
    timezone: str
    overrides: list[OverrideOut]


class AuditOut(BaseModel):
    id: int
    at: datetime
    actor: str
    action: str
    subject: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditList(BaseModel):
    entries: list[AuditOut]


@contextmanager
def _answers() -> Iterator[None]:
    """The service's refusals as HTTP answers (after the transaction rolled back)."""
    try:
        yield
    except OverrideNotFound as error:
        raise HTTPException(404, str(error)) from None
    except OverrideForbidden as error:
        raise HTTPException(403, str(error)) from None
    except OverrideRejected as error:
        raise HTTPException(422, str(error)) from None


def _zone(directory: Directory, schedule_id: str) -> ZoneInfo:
    if schedule_id not in directory.schedules:
        raise HTTPException(404, f"schedule {schedule_id} not found")
    return directory.schedule_zone(schedule_id)


def _aware(moment: datetime, zone: ZoneInfo) -> datetime:
    """Years checked before any arithmetic (9999-12-31 would overflow); no offset means the schedule's zone."""
    in_range(moment)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _runtime_out(row: ScheduleOverride, zone: ZoneInfo) -> OverrideOut:
    return OverrideOut(id=row.id, start=row.start.astimezone(zone), end=row.end.astimezone(zone), user=row.user_id,
                       role=row.role, source="api", created_by=row.created_by, created_at=row.created_at)


def _config_out(directory: Directory, schedule_id: str, zone: ZoneInfo, low: datetime,
                high: datetime | None) -> list[OverrideOut]:
    found = config_overrides(directory.schedules[schedule_id].overrides, zone)
    return [OverrideOut(id=None, start=item.start.astimezone(zone), end=item.end.astimezone(zone), user=item.user,
                        role=item.role, source="config")
            for item in found if item.end > low and (high is None or item.start < high)]


def _changes(body: OverridePatch, zone: ZoneInfo) -> dict[str, Any]:
    """The fields the client sent; start, end and user cannot be set to null."""
    changes: dict[str, Any] = {}
    for name in sorted(body.model_fields_set):
        value = getattr(body, name)
        if value is None and name != "role":
            raise OverrideRejected(f"{name} cannot be null")
        changes[name] = _aware(value, zone) if name in ("start", "end") else value
    return changes


def overrides_router(container: Container) -> APIRouter:
    router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"])

    @router.get("/{schedule_id}/overrides", response_model=OverrideList)
    async def list_overrides(user: User, schedule_id: str,
                             start: Annotated[datetime | None, Query(alias="from", description=TIME_HELP)] = None,
                             end: Annotated[datetime | None, Query(alias="to", description=TIME_HELP)] = None,
                             ) -> OverrideList:
        """Overrides overlapping [from, to): from defaults to now, no `to` means no upper bound; by start."""
        directory = await container.directory()
        zone = _zone(directory, schedule_id)
        with _answers():
            low = _aware(start, zone) if start is not None else container.clock()
            high = _aware(end, zone) if end is not None else None
            if high is not None and high <= low:
                raise OverrideRejected("`to` must be after `from`")
        async with container.db.transaction() as session:
            rows = await overrides.overlapping(session, schedule_id, low, high)
        listed = _config_out(directory, schedule_id, zone, low, high) + [_runtime_out(row, zone) for row in rows]
        listed.sort(key=lambda item: item.start)  # stable: config ones first at the same start
        return OverrideList(schedule=schedule_id, timezone=str(zone), overrides=listed)

    @router.get("/{schedule_id}/overrides/{override_id}", response_model=OverrideOut)
    async def get_override(user: User, schedule_id: str, override_id: OverrideId) -> OverrideOut:
        """One runtime override (deleted ones are 404)."""
        zone = _zone(await container.directory(), schedule_id)
        with _answers():
            async with container.db.transaction() as session:
                row = await overrides.find(session, schedule_id, override_id)
        return _runtime_out(row, zone)

    @router.post("/{schedule_id}/overrides", response_model=OverrideOut, status_code=201)
    async def create_override(user: User, schedule_id: str, body: OverrideIn) -> OverrideOut:
        """Put `user` on call in [start, end) over every layer (only `role`'s holders with a role)."""
        directory = await container.directory()
        zone = _zone(directory, schedule_id)
        with _answers():
            draft = Draft(start=_aware(body.start, zone), end=_aware(body.end, zone), user=body.user, role=body.role)
            async with container.db.transaction() as session:
                row = await overrides.create(session, directory, schedule_id, draft, user, container.clock())
        container.forget_directory()
        return _runtime_out(row, zone)

    @router.patch("/{schedule_id}/overrides/{override_id}", response_model=OverrideOut)
    async def update_override(user: User, schedule_id: str, override_id: OverrideId,
                              body: OverridePatch) -> OverrideOut:
        """Change start, end, user or role of a runtime override; the result is checked like a new one."""
        directory = await container.directory()
        zone = _zone(directory, schedule_id)
        with _answers():
            changes = _changes(body, zone)
            async with container.db.transaction() as session:
                row = await overrides.update(session, directory, schedule_id, override_id, changes, user,
                                             container.clock())
        container.forget_directory()
        return _runtime_out(row, zone)

    @router.delete("/{schedule_id}/overrides/{override_id}", status_code=204, response_class=Response)
    async def delete_override(user: User, schedule_id: str, override_id: OverrideId) -> Response:
        """Delete a runtime override (kept, marked deleted, for the audit trail)."""
        directory = await container.directory()
        _zone(directory, schedule_id)
        with _answers():
            async with container.db.transaction() as session:
                await overrides.delete(session, directory, schedule_id, override_id, user, container.clock())
        container.forget_directory()
        return Response(status_code=204)

    @router.get("/{schedule_id}/audit", response_model=AuditList)
    async def schedule_audit(user: User, schedule_id: str, limit: Annotated[int, Query(ge=1, le=500)] = 100,
                             offset: Annotated[int, Query(ge=0, le=10**9)] = 0) -> AuditList:
        """Who changed the schedule and its overrides, when, and what (before/after), newest first."""
        _zone(await container.directory(), schedule_id)
        async with container.db.transaction() as session:
            rows = await audit.entries(session, f"schedule:{schedule_id}", limit, offset)
        return AuditList(entries=[AuditOut(id=row.id, at=row.at, actor=row.actor, action=row.action,
                                           subject=row.subject, before=row.before, after=row.after) for row in rows])

    return router
