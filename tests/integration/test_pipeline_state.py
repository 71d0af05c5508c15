"""The pipeline stages that keep state in the database: grouping windows and caps, storm warnings, flapping,
auto-resolve."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.fakes.slack import FakeSlack
from tests.support import FakeClock, Harness, base_config, start_harness

START = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
KEY = "generic-state-key-00001"

Configure = Callable[[dict[str, Any]], AsyncIterator[Harness]]


@pytest.fixture
def configured(db_url: str, fake_slack: FakeSlack) -> Configure:
    async def start(service: dict[str, Any]) -> AsyncIterator[Harness]:
        config = base_config(slack_api_url=fake_slack.api_url)
        config["services"][0]["integrations"].append({"kind": "generic", "key": KEY})
        config["services"][0].update(service)
        async for running in start_harness(db_url, config, FakeClock(START)):
            yield running
    return start


async def _fire(harness: Harness, key: str, status: str = "critical", **labels: str) -> dict[str, Any]:
    body = {"title": f"{key} is down", "status": status, "alert_key": key, "labels": {"job": "api", **labels}}
    answer = await harness.client.post(f"/hooks/generic/{KEY}", json=body)
    assert answer.status_code == 202, answer.text
    return answer.json()


async def _incidents(harness: Harness) -> list[dict[str, Any]]:
    return sorted((await harness.api("GET", "/incidents")).json()["incidents"], key=lambda item: item["id"])


async def _timeline(harness: Harness, incident_id: int) -> list[dict[str, Any]]:
    return (await harness.api("GET", f"/incidents/{incident_id}")).json()["timeline"]


async def test_a_tumbling_window_closes_an_incident_to_new_alerts(configured: Configure) -> None:
    async for harness in configured({"grouping": {"by": ["job"], "window": {"tumbling": "30m"}}}):
        first = (await _fire(harness, "a"))["incidents_created"]
        harness.clock.advance(minutes=20)
        assert (await _fire(harness, "b"))["incidents_created"] == []  # joins: 20 minutes after the start
        harness.clock.advance(minutes=10)
        second = (await _fire(harness, "c"))["incidents_created"]   # 30 minutes after the start: a new one
        assert len(first) == 1 and len(second) == 1 and first != second
        incidents = await _incidents(harness)
        assert [(item["alert_count"], item["status"]) for item in incidents] == [(2, "triggered"), (1, "triggered")]
        assert "grouping_closed" in [entry["kind"] for entry in await _timeline(harness, first[0])]


async def test_a_sliding_window_stays_open_while_alerts_keep_coming(configured: Configure) -> None:
    async for harness in configured({"grouping": {"by": ["job"], "window": {"sliding": "10m"}}}):
        await _fire(harness, "a")
        for key in "bcd":
            harness.clock.advance(minutes=9)
            assert (await _fire(harness, key))["incidents_created"] == []
        harness.clock.advance(minutes=10)
        assert len((await _fire(harness, "e"))["incidents_created"]) == 1


async def test_a_cap_on_alerts_per_incident(configured: Configure) -> None:
    async for harness in configured({"grouping": {"by": ["job"], "max_alerts": 2}, "storm_warnings": "off"}):
        for key in "abcde":
            await _fire(harness, key)
        assert [item["alert_count"] for item in await _incidents(harness)] == [2, 2, 1]


async def test_grouping_by_cases(configured: Configure) -> None:
    grouping = {"cases": [{"name": "db", "if": [[{"key": "labels.team", "in": ["dba"]}]], "by": ["cluster"]}],
                "default_by": ["job"]}
    async for harness in configured({"grouping": grouping}):
        await _fire(harness, "a", team="dba", cluster="c1")
        await _fire(harness, "b", team="dba", cluster="c1", job="other")   # case db: by cluster only
        await _fire(harness, "c", team="web", cluster="c1")                # default: by job
        await _fire(harness, "d", team="web", cluster="c2")
        assert [item["alert_count"] for item in await _incidents(harness)] == [2, 2]


async def test_storm_warnings_are_written_and_sent_once_per_threshold(configured: Configure,
                                                                      fake_slack: FakeSlack) -> None:
    async for harness in configured({"grouping": {"by": ["job"]}, "storm_warnings": [3, 5]}):
        for key in "abcdef":
            await _fire(harness, key)
        [incident] = await _incidents(harness)
        warnings = [entry["data"]["alerts"] for entry in await _timeline(harness, incident["id"])
                    if entry["kind"] == "storm_warning"]
        assert warnings == [3, 5]
        await _fire(harness, "f")  # a repeated report is no new alert: no new warning
        await harness.work()
        for _ in range(2):  # the channel takes one message a second (core/delivery.py): the card, then each warning
            harness.clock.advance(seconds=1)
            await harness.work()
        texts = [call.params["text"] for call in fake_slack.calls_to("chat.postMessage")
                 if call.params.get("channel") == "CSRE" and "storm" in str(call.params.get("text", "")).lower()]
        assert len(texts) == 2 and "holds 3 alerts" in texts[0] and "holds 5 alerts" in texts[1]


async def test_storm_warnings_go_to_the_channels_of_the_policy_the_rule_picked(db_url: str,
                                                                                fake_slack: FakeSlack) -> None:
    config = base_config(slack_api_url=fake_slack.api_url)
    config["channels"].append({"id": "dba-slack", "platform": "slack", "chat_id": "CDBA"})
    config["escalation_policies"].append({"id": "db", "steps": [
        {"after": "0m", "notify": [{"user": "bob"}], "via": ["dm", "dba-slack"]}]})
    service = config["services"][0]
    service["integrations"].append({"kind": "generic", "key": KEY})
    service.update({"grouping": {"by": ["job"]}, "storm_warnings": [3], "escalation_rules": [
        {"name": "databases", "if": [[{"key": "labels.job", "in": ["db"]}]], "policy": "db"}]})
    async for harness in start_harness(db_url, config, FakeClock(START)):
        for key in "abc":
            await _fire(harness, key, job="db")
        for _ in range(3):
            await harness.work()
            harness.clock.advance(seconds=1)
        storm = [call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")
                 if "storm" in str(call.params.get("text", "")).lower()]
        assert storm == ["CDBA"]  # the db policy's channel, not the default policy's CSRE


async def test_flapping_alert_then_mute(configured: Configure) -> None:
    flapping = {"changes": 3, "within": "30m", "mode": "alert-then-mute"}
    async for harness in configured({"flapping": flapping}):
        await _fire(harness, "a")
        harness.clock.advance(minutes=1)
        await _fire(harness, "a", "ok")
        harness.clock.advance(minutes=1)
        third = await _fire(harness, "a")   # three changes in 2 minutes: it flaps, and says so once
        assert third["muted"] == 0 and len(third["incidents_created"]) == 1
        kinds = [entry["kind"] for entry in await _timeline(harness, third["incidents_created"][0])]
        assert "alert_flapping" in kinds
        harness.clock.advance(minutes=1)
        await _fire(harness, "a", "ok")
        harness.clock.advance(minutes=1)
        fifth = await _fire(harness, "a")   # still flapping: muted
        assert fifth["muted"] == 1 and fifth["incidents_created"] == []
        [alert] = (await harness.api("GET", "/alerts?muted=true")).json()["alerts"]
        assert alert["muted_by"] == "flapping"

        harness.clock.advance(hours=2)      # quiet for longer than `within`: no longer flapping
        await _fire(harness, "a", "ok")
        assert len((await _fire(harness, "a"))["incidents_created"]) == 1


async def test_auto_resolve_after_a_quiet_timeout_even_when_acknowledged(configured: Configure) -> None:
    async for harness in configured({"auto_resolve": {"after": "1h"}}):
        [incident_id] = (await _fire(harness, "a"))["incidents_created"]
        assert (await harness.api("POST", f"/incidents/{incident_id}/ack")).status_code == 200
        harness.clock.advance(minutes=50)
        await _fire(harness, "a")              # the tool reports it again: the hour starts over
        harness.clock.advance(minutes=50)
        await harness.work()
        assert (await _incidents(harness))[0]["status"] == "acknowledged"
        harness.clock.advance(minutes=11)
        await harness.work()
        [incident] = await _incidents(harness)
        assert incident["status"] == "resolved"
        resolved = [entry for entry in await _timeline(harness, incident_id) if entry["kind"] == "resolved"]
        assert resolved[0]["actor"] == "auto-resolve"


async def test_recovered_alerts_can_leave_the_incident_open(configured: Configure) -> None:
    async for harness in configured({"auto_resolve": {"when_alerts_recover": False}}):
        await _fire(harness, "a")
        answer = await _fire(harness, "a", "ok")
        assert answer["incidents_resolved"] == []
        assert (await _incidents(harness))[0]["status"] == "triggered"
