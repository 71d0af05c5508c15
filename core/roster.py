"""The values of who is on call: schedules, overrides, crews, shifts, and how an override changes a crew.

Overrides apply in list order on top of the winning layer, so where two overlap the later one wins:
- without a role, an override replaces everyone on call in its window;
- with a role, it replaces only the holders of that role, and the other roles and their users stay. When the
  people on call hold no roles at all (a person or a group), or nobody is on call, it replaces everyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from core.rotation import Layer, Slot


@dataclass(frozen=True)
class Override:
    """`user` preempts every layer in [start, end) (aware); with `role`, only that role's holders."""

    start: datetime
    end: datetime
    user: str
    role: str | None = None


@dataclass(frozen=True)
class Schedule:
    """A value: results are remembered per schedule object, so do not mutate its parts (a slot's roles)."""

    id: str
    name: str
    timezone: str
    layers: tuple[Layer, ...]
    overrides: tuple[Override, ...] = ()


@dataclass(frozen=True)
class OnCall:
    """Everyone on call at one instant; `roles` maps role → users (empty when no slot has roles).

    Answers are shared between calls: treat `roles` as read-only.
    """

    users: tuple[str, ...]
    roles: Mapping[str, tuple[str, ...]]
    source: str | None = None

    def for_role(self, role: str | None) -> tuple[str, ...]:
        """The people to page for a role; no role (or a role nobody holds with no roles at all) means all."""
        if role is None or not self.roles:
            return self.users
        return self.roles.get(role, ())


NOBODY = OnCall(users=(), roles={})


@dataclass(frozen=True)
class Shift:
    """A stretch of time with the same people on call from the same source ("layer:<name>" or "override")."""

    start: datetime
    end: datetime
    users: tuple[str, ...]
    roles: Mapping[str, tuple[str, ...]]
    source: str


@dataclass(frozen=True)
class Crew:
    """Who is on call: everyone once and sorted, each role's holders, and the people holding no role."""

    users: tuple[str, ...]
    roles: tuple[tuple[str, tuple[str, ...]], ...]
    plain: tuple[str, ...]

    @classmethod
    def of(cls, slot: Slot) -> Crew:
        roles: dict[str, tuple[str, ...]] = {}
        for role, user in slot.roles.items():
            roles[role] = tuple(sorted({*roles.get(role, ()), user}))
        return cls(tuple(sorted(slot.people())), tuple(roles.items()), tuple(sorted(set(slot.users))))

    def on_call(self, source: str) -> OnCall:
        return OnCall(users=self.users, roles=dict(self.roles), source=source)


def overridden(crew: Crew | None, override: Override) -> Crew:
    """Who is on call once `override` applies to `crew` (None: nobody); see the module docstring."""
    user = (override.user,)
    if override.role is None:
        return Crew(user, (), user)
    if crew is None or not crew.roles:
        return Crew(user, ((override.role, user),), ())
    roles = dict(crew.roles)
    roles[override.role] = user
    return Crew(tuple(sorted(set(crew.plain).union(*roles.values()))), tuple(roles.items()), crew.plain)
