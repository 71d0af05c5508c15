"""core/sources/pagerduty.py: PagerDuty Events API v2 and v1 bodies → neutral alert events and PagerDuty's answer."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import Parsed, PayloadError
from core.sources.pagerduty import parse, parse_v1, parse_v2

# The bodies are the example request payloads of PagerDuty's developer documentation: "Send an Alert Event"
# (Events API v2, docs/events-API-v2/02-Trigger-Events.md: trigger, acknowledge, resolve) and "Send a v1 Event"
# (Events API v1, docs/events-API-v1/02-Trigger-Events.md: the trigger without an incident_key), as published in
# github.com/PagerDuty/developer-docs. The answers follow the same pages' "200 Event Processed" examples.
FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"
V2_TRIGGER = json.loads((FIXTURES / "pagerduty_v2_trigger.json").read_text(encoding="utf-8"))
V2_ACKNOWLEDGE = json.loads((FIXTURES / "pagerduty_v2_acknowledge.json").read_text(encoding="utf-8"))
V2_RESOLVE = json.loads((FIXTURES / "pagerduty_v2_resolve.json").read_text(encoding="utf-8"))
V1_TRIGGER = json.loads((FIXTURES / "pagerduty_v1_trigger.json").read_text(encoding="utf-8"))
RECEIVED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
DETAILS = {"details.ping time": "1500ms", "details.load avg": "0.75"}


def v2_reply(key: str) -> dict[str, str]:
    return {"status": "success", "message": "Event processed", "dedup_key": key}


def v1_reply(key: str) -> dict[str, str]:
    return {"status": "success", "message": "Event processed", "incident_key": key}


def test_golden_v2_trigger() -> None:
    assert parse(copy.deepcopy(V2_TRIGGER), RECEIVED) == Parsed(
        events=(AlertEvent(
            source="pagerduty", fingerprint="samplekeyhere", status=AlertStatus.FIRING, severity=Severity.INFO,
            title="Example alert on host1.example.com",
            labels={"source": "monitoringtool:cloudvendor:central-region-dc-01:852559987:cluster/api-stats-prod-003",
                    "component": "postgres", "group": "prod-datapipe", "class": "deploy"},
            annotations=DETAILS | {
                "client": "Sample Monitoring Service",
                "image": "https://www.pagerduty.com/wp-content/uploads/2016/05/pagerduty-logo-green.png"},
            starts_at=datetime(2015, 7, 17, 8, 42, 58, 315000, tzinfo=UTC),  # "2015-07-17T08:42:58.315+0000"
            ends_at=None,
            links=("https://example.com/", "https://monitoring.example.com"),
        ),),
        reply=v2_reply("samplekeyhere"), status=202,
    )


def test_golden_v2_acknowledge() -> None:
    assert parse(copy.deepcopy(V2_ACKNOWLEDGE), RECEIVED) == Parsed(
        events=(), acknowledged=("dedupkeyhere",), reply=v2_reply("dedupkeyhere"), status=202)


def test_golden_v2_resolve() -> None:
    assert parse(copy.deepcopy(V2_RESOLVE), RECEIVED) == Parsed(
        events=(AlertEvent(
            source="pagerduty", fingerprint="dedupkeyhere", status=AlertStatus.RESOLVED, severity=Severity.WARNING,
            title="dedupkeyhere", labels={}, annotations={}, starts_at=RECEIVED, ends_at=RECEIVED, links=(),
        ),),
        reply=v2_reply("dedupkeyhere"), status=202,
    )


# the v1 example has no incident_key: PagerDuty makes a random one, Dutybot one from the receive time and the body
V1_KEY = "127d4b3510627951ad76090fcafa07ea"


def test_golden_v1_trigger() -> None:
    assert parse(copy.deepcopy(V1_TRIGGER), RECEIVED) == Parsed(
        events=(AlertEvent(
            source="pagerduty", fingerprint=V1_KEY, status=AlertStatus.FIRING, severity=Severity.CRITICAL,
            title="FAILURE for production/HTTP on machine srv01.acme.com", labels={},
            annotations=DETAILS | {
                "client": "Sample Monitoring Service",
                "image": "https://chart.googleapis.com/chart?chs=600x400&chd=t:6,2,9,5,2,5,7,4,8,2,1&cht=lc&chds=a"
                         "&chxt=y&chm=D,0033FF,0,0,5,1"},
            starts_at=RECEIVED, ends_at=None,
            links=("http://acme.pagerduty.com", "https://monitoring.service.com"),
        ),),
        reply=v1_reply(V1_KEY), status=200,
    )


@pytest.mark.parametrize(("action", "parsed"), [
    ("acknowledge", Parsed(events=(), acknowledged=("srv01/HTTP",), reply=v1_reply("srv01/HTTP"), status=200)),
    ("resolve", Parsed(events=(AlertEvent(
        source="pagerduty", fingerprint="srv01/HTTP", status=AlertStatus.RESOLVED, severity=Severity.WARNING,
        title="srv01/HTTP", labels={}, annotations={}, starts_at=RECEIVED, ends_at=RECEIVED),),
        reply=v1_reply("srv01/HTTP"), status=200)),
])
def test_v1_acknowledge_and_resolve(action: str, parsed: Parsed) -> None:
    body = {"service_key": "e93facc04764012d7bfb002500d5d1a6", "event_type": action, "incident_key": "srv01/HTTP"}
    assert parse(body, RECEIVED) == parse_v1(body, RECEIVED) == parsed


def test_the_body_picks_the_version() -> None:
    assert parse(copy.deepcopy(V2_TRIGGER), RECEIVED) == parse_v2(copy.deepcopy(V2_TRIGGER), RECEIVED)
    assert parse(copy.deepcopy(V1_TRIGGER), RECEIVED) == parse_v1(copy.deepcopy(V1_TRIGGER), RECEIVED)


def trigger(**payload: Any) -> dict[str, Any]:
    body = {"summary": "Disk full on db-1", "source": "db-1", "severity": "error"} | payload
    return {"routing_key": "R0UT1NGKEY", "event_action": "trigger",
            "payload": {name: value for name, value in body.items() if value is not None}}


def one(body: dict[str, Any]) -> AlertEvent:
    (event,) = parse(body, RECEIVED).events
    return event


def test_a_trigger_without_dedup_key_gets_a_key_from_the_instant_and_the_body() -> None:
    first = parse(trigger(), RECEIVED)
    key = first.events[0].fingerprint
    assert len(key) == 32 and first.reply == v2_reply(key)
    assert parse(trigger(), RECEIVED) == first                             # the same request twice: one alert
    assert one_key(trigger(), RECEIVED + timedelta(seconds=1)) != key      # a retry later: another, as in PagerDuty
    assert one_key(trigger(summary="Disk full on db-2"), RECEIVED) != key  # another body: another alert
    assert len(one_key(trigger() | {"dedup_key": ""}, RECEIVED)) == 32     # an empty key is no key


def one_key(body: dict[str, Any], received_at: datetime) -> str:
    (event,) = parse(body, received_at).events
    return event.fingerprint


def test_trigger_acknowledge_and_resolve_share_the_key() -> None:
    long_key = "k" * 200  # longer than a stored key: stored as a digest, answered as sent
    fired = parse(trigger() | {"dedup_key": long_key}, RECEIVED)
    acknowledged = parse({"event_action": "acknowledge", "dedup_key": long_key}, RECEIVED)
    resolved = parse({"event_action": "resolve", "dedup_key": long_key}, RECEIVED)
    assert fired.events[0].fingerprint.startswith("sha256:")
    assert acknowledged.acknowledged == (fired.events[0].fingerprint,) == (resolved.events[0].fingerprint,)
    assert fired.reply == acknowledged.reply == resolved.reply == v2_reply(long_key)


@pytest.mark.parametrize(("word", "severity"), [
    ("critical", Severity.CRITICAL), ("error", Severity.CRITICAL), ("warning", Severity.WARNING),
    ("info", Severity.INFO), ("Critical", Severity.CRITICAL), (" warning ", Severity.WARNING),
])
def test_severity_mapping(word: str, severity: Severity) -> None:
    assert one(trigger(severity=word)).severity is severity


def test_summary_is_cut_like_pagerduty_and_kept_when_the_title_cannot_show_it() -> None:
    event = one(trigger(summary="x" * 1500))
    assert event.title == "x" * 499 + "…"
    assert event.annotations == {"summary": "x" * 1024}
    multiline = one(trigger(summary="Disk full\non db-1"))
    assert (multiline.title, multiline.annotations) == ("Disk full on db-1", {"summary": "Disk full\non db-1"})
    assert one(trigger()).annotations == {}


def test_a_resolve_uses_its_summary_when_it_has_a_clean_one() -> None:
    def title(payload: Any) -> str:
        return one({"event_action": "resolve", "dedup_key": "k1", "payload": payload}).title
    assert title({"summary": "Disk full on db-1"}) == "Disk full on db-1"
    assert title({"summary": "\ud800"}) == title({"summary": 5}) == title("junk") == title(None) == "k1"
    assert one({"event_type": "resolve", "incident_key": "k1", "description": "Disk full"}).title == "Disk full"


@pytest.mark.parametrize(("details", "annotations"), [
    ({"disk": {"used": 0.97, "mount": "/"}, "ok": False, "none": None},
     {"details.disk": '{"mount":"/","used":0.97}', "details.ok": "false", "details.none": ""}),
    ("free text details", {"details": "free text details"}),
    ([1, "two"], {"details": '[1,"two"]'}),
    (None, {}),
])
def test_custom_details_become_annotations(details: Any, annotations: dict[str, str]) -> None:
    assert one(trigger(custom_details=details)).annotations == annotations


@pytest.mark.parametrize(("timestamp", "starts_at"), [
    ("2026-12-01T09:58:04.123+08:00", datetime(2026, 12, 1, 1, 58, 4, 123000, tzinfo=UTC)),
    ("2026-12-01T01:58:04Z", datetime(2026, 12, 1, 1, 58, 4, tzinfo=UTC)),
    (1764554284, datetime(2025, 12, 1, 1, 58, 4, tzinfo=UTC)),
    (1764554284000, datetime(2025, 12, 1, 1, 58, 4, tzinfo=UTC)),
    (None, RECEIVED), ("", RECEIVED),
])
def test_timestamp(timestamp: Any, starts_at: datetime) -> None:
    assert one(trigger(timestamp=timestamp)).starts_at == starts_at


def test_links_images_and_what_is_ignored() -> None:
    body = trigger() | {
        "routing_key": {"not": "read"}, "future_field": [1],
        "links": [{"href": "https://a.example.com"}, {"text": "no href"}, {"href": "https://a.example.com"},
                  {"href": "javascript:alert(1)"}, {"href": "HTTP://B.example.com"}],
        "images": [{"alt": "no src"}, {"src": "data:image/png;base64,AAAA"}, {"src": "https://img.example.com/1.png"},
                   {"src": "https://img.example.com/2"}],
        "client_url": "https://a.example.com",
    }
    event = one(body)
    assert event.links == ("https://a.example.com", "HTTP://B.example.com")
    assert event.annotations == {"image": "https://img.example.com/1.png"}
    assert one(trigger() | {"client_url": "monitoring.example.com"}).links == ()


def test_acknowledge_and_resolve_read_nothing_but_the_key() -> None:
    noise = {"payload": "junk", "links": "junk", "images": 5, "client_url": ["x"], "dedup_key": "k1"}
    assert parse({"event_action": "acknowledge"} | noise, RECEIVED).acknowledged == ("k1",)
    assert one({"event_action": "resolve"} | noise).status is AlertStatus.RESOLVED


V1 = {"event_type": "trigger", "description": "Disk full"}
V2 = {"event_action": "trigger", "payload": {"summary": "Disk full", "source": "db-1", "severity": "error"}}


def v2(**fields: Any) -> dict[str, Any]:
    return V2 | fields


@pytest.mark.parametrize(("payload", "path"), [
    ([], ""), ("trigger", ""), (None, ""), (3, ""),
    ({}, "event_action"),
    ({"routing_key": "R0UT1NGKEY"}, "event_action"),
    (v2(event_action=None), "event_action"),
    (v2(event_action="create"), "event_action"),
    (v2(event_action="Trigger"), "event_action"),
    (v2(event_action=["trigger"]), "event_action"),
    (v2(dedup_key=42), "dedup_key"),
    (v2(dedup_key="k" * 256), "dedup_key"),
    (v2(dedup_key="\udfff"), "dedup_key"),
    ({"event_action": "acknowledge"}, "dedup_key"),
    ({"event_action": "resolve", "dedup_key": ""}, "dedup_key"),
    (v2(payload=None), "payload"),
    (v2(payload="Disk full"), "payload"),
    (v2(payload={"source": "db-1", "severity": "error"}), "payload.summary"),
    (v2(payload={"summary": " ", "source": "db-1", "severity": "error"}), "payload.summary"),
    (v2(payload={"summary": ["Disk full"], "source": "db-1", "severity": "error"}), "payload.summary"),
    (v2(payload={"summary": "Disk full", "severity": "error"}), "payload.source"),
    (v2(payload={"summary": "Disk full", "source": "db-1"}), "payload.severity"),
    (v2(payload={"summary": "Disk full", "source": "db-1", "severity": "high"}), "payload.severity"),
    (v2(payload={"summary": "Disk full", "source": "db-1", "severity": 1}), "payload.severity"),
    (v2(payload=V2["payload"] | {"component": 5}), "payload.component"),
    (v2(payload=V2["payload"] | {"class": {"a": 1}}), "payload.class"),
    (v2(payload=V2["payload"] | {"timestamp": "yesterday"}), "payload.timestamp"),
    (v2(payload=V2["payload"] | {"timestamp": "2026-12-01T01:58:04"}), "payload.timestamp"),
    (v2(payload=V2["payload"] | {"timestamp": True}), "payload.timestamp"),
    (v2(payload=V2["payload"] | {"custom_details": {"a": "\ud800"}}), "payload.custom_details.a"),
    (v2(payload=V2["payload"] | {"custom_details": "\x00"}), "payload.custom_details"),
    (v2(links={"href": "https://a.example.com"}), "links"),
    (v2(links=["https://a.example.com"]), "links[0]"),
    (v2(links=[{"href": 5}]), "links[0].href"),
    (v2(images=[{"src": "https://a.example.com"}, {"src": None}, {"src": ["x"]}]), "images[2].src"),
    (v2(client=5), "client"),
    (v2(client_url=["https://a.example.com"]), "client_url"),
    ({"event_type": "create"}, "event_type"),
    ({"event_type": 1}, "event_type"),
    ({"event_type": "trigger"}, "description"),
    ({"event_type": "resolve"}, "incident_key"),
    ({"event_type": "acknowledge", "incident_key": 7}, "incident_key"),
    (V1 | {"incident_key": "k" * 256}, "incident_key"),
    (V1 | {"description": None}, "description"),
    (V1 | {"details": {"a": "\ud800"}}, "details.a"),
    (V1 | {"contexts": {"type": "link"}}, "contexts"),
    (V1 | {"contexts": ["https://a.example.com"]}, "contexts[0]"),
    (V1 | {"contexts": [{"type": "link", "href": 5}]}, "contexts[0].href"),
    (V1 | {"contexts": [{"type": "image", "src": False}]}, "contexts[0].src"),
], ids=lambda value: value if isinstance(value, str) else None)
def test_malformed_payload_names_the_path(payload: Any, path: str) -> None:
    with pytest.raises(PayloadError) as raised:
        parse(payload, RECEIVED)
    assert raised.value.path == path


def test_v1_contexts_of_unknown_types_and_urls_are_skipped() -> None:
    event = one(V1 | {"contexts": [{"type": "graph", "href": 5}, {"href": "https://no-type.example.com"},
                                   {"type": "link", "href": "mailto:oncall@example.com"},
                                   {"type": "image", "src": "chart.png"}]})
    assert (event.links, event.annotations) == ((), {})


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(exclude_categories=())),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def mostly(good: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Usually a value of the right shape, sometimes any JSON value."""
    return st.integers(0, 4).flatmap(lambda draw: JSON if draw == 0 else good)
