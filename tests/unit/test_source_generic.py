"""core/sources/generic.py: Dutybot's own alert format → neutral alert events."""

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
from core.sources.generic import MAX_ALERTS_PER_REQUEST, parse

# The bodies follow the format's reference in docs/sources.md ("Generic JSON"), which this module defines.
FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"
FIRING = json.loads((FIXTURES / "generic_firing.json").read_text(encoding="utf-8"))
OK = json.loads((FIXTURES / "generic_ok.json").read_text(encoding="utf-8"))
RECEIVED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PLUS1 = timezone(timedelta(hours=1))


def test_golden_firing() -> None:
    assert parse(copy.deepcopy(FIRING), RECEIVED) == Parsed(events=(
        AlertEvent(
            source="generic", fingerprint="backup/billing-db", status=AlertStatus.FIRING, severity=Severity.CRITICAL,
            title="Nightly backup of billing-db failed",
            labels={"service": "billing", "host": "backup-1", "job": "nightly-backup"},
            annotations={
                "description": "pg_dump exited with status 1: connection refused",
                "image": "https://grafana.example.com/render/d/backup.png",
                "image.2": "https://grafana.example.com/render/d/disk.png",
                "team_note": "restore drill on Friday",
            },
            starts_at=datetime(2026, 12, 1, 2, 0, 13, tzinfo=PLUS1), ends_at=None,
            links=("https://ci.example.com/jobs/nightly-backup/8812", "https://wiki.example.com/runbooks/backup"),
        ),
    ))


def test_golden_ok_list() -> None:
    disk = {"title": "Disk almost full on web-3", "status": "warning", "labels": {"mount": "/var", "host": "web-3"}}
    (disk_firing,) = parse(disk, RECEIVED).events
    assert parse(copy.deepcopy(OK), RECEIVED) == Parsed(events=(
        AlertEvent(
            source="generic", fingerprint="backup/billing-db", status=AlertStatus.RESOLVED, severity=Severity.INFO,
            title="backup/billing-db", labels={}, annotations={}, starts_at=RECEIVED, ends_at=RECEIVED,
        ),
        AlertEvent(
            source="generic", fingerprint=disk_firing.fingerprint, status=AlertStatus.RESOLVED, severity=Severity.INFO,
            title="Disk almost full on web-3", labels={"host": "web-3", "mount": "/var"}, annotations={},
            starts_at=RECEIVED, ends_at=RECEIVED,
        ),
    ))
    assert disk_firing.fingerprint == "312b87c64ebd92ea"


def alert(**fields: Any) -> dict[str, Any]:
    return {"title": "Disk full on db-1", "status": "critical"} | fields


def one(**fields: Any) -> AlertEvent:
    (event,) = parse(alert(**fields), RECEIVED).events
    return event


@pytest.mark.parametrize(("status", "severity", "state"), [
    ("critical", Severity.CRITICAL, AlertStatus.FIRING), ("warning", Severity.WARNING, AlertStatus.FIRING),
    ("info", Severity.INFO, AlertStatus.FIRING), ("ok", Severity.INFO, AlertStatus.RESOLVED),
    ("CRITICAL", Severity.CRITICAL, AlertStatus.FIRING), (" Ok ", Severity.INFO, AlertStatus.RESOLVED),
])
def test_status(status: str, severity: Severity, state: AlertStatus) -> None:
    event = one(status=status)
    assert (event.severity, event.status, event.ends_at) == (severity, state,
                                                             RECEIVED if state is AlertStatus.RESOLVED else None)


def test_derived_key_follows_title_and_labels_not_their_order() -> None:
    key = one(labels={"a": "1", "b": "2"}).fingerprint
    assert key == one(labels={"b": "2", "a": "1"}).fingerprint == one(labels={"a": "1", "b": "2"},
                                                                       title=" Disk  full on db-1").fingerprint
    assert key != one(labels={"a": "1", "b": "3"}).fingerprint
    assert key != one(labels={"a": "1", "b": "2"}, title="Disk full on db-2").fingerprint


def test_an_alert_key_is_used_as_given_or_digested_when_long() -> None:
    assert one(alert_key="job/42").fingerprint == "job/42"
    assert one(alert_key="k" * 129).fingerprint.startswith("sha256:")


def test_a_list_of_alerts() -> None:
    assert parse([], RECEIVED) == Parsed(events=())
    events = parse([alert(), alert(status="ok", alert_key="x")], RECEIVED).events
    assert [event.status for event in events] == [AlertStatus.FIRING, AlertStatus.RESOLVED]
    assert len(parse([alert()] * MAX_ALERTS_PER_REQUEST, RECEIVED).events) == MAX_ALERTS_PER_REQUEST


def test_links_and_images_keep_their_order_once() -> None:
    event = one(links=["https://a.example.com", "http://b.example.com", "https://a.example.com"],
                images=[" https://i.example.com/1.png ", "https://i.example.com/1.png", "HTTPS://i.example.com/2"])
    assert event.links == ("https://a.example.com", "http://b.example.com")
    assert event.annotations == {"image": "https://i.example.com/1.png", "image.2": "HTTPS://i.example.com/2"}


def test_unknown_fields_become_annotations_and_known_ones_win() -> None:
    event = one(runbook="https://wiki.example.com/disk", count=3, extra={"b": [1]}, image="mine", description="d",
                images=["https://i.example.com/1.png"])
    assert event.annotations == {"runbook": "https://wiki.example.com/disk", "count": "3", "extra": '{"b":[1]}',
                                 "image": "https://i.example.com/1.png", "description": "d"}


