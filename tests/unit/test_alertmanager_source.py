"""core/sources/alertmanager.py: Alertmanager's webhook (version 4) → neutral alert events."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import PayloadError
from core.sources.alertmanager import MAX_ALERTS_PER_PAYLOAD, parse_alertmanager

# Written from the webhook_config example in Alertmanager's configuration docs (version "4").
GOLDEN = json.loads((Path(__file__).parent / "golden" / "alertmanager_webhook_v4.json").read_text(encoding="utf-8"))
SHANGHAI = timezone(timedelta(hours=8))


def alert(**fields: Any) -> dict[str, Any]:
    base = {"status": "firing", "labels": {"alertname": "CPUHigh"}, "startsAt": "2026-12-01T01:58:04Z"}
    return {**base, **fields}


def only(**fields: Any) -> AlertEvent:
    (event,) = parse_alertmanager({"alerts": [alert(**fields)]})
    return event


def test_golden_payload() -> None:
    assert parse_alertmanager(copy.deepcopy(GOLDEN)) == [
        AlertEvent(
            source="alertmanager", fingerprint="c0ffee0123456789", status=AlertStatus.FIRING,
            severity=Severity.CRITICAL, title="CPU high on db-1",
            labels={"alertname": "CPUHigh", "cluster": "prod", "instance": "db-1:9100", "severity": "critical"},
            annotations={"summary": "CPU high on db-1", "description": "CPU above 90% for 10 minutes"},
            starts_at=datetime(2026, 12, 1, 1, 58, 4, 123456, tzinfo=UTC), ends_at=None,
            links=("http://prometheus.example.com:9090/graph?g0.expr=cpu&g0.tab=1",),
        ),
        AlertEvent(
            source="alertmanager", fingerprint="deadbeef01234567", status=AlertStatus.RESOLVED,
            severity=Severity.CRITICAL, title="CPU high on db-2",
            labels={"alertname": "CPUHigh", "cluster": "prod", "instance": "db-2:9100", "severity": "critical"},
            annotations={"summary": "CPU high on db-2"},
            starts_at=datetime(2026, 12, 1, 9, 40, 0, 500000, tzinfo=SHANGHAI),
            ends_at=datetime(2026, 12, 1, 9, 55, 30, 987654, tzinfo=SHANGHAI),
            links=(),
        ),
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-01T01:58:04Z", datetime(2026, 12, 1, 1, 58, 4, tzinfo=UTC)),
    ("2026-12-01T01:58:04.123456789Z", datetime(2026, 12, 1, 1, 58, 4, 123456, tzinfo=UTC)),
    ("2026-12-01T01:58:04.1Z", datetime(2026, 12, 1, 1, 58, 4, 100000, tzinfo=UTC)),
    ("2026-12-01T09:58:04.000000001+08:00", datetime(2026, 12, 1, 9, 58, 4, tzinfo=SHANGHAI)),
    ("2026-12-01T01:58:04.999999999-05:00", datetime(2026, 12, 1, 6, 58, 4, 999999, tzinfo=UTC)),
])
def test_nanosecond_timestamps(text: str, expected: datetime) -> None:
    assert only(startsAt=text).starts_at == expected


@pytest.mark.parametrize(("status", "ends_at"), [
    ("resolved", datetime(2026, 12, 1, 2, 30, tzinfo=UTC)),
    ("firing", None),    # a firing alert's endsAt is only Alertmanager's guess of when it times out
])
def test_only_resolved_alerts_get_an_end(status: str, ends_at: datetime | None) -> None:
    assert only(status=status, endsAt="2026-12-01T02:30:00Z").ends_at == ends_at


def test_status_defaults_to_firing_and_go_zero_time_is_no_time() -> None:
    (event,) = parse_alertmanager(
        {"alerts": [{"labels": {}, "startsAt": "2026-12-01T01:58:04Z", "endsAt": "0001-01-01T00:00:00Z"}]})
    assert (event.status, event.ends_at) == (AlertStatus.FIRING, None)


@pytest.mark.parametrize(("label", "severity"), [
    ("critical", Severity.CRITICAL), ("CRITICAL", Severity.CRITICAL), ("crit", Severity.CRITICAL),
    ("page", Severity.CRITICAL), ("error", Severity.CRITICAL), ("emergency", Severity.CRITICAL),
    ("P1", Severity.CRITICAL), ("high", Severity.CRITICAL),
    ("warning", Severity.WARNING), ("warn", Severity.WARNING), ("p2", Severity.WARNING), ("medium", Severity.WARNING),
    ("info", Severity.INFO), ("informational", Severity.INFO), ("none", Severity.INFO), ("low", Severity.INFO),
    ("p3", Severity.INFO),
    ("bogus", Severity.WARNING), ("", Severity.WARNING), (None, Severity.WARNING),
])
def test_severity_mapping(label: str | None, severity: Severity) -> None:
    labels = {"alertname": "CPUHigh"} | ({} if label is None else {"severity": label})
    assert only(labels=labels).severity is severity


@pytest.mark.parametrize(("labels", "annotations", "fingerprint", "title"), [
    ({"alertname": "CPUHigh"}, {"summary": "CPU high on db-1"}, "f1", "CPU high on db-1"),
    ({"alertname": "CPUHigh"}, {"summary": ""}, "f1", "CPUHigh"),
    ({}, {}, "f1", "f1"),
])
def test_title_falls_back_from_summary_to_alertname_to_fingerprint(labels: dict, annotations: dict,
                                                                   fingerprint: str, title: str) -> None:
    assert only(labels=labels, annotations=annotations, fingerprint=fingerprint).title == title


def test_missing_fingerprint_is_derived_from_the_labels() -> None:
    first = only(labels={"alertname": "A", "instance": "db-1"}).fingerprint
    assert first == only(labels={"instance": "db-1", "alertname": "A"}).fingerprint
    assert first != only(labels={"alertname": "A", "instance": "db-2"}).fingerprint


def test_unknown_fields_are_ignored() -> None:
    payload = copy.deepcopy(GOLDEN)
    payload["futureField"] = {"x": [1, 2]}
    payload["alerts"][0]["silencedBy"] = ["abc"]
    payload["alerts"][1]["valueString"] = 42
    assert parse_alertmanager(payload) == parse_alertmanager(copy.deepcopy(GOLDEN))


def test_empty_alert_list() -> None:
    assert parse_alertmanager({"alerts": []}) == []


def with_alerts(*alerts: Any) -> dict[str, Any]:
    return {"version": "4", "alerts": [alert(), *alerts]}


@pytest.mark.parametrize(("payload", "path"), [
    ([], ""),
    ("alerts", ""),
    (None, ""),
    ({}, "alerts"),
    ({"alerts": None}, "alerts"),
    ({"alerts": {"0": alert()}}, "alerts"),
    ({"alerts": [alert()] * (MAX_ALERTS_PER_PAYLOAD + 1)}, "alerts"),
    (with_alerts("firing"), "alerts[1]"),
    (with_alerts(None), "alerts[1]"),
    (with_alerts(alert(labels=["team=sre"])), "alerts[1].labels"),
    (with_alerts(alert(labels=None)), "alerts[1].labels"),
    (with_alerts(alert(labels={"alertname": "A", "team": 5})), "alerts[1].labels.team"),
    (with_alerts(alert(labels={"team": None})), "alerts[1].labels.team"),
    (with_alerts(alert(labels={"team": "\ud800"})), "alerts[1].labels.team"),
    (with_alerts(alert(annotations="summary")), "alerts[1].annotations"),
    (with_alerts(alert(annotations={"summary": {"text": "x"}})), "alerts[1].annotations.summary"),
    (with_alerts(alert(status="pending")), "alerts[1].status"),
    (with_alerts(alert(status=1)), "alerts[1].status"),
    (with_alerts(alert(startsAt=None)), "alerts[1].startsAt"),
    (with_alerts(alert(startsAt="0001-01-01T00:00:00Z")), "alerts[1].startsAt"),
    (with_alerts(alert(startsAt="yesterday")), "alerts[1].startsAt"),
    (with_alerts(alert(startsAt=1764554284)), "alerts[1].startsAt"),
    (with_alerts(alert(startsAt="2026-12-01T01:58:04")), "alerts[1].startsAt"),
    (with_alerts(alert(endsAt="soon")), "alerts[1].endsAt"),
    (with_alerts(alert(endsAt=["2026-12-01T01:58:04Z"])), "alerts[1].endsAt"),
    (with_alerts(alert(fingerprint=12345)), "alerts[1].fingerprint"),
    (with_alerts(alert(fingerprint="\udfff")), "alerts[1].fingerprint"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_malformed_payload_names_the_path(payload: Any, path: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse_alertmanager(payload)
    assert raised.value.path == path
    assert str(raised.value).startswith(f"{path}: " if path else raised.value.message)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(exclude_categories=())),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
TIMES = st.sampled_from(
    ["2026-12-01T01:58:04.123456789Z", "0001-01-01T00:00:00Z", "", "2026-12-01", "2026-13-01T00:00Z"])
ALERT_FIELDS = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(["firing", "resolved", "pending"]) | JSON,
    "labels": st.dictionaries(st.text(max_size=8), st.text(st.characters(exclude_categories=()), max_size=8)) | JSON,
    "annotations": st.dictionaries(st.text(max_size=8), st.text(max_size=8)) | JSON,
    "startsAt": TIMES | JSON, "endsAt": TIMES | JSON,
    "fingerprint": st.text(max_size=8) | JSON, "generatorURL": JSON,
})


def parses_or_payload_error(payload: Any) -> None:
    try:
        events = parse_alertmanager(payload)
    except PayloadError:
        return
    for event in events:
        assert event.starts_at.tzinfo is not None
        json.dumps([event.title, event.fingerprint, dict(event.labels)], ensure_ascii=False).encode("utf-8")


@given(JSON)
def test_arbitrary_json_raises_nothing_but_payload_error(payload: Any) -> None:
    parses_or_payload_error(payload)


@given(st.lists(ALERT_FIELDS | JSON, max_size=4))
def test_arbitrary_alerts_raise_nothing_but_payload_error(alerts: list[Any]) -> None:
    parses_or_payload_error({"version": "4", "alerts": alerts})
