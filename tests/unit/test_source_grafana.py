"""core/sources/grafana.py: Grafana Alerting's webhook contact point → neutral alert events."""

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
from core.sources import Parsed, PayloadError
from core.sources.grafana import MAX_ALERTS_PER_PAYLOAD, parse

# The payloads follow the "Webhook JSON payload" example and field list of Grafana's "Configure the webhook
# notifier for Alerting" page (grafana.com/docs/grafana/latest/.../integrations/webhook-notifier/, Grafana 11,
# payload version "1"), with this project's example data.
FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"
FIRING = json.loads((FIXTURES / "grafana_firing.json").read_text(encoding="utf-8"))
RESOLVED = json.loads((FIXTURES / "grafana_resolved.json").read_text(encoding="utf-8"))
RECEIVED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PLUS2 = timezone(timedelta(hours=2))

MEMORY_LABELS = {"alertname": "High memory usage", "grafana_folder": "Infra", "severity": "critical", "team": "blue",
                 "zone": "us-1"}
MEMORY_ANNOTATIONS = {"description": "The system has high memory usage",
                      "runbook_url": "https://runbooks.example.com/memory", "summary": "Memory above 90% in zone us-1"}
MEMORY_LINKS = (
    "https://grafana.example.com/alerting/grafana/1afz29v7z/view?orgId=1",
    "https://grafana.example.com/d/dcb2a7b1/hosts?orgId=1",
    "https://grafana.example.com/d/dcb2a7b1/hosts?orgId=1&viewPanel=4",
    "https://grafana.example.com/alerting/silence/new?alertmanager=grafana&matcher=alertname%3DHigh+memory+usage"
    "&matcher=team%3Dblue&matcher=zone%3Dus-1&orgId=1",
)


def test_golden_firing_payload() -> None:
    assert parse(copy.deepcopy(FIRING), RECEIVED) == Parsed(events=(
        AlertEvent(
            source="grafana", fingerprint="c6eadffa33fcdf37", status=AlertStatus.FIRING,
            severity=Severity.CRITICAL, title="Memory above 90% in zone us-1",
            labels=MEMORY_LABELS,
            annotations=MEMORY_ANNOTATIONS | {
                "value.B": "94.23943737541909", "value.C": "1",
                "image": "https://grafana.example.com/public/img/attachments/ZJ0nbpCEHNwYq3RG.png"},
            starts_at=datetime(2026, 12, 1, 9, 51, 3, 157076, tzinfo=PLUS2), ends_at=None,
            links=MEMORY_LINKS,
        ),
        AlertEvent(
            source="grafana", fingerprint="bc97ff14869b13e3", status=AlertStatus.FIRING,
            severity=Severity.WARNING, title="High CPU usage",
            labels={"alertname": "High CPU usage", "team": "blue", "zone": "eu-1"},
            annotations={"description": "The system has high CPU usage", "value.B": "87.5", "value.C": "1"},
            starts_at=datetime(2026, 12, 1, 7, 56, 3, tzinfo=UTC), ends_at=None,
            links=(
                "https://grafana.example.com/alerting/grafana/d1rdpdv7k/view?orgId=1",
                "https://grafana.example.com/alerting/silence/new?alertmanager=grafana"
                "&matcher=alertname%3DHigh+CPU+usage&matcher=team%3Dblue&matcher=zone%3Deu-1&orgId=1",
            ),
        ),
    ))


def test_golden_resolved_payload() -> None:
    assert parse(copy.deepcopy(RESOLVED), RECEIVED) == Parsed(events=(
        AlertEvent(
            source="grafana", fingerprint="c6eadffa33fcdf37", status=AlertStatus.RESOLVED,
            severity=Severity.CRITICAL, title="Memory above 90% in zone us-1",
            labels=MEMORY_LABELS,
            annotations=MEMORY_ANNOTATIONS | {"value.B": "61.07", "value.C": "0"},
            starts_at=datetime(2026, 12, 1, 9, 51, 3, 157076, tzinfo=PLUS2),
            ends_at=datetime(2026, 12, 1, 10, 4, 33, 291047, tzinfo=PLUS2),
            links=MEMORY_LINKS,
        ),
    ))


def alert(**fields: Any) -> dict[str, Any]:
    base = {"status": "firing", "labels": {"alertname": "DiskFull"}, "startsAt": "2026-12-01T01:58:04Z"}
    return {**base, **fields}


def only(payload_fields: dict[str, Any] | None = None, **fields: Any) -> AlertEvent:
    (event,) = parse({**(payload_fields or {}), "alerts": [alert(**fields)]}, RECEIVED).events
    return event


