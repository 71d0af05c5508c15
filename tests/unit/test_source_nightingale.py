"""core/sources/nightingale.py: Nightingale (n9e) webhook / callback events → neutral alert events."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import Parsed, PayloadError
from core.sources.nightingale import MAX_EVENTS_PER_PAYLOAD, parse

# The payloads are Nightingale v6/v7's AlertCurEvent as its webhooks and rule callbacks marshal it (the JSON names
# of models/alert_cur_event.go, listed in flashcat.cloud's "事件字段($event)详解" page and the v7 "Callback 事件处理器"
# page): nightingale_event.json is one event (v6 webhook, rule callback), nightingale_recovered.json a list of
# events (batched webhooks, the v8 Callback channel's `{{ jsonMarshal $events }}`).
FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"
EVENT = json.loads((FIXTURES / "nightingale_event.json").read_text(encoding="utf-8"))
RECOVERED = json.loads((FIXTURES / "nightingale_recovered.json").read_text(encoding="utf-8"))
RECEIVED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

LABELS = {"__name__": "cpu_usage_active", "cpu": "cpu-total", "ident": "db-1", "rulename": "CPU usage above 90%",
          "rule_name": "CPU usage above 90%", "target_ident": "db-1", "cluster": "prom-prod", "group_name": "sre"}
ANNOTATIONS = {"summary": "db-1 CPU at 93.52%", "description": "CPU busy for 5 minutes; check the top processes",
               "prom_ql": 'cpu_usage_active{cpu="cpu-total"} > 90', "target_note": "primary database",
               "rule_id": "17"}


def test_golden_event() -> None:
    assert parse(copy.deepcopy(EVENT), RECEIVED) == Parsed(events=(
        AlertEvent(
            source="nightingale", fingerprint="5e1f6f4c2b8a9d0e7c3b1a2f4d6e8c0a", status=AlertStatus.FIRING,
            severity=Severity.CRITICAL, title="CPU usage above 90% (db-1)",
            labels=LABELS,
            annotations=ANNOTATIONS | {"trigger_value": "93.52"},
            starts_at=datetime(2026, 12, 1, 1, 57, 4, tzinfo=UTC), ends_at=None,
            links=("https://runbooks.example.com/cpu",),
        ),
    ))


def test_golden_recovered_list() -> None:
    assert parse(copy.deepcopy(RECOVERED), RECEIVED) == Parsed(events=(
        AlertEvent(
            source="nightingale", fingerprint="5e1f6f4c2b8a9d0e7c3b1a2f4d6e8c0a", status=AlertStatus.RESOLVED,
            severity=Severity.CRITICAL, title="CPU usage above 90% (db-1)",
            labels=LABELS,
            annotations=ANNOTATIONS | {"trigger_value": "41.07"},
            starts_at=datetime(2026, 12, 1, 1, 57, 4, tzinfo=UTC),
            ends_at=datetime(2026, 12, 1, 2, 20, 19, tzinfo=UTC),
            links=("https://runbooks.example.com/cpu",),
        ),
    ))


def event(**fields: Any) -> dict[str, Any]:
    base = {"hash": "h1", "rule_name": "Disk full", "severity": 2, "trigger_time": 1796090284,
            "tags": ["ident=db-1"], "is_recovered": False}
    return {key: value for key, value in (base | fields).items() if value is not ...}


def only(**fields: Any) -> AlertEvent:
    (parsed,) = parse(event(**fields), RECEIVED).events
    return parsed


@pytest.mark.parametrize(("severity", "expected"), [
    (1, Severity.CRITICAL), (2, Severity.WARNING), (3, Severity.INFO), ("1", Severity.CRITICAL),
    (0, Severity.WARNING), (4, Severity.WARNING), (None, Severity.WARNING), (..., Severity.WARNING),
])
def test_severity_mapping(severity: Any, expected: Severity) -> None:
    assert only(severity=severity).severity is expected


@pytest.mark.parametrize(("recovered", "status"), [
    (True, AlertStatus.RESOLVED), (1, AlertStatus.RESOLVED), (False, AlertStatus.FIRING), (0, AlertStatus.FIRING),
    (None, AlertStatus.FIRING), (..., AlertStatus.FIRING),
])
def test_is_recovered(recovered: Any, status: AlertStatus) -> None:
    assert only(is_recovered=recovered).status is status


def test_times_fall_back_and_milliseconds_are_recognised() -> None:
    assert only(trigger_time=...).starts_at == RECEIVED
    assert only(trigger_time=1796090284000).starts_at == datetime(2026, 12, 1, 1, 58, 4, tzinfo=UTC)
    assert only(trigger_time="1796090284").starts_at == datetime(2026, 12, 1, 1, 58, 4, tzinfo=UTC)
    assert only(first_trigger_time=0).starts_at == datetime(2026, 12, 1, 1, 58, 4, tzinfo=UTC)
    recovered = only(is_recovered=True)
    assert (recovered.starts_at, recovered.ends_at) == (datetime(2026, 12, 1, 1, 58, 4, tzinfo=UTC), RECEIVED)


def test_tags_map_wins_over_tags_and_the_event_fields_over_both() -> None:
    parsed = only(tags=["a=1", "b=x=y", " c = 3 ", "novalue", "=orphan", ""],
                  tags_map={"a": "from tags_map", "rule_name": "tagged"}, target_ident="", cluster="prom")
    assert parsed.labels == {"a": "from tags_map", "b": "x=y", "c": "3", "rule_name": "Disk full", "cluster": "prom"}


@pytest.mark.parametrize(("rule_name", "target", "annotations", "title"), [
    ("Disk full", "db-1", {}, "Disk full (db-1)"),
    ("Disk full on db-1", "db-1", {}, "Disk full on db-1"),
    ("Disk full", "", {}, "Disk full"),
    ("", "db-1", {"summary": "db-1 disk 97% full"}, "db-1 disk 97% full"),
    ("", "", {}, "h1"),
])
def test_title(rule_name: str, target: str, annotations: dict[str, str], title: str) -> None:
    assert only(rule_name=rule_name, target_ident=target, annotations=annotations).title == title


def test_missing_hash_is_derived_from_the_labels() -> None:
    first = only(hash=..., tags=["ident=db-1", "mount=/"]).fingerprint
    assert first == only(hash="", tags=["mount=/", "ident=db-1"]).fingerprint
    assert first != only(hash=..., tags=["ident=db-2", "mount=/"]).fingerprint


def test_event_annotations_win_over_the_derived_ones() -> None:
    parsed = only(annotations={"description": "from the rule's annotations"}, rule_note="the note",
                  trigger_value=97.5, rule_id=9)
    assert parsed.annotations == {"description": "from the rule's annotations", "trigger_value": "97.5",
                                  "rule_id": "9"}


def test_runbook_link_must_be_http() -> None:
    assert only(runbook_url="https://wiki.example.com/disk").links == ("https://wiki.example.com/disk",)
    assert only(runbook_url="wiki/disk").links == ()
    assert only(runbook_url="").links == ()


def test_unknown_fields_are_ignored() -> None:
    payload = copy.deepcopy(EVENT)
    payload["future_field"] = {"x": [1, 2]}
    payload["notify_users_obj"] = [{"id": 1, "username": "root"}]
    payload["rule_config"] = "not an object any more"
    assert parse(payload, RECEIVED) == parse(copy.deepcopy(EVENT), RECEIVED)


def test_lists_and_empty_lists() -> None:
    assert parse([], RECEIVED) == Parsed(events=())
    assert len(parse([event(), event(hash="h2")], RECEIVED).events) == 2


@pytest.mark.parametrize(("payload", "path"), [
    ("event", ""),
    (None, ""),
    (17, ""),
    ([event()] * (MAX_EVENTS_PER_PAYLOAD + 1), ""),
    ([event(), "event"], "[1]"),
    ([event(), event(tags_map={"team": 5})], "[1].tags_map.team"),
    (event(tags="ident=db-1"), "tags"),
    (event(tags=["ident=db-1", 5]), "tags[1]"),
    (event(tags=["ident=\ud800"]), "tags[0]"),
    (event(tags_map=["ident=db-1"]), "tags_map"),
    (event(tags_map={"ident": None}), "tags_map.ident"),
    (event(annotations="summary"), "annotations"),
    (event(annotations={"summary": ["x"]}), "annotations.summary"),
    (event(rule_name=5), "rule_name"),
    (event(target_ident={"ident": "db-1"}), "target_ident"),
    (event(cluster="nul\x00"), "cluster"),
    (event(group_name=True), "group_name"),
    (event(hash=12345), "hash"),
    (event(hash="\udfff"), "hash"),
    (event(severity="critical"), "severity"),
    (event(severity=True), "severity"),
    (event(severity=1.5), "severity"),
    (event(severity=[1]), "severity"),
    (event(is_recovered="true"), "is_recovered"),
    (event(is_recovered=2), "is_recovered"),
    (event(is_recovered=[]), "is_recovered"),
    (event(trigger_time="yesterday"), "trigger_time"),
    (event(trigger_time=True), "trigger_time"),
    (event(trigger_time=10**400), "trigger_time"),
    (event(trigger_time=10**13 * 1000), "trigger_time"),
    (event(first_trigger_time=[1796090284]), "first_trigger_time"),
    (event(is_recovered=True, last_eval_time={"t": 1}), "last_eval_time"),
    (event(rule_note={"text": "x"}), "rule_note"),
    (event(trigger_value=[93.5]), "trigger_value"),
    (event(prom_ql="up\x00"), "prom_ql"),
    (event(runbook_url=["https://x"]), "runbook_url"),
    ([event(), event(trigger_time="soon")], "[1].trigger_time"),
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
TEXT = st.text(st.characters(exclude_categories=()), max_size=8)
TIMES = st.integers() | st.floats() | st.sampled_from(["1796090284", "1796090284000", "", "0", "1e400", "nan"])
EVENT_FIELDS = st.fixed_dictionaries({}, optional={
    "hash": TEXT | JSON, "rule_name": TEXT | JSON, "target_ident": TEXT | JSON, "cluster": JSON,
    "group_name": JSON, "severity": st.integers(-1, 4) | JSON, "is_recovered": st.booleans() | JSON,
    "trigger_time": TIMES | JSON, "first_trigger_time": TIMES | JSON, "last_eval_time": TIMES | JSON,
    "tags": st.lists(TEXT | JSON, max_size=4) | JSON, "tags_map": st.dictionaries(TEXT, TEXT) | JSON,
    "annotations": st.dictionaries(TEXT, TEXT) | JSON, "rule_note": JSON, "trigger_value": JSON,
    "prom_ql": JSON, "target_note": JSON, "rule_id": JSON, "runbook_url": st.just("https://x") | JSON,
})


def parses_or_payload_error(payload: Any) -> None:
    try:
        parsed = parse(payload, RECEIVED)
    except PayloadError:
        return
    for item in parsed.events:
        assert item.source == "nightingale"
        assert item.starts_at.tzinfo is not None
        assert all(link.lower().startswith(("http://", "https://")) for link in item.links)
        json.dumps([item.title, item.fingerprint, dict(item.labels), dict(item.annotations), item.links],
                   ensure_ascii=False).encode("utf-8")


@given(JSON)
def test_arbitrary_json_raises_nothing_but_payload_error(payload: Any) -> None:
    parses_or_payload_error(payload)


@given(EVENT_FIELDS | JSON)
def test_arbitrary_event_raises_nothing_but_payload_error(payload: Any) -> None:
    parses_or_payload_error(payload)


@given(st.lists(EVENT_FIELDS | JSON, max_size=4))
def test_arbitrary_event_lists_raise_nothing_but_payload_error(payload: list[Any]) -> None:
    parses_or_payload_error(payload)
