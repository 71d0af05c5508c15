"""Dedup (pipeline stage 4): events with the same alert key update one open alert; a recovery closes it.

The application holds at most one open alert per (service, alert key) — a unique index on
`(service_id, open_fingerprint)` — and asks two pure questions of each event:

- `decide(event, open)`: what the event does to the open alert of its key, if any;
- `refreshed(open, event)`: the open alert after a repeated report: labels and annotations as the tool sends them
  now (the title stays the first report's), links kept when the new report has none, and a severity that only rises.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from core.model import AlertEvent, AlertStatus, Severity, higher_severity


class Dedup(str, Enum):
    OPEN = "open"  # a firing event with no open alert: a new alert opens
    UPDATE = "update"  # a firing event for an open alert: the same alert, reported again
    RESOLVE = "resolve"  # a recovery of an open alert: it closes
    IGNORE = "ignore"  # a recovery with nothing open under its key (already closed, or never seen)


@dataclass(frozen=True)
class OpenAlertFields:
    """The parts of an open alert a repeated report can change."""

    severity: Severity
    labels: Mapping[str, str]
    annotations: Mapping[str, str]
    links: tuple[str, ...]


def decide(event: AlertEvent, has_open_alert: bool) -> Dedup:
    """What `event` does, given whether an alert of its key is open."""
    if event.status is AlertStatus.FIRING:
        return Dedup.UPDATE if has_open_alert else Dedup.OPEN
    return Dedup.RESOLVE if has_open_alert else Dedup.IGNORE


def refreshed(current: OpenAlertFields, event: AlertEvent) -> OpenAlertFields:
    """The open alert after `event` (firing, same key) reported it again."""
    return OpenAlertFields(severity=higher_severity(current.severity, event.severity), labels=dict(event.labels),
                           annotations=dict(event.annotations), links=tuple(event.links) or current.links)
