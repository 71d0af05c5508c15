"""core/sources/uptime_kuma.py: Uptime Kuma's Webhook notification → neutral alert events."""

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
from core.sources.uptime_kuma import parse

# The payloads follow Uptime Kuma 2.0's Webhook provider with "Request Body: Preset - application/json"
# (server/notification-providers/webhook.js posts {heartbeat, monitor, msg}; heartbeat is Heartbeat.toJSON() plus
# the timezone, timezoneOffset and localDateTime fields Monitor.sendNotification adds; monitor is
# Monitor.toJSON() without sensitive data). Kuma documents the body only by that code and the wiki's
# "Notification Methods" page, so the field list is the code's.
FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"
DOWN = json.loads((FIXTURES / "uptime_kuma_down.json").read_text(encoding="utf-8"))
UP = json.loads((FIXTURES / "uptime_kuma_up.json").read_text(encoding="utf-8"))
RECEIVED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

LABELS = {"team": "sre", "production": "", "monitor_id": "7", "monitor_name": "Checkout API", "monitor_type": "http",
          "monitor_url": "https://shop.example.com/api/health"}


def test_golden_down_notification() -> None:
    assert parse(copy.deepcopy(DOWN), RECEIVED) == Parsed(events=(
        AlertEvent(
            source="uptime-kuma", fingerprint="uptime-kuma:monitor:7", status=AlertStatus.FIRING,
            severity=Severity.CRITICAL, title="Checkout API: timeout of 48000ms exceeded",
            labels=LABELS,
            annotations={"summary": "[Checkout API] [🔴 Down] timeout of 48000ms exceeded",
                         "message": "timeout of 48000ms exceeded",
                         "description": "Public checkout endpoint behind the load balancer"},
            starts_at=datetime(2026, 12, 1, 1, 58, 4, 123000, tzinfo=UTC), ends_at=None,
            links=("https://shop.example.com/api/health",),
        ),
    ))


def test_golden_up_notification_resolves_the_same_key() -> None:
    at = datetime(2026, 12, 1, 2, 20, 19, 456000, tzinfo=UTC)
    assert parse(copy.deepcopy(UP), RECEIVED) == Parsed(events=(
        AlertEvent(
            source="uptime-kuma", fingerprint="uptime-kuma:monitor:7", status=AlertStatus.RESOLVED,
            severity=Severity.INFO, title="Checkout API: 200 - OK",
            labels=LABELS,
            annotations={"summary": "[Checkout API] [✅ Up] 200 - OK", "message": "200 - OK",
                         "description": "Public checkout endpoint behind the load balancer", "ping_ms": "182"},
            starts_at=at, ends_at=at,
            links=("https://shop.example.com/api/health",),
        ),
    ))


def notification(status: int = 0, heartbeat: dict[str, Any] | None = None, **monitor: Any) -> dict[str, Any]:
    return {
        "heartbeat": {"monitorID": 3, "status": status, "time": "2026-12-01 01:58:04.123", "msg": "down"}
        | (heartbeat or {}),
        "monitor": {"id": 3, "name": "db", "type": "port", "hostname": "db.internal", "port": 5432,
                    "url": "https://"} | monitor,
        "msg": "[db] [🔴 Down] down",
    }


def only(payload: dict[str, Any]) -> AlertEvent:
    (event,) = parse(payload, RECEIVED).events
    return event


@pytest.mark.parametrize("body", [
    {"heartbeat": None, "monitor": None, "msg": "Dutybot Testing"},
    {"msg": "Dutybot Testing"},
    {"heartbeat": None, "monitor": None,
     "msg": "[Checkout API][https://shop.example.com] TLS certificate shop.example.com will expire in 14 days"},
    {},
])
def test_a_body_without_heartbeat_is_a_test_or_notice_and_opens_nothing(body: dict[str, Any]) -> None:
    assert parse(body, RECEIVED) == Parsed(events=(), reply={"ok": True, "test": True})


@pytest.mark.parametrize(("status", "expected"), [
    (0, (AlertStatus.FIRING, Severity.CRITICAL)),
    (1, (AlertStatus.RESOLVED, Severity.INFO)),
    (2, (AlertStatus.FIRING, Severity.WARNING)),
])
def test_status_mapping(status: int, expected: tuple[AlertStatus, Severity]) -> None:
    event = only(notification(status))
    assert (event.status, event.severity) == expected
    assert event.fingerprint == "uptime-kuma:monitor:3"


