"""Who is on call: rotation layers and overrides, computed in the schedule's own time zone.

This is the Foundation's model (rotation layers with an optional weekly handoff, layer precedence and
overrides). Date masks, time restrictions and fair rotation arrive with the schedules issue.
Wall-clock arithmetic on local times keeps a Monday 10:00 handoff at 10:00 across DST changes.
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from enum import Enum
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Unit(str, Enum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Slot:
    """One turn of a rotation: a person, several people together, or a role map."""

    users: tuple[str, ...] = ()
    roles: Mapping[str, str] = field(default_factory=dict)

    def people(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.users, *self.roles.values())))


@dataclass(frozen=True)
class Handoff:
    weekday: int  # 0 = Monday
    at: time


@dataclass(frozen=True)
class Layer:
    name: str
    slots: tuple[Slot, ...]
    start: datetime  # naive, local to the schedule
    every: int = 1
    unit: Unit = Unit.WEEK
    handoff: Handoff | None = None
    end: datetime | None = None  # naive, local


@dataclass(frozen=True)
class Override:
    start: datetime  # aware
    end: datetime  # aware
    user: str
    role: str | None = None


@dataclass(frozen=True)
class Schedule:
    id: str
    name: str
    timezone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class OnCall:
    """Everyone on call at one instant; `roles` maps role → users (empty when no slot has roles)."""

    users: tuple[str, ...]
    roles: Mapping[str, tuple[str, ...]]
    source: str | None = None

    def for_role(self, role: str | None) -> tuple[str, ...]:
        """The people to page for a role; no role (or a role nobody holds with no roles at all) means all."""
        if role is None or not self.roles:
            return self.users
        return self.roles.get(role, ())


NOBODY = OnCall(users=(), roles={})


def on_call(schedule: Schedule, at: datetime) -> OnCall:
    """Who is on call at `at` (aware): an override wins, then the last layer that has someone."""
    if at.tzinfo is None:
        raise ValueError("on_call needs an aware datetime")
    for override in schedule.overrides:
        if override.start <= at < override.end:
            override_roles = {override.role: (override.user,)} if override.role else {}
            return OnCall(users=(override.user,), roles=override_roles, source="override")
    local = at.astimezone(ZoneInfo(schedule.timezone)).replace(tzinfo=None)
    for layer in reversed(schedule.layers):
        slot = layer_slot(layer, local, ZoneInfo(schedule.timezone))
        if slot is not None and slot.people():
            roles: dict[str, tuple[str, ...]] = {}
            for role, user in slot.roles.items():
                roles[role] = tuple(sorted({*roles.get(role, ()), user}))
            return OnCall(users=tuple(sorted(slot.people())), roles=roles, source=f"layer:{layer.name}")
    return NOBODY


def layer_slot(layer: Layer, local: datetime, zone: ZoneInfo) -> Slot | None:
    """The slot of `layer` on call at wall time `local` in the schedule's `zone`."""
    if not layer.slots or local < layer.start or (layer.end is not None and local >= layer.end):
        return None
    return layer.slots[cycle_index(layer, local, zone) % len(layer.slots)]


def cycle_index(layer: Layer, local: datetime, zone: ZoneInfo) -> int:
    """How many handoffs have happened in `layer` between its start and `local`."""
    first = first_handoff(layer)
    if local < first:
        return 0
    offset = 1 if first > layer.start else 0
    if layer.unit is Unit.MONTH:
        return offset + _months_between(first, local) // layer.every
    if layer.unit is Unit.HOUR:
        # hours are real elapsed time, so a DST night has one hour more or less of them
        elapsed = local.replace(tzinfo=zone).astimezone(UTC) - first.replace(tzinfo=zone).astimezone(UTC)
        return offset + int(elapsed // timedelta(hours=layer.every))
    period = timedelta(days=layer.every * (7 if layer.unit is Unit.WEEK else 1))
    return offset + int((local - first) // period)


def first_handoff(layer: Layer) -> datetime:
    """The first handoff at or after the layer start; without a handoff setting, the start itself."""
    if layer.handoff is None:
        return layer.start
    days_ahead = (layer.handoff.weekday - layer.start.weekday()) % 7
    candidate = datetime.combine(layer.start.date() + timedelta(days=days_ahead), layer.handoff.at)
    return candidate if candidate >= layer.start else candidate + timedelta(days=7)


def add_months(moment: datetime, months: int) -> datetime:
    """Same day of month `months` later, clamped to the month's last day."""
    total = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(total, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _months_between(start: datetime, local: datetime) -> int:
    months = (local.year - start.year) * 12 + local.month - start.month
    return months if add_months(start, months) <= local else months - 1
