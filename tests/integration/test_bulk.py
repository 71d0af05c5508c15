"""Rows written by `bot.db.bulk` read back exactly as rows the ORM wrote, on both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import JSON, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.db.bulk import BulkRows, converter, insert_pending
from bot.db.database import Database
from bot.db.tables import Alert, AuditEntry, Incident, OutboxMessage, TimelineEntry, Timer, UTCDateTime


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[Database]:
    database = Database(db_url)
    yield database
    await database.close()


TIMES = [datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=UTC), datetime(2026, 12, 7, 10, tzinfo=UTC),
         datetime(2026, 12, 7, 18, 0, 0, 5, tzinfo=timezone(timedelta(hours=8))),
         datetime(999, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), None]
DOCUMENTS: list[Any] = [None, {}, {"alertname": "磁盘满", "quote": "\"x\""}, ["a", 1, None], "text", 0]


@pytest.mark.parametrize("value", TIMES)
async def test_sqlite_datetimes_are_stored_as_sqlalchemy_stores_them(value: datetime | None) -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    dialect = engine.dialect
    ours = converter(TimelineEntry.__table__, "at", dialect)
    theirs = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and theirs is not None
    assert ours(value) == theirs(value)
    await engine.dispose()


@pytest.mark.parametrize("value", DOCUMENTS)
async def test_sqlite_json_is_stored_as_sqlalchemy_stores_it(value: Any) -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    dialect = engine.dialect
    ours = converter(TimelineEntry.__table__, "data", dialect)
    theirs = JSON().dialect_impl(dialect).bind_processor(dialect)
    assert ours is not None and theirs is not None
    assert ours(value) == theirs(value)
    # a JSON column that stores None as NULL keeps SQLAlchemy's own processor
    assert converter(AuditEntry.__table__, "before", dialect) is not ours
    await engine.dispose()


async def test_naive_datetimes_are_refused() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    ours = converter(TimelineEntry.__table__, "at", engine.dialect)
    assert ours is not None
    with pytest.raises(ValueError, match="naive"):
        ours(datetime(2026, 12, 7, 10))  # noqa: DTZ001 - the point of the test
    await engine.dispose()


async def test_rows_written_in_bulk_read_back_like_orm_rows(db: Database) -> None:
    rows = BulkRows(Alert.__table__, ("service_id", "source", "fingerprint", "open_fingerprint", "status",
                                      "severity", "title", "labels", "annotations", "starts_at", "ends_at",
                                      "received_at", "updated_at", "changes", "flapping", "links"))
    at = datetime(2026, 12, 7, 18, 30, 0, 123456, tzinfo=timezone(timedelta(hours=8)))
    async with db.transaction() as session:
        await rows.insert(session, [("payments", "alertmanager", f"fp-{n}", f"fp-{n}", "firing", "critical",
                                     "标题", {"n": str(n)}, {}, at, None, at, at, None, n % 2 == 0,
                                     ["http://g"] if n else None) for n in range(3)])
        session.add(Alert(service_id="payments", source="alertmanager", fingerprint="orm", open_fingerprint="orm",
                          status="firing", severity="critical", title="标题", labels={"n": "x"}, annotations={},
                          starts_at=at, ends_at=None, received_at=at, updated_at=at, changes=None, flapping=False,
                          links=None))
    async with db.transaction() as session:
        found = {row.fingerprint: row for row in await session.scalars(select(Alert))}
        ids = {fingerprint: row.id for fingerprint, row in found.items()}
        await rows.update(session, [(ids["fp-1"], ("payments", "alertmanager", "fp-1", None, "resolved", "info",
                                                    "t", {}, {"a": "b"}, at, at + timedelta(minutes=5), at, at,
                                                    [at.isoformat()], True, None))])
    async with db.transaction() as session:
        found = {row.fingerprint: row for row in await session.scalars(select(Alert))}
        null_links = await session.scalar(text("SELECT count(*) FROM alerts WHERE links IS NULL"))
    assert found["fp-0"].starts_at == at and found["fp-0"].starts_at.tzinfo is not None
    assert found["fp-0"].labels == {"n": "0"} and found["fp-0"].title == "标题" and found["fp-0"].flapping is True
    assert found["fp-0"].links is None and found["fp-2"].links == ["http://g"]
    assert found["fp-1"].status == "resolved" and found["fp-1"].open_fingerprint is None
    assert found["fp-1"].ends_at == at + timedelta(minutes=5) and found["fp-1"].annotations == {"a": "b"}
    assert found["fp-1"].changes == [at.isoformat()]
    # None in a JSON column is stored as JSON null, as the ORM stores it, so no query tells the two apart
    assert null_links == 0
    # times compare as instants in SQL, whoever wrote them
    async with db.transaction() as session:
        later = await session.scalar(select(Alert.fingerprint).where(Alert.starts_at > at - timedelta(microseconds=1),
                                                                    Alert.fingerprint == "orm"))
    assert later == "orm"


async def test_pending_instances_written_in_bulk_read_back_like_flushed_ones(db: Database) -> None:
    """`insert_pending` writes the session's new rows of the named models instead of the flush, with the column
    defaults the ORM would apply, and leaves other models to the flush."""
    at = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)
    async with db.transaction() as session:
        session.add(Incident(service_id="payments", group_key="g", open_group_key="g", title="t", severity="critical",
                             status="triggered", labels={}, policy={}, created_at=at, alert_total=1))
        await session.flush()
        incident_id = (await session.scalars(select(Incident.id))).one()
    for bulk in (False, True):
        async with db.transaction() as session:
            session.add(TimelineEntry(incident_id=incident_id, at=at, kind="escalated", actor=None,
                                      data={"bulk": bulk, "名": "值"}))
            session.add(Timer(incident_id=incident_id, kind="escalate", position=1, due_at=at, status="pending"))
            session.add(OutboxMessage(incident_id=incident_id, kind="post", destination={"platform": "slack"},
                                      destination_key="k", status="pending", attempts=0, created_at=at,
                                      next_attempt_at=at, payload=None))
            session.add(AuditEntry(at=at, actor="alice", action="test", subject="test:bulk", before=None, after=None))
            if bulk:
                assert await insert_pending(session, TimelineEntry, Timer, OutboxMessage) == 3
                assert {type(instance) for instance in session.new} == {AuditEntry}  # left to the flush
    async with db.transaction() as session:
        timeline = (await session.scalars(select(TimelineEntry).order_by(TimelineEntry.id))).all()
        timers = (await session.scalars(select(Timer).order_by(Timer.id))).all()
        posts = (await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))).all()
        audits = await session.scalar(text("SELECT count(*) FROM audit_log"))
        null_payloads = await session.scalar(text("SELECT count(*) FROM outbox WHERE payload IS NULL"))
    assert [(entry.at, entry.kind, entry.data) for entry in timeline] == [
        (at, "escalated", {"bulk": False, "名": "值"}), (at, "escalated", {"bulk": True, "名": "值"})]
    assert [(timer.repeat, timer.due_at, timer.fired_at) for timer in timers] == [(0, at, None), (0, at, None)]
    assert [(post.destination, post.payload, post.leased_by) for post in posts] == [({"platform": "slack"}, None,
                                                                                      None)] * 2
    assert audits == 2 and null_payloads == 0  # None as JSON null, as the flush stores it