def test_maintenance_gives_no_event() -> None:
    assert parse(notification(3), RECEIVED) == Parsed(events=())


def test_non_http_monitor_labels_and_no_link() -> None:
    event = only(notification())
    assert event.labels == {"monitor_id": "3", "monitor_name": "db", "monitor_type": "port",
                            "monitor_hostname": "db.internal", "monitor_port": "5432"}
    assert event.links == ()


def test_tags_become_labels_and_repeated_tags_join_their_values() -> None:
    tags = [{"name": "team", "value": "sre"}, {"name": "env", "value": "prod"}, {"name": "team", "value": "dba"},
            {"name": "team", "value": "sre"}, {"name": " ", "value": "x"}, {"name": "shard", "value": 3},
            {"name": "monitor_name", "value": "the monitor's own fields win"}]
    event = only(notification(tags=tags))
    assert event.labels == {"team": "sre,dba", "env": "prod", "shard": "3", "monitor_id": "3", "monitor_name": "db",
                            "monitor_type": "port", "monitor_hostname": "db.internal", "monitor_port": "5432"}


@pytest.mark.parametrize(("time", "expected"), [
    ("2026-12-01 01:58:04.123", datetime(2026, 12, 1, 1, 58, 4, 123000, tzinfo=UTC)),
    ("2026-12-01 01:58:04", datetime(2026, 12, 1, 1, 58, 4, tzinfo=UTC)),
    ("2026-12-01T09:58:04+08:00", datetime(2026, 12, 1, 9, 58, 4, tzinfo=timezone(timedelta(hours=8)))),
    ("2026-12-01T01:58:04.5Z", datetime(2026, 12, 1, 1, 58, 4, 500000, tzinfo=UTC)),
    (None, RECEIVED),
    ("", RECEIVED),
])
def test_heartbeat_time_is_utc_unless_it_says_otherwise(time: str | None, expected: datetime) -> None:
    # Kuma 2's timezone fields describe localDateTime, not time: they change nothing
    heartbeat = {"time": time, "timezone": "Asia/Shanghai", "timezoneOffset": "+08:00"}
    assert only(notification(heartbeat=heartbeat)).starts_at == expected


@pytest.mark.parametrize(("name", "reason", "summary", "title"), [
    ("db", "connect ECONNREFUSED", "[db] [🔴 Down] connect ECONNREFUSED", "db: connect ECONNREFUSED"),
    ("db", "N/A", "[db] [🔴 Down] ", "db"),
    ("db", "", "x", "db"),
    (None, "connect ECONNREFUSED", "[db] [🔴 Down] connect ECONNREFUSED", "[db] [🔴 Down] connect ECONNREFUSED"),
    (None, "connect ECONNREFUSED", "", "connect ECONNREFUSED"),
    (None, "", "", "Uptime Kuma monitor 3"),
])
def test_title(name: str | None, reason: str, summary: str, title: str) -> None:
    payload = notification(heartbeat={"msg": reason}, name=name)
    payload["msg"] = summary
    assert only(payload).title == title


def test_monitor_id_falls_back_to_the_heartbeats() -> None:
    payload = notification(heartbeat={"monitorID": 12})
    payload["monitor"] = None
    event = only(payload)
    assert (event.fingerprint, event.labels) == ("uptime-kuma:monitor:12", {"monitor_id": "12"})


def test_unknown_fields_are_ignored() -> None:
    payload = copy.deepcopy(DOWN)
    payload["futureField"] = {"x": [1, 2]}
    payload["heartbeat"]["end_time"] = None
    payload["monitor"]["conditions"] = [{"variable": "record", "operator": "contains", "value": "x"}]
    assert parse(payload, RECEIVED) == parse(copy.deepcopy(DOWN), RECEIVED)


def with_monitor(**fields: Any) -> dict[str, Any]:
    payload = notification()
    payload["monitor"] = fields
    return payload


def with_heartbeat(**fields: Any) -> dict[str, Any]:
    payload = notification()
    payload["heartbeat"] = fields
    return payload


