"""The alert pipeline over HTTP: routing, drop rules, silences and inhibit rules, on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config import ConfigError, parse_config
from tests.support import FakeClock, Harness, base_config, start_harness

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai, the account's zone
KEY = "generic-pipeline-key-0001"


def _config() -> dict[str, Any]:
    config = base_config()
    payments = config["services"][0]
    payments["grouping"] = {"by": ["host"]}
    payments["integrations"].append({
        "kind": "generic", "key": KEY,
        "route": {"cases": [{"if": [[{"key": "labels.team", "in": ["dba"]}]], "service": "db"}]},
    })
    payments["drop"] = [{"name": "staging", "if": [[{"key": "labels.env", "in": ["staging"]}]]}]
    payments["silences"] = [
        {"name": "db-1 maintenance", "if": [[{"key": "labels.host", "in": ["db-1"]}]],
         "once": {"start": "2026-11-25T17:00", "end": "2026-11-25T19:00"}},
        {"name": "noise", "if": [[{"key": "labels.noise", "in": ["yes"]}]], "action": "drop",
         "weekly": [["mon 00:00", "mon 00:00"]]},
    ]
    payments["inhibit"] = [{"name": "node down", "source": [[{"key": "labels.alertname", "in": ["NodeDown"]}]],
                            "target": [[{"key": "severity", "in": ["warning"]}]], "equal": ["host"]}]
    config["services"].append({"id": "db", "name": "Database", "escalation_policy": "default"})
    return config


@pytest.fixture
async def pipeline(db_url: str) -> AsyncIterator[Harness]:
    async for running in start_harness(db_url, _config(), FakeClock(START)):
        yield running


async def _post(harness: Harness, title: str, status: str = "critical", **labels: str) -> dict[str, Any]:
    body = {"title": title, "status": status, "alert_key": f"{title}/{labels.get('host', '')}", "labels": labels}
    answer = await harness.client.post(f"/hooks/generic/{KEY}", json=body)
    assert answer.status_code == 202, answer.text
    return answer.json()


async def _incidents(harness: Harness) -> list[dict[str, Any]]:
    return (await harness.api("GET", "/incidents")).json()["incidents"]


async def test_routing_sends_an_alert_to_the_service_its_case_names(pipeline: Harness) -> None:
    await _post(pipeline, "replication lag", team="dba", host="db-9")
    await _post(pipeline, "disk full", host="web-1")
    services = sorted((item["service"], item["title"]) for item in await _incidents(pipeline))
    assert services == [("db", "replication lag"), ("payments", "disk full")]


async def test_a_drop_rule_leaves_no_trace_but_a_counter(pipeline: Harness) -> None:
    answer = await _post(pipeline, "disk full", env="staging", host="stg-1")
    assert (answer["alerts"], answer["dropped"], answer["incidents_created"]) == (0, 1, [])
    assert await _incidents(pipeline) == []
    assert (await pipeline.api("GET", "/alerts")).json()["alerts"] == []
    assert 'dutybot_alerts_dropped_total{rule="drop:staging"} 1.0' in (await pipeline.client.get("/metrics")).text
    # a recovery is never dropped: it still reaches (here: finds no) alert, and is counted as received
    assert (await _post(pipeline, "disk full", "ok", env="staging", host="stg-1"))["dropped"] == 0


async def test_a_silenced_alert_is_kept_marked_and_pages_nobody_until_the_silence_ends(pipeline: Harness) -> None:
    answer = await _post(pipeline, "disk full", host="db-1")
    assert (answer["muted"], answer["incidents_created"]) == (1, [])
    assert await _incidents(pipeline) == []
    assert await pipeline.work() == 0  # nothing to send
    [alert] = (await pipeline.api("GET", "/alerts?muted=true")).json()["alerts"]
    assert (alert["muted_by"], alert["incident_id"], alert["status"]) == ("silence:db-1 maintenance", None, "firing")

    pipeline.clock.advance(hours=1)  # 19:00 local: the window is over; the tool sends the alert again
    answer = await _post(pipeline, "disk full", host="db-1")
    assert answer["muted"] == 0 and len(answer["incidents_created"]) == 1
    [alert] = (await pipeline.api("GET", "/alerts")).json()["alerts"]
    assert (alert["muted_by"], alert["incident_id"]) == (None, answer["incidents_created"][0])


async def test_a_silenced_alert_recovers_quietly(pipeline: Harness) -> None:
    await _post(pipeline, "disk full", host="db-1")
    await _post(pipeline, "disk full", "ok", host="db-1")
    [alert] = (await pipeline.api("GET", "/alerts")).json()["alerts"]
    assert (alert["status"], alert["incident_id"]) == ("resolved", None)
    assert await _incidents(pipeline) == []


async def test_a_silence_with_action_drop(pipeline: Harness) -> None:
    assert (await _post(pipeline, "flaky probe", noise="yes", host="web-2"))["dropped"] == 1
    assert (await pipeline.api("GET", "/alerts")).json()["alerts"] == []


async def test_an_inhibited_alert_waits_behind_its_source(pipeline: Harness) -> None:
    await _post(pipeline, "node down", alertname="NodeDown", host="web-1")
    answer = await _post(pipeline, "high latency", "warning", host="web-1")
    assert (answer["muted"], answer["incidents_created"]) == (1, [])
    other_host = await _post(pipeline, "high latency", "warning", host="web-2")
    assert other_host["muted"] == 0 and len(other_host["incidents_created"]) == 1
    [muted] = (await pipeline.api("GET", "/alerts?muted=true")).json()["alerts"]
    assert (muted["labels"]["host"], muted["muted_by"]) == ("web-1", "inhibit:node down")

    await _post(pipeline, "node down", "ok", alertname="NodeDown", host="web-1")
    pipeline.clock.advance(minutes=10, seconds=1)  # the source recovered more than 10 minutes ago
    answer = await _post(pipeline, "high latency", "warning", host="web-1")
    assert answer["muted"] == 0 and len(answer["incidents_created"]) == 1


@pytest.mark.parametrize(("change", "path"), [
    (lambda s: s.__setitem__("drop", [{"name": "x", "if": [[{"key": "colour", "in": ["red"]}]]}]),
     "services[0].drop[0].if[0][0].key"),
    (lambda s: s["integrations"][1]["route"]["cases"][0].__setitem__("service", "nope"),
     "services[0].integrations[1].route.cases[0].service"),
    (lambda s: s["silences"][0].__setitem__("once", {"start": "2026-11-25T19:00", "end": "2026-11-25T17:00"}),
     "services[0].silences[0].once"),
    (lambda s: s["inhibit"][0].__setitem__("equal", ["labels.host"]), "services[0].inhibit[0].equal[0]"),
])
def test_a_bad_pipeline_rule_is_refused_with_its_path(change: Any, path: str) -> None:
    import yaml

    config = _config()
    change(config["services"][0])
    with pytest.raises(ConfigError) as caught:
        parse_config(yaml.safe_dump(config))
    assert any(error.startswith(path) for error in caught.value.errors), caught.value.errors


async def test_one_request_firing_recovering_and_firing_a_muted_alert_keeps_both_alerts(pipeline: Harness) -> None:
    body = {"title": "disk full", "alert_key": "dup", "labels": {"host": "db-1"}}
    answer = await pipeline.client.post(f"/hooks/generic/{KEY}", json=[{**body, "status": "critical"},
                                                                       {**body, "status": "ok"},
                                                                       {**body, "status": "critical"}])
    assert answer.status_code == 202, answer.text
    alerts = (await pipeline.api("GET", "/alerts")).json()["alerts"]
    assert sorted(alert["status"] for alert in alerts) == ["firing", "resolved"]
    assert {alert["muted_by"] for alert in alerts} == {"silence:db-1 maintenance"}
