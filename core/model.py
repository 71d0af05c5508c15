"""The values the domain works on: alerts, incidents and their states."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum


class Severity(str, Enum):
    """How bad an incident is; ordered by `rank` so a merge can only raise it."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return {"info": 0, "warning": 1, "critical": 2}[self.value]


class AlertStatus(str, Enum):
    FIRING = "firing"
    RESOLVED = "resolved"


class IncidentStatus(str, Enum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Action(str, Enum):
    """What a responder can do to an incident from a card, a link or the API."""

    ACKNOWLEDGE = "ack"
    UNACKNOWLEDGE = "unack"  # back to triggered: nobody holds it any more, paging starts again
    SNOOZE = "snooze"  # acknowledged until a wake time, then triggered and paged again
    WAKE = "wake"  # end a snooze early
    RESOLVE = "resolve"
    REOPEN = "reopen"  # a resolved incident back to triggered, paged again
    COMMENT = "comment"


def higher_severity(current: Severity, new: Severity) -> Severity:
    """Severity only rises when alerts merge into an incident."""
    return new if new.rank > current.rank else current


@dataclass(frozen=True)
class AlertEvent:
    """One alert as a monitoring source reported it, in the neutral shape every source is parsed into."""

    source: str
    fingerprint: str
    status: AlertStatus
    severity: Severity
    title: str
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    starts_at: datetime
    ends_at: datetime | None = None
    links: tuple[str, ...] = ()


@dataclass(frozen=True)
class IncidentView:
    """What people are shown about an incident: a card, an API answer, a confirm page."""

    id: int
    number: int
    title: str
    status: IncidentStatus
    severity: Severity
    service_id: str
    service_name: str
    alert_count: int
    labels: Mapping[str, str]
    created_at: datetime
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    snoozed_until: datetime | None = None  # an acknowledged incident that wakes (is triggered again) then
    description: str = ""
    on_call: tuple[str, ...] = field(default=())
    levels: int = 0  # levels of the incident's own escalation policy: the card offers to page one of them now