KEYS = mostly(st.text(max_size=8))
TIMES = st.sampled_from(["2015-07-17T08:42:58.315+0000", "0001-01-01T00:00:00Z", "", "2026-13-01T00:00Z"])
PAYLOAD = st.fixed_dictionaries({
    "summary": mostly(st.text(max_size=8)), "source": mostly(st.text(max_size=8)),
    "severity": mostly(st.sampled_from(["critical", "error", "warning", "info", "high"])),
}, optional={
    "timestamp": TIMES | JSON, "component": JSON, "group": JSON, "class": JSON, "custom_details": JSON,
})
CONTEXT = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["link", "image"]) | JSON, "href": JSON, "src": JSON, "text": JSON, "alt": JSON})
ACTIONS = st.sampled_from(["trigger", "acknowledge", "resolve"])
V2_FIELDS = st.fixed_dictionaries({"event_action": mostly(ACTIONS)}, optional={
    "routing_key": JSON, "dedup_key": KEYS, "payload": mostly(PAYLOAD), "images": mostly(st.lists(CONTEXT, max_size=3)),
    "links": mostly(st.lists(CONTEXT, max_size=3)), "client": JSON, "client_url": JSON, "extra": JSON,
})
V1_FIELDS = st.fixed_dictionaries({"event_type": mostly(ACTIONS)}, optional={
    "service_key": JSON, "incident_key": KEYS, "description": mostly(st.text(max_size=8)), "details": JSON,
    "client": JSON, "client_url": JSON, "contexts": mostly(st.lists(CONTEXT, max_size=3)),
})


def parses_or_payload_error(payload: Any) -> None:
    try:
        parsed = parse(payload, RECEIVED)
    except PayloadError:
        return
    json.dumps(parsed.reply, ensure_ascii=False).encode("utf-8")
    for event in parsed.events:
        assert event.starts_at.tzinfo is not None
        json.dumps([event.title, event.fingerprint, dict(event.labels), dict(event.annotations), event.links],
                   ensure_ascii=False).encode("utf-8")


@given(JSON)
def test_arbitrary_json_raises_nothing_but_payload_error(payload: Any) -> None:
    parses_or_payload_error(payload)


@given(V2_FIELDS | V1_FIELDS)
def test_arbitrary_events_raise_nothing_but_payload_error(payload: dict[str, Any]) -> None:
    parses_or_payload_error(payload)
