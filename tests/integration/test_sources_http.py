"""Every source over HTTP: the tool's documented payload opens an incident, its recovery resolves it, and a
key of another source is refused. The payloads are the golden files of the parsers' unit tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import Harness, base_config, start_harness

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "sources"
KEYS = {kind: f"{kind.replace('-', '')}-key-0123456789" for kind in
        ("grafana", "uptime-kuma", "nightingale", "zabbix", "pagerduty", "generic", "feishu-robot",
         "dingtalk-robot", "wecom-robot")}

# source, firing payload, resolving payload, the incident's title, alerts in the firing payload
CASES = [
    ("grafana", "grafana_firing", "grafana_resolved", "Memory above 90% in zone us-1", 2),
    ("uptime-kuma", "uptime_kuma_down", "uptime_kuma_up", "Checkout API: timeout of 48000ms exceeded", 1),
    ("nightingale", "nightingale_event", "nightingale_recovered", "CPU usage above 90% (db-1)", 1),
    ("zabbix", "zabbix_problem", "zabbix_recovery", "High CPU utilization (over 90% for 5m)", 1),
    ("generic", "generic_firing", "generic_ok", "Nightly backup of billing-db failed", 1),
]


def _body(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


@pytest.fixture
async def sources(db_url: str) -> AsyncIterator[Harness]:
    config = base_config()
    config["services"][0]["grouping"] = {"by": []}  # one incident per service: every alert of a payload joins it
    config["services"][0]["integrations"] += [{"kind": kind, "key": key} for kind, key in KEYS.items()]
    async for running in start_harness(db_url, config):
        yield running


async def _incidents(harness: Harness) -> list[dict[str, Any]]:
    return (await harness.api("GET", "/incidents")).json()["incidents"]


@pytest.mark.parametrize(("source", "firing", "resolving", "title", "alerts"), CASES)
async def test_a_source_opens_and_resolves_an_incident(sources: Harness, source: str, firing: str, resolving: str,
                                                       title: str, alerts: int) -> None:
    answer = await sources.client.post(f"/hooks/{source}/{KEYS[source]}", json=_body(firing))
    assert answer.status_code == 202, answer.text
    assert answer.json()["alerts"] == alerts
    [incident] = await _incidents(sources)
    assert (incident["title"], incident["status"], incident["alert_count"]) == (title, "triggered", alerts)

    answer = await sources.client.post(f"/hooks/{source}/{KEYS[source]}", json=_body(resolving))
    assert answer.status_code == 202, answer.text
    [incident] = await _incidents(sources)
    expected = "resolved" if alerts == 1 else "triggered"  # Grafana's resolved body recovers one of two alerts
    assert incident["status"] == expected


@pytest.mark.parametrize("source", [case[0] for case in CASES])
async def test_a_key_of_another_source_is_refused(sources: Harness, source: str) -> None:
    other = next(kind for kind in KEYS if kind != source)
    answer = await sources.client.post(f"/hooks/{source}/{KEYS[other]}", json=_body(CASES[0][1]))
    assert answer.status_code == 401
    assert await _incidents(sources) == []


@pytest.mark.parametrize("source", [case[0] for case in CASES])
async def test_a_malformed_body_is_400_with_a_path_and_stores_nothing(sources: Harness, source: str) -> None:
    bad = [{"tags_map": 5}] if source == "nightingale" else [{"labels": 5}]
    answer = await sources.client.post(f"/hooks/{source}/{KEYS[source]}", json=bad)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]
    assert "path" in answer.json()
    assert await _incidents(sources) == []


def _pagerduty(action: str, **payload: str) -> dict[str, Any]:
    body: dict[str, Any] = {"routing_key": "ignored-R0UT1NGK3Y", "event_action": action, "dedup_key": "db-1/disk"}
    if payload:
        body["payload"] = payload
    return body


async def test_pagerduty_trigger_acknowledge_resolve_answer_like_pagerduty(sources: Harness) -> None:
    url = f"/hooks/pagerduty/{KEYS['pagerduty']}"
    trigger = _pagerduty("trigger", summary="Disk full on db-1", source="db-1", severity="critical")
    answer = await sources.client.post(url, json=trigger)
    assert (answer.status_code, answer.json()) == (202, {"status": "success", "message": "Event processed",
                                                         "dedup_key": "db-1/disk"})
    [incident] = await _incidents(sources)
    assert (incident["title"], incident["status"], incident["severity"]) == ("Disk full on db-1", "triggered",
                                                                             "critical")

    answer = await sources.client.post(url, json=_pagerduty("acknowledge"))
    assert answer.status_code == 202 and answer.json()["dedup_key"] == "db-1/disk"
    [incident] = await _incidents(sources)
    assert (incident["status"], incident["acknowledged_by"]) == ("acknowledged", "source:pagerduty")
    timeline = (await sources.api("GET", f"/incidents/{incident['id']}")).json()["timeline"]
    assert [entry["kind"] for entry in timeline][-1] == "acknowledged"

    assert (await sources.client.post(url, json=_pagerduty("resolve"))).status_code == 202
    [incident] = await _incidents(sources)
    assert incident["status"] == "resolved"


async def test_pagerduty_v1_answers_200_with_the_incident_key(sources: Harness) -> None:
    body = {"service_key": "ignored", "event_type": "trigger", "incident_key": "srv01/HTTP",
            "description": "FAILURE for production/HTTP on machine srv01.acme.com"}
    answer = await sources.client.post(f"/hooks/pagerduty/{KEYS['pagerduty']}", json=body)
    assert (answer.status_code, answer.json()) == (200, {"status": "success", "message": "Event processed",
                                                         "incident_key": "srv01/HTTP"})


async def test_pagerduty_acknowledge_of_an_unknown_key_changes_nothing(sources: Harness) -> None:
    answer = await sources.client.post(f"/hooks/pagerduty/{KEYS['pagerduty']}", json=_pagerduty("acknowledge"))
    assert answer.status_code == 202
    assert await _incidents(sources) == []


async def test_pagerduty_refuses_a_trigger_without_severity(sources: Harness) -> None:
    answer = await sources.client.post(f"/hooks/pagerduty/{KEYS['pagerduty']}",
                                       json=_pagerduty("trigger", summary="x", source="db-1"))
    assert (answer.status_code, answer.json()["path"]) == (400, "payload.severity")


async def test_uptime_kuma_test_button_pages_nobody(sources: Harness) -> None:
    body = {"heartbeat": None, "monitor": None, "msg": "Dutybot Testing"}
    answer = await sources.client.post(f"/hooks/uptime-kuma/{KEYS['uptime-kuma']}", json=body)
    assert (answer.status_code, answer.json()) == (202, {"ok": True, "test": True})
    assert await _incidents(sources) == []


ROBOT_BODIES = {
    "feishu-robot": (lambda text: {"msg_type": "text", "content": {"text": text}},
                     {"code": 0, "msg": "success", "data": {}}),
    "dingtalk-robot": (lambda text: {"msgtype": "markdown", "markdown": {"title": text, "text": f"### {text}"}},
                       {"errcode": 0, "errmsg": "ok"}),
    "wecom-robot": (lambda text: {"msgtype": "text", "text": {"content": text}}, {"errcode": 0, "errmsg": "ok"}),
}


@pytest.mark.parametrize("source", list(ROBOT_BODIES))
async def test_a_robot_message_pages_and_its_recovery_resolves(sources: Harness, source: str) -> None:
    body, reply = ROBOT_BODIES[source]
    answer = await sources.client.post(f"/hooks/{source}/{KEYS[source]}", json=body("[FIRING] disk full on db-1"))
    assert (answer.status_code, answer.json()) == (200, reply)
    [incident] = await _incidents(sources)
    assert (incident["title"], incident["status"]) == ("disk full on db-1", "triggered")
    answer = await sources.client.post(f"/hooks/{source}/{KEYS[source]}", json=body("[RESOLVED] disk full on db-1"))
    assert answer.status_code == 200
    [incident] = await _incidents(sources)
    assert incident["status"] == "resolved"
    unknown = await sources.client.post(f"/hooks/{source}/{KEYS[source]}", json={"msgtype": "voice"})
    assert unknown.status_code == 400 and "path" in unknown.json()