def test_title_is_one_line_of_at_most_500_characters() -> None:
    assert one(title="Disk\nfull").title == "Disk full"
    assert one(title="x" * 600).title == "x" * 499 + "…"


@pytest.mark.parametrize(("payload", "path"), [
    ("alert", ""), (None, ""), (5, ""), (True, ""),
    ([alert()] * (MAX_ALERTS_PER_REQUEST + 1), ""),
    ([alert(), "alert"], "[1]"),
    ([alert(), None], "[1]"),
    ([alert(), alert(status=None)], "[1].status"),
    ({"title": "Disk full"}, "status"),
    (alert(status="firing"), "status"),
    (alert(status="resolved"), "status"),
    (alert(status=2), "status"),
    (alert(status=["ok"]), "status"),
    (alert(title=None), "title"),
    (alert(title=" "), "title"),
    (alert(title=42), "title"),
    (alert(title="Disk\x00full"), "title"),
    (alert(title="\ud800"), "title"),
    ({"status": "ok"}, "title"),
    ({"status": "ok", "labels": {"host": "web-3"}}, "title"),
    (alert(alert_key=""), "alert_key"),
    (alert(alert_key=" "), "alert_key"),
    (alert(alert_key=7), "alert_key"),
    (alert(description=["x"]), "description"),
    (alert(labels=["host=db-1"]), "labels"),
    (alert(labels="host=db-1"), "labels"),
    (alert(labels={"host": 1}), "labels.host"),
    (alert(labels={"host": None}), "labels.host"),
    (alert(labels={"\udc00": "x"}), "labels"),
    (alert(links="https://a.example.com"), "links"),
    (alert(links=[{"url": "https://a.example.com"}]), "links[0]"),
    (alert(links=["https://a.example.com", "ftp://b.example.com"]), "links[1]"),
    (alert(links=["javascript:alert(1)"]), "links[0]"),
    (alert(links=["https://"]), "links[0]"),
    (alert(images={"src": "https://i.example.com"}), "images"),
    (alert(images=["/relative.png"]), "images[0]"),
    (alert(starts_at="yesterday"), "starts_at"),
    (alert(starts_at="2026-12-01T02:00:13"), "starts_at"),
    (alert(starts_at=1764554284), "starts_at"),
    (alert(extra="\ud800"), "extra"),
    ([alert(), alert(extra={"x": "\ud800"})], "[1].extra"),
    ([alert(), alert(labels={"a": 1})], "[1].labels.a"),
    ([alert(links=[5])], "[0].links[0]"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_malformed_payload_names_the_path(payload: Any, path: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse(payload, RECEIVED)
    assert raised.value.path == path
    assert str(raised.value).startswith(f"{path}: " if path else raised.value.message)


def test_messages_say_what_is_expected() -> None:
    messages = {}
    for name, payload in [("status", alert(status="firing")), ("title", {"status": "ok"}),
                          ("link", alert(links=["ftp://x"])), ("list", [alert()] * 1001)]:
        with pytest.raises(PayloadError) as raised:
            parse(payload, RECEIVED)
        messages[name] = str(raised.value)
    assert messages == {
        "status": "status: must be critical, warning, info or ok, not 'firing'",
        "title": "title: is required for ok without alert_key (the key is derived from it)",
        "link": "links[0]: must be an http:// or https:// URL",
        "list": "at most 1000 alerts per request, not 1001",
    }


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(exclude_categories=())),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a value of the right shape, sometimes any JSON value."""
    return st.integers(0, 4).flatmap(lambda draw: JSON if draw == 0 else good)
URLS = st.lists(st.sampled_from(["https://a.example.com", "http://b", "ftp://c", "https://"]) | JSON, max_size=3)
ALERT_FIELDS = st.fixed_dictionaries({
    "status": mostly(st.sampled_from(["critical", "warning", "info", "ok", "x"])), "title": mostly(st.text(max_size=8)),
}, optional={
    "alert_key": mostly(st.text(max_size=8)), "description": mostly(st.text(max_size=8)),
    "labels": mostly(st.dictionaries(st.text(max_size=8), st.text(st.characters(exclude_categories=()), max_size=8))),
    "links": URLS | JSON, "images": URLS | JSON,
    "starts_at": st.sampled_from(["2026-12-01T02:00:13+01:00", "0001-01-01T00:00:00Z", "2026-12-01"]) | JSON,
    "other": JSON,
})


def parses_or_payload_error(payload: Any) -> None:
    try:
        parsed = parse(payload, RECEIVED)
    except PayloadError:
        return
    for event in parsed.events:
        assert event.starts_at.tzinfo is not None
        json.dumps([event.title, event.fingerprint, dict(event.labels), dict(event.annotations), event.links],
                   ensure_ascii=False).encode("utf-8")


@given(JSON)
def test_arbitrary_json_raises_nothing_but_payload_error(payload: Any) -> None:
    parses_or_payload_error(payload)


@given(ALERT_FIELDS | st.lists(ALERT_FIELDS | JSON, max_size=4))
def test_arbitrary_alerts_raise_nothing_but_payload_error(payload: Any) -> None:
    parses_or_payload_error(payload)
