"""The audit trail: who changed what, when (overrides, applied config), written in the change's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.tables import AuditEntry


def record(session: AsyncSession, at: datetime, actor: str, action: str, subject: str,
           before: dict[str, Any] | None = None, after: dict[str, Any] | None = None) -> None:
    """Add one audit row to the session; it commits or rolls back with the change it describes."""
    session.add(AuditEntry(at=at, actor=actor, action=action, subject=subject, before=before, after=after))


async def entries(session: AsyncSession, subject: str, limit: int = 100, offset: int = 0) -> list[AuditEntry]:
    """The audit rows of one subject ("schedule:sre"), newest first."""
    query = (select(AuditEntry).where(AuditEntry.subject == subject)
             .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit).offset(offset))
    return list((await session.scalars(query)).all())
