"""`/api/v1/schedules`: who is on call now or at a time, and the final shifts in a range."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, HTTPException, Query

from bot.bootstrap import Container
from bot.directory import Directory
from bot.schedule_views import shifts_json, who_json
from bot.web.api import User
from core.schedule import Schedule, final_shifts, layer_shifts, next_change, on_call

MAX_WINDOW = timedelta(days=400)


def _find(directory: Directory, schedule_id: str) -> tuple[Schedule, ZoneInfo]:
    if schedule_id not in directory.schedules:
        raise HTTPException(404, f"schedule {schedule_id} not found")
    schedule = directory.schedule(schedule_id)
    return schedule, ZoneInfo(schedule.timezone)


def _local(moment: datetime | None, zone: ZoneInfo, default: datetime) -> datetime:
    """Times without an offset are read in the schedule's zone (SPEC §4); years 1971–2200 only."""
    if moment is None:
        return default
    if not 1971 <= moment.year <= 2200:
        raise HTTPException(422, f"{moment.isoformat()} is out of range (years 1971–2200)")
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def schedules_router(container: Container) -> APIRouter:
    router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"])

    @router.get("")
    async def list_schedules(user: User) -> dict[str, Any]:
        """Every schedule: id, name, time zone, team."""
        directory = await container.directory()
        return {"schedules": [{"id": spec.id, "name": spec.name, "team": spec.team,
                               "timezone": spec.timezone or directory.timezone}
                              for spec in directory.schedules.values()]}

    @router.get("/{schedule_id}/oncall")
    async def who_is_on_call(user: User, schedule_id: str, at: datetime | None = None) -> dict[str, Any]:
        """Who is on call now (or `at`), and the next change of people."""
        schedule, zone = _find(await container.directory(), schedule_id)
        moment = _local(at, zone, container.clock())
        answer = who_json(schedule.id, moment, on_call(schedule, moment), zone)
        upcoming = next_change(schedule, moment)
        answer["next"] = None if upcoming is None else {
            "start": upcoming.start.astimezone(zone).isoformat(), "users": sorted(upcoming.users)}
        return answer

    @router.get("/{schedule_id}/shifts")
    async def shifts_in_range(user: User, schedule_id: str,
                              start: Annotated[datetime, Query(alias="from")],
                              end: Annotated[datetime, Query(alias="to")],
                              layer: str | None = None) -> dict[str, Any]:
        """The final shifts in [from, to) (at most 400 days), or one layer's own shifts with `layer=`."""
        schedule, zone = _find(await container.directory(), schedule_id)
        window = _local(start, zone, start), _local(end, zone, end)
        if not timedelta(0) < window[1] - window[0] <= MAX_WINDOW:
            raise HTTPException(422, "`to` must be after `from`, at most 400 days later")
        if layer is None:
            return shifts_json(schedule.id, schedule.timezone, final_shifts(schedule, *window))
        chosen = next((item for item in schedule.layers if item.name == layer), None)
        if chosen is None:
            raise HTTPException(404, f"layer {layer} not found in schedule {schedule_id}")
        return shifts_json(schedule.id, schedule.timezone, layer_shifts(chosen, schedule.timezone, *window))

    return router