@pytest.mark.parametrize(("payload", "path"), [
    ([], ""),
    ("down", ""),
    (None, ""),
    ({"heartbeat": None, "msg": 5}, "msg"),
    ({"heartbeat": None, "msg": "\ud800"}, "msg"),
    ({"heartbeat": "down"}, "heartbeat"),
    ({"heartbeat": [0]}, "heartbeat"),
    (notification() | {"monitor": "db"}, "monitor"),
    (notification() | {"monitor": [3]}, "monitor"),
    (with_heartbeat(monitorID=3), "heartbeat.status"),
    (with_heartbeat(monitorID=3, status=None), "heartbeat.status"),
    (with_heartbeat(monitorID=3, status="0"), "heartbeat.status"),
    (with_heartbeat(monitorID=3, status=True), "heartbeat.status"),
    (with_heartbeat(monitorID=3, status=4), "heartbeat.status"),
    (with_heartbeat(monitorID=3, status=0.0), "heartbeat.status"),
    (with_heartbeat(status=0) | {"monitor": None}, "monitor.id"),
    (with_monitor(id=3, port=[5432]), "monitor.port"),
    (with_monitor(id=3, description={"text": "x"}), "monitor.description"),
    (with_monitor(id=3, type=False), "monitor.type"),
    (with_monitor(id=True, name="db") | {"heartbeat": {"status": 0}}, "monitor.id"),
    (with_monitor(id=[3]), "monitor.id"),
    (with_monitor(id=" "), "monitor.id"),
    (with_monitor() | {"heartbeat": {"status": 0, "monitorID": {"id": 3}}}, "heartbeat.monitorID"),
    (with_heartbeat(monitorID=3, status=0, time="yesterday"), "heartbeat.time"),
    (with_heartbeat(monitorID=3, status=0, time=1796090284), "heartbeat.time"),
    (with_heartbeat(monitorID=3, status=0, time="2026-13-01 00:00:00"), "heartbeat.time"),
    (with_heartbeat(monitorID=3, status=0, time="0001-01-01T00:00:00+05:00"), "heartbeat.time"),
    (with_heartbeat(monitorID=3, status=0, time=["2026-12-01 01:58:04"]), "heartbeat.time"),
    (with_heartbeat(monitorID=3, status=0, msg=["timeout"]), "heartbeat.msg"),
    (with_heartbeat(monitorID=3, status=0, msg="nul\x00"), "heartbeat.msg"),
    (with_monitor(id=3, name="nul\x00"), "monitor.name"),
    (with_monitor(id=3, tags="team=sre"), "monitor.tags"),
    (with_monitor(id=3, tags=["team"]), "monitor.tags[0]"),
    (with_monitor(id=3, tags=[{"name": 5, "value": "x"}]), "monitor.tags[0].name"),
    (with_monitor(id=3, tags=[{"name": "team", "value": "\udfff"}]), "monitor.tags[0].value"),
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
HEARTBEAT = st.fixed_dictionaries({}, optional={
    "status": st.integers(-1, 4) | JSON, "monitorID": st.integers() | TEXT | JSON,
    "time": st.sampled_from(["2026-12-01 01:58:04.123", "2026-12-01T01:58:04Z", "", "2026-13-01"]) | TEXT | JSON,
    "msg": TEXT | JSON, "ping": st.floats() | JSON,
})
MONITOR = st.fixed_dictionaries({}, optional={
    "id": st.integers() | TEXT | JSON, "name": TEXT | JSON, "url": st.sampled_from(["https://", "https://x"]) | JSON,
    "type": TEXT | JSON, "hostname": JSON, "port": JSON, "description": JSON,
    "tags": st.lists(st.fixed_dictionaries({}, optional={"name": TEXT | JSON, "value": TEXT | JSON}) | JSON,
                     max_size=3) | JSON,
})


def parses_or_payload_error(payload: Any) -> None:
    try:
        parsed = parse(payload, RECEIVED)
    except PayloadError:
        return
    assert len(parsed.events) <= 1
    for event in parsed.events:
        assert event.source == "uptime-kuma"
        assert event.starts_at.tzinfo is not None
        assert all(link.lower().startswith(("http://", "https://")) for link in event.links)
        json.dumps([event.title, event.fingerprint, dict(event.labels), dict(event.annotations), event.links],
                   ensure_ascii=False).encode("utf-8")


@given(JSON)
def test_arbitrary_json_raises_nothing_but_payload_error(payload: Any) -> None:
    parses_or_payload_error(payload)


@given(HEARTBEAT | JSON, MONITOR | JSON, TEXT | JSON)
def test_arbitrary_notifications_raise_nothing_but_payload_error(heartbeat: Any, monitor: Any, msg: Any) -> None:
    parses_or_payload_error({"heartbeat": heartbeat, "monitor": monitor, "msg": msg})
