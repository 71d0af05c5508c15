"""Escalation policies: which step pages whom, and when the next one is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_REPEAT_AFTER = timedelta(minutes=5)


@dataclass(frozen=True)
class Target:
    """Whom a step pages: a user, or whoever is on call on a schedule (optionally only one role)."""

    user: str | None = None
    schedule: str | None = None
    role: str | None = None


@dataclass(frozen=True)
class Step:
    after: timedelta  # since the previous step started; the first step: since the incident opened
    targets: tuple[Target, ...]
    via: tuple[str, ...] = ("dm",)  # "dm" and/or channel ids


@dataclass(frozen=True)
class Policy:
    id: str
    steps: tuple[Step, ...]
    repeat: int = 0  # how many more passes over all steps while nobody acknowledges
    repeat_after: timedelta | None = None  # gap between the last step and the next pass


@dataclass(frozen=True)
class Firing:
    """A step to run: `position` counts steps over all passes (pass = position // len(steps))."""

    position: int
    step_index: int
    due_at: datetime


def first_firing(policy: Policy, opened_at: datetime) -> Firing | None:
    """The first step of a newly opened incident, due `after` the incident opened."""
    if not policy.steps:
        return None
    return Firing(position=0, step_index=0, due_at=opened_at + policy.steps[0].after)


def next_firing(policy: Policy, fired: Firing, fired_at: datetime) -> Firing | None:
    """The step after `fired` (run at `fired_at`), or None when the policy is exhausted."""
    count = len(policy.steps)
    position = fired.position + 1
    if position >= count * (policy.repeat + 1):
        return None
    index = position % count
    return Firing(position=position, step_index=index, due_at=fired_at + gap_before(policy, index))


def gap_before(policy: Policy, index: int) -> timedelta:
    """The wait before step `index`; a new pass waits `repeat_after` (default: the last gap, or 5m)."""
    if index > 0:
        return policy.steps[index].after
    if policy.repeat_after is not None:
        return policy.repeat_after
    last_gap = policy.steps[-1].after if len(policy.steps) > 1 else timedelta(0)
    return max(last_gap, policy.steps[0].after) or DEFAULT_REPEAT_AFTER