@pytest.mark.parametrize(("labels", "annotations", "group_title", "title"), [
    ({"alertname": "DiskFull"}, {"summary": "Disk 95% full on db-1"}, "[FIRING:1]", "Disk 95% full on db-1"),
    ({"alertname": "DiskFull"}, {"summary": ""}, "[FIRING:1]", "DiskFull"),
    ({}, {}, "[FIRING:1] DiskFull", "[FIRING:1] DiskFull"),
    ({}, {}, None, "f1"),
])
def test_title_falls_back_from_summary_to_alertname_to_the_group_title_to_the_key(
        labels: dict, annotations: dict, group_title: str | None, title: str) -> None:
    event = only({"title": group_title}, labels=labels, annotations=annotations, fingerprint="f1")
    assert event.title == title


@pytest.mark.parametrize(("label", "severity"), [
    ("critical", Severity.CRITICAL), ("High", Severity.CRITICAL), ("warning", Severity.WARNING),
    ("info", Severity.INFO), ("low", Severity.INFO), ("bogus", Severity.WARNING), (None, Severity.WARNING),
])
def test_severity_comes_from_the_severity_label(label: str | None, severity: Severity) -> None:
    labels = {"alertname": "DiskFull"} | ({} if label is None else {"severity": label})
    assert only(labels=labels).severity is severity


def test_missing_fingerprint_is_derived_from_the_labels() -> None:
    first = only(labels={"alertname": "A", "instance": "db-1"}).fingerprint
    assert first == only(labels={"instance": "db-1", "alertname": "A"}, fingerprint="").fingerprint
    assert first != only(labels={"alertname": "A", "instance": "db-2"}).fingerprint


def test_a_long_fingerprint_is_hashed_into_a_key() -> None:
    assert only(fingerprint="x" * 300).fingerprint.startswith("sha256:")


def test_missing_start_is_the_receive_time_and_a_firing_alert_has_no_end() -> None:
    event = only(startsAt=None, endsAt="2026-12-01T02:30:00Z")
    assert (event.starts_at, event.ends_at) == (RECEIVED, None)


def test_values_become_annotations_without_overriding_the_rules_own() -> None:
    event = only(annotations={"value.B": "set by the rule"}, values={"A": 0.5, "B": 2.0, "C": None, "D": -3})
    assert event.annotations == {"value.B": "set by the rule", "value.A": "0.5", "value.D": "-3"}


def test_grafana_9_value_string_is_kept_as_the_value_annotation() -> None:
    event = only(valueString="[ var='B' labels={} value=14151.33 ]")
    assert event.annotations == {"value": "[ var='B' labels={} value=14151.33 ]"}
    assert only(valueString=42).annotations == {}  # any other type is an unknown field: ignored


def test_links_are_http_urls_only_in_a_fixed_order_without_repeats() -> None:
    event = only(silenceURL="https://g.example.com/s", panelURL="javascript:alert(1)",
                 dashboardURL="https://g.example.com/d", generatorURL="https://g.example.com/d")
    assert event.links == ("https://g.example.com/d", "https://g.example.com/s")


def test_unknown_fields_are_ignored() -> None:
    payload = copy.deepcopy(FIRING)
    payload["futureField"] = {"x": [1, 2]}
    payload["commonLabels"] = "not even an object"
    payload["alerts"][0]["orgId"] = 1
    payload["alerts"][1]["silencedBy"] = [None]
    assert parse(payload, RECEIVED) == parse(copy.deepcopy(FIRING), RECEIVED)


def test_null_labels_and_annotations_are_empty() -> None:
    event = only(labels=None, annotations=None, fingerprint="f1")
    assert (event.labels, event.annotations) == ({}, {})


def test_empty_alert_list() -> None:
    assert parse({"alerts": []}, RECEIVED) == Parsed(events=())


def with_alerts(*alerts: Any) -> dict[str, Any]:
    return {"version": "1", "alerts": [alert(), *alerts]}


