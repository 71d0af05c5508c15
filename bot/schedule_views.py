"""The JSON shapes of SPEC §4 for `who` and `shifts`, shared by the CLI and the API."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from core.schedule import OnCall, Shift


def roles_json(roles: Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    return {role: sorted(users) for role, users in sorted(roles.items())}


def who_json(schedule_id: str, at: datetime, result: OnCall, zone: ZoneInfo) -> dict[str, Any]:
    """`{"schedule", "at", "users", "roles"}` with `at` in the schedule's offset."""
    return {"schedule": schedule_id, "at": at.astimezone(zone).isoformat(), "users": sorted(result.users),
            "roles": roles_json(result.roles)}


def shift_json(shift: Shift, zone: ZoneInfo) -> dict[str, Any]:
    return {"start": shift.start.astimezone(zone).isoformat(), "end": shift.end.astimezone(zone).isoformat(),
            "users": sorted(shift.users), "roles": roles_json(shift.roles), "source": shift.source}


def shifts_json(schedule_id: str, timezone: str, shifts: Sequence[Shift]) -> dict[str, Any]:
    zone = ZoneInfo(timezone)
    return {"schedule": schedule_id, "timezone": timezone, "shifts": [shift_json(item, zone) for item in shifts]}
