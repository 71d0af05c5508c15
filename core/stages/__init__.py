"""The alert pipeline's pure stages (HOUSE_STYLE 3): each takes a `Passage` and the `Context` and returns the
passage, changed or stopped. `core.pipeline` composes them in one readable place; the stages that need the
database (dedup, grouping, storm warnings, flapping, auto-resolve) run in `bot.services.ingest` in the same
order, fed with snapshots so that their decisions stay pure functions here.

A recovery (an event with status resolved) is never lost: enrichment does not rewrite it, drop and inhibit
rules do not apply to it, and a silence only keeps it from notifying.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from core.model import AlertEvent, AlertStatus


@dataclass(frozen=True)
class Passage:
    """One event on its way through the pipeline, for one service."""

    event: AlertEvent
    service_id: str
    dropped_by: str | None = None  # a drop rule (or silence with action drop) took it: no trace but a counter
    muted_by: str | None = None  # "silence:<name>" or "inhibit:<name>": stored and marked, never notified

    @property
    def stopped(self) -> bool:
        return self.dropped_by is not None

    @property
    def recovery(self) -> bool:
        return self.event.status is AlertStatus.RESOLVED

    def dropped(self, why: str) -> Passage:
        return replace(self, dropped_by=why)

    def muted(self, why: str) -> Passage:
        return replace(self, muted_by=why)

    def with_event(self, event: AlertEvent) -> Passage:
        return replace(self, event=event)


@dataclass(frozen=True)
class ActiveAlert:
    """An alert of the service that fired recently (what inhibit rules look at)."""

    fingerprint: str
    labels: Mapping[str, str]
    severity: str
    title: str
    source: str
    last_active: datetime  # now, when still firing; its end when it recovered


@dataclass(frozen=True)
class Context:
    """What the stages may know beyond the event: the time, and snapshots the application fetched."""

    now: datetime
    # results of enrichment lookups (CMDB), by lookup name then key → fields; fetched before the pipeline runs
    lookups: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)
    # alerts of the service active within the inhibit horizon (10 minutes)
    active: Sequence[ActiveAlert] = ()
    # service calendars by id: day → whether it is a workday
    calendars: Mapping[str, Callable[[date], bool]] = field(default_factory=dict)


Stage = Callable[[Passage, Context], Passage]


def run(passage: Passage, stages: Sequence[Stage], context: Context) -> Passage:
    """Pass `passage` through `stages` in order; a dropped passage goes no further."""
    for stage in stages:
        if passage.stopped:
            break
        passage = stage(passage, context)
    return passage