@pytest.mark.parametrize(("payload", "path"), [
    ([], ""),
    ("alerts", ""),
    (None, ""),
    ({}, "alerts"),
    ({"alerts": None}, "alerts"),
    ({"alerts": {"0": alert()}}, "alerts"),
    ({"alerts": [alert()] * (MAX_ALERTS_PER_PAYLOAD + 1)}, "alerts"),
    ({"alerts": [], "title": ["x"]}, "title"),
    (with_alerts("firing"), "alerts[1]"),
    (with_alerts(alert(labels=["team=sre"])), "alerts[1].labels"),
    (with_alerts(alert(labels={"alertname": "A", "team": 5})), "alerts[1].labels.team"),
    (with_alerts(alert(labels={"team": True})), "alerts[1].labels.team"),
    (with_alerts(alert(labels={"team": "\ud800"})), "alerts[1].labels.team"),
    (with_alerts(alert(annotations={"summary": {"text": "x"}})), "alerts[1].annotations.summary"),
    (with_alerts(alert(annotations={"summary": "nul\x00"})), "alerts[1].annotations.summary"),
    (with_alerts(alert(status="pending")), "alerts[1].status"),
    (with_alerts(alert(status=["firing"])), "alerts[1].status"),
    (with_alerts(alert(startsAt="yesterday")), "alerts[1].startsAt"),
    (with_alerts(alert(startsAt=1796090284)), "alerts[1].startsAt"),
    (with_alerts(alert(startsAt="2026-12-01T01:58:04")), "alerts[1].startsAt"),
    (with_alerts(alert(endsAt="soon")), "alerts[1].endsAt"),
    (with_alerts(alert(startsAt="9999-12-31T23:59:59-05:00")), "alerts[1].startsAt"),
    (with_alerts(alert(status="resolved", endsAt="9999-12-31T20:00:00-04:00")), "alerts[1].endsAt"),
    (with_alerts(alert(fingerprint=12345)), "alerts[1].fingerprint"),
    (with_alerts(alert(fingerprint="\udfff")), "alerts[1].fingerprint"),
    (with_alerts(alert(values=[1, 2])), "alerts[1].values"),
    (with_alerts(alert(values={"B": "94.2"})), "alerts[1].values.B"),
    (with_alerts(alert(values={"B": False})), "alerts[1].values.B"),
    (with_alerts(alert(values={"\ud800": 1})), "alerts[1].values"),
    (with_alerts(alert(imageURL={"url": "x"})), "alerts[1].imageURL"),
    (with_alerts(alert(generatorURL=7)), "alerts[1].generatorURL"),
    (with_alerts(alert(silenceURL=["https://x"])), "alerts[1].silenceURL"),
    (with_alerts(alert(dashboardURL=True)), "alerts[1].dashboardURL"),
    (with_alerts(alert(panelURL="https://x\x00")), "alerts[1].panelURL"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_malformed_payload_names_the_path(payload: Any, path: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse(payload, RECEIVED)
    assert raised.value.path == path


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(exclude_categories=())),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
TIMES = st.sampled_from(["2026-12-01T01:58:04.123456789Z", "0001-01-01T00:00:00Z", "", "2026-12-01", "2026-13-01"])
TEXT = st.text(st.characters(exclude_categories=()), max_size=8)
ALERT_FIELDS = st.fixed_dictionaries({}, optional={
    "status": st.sampled_from(["firing", "resolved", "pending"]) | JSON,
    "labels": st.dictionaries(st.text(max_size=8), TEXT) | JSON,
    "annotations": st.dictionaries(st.text(max_size=8), TEXT) | JSON,
    "startsAt": TIMES | JSON, "endsAt": TIMES | JSON,
    "fingerprint": TEXT | JSON, "values": st.dictionaries(TEXT, st.floats() | st.integers() | st.none()) | JSON,
    "valueString": TEXT | JSON, "imageURL": TEXT | JSON,
    "generatorURL": st.sampled_from(["https://g.example.com/x", ""]) | JSON, "silenceURL": JSON,
    "dashboardURL": JSON, "panelURL": JSON,
})


def parses_or_payload_error(payload: Any) -> None:
    try:
        parsed = parse(payload, RECEIVED)
    except PayloadError:
        return
    for event in parsed.events:
        assert event.source == "grafana"
        assert event.starts_at.tzinfo is not None
        assert all(link.lower().startswith(("http://", "https://")) for link in event.links)
        json.dumps([event.title, event.fingerprint, dict(event.labels), dict(event.annotations), event.links],
                   ensure_ascii=False).encode("utf-8")


@given(JSON)
def test_arbitrary_json_raises_nothing_but_payload_error(payload: Any) -> None:
    parses_or_payload_error(payload)


@given(st.lists(ALERT_FIELDS | JSON, max_size=4), JSON)
def test_arbitrary_alerts_raise_nothing_but_payload_error(alerts: list[Any], title: Any) -> None:
    parses_or_payload_error({"version": "1", "alerts": alerts, "title": title})
