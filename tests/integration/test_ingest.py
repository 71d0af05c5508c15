"""Alertmanager ingest over HTTP: dedup by fingerprint, grouping by labels, resolution, bad input."""

from __future__ import annotations

import json
import logging

import pytest

from tests.fakes.slack import FakeSlack
from tests.support import ALERTMANAGER_KEY, Harness, alert, alertmanager_payload, rename_table


async def _incidents(harness: Harness) -> list[dict]:
    return (await harness.api("GET", "/incidents")).json()["incidents"]


async def test_same_fingerprint_is_one_alert(harness: Harness) -> None:
    for _ in range(3):
        assert (await harness.post_alerts([alert(fingerprint="same")])).status_code == 202
    incidents = await _incidents(harness)
    assert [(item["id"], item["alert_count"]) for item in incidents] == [(1, 1)]


async def test_grouping_by_labels(harness: Harness) -> None:
    await harness.post_alerts([alert("HighCPU", fingerprint="a", instance="db-1"),
                               alert("HighCPU", fingerprint="b", instance="db-2"),
                               alert("HighCPU", fingerprint="c", cluster="staging"),
                               alert("DiskFull", fingerprint="d")])
    incidents = {(item["labels"]["alertname"], item["labels"]["cluster"]): item["alert_count"]
                 for item in await _incidents(harness)}
    assert incidents == {("HighCPU", "prod"): 2, ("HighCPU", "staging"): 1, ("DiskFull", "prod"): 1}


async def test_severity_only_rises_and_title_stays(harness: Harness) -> None:
    await harness.post_alerts([alert(fingerprint="a", severity="warning")])
    await harness.post_alerts([alert(fingerprint="b", severity="critical", instance="x")])
    await harness.post_alerts([alert(fingerprint="c", severity="info", instance="y")])
    [incident] = await _incidents(harness)
    assert (incident["severity"], incident["alert_count"], incident["title"]) == ("critical", 3, "HighCPU on prod")


async def test_incident_resolves_when_all_its_alerts_resolve(harness: Harness) -> None:
    await harness.post_alerts([alert(fingerprint="a", instance="1"), alert(fingerprint="b", instance="2")])
    await harness.post_alerts([alert(fingerprint="a", status="resolved", instance="1")])
    assert (await _incidents(harness))[0]["status"] == "triggered"
    response = await harness.post_alerts([alert(fingerprint="b", status="resolved", instance="2")])
    assert response.json()["incidents_resolved"] == [1]
    [incident] = await _incidents(harness)
    assert incident["status"] == "resolved" and incident["resolved_at"] is not None
    # the same alert firing again opens a new incident
    await harness.post_alerts([alert(fingerprint="a", instance="1")])
    assert [item["status"] for item in await _incidents(harness)] == ["triggered", "resolved"]


async def test_resolved_incident_stops_escalation(harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.post_alerts([alert(status="resolved")])
    harness.clock.advance(minutes=10)
    await harness.work()
    assert fake_slack.calls_to("chat.postMessage") == []  # the first step was cancelled before it fired


@pytest.mark.parametrize(("body", "content_type", "status", "fragment"), [
    (b"{not json", "application/json", 400, "not valid JSON"),
    (b"[]", "application/json", 400, "JSON object"),
    (json.dumps({"alerts": "x"}).encode(), "application/json", 400, "alerts"),
    (json.dumps(alertmanager_payload([{"labels": {"a": 1}, "startsAt": "2026-01-01T00:00:00Z"}])).encode(),
     "application/json", 400, "alerts[0].labels.a"),
    (json.dumps(alertmanager_payload([{"labels": {}, "startsAt": "yesterday"}])).encode(),
     "application/json", 400, "alerts[0].startsAt"),
    (b"<xml/>", "application/xml", 415, "application/json"),
    (b"{" + b" " * (5 * 1024 * 1024) + b"}", "application/json", 413, "larger"),
])
async def test_bad_bodies_get_clear_errors_and_change_nothing(harness: Harness, body: bytes, content_type: str,
                                                              status: int, fragment: str) -> None:
    response = await harness.client.post(f"/hooks/alertmanager/{ALERTMANAGER_KEY}", content=body,
                                         headers={"content-type": content_type})
    assert response.status_code == status
    error = response.json()
    assert fragment in error["error"] + error.get("path", "")
    assert await _incidents(harness) == []


async def test_unknown_key_or_source(harness: Harness) -> None:
    payload = alertmanager_payload([alert()])
    assert (await harness.client.post("/hooks/alertmanager/wrong-key-000000000", json=payload)).status_code == 401
    assert (await harness.client.post(f"/hooks/nagios/{ALERTMANAGER_KEY}", json=payload)).status_code == 404
    assert await _incidents(harness) == []


@pytest.mark.parametrize("where", ["labels", "annotations", "fingerprint"])
async def test_nul_characters_are_400_on_every_database(harness: Harness, where: str) -> None:
    item = alert()
    if where == "fingerprint":
        item["fingerprint"] = "fp\u0000x"
    else:
        item[where]["evil"] = "a\u0000b"
    response = await harness.post_alerts([item])
    assert response.status_code == 400 and "NUL" in response.json()["error"]
    assert await _incidents(harness) == []


async def test_odd_integration_keys_are_401(harness: Harness) -> None:
    payload = alertmanager_payload([alert()])
    for key in ("%00", "k" * 5000, "%E2%98%83", "a%2Fb"):
        response = await harness.client.post(f"/hooks/alertmanager/{key}", json=payload)
        assert response.status_code in (401, 404), (key, response.status_code)


async def test_the_links_a_tool_sends_are_kept(harness: Harness) -> None:
    await harness.post_alerts([alert(fingerprint="linked")])
    [stored] = (await harness.api("GET", "/alerts")).json()["alerts"]
    assert stored["links"] == ["http://prometheus.local/graph"]


async def test_a_storage_failure_is_503_with_retry_after_and_logs_no_key(harness: Harness,
                                                                        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    await rename_table(harness, "alerts", "alerts_away")  # a real failure of the write, as when the database is broken
    try:
        answer = await harness.post_alerts([alert(fingerprint="lost?")])
    finally:
        await rename_table(harness, "alerts_away", "alerts")
    assert (answer.status_code, answer.headers["retry-after"]) == (503, "5")
    assert "send them again" in answer.json()["error"]
    assert ALERTMANAGER_KEY not in caplog.text and "storing alertmanager alerts failed" in caplog.text
    assert (await harness.post_alerts([alert(fingerprint="lost?")])).status_code == 202  # the sender's retry
    [incident] = (await harness.api("GET", "/incidents")).json()["incidents"]
    assert incident["alert_count"] == 1
