"""Tables. Config objects are kept as validated JSON specs; state has its own rows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always gives back an aware datetime (SQLite keeps no offset of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


class ConfigObject(Base):
    """One applied config object (user, team, schedule, channel, policy, service, platform, account)."""

    __tablename__ = "config_objects"
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    spec: Mapped[dict[str, Any]]
    digest: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime]


class Integration(Base):
    __tablename__ = "integrations"
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    service_id: Mapped[str] = mapped_column(String(64))


class ApiToken(Base):
    __tablename__ = "api_tokens"
    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(String(64))


class KeyValue(Base):
    __tablename__ = "kv"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Incident(Base):
    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("service_id", "open_group_key", name="uq_incidents_open_group"),
                      Index("ix_incidents_status_created", "status", "created_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str] = mapped_column(Text)
    open_group_key: Mapped[str | None] = mapped_column(String(512))  # set while open: one open per group
    title: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    labels: Mapped[dict[str, Any]]
    policy: Mapped[dict[str, Any]]  # the escalation policy as it was when the incident opened
    created_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(String(128))
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    snoozed_until: Mapped[datetime | None]  # set while an acknowledged incident is snoozed: when it wakes
    last_merge_at: Mapped[datetime | None]  # when an alert last joined (sliding grouping windows)
    alert_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # alerts ever joined
    description: Mapped[str | None] = mapped_column(Text)  # written by people (create by hand, edit)
    edited: Mapped[list[str] | None] = mapped_column(JSON)  # fields people set: later alerts do not change them


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("service_id", "open_fingerprint", name="uq_alerts_open_fingerprint"),
                      Index("ix_alerts_service_fingerprint", "service_id", "fingerprint"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)  # None while muted
    service_id: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(128))
    open_fingerprint: Mapped[str | None] = mapped_column(String(128))  # set while firing
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    labels: Mapped[dict[str, Any]]
    annotations: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    muted_by: Mapped[str | None] = mapped_column(String(160))  # "silence:<name>" / "inhibit:<name>"
    changes: Mapped[list[str] | None] = mapped_column(JSON)  # recent state changes (ISO times), for flapping
    links: Mapped[list[str] | None] = mapped_column(JSON)  # the links the tool sent (graph, dashboard, runbook)
    flapping: Mapped[bool] = mapped_column(default=False, server_default=false())


class QuickSilence(Base):
    """A silence made from an incident (card or API): the incident's labels, from `starts_at` to `ends_at`."""

    __tablename__ = "quick_silences"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    service_id: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"))
    preset: Mapped[str] = mapped_column(String(8))
    labels: Mapped[dict[str, Any]]
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime] = mapped_column(index=True)
    created_by: Mapped[str] = mapped_column(String(128))


class TimelineEntry(Base):
    __tablename__ = "timeline"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]]


class OutboxMessage(Base):
    """A notification to send, written in the same transaction as the change that causes it."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),
                      Index("ix_outbox_destination", "destination_key", "status"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id"), index=True)  # None: a message
    kind: Mapped[str] = mapped_column(String(16))  # post | update | message
    destination: Mapped[dict[str, Any]]
    destination_key: Mapped[str | None] = mapped_column(String(40))  # core.delivery.limit_key: digests find rows
    payload: Mapped[dict[str, Any] | None]  # message: {"text", "title"}
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)  # one row per reminder, any worker
    status: Mapped[str] = mapped_column(String(16))  # pending | sent | failed | skipped | coalesced | digested
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    # the dispatcher holding the row's lease (next_attempt_at is then the lease's end); None once it is put back
    leased_by: Mapped[str | None] = mapped_column(String(32))


class WorkerProcess(Base):
    """A running dispatcher and when it last said so: the leases of one that stopped saying so are taken back
    by the others (bot/services/dispatch.py `STALE_AFTER`), not left to run out."""

    __tablename__ = "workers"
    identity: Mapped[str] = mapped_column(String(32), primary_key=True)  # Dispatcher.identity, outbox.leased_by
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    seen_at: Mapped[datetime]


class CardMessage(Base):
    """The handle of a posted card, kept to update it in place."""

    __tablename__ = "card_messages"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    platform: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(128))
    message_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]


class Timer(Base):
    """An escalation step waiting to fire; claimed by a worker, so a restart loses nothing."""

    __tablename__ = "timers"
    __table_args__ = (Index("ix_timers_due", "status", "due_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # escalate | repeat (a level pages again) | auto_resolve | wake
    position: Mapped[int] = mapped_column(Integer)
    repeat: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # which repeat of the level
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # pending | fired | cancelled
    fired_at: Mapped[datetime | None]


class ScheduleOverride(Base):
    """An override made at run time (API, later chat); the config file's overrides are not stored here."""

    __tablename__ = "schedule_overrides"
    __table_args__ = (Index("ix_schedule_overrides_schedule", "schedule_id", "deleted_at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    schedule_id: Mapped[str] = mapped_column(String(64))
    start: Mapped[datetime]
    end: Mapped[datetime]
    user_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]  # soft delete: the audit trail keeps pointing at the row


class AuditEntry(Base):
    """Who changed what, when: overrides and applied config; `before`/`after` are JSON snapshots (or NULL)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject_at", "subject", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32))  # override.create | override.update | override.delete | ...
    subject: Mapped[str] = mapped_column(String(160))  # "<kind>:<id>", e.g. "schedule:sre"
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))


class UsedLink(Base):
    __tablename__ = "used_links"
    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    used_at: Mapped[datetime]
