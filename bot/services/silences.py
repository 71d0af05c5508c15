"""Quick silences: from an incident's card or the API, the incident's labels are silenced for a preset time
(30m, 1h, 12h, 1d, 1w). They join the service's configured silences (docs/silences.md) and go away by
themselves: an ended one no longer matches, and the worker deletes it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.tables import Incident, QuickSilence
from bot.services.records import add_timeline
from core.stages.mute import Once, Silence, quick_silence

log = logging.getLogger(__name__)


class SilenceRefused(ValueError):
    """A quick silence that cannot be made: an unknown preset, an incident without labels."""


async def silence_incident(session: AsyncSession, incident_id: int, preset: str, actor: str,
                           now: datetime, via: str = "api") -> QuickSilence | None:
    """Silence the incident's labels in its service for `preset`; None for an unknown incident."""
    incident = await session.get(Incident, incident_id)
    if incident is None:
        return None
    labels = {str(name): str(value) for name, value in incident.labels.items()}
    try:
        silence = quick_silence(preset, labels, incident.service_id, now, actor)
    except ValueError as problem:
        raise SilenceRefused(str(problem)) from None
    assert isinstance(silence.when, Once)
    row = QuickSilence(service_id=incident.service_id, incident_id=incident.id, preset=preset, labels=labels,
                       starts_at=silence.when.start, ends_at=silence.when.end, created_by=actor)
    session.add(row)
    await session.flush()
    add_timeline(session, incident.id, "silenced", now, actor=actor, via=via, preset=preset,
                 until=silence.when.end.isoformat(), silence=row.id)
    return row


def as_silence(row: QuickSilence) -> Silence:
    """A stored quick silence as the Muter reads it."""
    labels = {str(name): str(value) for name, value in row.labels.items()}
    made = quick_silence(row.preset, labels, row.service_id, row.starts_at, row.created_by)
    return Silence(name=f"quick {row.preset} by {row.created_by} (#{row.id})", rule=made.rule, action="mark",
                   when=Once(row.starts_at, row.ends_at), created_by=row.created_by, id=str(row.id),
                   service=row.service_id)


async def runtime_silences(session: AsyncSession) -> dict[str, tuple[Silence, ...]]:
    """Every stored quick silence by service (ended ones do no harm until the worker deletes them)."""
    found: dict[str, list[Silence]] = {}
    query = select(QuickSilence).where(QuickSilence.ends_at > QuickSilence.starts_at)  # not ended early
    for row in (await session.scalars(query.order_by(QuickSilence.id))).all():
        try:
            found.setdefault(row.service_id, []).append(as_silence(row))
        except ValueError:  # a row no silence can be made of must not stop ingest: it is skipped, and said
            log.warning("quick silence %s cannot be read and is ignored", row.id)
    return {service_id: tuple(items) for service_id, items in found.items()}


async def active(session: AsyncSession, now: datetime) -> Sequence[QuickSilence]:
    return (await session.scalars(select(QuickSilence).where(QuickSilence.ends_at > now)
                                  .order_by(QuickSilence.ends_at))).all()


async def end_silence(session: AsyncSession, silence_id: int, actor: str, now: datetime) -> bool:
    """End a quick silence now (it stays in the incident's timeline); False when there is none."""
    row = await session.get(QuickSilence, silence_id)
    if row is None or row.ends_at <= now:
        return False
    row.ends_at = now
    if row.incident_id is not None:
        add_timeline(session, row.incident_id, "unsilenced", now, actor=actor, silence=row.id)
    return True


async def delete_ended(session: AsyncSession, now: datetime) -> int:
    """Forget quick silences that ended: expired silences disappear by themselves."""
    result = await session.execute(delete(QuickSilence).where(QuickSilence.ends_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)
