"""Overrides made at run time (API now, chat later): create, change, delete, each with its audit row.

Every write happens in the caller's transaction together with its `audit_log` row, so both commit or neither.
Deleting is soft (`deleted_at`): the audit trail keeps pointing at a row that still exists. The config
file's own overrides are not stored here and cannot be changed through this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.tables import ScheduleOverride
from bot.directory import Directory
from bot.services.audit import record

MAX_LENGTH = timedelta(days=31)
FIRST_YEAR, LAST_YEAR = 1971, 2200
EDITABLE = ("start", "end", "user", "role")


class OverrideRejected(ValueError):
    """The override cannot be stored as asked; the message says why (an API answers 422)."""


class OverrideForbidden(PermissionError):
    """The actor may not change this schedule (it belongs to a team the actor is not in)."""


class OverrideNotFound(LookupError):
    """No such override on this schedule, or it was deleted."""


@dataclass(frozen=True)
class Draft:
    """What an override should be: aware times, a user id, an optional role."""

    start: datetime
    end: datetime
    user: str
    role: str | None = None


def in_range(moment: datetime) -> datetime:
    """`moment` if its year is 1971–2200 (the range the engine and both databases handle), else rejected."""
    if not FIRST_YEAR <= moment.year <= LAST_YEAR:
        raise OverrideRejected(f"{moment.isoformat()} is out of range (years {FIRST_YEAR}–{LAST_YEAR})")
    return moment


def check(directory: Directory, draft: Draft) -> None:
    """Raise OverrideRejected unless `draft` is a valid override for this account."""
    in_range(draft.start)
    in_range(draft.end)
    if draft.end <= draft.start:
        raise OverrideRejected("end must be after start")
    if draft.end - draft.start > MAX_LENGTH:
        raise OverrideRejected("an override lasts at most 31 days")
    if draft.user not in directory.users:
        raise OverrideRejected(f"no user {draft.user!r}")
    if draft.role is not None and draft.role not in directory.roles:
        raise OverrideRejected(f"no role {draft.role!r} in the config's roles")


def check_may_edit(directory: Directory, schedule_id: str, actor: str) -> None:
    """A schedule with an owning team is edited by that team's members only (issue 3); others by anyone."""
    team_id = directory.schedules[schedule_id].team
    team = directory.teams.get(team_id) if team_id else None
    if team is not None and actor not in team.members:
        raise OverrideForbidden(f"only members of team {team.id} may change schedule {schedule_id}")


def snapshot(row: ScheduleOverride, zone: ZoneInfo) -> dict[str, Any]:
    """The override as JSON, times in the schedule's zone: the shape of the API and of audit before/after."""
    return {"id": row.id, "start": row.start.astimezone(zone).isoformat(), "end": row.end.astimezone(zone).isoformat(),
            "user": row.user_id, "role": row.role}


async def create(session: AsyncSession, directory: Directory, schedule_id: str, draft: Draft, actor: str,
                 now: datetime) -> ScheduleOverride:
    """Store a new override and its `override.create` audit row."""
    check_may_edit(directory, schedule_id, actor)
    check(directory, draft)
    row = ScheduleOverride(schedule_id=schedule_id, start=draft.start, end=draft.end, user_id=draft.user,
                           role=draft.role, created_by=actor, created_at=now)
    session.add(row)
    await session.flush()  # assigns the id the audit row names
    zone = directory.schedule_zone(schedule_id)
    record(session, now, actor, "override.create", f"schedule:{schedule_id}", after=snapshot(row, zone))
    return row


async def update(session: AsyncSession, directory: Directory, schedule_id: str, override_id: int,
                 changes: Mapping[str, Any], actor: str, now: datetime) -> ScheduleOverride:
    """Change some of start, end, user, role (role None clears it); audited when anything changed."""
    check_may_edit(directory, schedule_id, actor)
    row = await find(session, schedule_id, override_id, for_update=True)
    current = Draft(start=row.start, end=row.end, user=row.user_id, role=row.role)
    wanted = Draft(**{name: changes.get(name, getattr(current, name)) for name in EDITABLE})
    check(directory, wanted)
    if wanted == current:
        return row
    zone = directory.schedule_zone(schedule_id)
    before = snapshot(row, zone)
    row.start, row.end, row.user_id, row.role = wanted.start, wanted.end, wanted.user, wanted.role
    record(session, now, actor, "override.update", f"schedule:{schedule_id}", before=before,
           after=snapshot(row, zone))
    return row


async def delete(session: AsyncSession, directory: Directory, schedule_id: str, override_id: int, actor: str,
                 now: datetime) -> None:
    """Mark the override deleted and audit it; the layers' people are on call again in its window."""
    check_may_edit(directory, schedule_id, actor)
    row = await find(session, schedule_id, override_id, for_update=True)
    row.deleted_at = now
    record(session, now, actor, "override.delete", f"schedule:{schedule_id}",
           before=snapshot(row, directory.schedule_zone(schedule_id)))


async def find(session: AsyncSession, schedule_id: str, override_id: int, for_update: bool = False
               ) -> ScheduleOverride:
    """The live override `override_id` of `schedule_id`, or OverrideNotFound."""
    query = select(ScheduleOverride).where(ScheduleOverride.id == override_id,
                                           ScheduleOverride.schedule_id == schedule_id,
                                           ScheduleOverride.deleted_at.is_(None))
    if for_update:
        query = query.with_for_update()  # two concurrent edits apply one after the other (no-op on SQLite)
    row = (await session.scalars(query)).first()
    if row is None:
        raise OverrideNotFound(f"override {override_id} not found in schedule {schedule_id}")
    return row


async def overlapping(session: AsyncSession, schedule_id: str, low: datetime, high: datetime | None
                      ) -> list[ScheduleOverride]:
    """The live runtime overrides of a schedule that overlap [low, high) (no upper bound without `high`)."""
    query = select(ScheduleOverride).where(ScheduleOverride.schedule_id == schedule_id,
                                           ScheduleOverride.deleted_at.is_(None), ScheduleOverride.end > low)
    if high is not None:
        query = query.where(ScheduleOverride.start < high)
    return list((await session.scalars(query.order_by(ScheduleOverride.start, ScheduleOverride.id))).all())
