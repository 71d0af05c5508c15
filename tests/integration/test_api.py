"""The REST API: bearer tokens, the incident shape, filters, actions as the token's user."""

from __future__ import annotations

from datetime import datetime

from tests.support import Harness, alert

FIELDS = {"id", "number", "title", "status", "severity", "service", "alert_count", "labels", "created_at",
          "acknowledged_at", "acknowledged_by", "resolved_at", "snoozed_until", "description"}


async def test_tokens_are_required(harness: Harness) -> None:
    assert (await harness.client.get("/api/v1/incidents")).status_code == 401
    wrong = await harness.client.get("/api/v1/incidents", headers={"authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"


async def test_list_shape_order_and_status_filter(harness: Harness) -> None:
    await harness.post_alerts([alert("A", fingerprint="a")])
    harness.clock.advance(seconds=1)
    await harness.post_alerts([alert("B", fingerprint="b", severity="warning")])
    listing = (await harness.api("GET", "/incidents")).json()["incidents"]
    assert [item["title"] for item in listing] == ["B on prod", "A on prod"]
    assert set(listing[0]) == FIELDS
    first = listing[1]
    assert (first["status"], first["severity"], first["service"], first["alert_count"]) == (
        "triggered", "critical", "payments", 1)
    assert first["labels"]["alertname"] == "A"
    assert datetime.fromisoformat(first["created_at"]).tzinfo is not None

    acked = await harness.api("POST", f"/incidents/{first['id']}/ack")
    assert acked.status_code == 200 and acked.json()["incident"]["acknowledged_by"] == "alice"
    only_acked = (await harness.api("GET", "/incidents", params={"status": "acknowledged"})).json()["incidents"]
    assert [item["title"] for item in only_acked] == ["A on prod"]
    bad = await harness.api("GET", "/incidents", params={"status": "sleeping"})
    assert bad.status_code == 422


async def test_detail_has_timeline_and_actions_are_idempotent(harness: Harness) -> None:
    await harness.post_alerts([alert()])
    assert (await harness.api("POST", "/incidents/1/ack")).json()["changed"] is True
    assert (await harness.api("POST", "/incidents/1/ack")).json()["changed"] is False
    comment = await harness.api("POST", "/incidents/1/comments", json={"body": "looking"})
    assert comment.status_code == 201
    assert (await harness.api("POST", "/incidents/1/resolve")).json()["incident"]["status"] == "resolved"
    detail = (await harness.api("GET", "/incidents/1")).json()
    kinds = [entry["kind"] for entry in detail["timeline"]]
    assert kinds == ["created", "acknowledged", "commented", "resolved"]
    assert detail["timeline"][2]["data"]["text"] == "looking"


async def test_bad_requests_are_clear_errors(harness: Harness) -> None:
    assert (await harness.api("GET", "/incidents/999")).status_code == 404
    assert (await harness.api("POST", "/incidents/999/ack")).status_code == 404
    assert (await harness.api("GET", "/incidents/not-a-number")).status_code == 422
    await harness.post_alerts([alert()])
    assert (await harness.api("POST", "/incidents/1/comments", json={"body": ""})).status_code == 422
    assert (await harness.api("POST", "/incidents/1/comments", content=b"{")).status_code == 422


async def test_openapi_and_health(harness: Harness) -> None:
    schema = (await harness.client.get("/openapi.json")).json()
    paths = {"/api/v1/incidents", "/api/v1/incidents/{incident_id}", "/api/v1/incidents/{incident_id}/ack",
             "/api/v1/incidents/{incident_id}/resolve", "/api/v1/incidents/{incident_id}/comments",
             *(f"/api/v1/incidents/{{incident_id}}/{action}" for action in ("unack", "snooze", "wake", "reopen"))}
    assert paths <= set(schema["paths"])
    assert (await harness.client.get("/healthz")).json() == {"status": "ok"}
    ready = await harness.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["migrations"]["current"] == ready.json()["migrations"]["head"]
    await harness.post_alerts([alert()])
    metrics = (await harness.client.get("/metrics")).text
    assert 'dutybot_alerts_received_total{source="alertmanager"} 1.0' in metrics


async def test_ids_out_of_range_are_422_not_500(harness: Harness) -> None:
    for path in ("/incidents/99999999999999999999", "/incidents/0", "/incidents/-1"):
        assert (await harness.api("GET", path)).status_code == 422, path
    assert (await harness.api("POST", "/incidents/99999999999/ack")).status_code == 422
    assert (await harness.api("GET", "/incidents", params={"offset": 10**12})).status_code == 422
