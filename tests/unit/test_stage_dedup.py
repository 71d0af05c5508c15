"""core/stages/dedup.py, stage 4: one open alert per key; a repeat refreshes it, a recovery closes it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.model import AlertEvent, AlertStatus, Severity
from core.stages.dedup import Dedup, OpenAlertFields, decide, refreshed

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def event(status: AlertStatus = AlertStatus.FIRING, severity: Severity = Severity.WARNING,
          labels: dict[str, str] | None = None, annotations: dict[str, str] | None = None,
          links: tuple[str, ...] = ()) -> AlertEvent:
    return AlertEvent(source="generic", fingerprint="fp", status=status, severity=severity, title="disk full",
                      labels=labels or {}, annotations=annotations or {}, starts_at=NOW, links=links)


@pytest.mark.parametrize(("status", "has_open", "expected"), [
    (AlertStatus.FIRING, False, Dedup.OPEN),       # first report: a new alert
    (AlertStatus.FIRING, True, Dedup.UPDATE),      # a repeat: the same alert, never a second row
    (AlertStatus.RESOLVED, True, Dedup.RESOLVE),   # recovery closes the open alert
    (AlertStatus.RESOLVED, False, Dedup.IGNORE),   # recovery of something closed or never seen: nothing happens
])
def test_decide(status: AlertStatus, has_open: bool, expected: Dedup) -> None:
    assert decide(event(status), has_open) is expected


OPEN = OpenAlertFields(severity=Severity.WARNING, labels={"host": "db1", "old": "x"},
                       annotations={"summary": "was"}, links=("https://grafana.example/d/1",))


@pytest.mark.parametrize(("sent", "expected"), [
    (Severity.INFO, Severity.WARNING),        # a repeat never lowers the severity
    (Severity.WARNING, Severity.WARNING),
    (Severity.CRITICAL, Severity.CRITICAL),   # but raises it
])
def test_refreshed_severity_only_rises(sent: Severity, expected: Severity) -> None:
    assert refreshed(OPEN, event(severity=sent)).severity is expected


def test_refreshed_takes_labels_and_annotations_as_sent_now() -> None:
    fields = refreshed(OPEN, event(labels={"host": "db1", "disk": "/var"}, annotations={"summary": "now"}))
    assert fields.labels == {"host": "db1", "disk": "/var"}   # "old" is gone: the tool no longer sends it
    assert fields.annotations == {"summary": "now"}


@pytest.mark.parametrize(("links", "expected"), [
    ((), ("https://grafana.example/d/1",)),                              # no links sent: the old ones stay
    (("https://runbook.example/disk",), ("https://runbook.example/disk",)),  # new links replace them
])
def test_refreshed_links(links: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert refreshed(OPEN, event(links=links)).links == expected


def test_refreshed_copies_the_event_maps() -> None:
    labels = {"host": "db1"}
    fields = refreshed(OPEN, event(labels=labels))
    labels["host"] = "changed later"
    assert fields.labels == {"host": "db1"}
