"""Outbound webhooks over the real outbox and a local receiver that checks every signature: the events of an
incident arrive in order, each with its own event_id, signed; failures are retried with the same event_id;
a permanent refusal is on the timeline; filters hold."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.config import ConfigError
from tests.fakes.slack import FakeSlack
from tests.fakes.webhook import FakeWebhookReceiver
from tests.support import Harness, alert, base_config, start_harness, to_config

SECRET = "webhook-signing-secret-0123456789"


@pytest.fixture
def receiver() -> Iterator[FakeWebhookReceiver]:
    with FakeWebhookReceiver(SECRET) as fake:
        yield fake


def _config(fake_slack: FakeSlack, receiver: FakeWebhookReceiver, **hook: Any) -> dict[str, Any]:
    raw = base_config(slack_api_url=fake_slack.api_url)
    raw["webhooks"] = [{"id": "ops", "url": receiver.url, "secret": SECRET, **hook}]
    return raw


@pytest.fixture
async def hooked(db_url: str, fake_slack: FakeSlack, receiver: FakeWebhookReceiver) -> AsyncIterator[Harness]:
    async for harness in start_harness(db_url, _config(fake_slack, receiver)):
        yield harness


async def _settle(harness: Harness, seconds: int = 0) -> None:
    """Worker passes, then `seconds` more of the fake clock a second at a time (retries come due)."""
    await harness.work()
    for _ in range(seconds):
        harness.clock.advance(seconds=1)
        await harness.work()


async def test_an_incidents_events_arrive_in_order_signed_and_each_once(hooked: Harness,
                                                                       receiver: FakeWebhookReceiver) -> None:
    await hooked.post_alerts([alert()])
    await _settle(hooked)
    for path, body in (("/incidents/1/ack", None), ("/incidents/1/comments", {"body": "disk cleaned"}),
                       ("/incidents/1/resolve", {"root_cause": "logs"})):
        await hooked.api("POST", path, json=body)
        await _settle(hooked)  # the worker is woken right after each commit, as in `dutybot serve`
    assert all(delivery.status == 204 for delivery in receiver.deliveries)  # every signature checked out
    bodies = receiver.accepted
    assert [body["event"] for body in bodies] == ["incident.triggered", "incident.escalated",
                                                  "incident.acknowledged", "incident.commented",
                                                  "incident.resolved"]
    assert len({body["event_id"] for body in bodies}) == 5
    acked = bodies[2]
    assert (acked["actor"], acked["data"]["via"]) == ("alice", "api")
    assert (acked["incident"]["id"], acked["incident"]["status"], acked["incident"]["acknowledged_by"]) == (
        1, "acknowledged", "alice")
    assert bodies[4]["data"]["root_cause"] == "logs" and bodies[4]["incident"]["status"] == "resolved"
    headers = receiver.deliveries[0].headers
    assert headers["x-dutybot-event"] == "incident.triggered"
    assert headers["x-dutybot-event-id"] == bodies[0]["event_id"]


async def test_a_failing_receiver_gets_the_same_event_again_until_it_takes_it(
        hooked: Harness, receiver: FakeWebhookReceiver) -> None:
    receiver.answer_next(503, times=2)
    receiver.answer_next(429, retry_after="5")
    await hooked.post_alerts([alert()])
    await _settle(hooked, 30)
    by_event: dict[str, list[int]] = {}
    for delivery in receiver.deliveries:
        by_event.setdefault(delivery.body["event_id"], []).append(delivery.status)
    # two events (triggered, escalated) shared the three failures; each was sent again with the same event_id
    # until it was taken, and taken once
    assert len(by_event) == 2 and all(statuses[-1] == 204 and statuses.count(204) == 1
                                      for statuses in by_event.values())
    assert sorted(status for statuses in by_event.values() for status in statuses) == [204, 204, 429, 503, 503]
    assert sorted(body["event"] for body in receiver.accepted) == ["incident.escalated", "incident.triggered"]
    kinds = [e["kind"] for e in (await hooked.api("GET", "/incidents/1")).json()["timeline"]]
    assert "notify_failed" not in kinds


async def test_a_refused_delivery_stops_and_is_on_the_timeline_without_the_url(
        hooked: Harness, receiver: FakeWebhookReceiver) -> None:
    receiver.answer_next(400)
    await hooked.post_alerts([alert()])
    await _settle(hooked, 20)
    assert [d.status for d in receiver.deliveries if d.body["event"] == "incident.triggered"] == [400]
    failed = [e for e in (await hooked.api("GET", "/incidents/1")).json()["timeline"] if e["kind"] == "notify_failed"]
    assert [(e["data"]["platform"], e["data"]["to"], e["data"]["error"]) for e in failed] == [
        ("webhook", "ops", "webhook ops: HTTP 400")]
    assert receiver.url not in str(failed)


async def test_a_receiver_that_is_down_is_retried(db_url: str, fake_slack: FakeSlack,
                                                  receiver: FakeWebhookReceiver) -> None:
    raw = _config(fake_slack, receiver)
    raw["webhooks"][0]["url"] = "http://127.0.0.1:9/nothing-listens-here"
    async for harness in start_harness(db_url, raw):
        await harness.post_alerts([alert()])
        await _settle(harness, 5)
        timeline = (await harness.api("GET", "/incidents/1")).json()["timeline"]
        assert "notify_failed" not in [e["kind"] for e in timeline]  # still retrying, not given up


async def test_events_and_services_filter(db_url: str, fake_slack: FakeSlack, receiver: FakeWebhookReceiver) -> None:
    raw = _config(fake_slack, receiver, events=["incident.resolved"], services=["payments"])
    raw["services"].append({**raw["services"][0], "id": "search", "name": "Search",
                            "integrations": [{"kind": "alertmanager", "key": "am-search-key-0123456789"}]})
    async for harness in start_harness(db_url, raw):
        await harness.post_alerts([alert()])
        await harness.post_alerts([alert("Other", fingerprint="s")], key="am-search-key-0123456789")
        await _settle(harness)
        for incident_id in (1, 2):
            await harness.api("POST", f"/incidents/{incident_id}/resolve")
        await _settle(harness)
        assert [(body["event"], body["incident"]["service"]) for body in receiver.accepted] == [
            ("incident.resolved", "payments")]


@pytest.mark.parametrize(("hook", "fragment"), [
    ({"id": "ops", "url": "http://x.example/h"}, "webhooks[0]: a webhook needs secret"),
    ({"id": "ops", "secret": SECRET}, "webhooks[0]: a webhook needs url"),
    ({"id": "ops", "url": "ftp://x.example/h", "secret": SECRET}, "webhooks[0].url"),
    ({"id": "ops", "url": "http://x.example/h", "secret": SECRET, "events": ["incident.exploded"]},
     "webhooks[0].events: unknown event 'incident.exploded'"),
    ({"id": "ops", "url": "http://x.example/h", "secret": SECRET, "services": ["nope"]},
     "webhooks[0].services[0]: no service 'nope'"),
    ({"id": "ops", "url": "http://x.example/h", "secret": "short"}, "webhooks[0].secret"),
])
def test_bad_webhook_config_names_the_path(hook: dict[str, Any], fragment: str) -> None:
    raw = base_config()
    raw["webhooks"] = [hook]
    with pytest.raises(ConfigError) as raised:
        to_config(raw)
    assert any(fragment in line for line in raised.value.errors), raised.value.errors
    assert SECRET not in str(raised.value)
