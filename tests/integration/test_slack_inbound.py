"""Slack callbacks through the real slack-bolt AsyncApp: signed clicks act, forged or replayed ones do not."""

from __future__ import annotations

import json
import re

import pytest

from tests.fakes.slack import FakeSlack
from tests.support import Harness, alert, post_slack, slack_action_form, slack_command_form


async def _paged_incident(harness: Harness) -> int:
    response = await harness.post_alerts([alert()])
    await harness.work()
    return int(response.json()["incidents_created"][0])


async def _status(harness: Harness, incident_id: int) -> dict:
    return (await harness.api("GET", f"/incidents/{incident_id}")).json()


async def test_ack_click_acknowledges_and_updates_every_card(harness: Harness, fake_slack: FakeSlack) -> None:
    incident_id = await _paged_incident(harness)
    posted = fake_slack.calls_to("chat.postMessage")
    assert len(posted) == 2

    body = slack_action_form("UBOB", "ack", incident_id, fake_slack.response_url())
    response = await post_slack(harness.client, body, harness.clock())
    assert response.status_code == 200, response.text

    incident = await _status(harness, incident_id)
    assert incident["status"] == "acknowledged"
    assert incident["acknowledged_by"] == "bob"
    assert any(entry["kind"] == "acknowledged" and entry["actor"] == "bob" for entry in incident["timeline"])

    await harness.work()
    updates = fake_slack.calls_to("chat.update")
    assert sorted((call.params["channel"], call.params["ts"]) for call in updates) == sorted(
        (call_answer["channel"], call_answer["ts"]) for call_answer in
        [{"channel": key[0], "ts": key[1]} for key in fake_slack.messages])
    for call in updates:
        text = json.dumps(call.params["blocks"])
        assert "Acknowledged by Bob" in text
        assert '"action_id": "ack"' not in text  # nothing left to acknowledge
        assert '"action_id": "resolve"' in text


async def test_ack_stops_escalation(harness: Harness, fake_slack: FakeSlack) -> None:
    incident_id = await _paged_incident(harness)
    await post_slack(harness.client, slack_action_form("UALICE", "ack", incident_id, fake_slack.response_url()),
                     harness.clock())
    dms_before = len(fake_slack.calls_to("conversations.open"))
    harness.clock.advance(minutes=6)
    await harness.work()
    assert len(fake_slack.calls_to("conversations.open")) == dms_before
    timeline = [entry["kind"] for entry in (await _status(harness, incident_id))["timeline"]]
    assert timeline.count("escalated") == 1


async def test_resolve_click_resolves_and_updates_cards(harness: Harness, fake_slack: FakeSlack) -> None:
    incident_id = await _paged_incident(harness)
    response = await post_slack(harness.client,
                                slack_action_form("UCAROL", "resolve", incident_id, fake_slack.response_url()),
                                harness.clock())
    assert response.status_code == 200
    incident = await _status(harness, incident_id)
    assert incident["status"] == "resolved" and incident["resolved_at"] is not None
    await harness.work()
    texts = [json.dumps(call.params["blocks"]) for call in fake_slack.calls_to("chat.update")]
    assert len(texts) == 2
    for text in texts:
        assert "Resolved by Carol" in text
        assert '"action_id": "ack"' not in text and '"action_id": "resolve"' not in text


async def test_forged_signature_is_401_and_changes_nothing(harness: Harness, fake_slack: FakeSlack) -> None:
    incident_id = await _paged_incident(harness)
    body = slack_action_form("UBOB", "ack", incident_id, fake_slack.response_url())
    forged = await post_slack(harness.client, body, harness.clock(), secret="not-the-signing-secret")
    assert forged.status_code == 401
    stale = await post_slack(harness.client, body, harness.clock().replace(year=2020))
    assert stale.status_code == 401
    assert (await _status(harness, incident_id))["status"] == "triggered"


async def test_replayed_request_is_401(harness: Harness, fake_slack: FakeSlack) -> None:
    incident_id = await _paged_incident(harness)
    body = slack_action_form("UBOB", "comment", incident_id, fake_slack.response_url())
    from tests.fakes.slack import FakeSlack as Fake

    headers = {**Fake.sign("slack-signing-secret-for-tests", body, int(harness.clock().timestamp())),
               "content-type": "application/x-www-form-urlencoded"}
    first = await harness.client.post("/slack/events", content=body, headers=headers)
    again = await harness.client.post("/slack/events", content=body, headers=headers)
    assert (first.status_code, again.status_code) == (200, 401)


async def test_unbound_person_is_told_how_to_bind(harness: Harness, fake_slack: FakeSlack) -> None:
    incident_id = await _paged_incident(harness)
    response_url = fake_slack.response_url("unbound")
    response = await post_slack(harness.client, slack_action_form("USTRANGER", "ack", incident_id, response_url),
                                harness.clock())
    assert response.status_code == 200
    answers = await fake_slack.async_wait_for_responses(1)
    assert "not bound" in answers[0].body["text"] and "USTRANGER" in answers[0].body["text"]
    assert answers[0].body["response_type"] == "ephemeral"
    assert (await _status(harness, incident_id))["status"] == "triggered"


async def test_comment_opens_modal_and_submission_lands_on_timeline(harness: Harness,
                                                                   fake_slack: FakeSlack) -> None:
    incident_id = await _paged_incident(harness)
    response = await post_slack(harness.client,
                                slack_action_form("UALICE", "comment", incident_id, fake_slack.response_url()),
                                harness.clock())
    assert response.status_code == 200
    view = fake_slack.calls_to("views.open")[0].params["view"]
    assert view["callback_id"] == "comment_modal"
    submission = {"type": "view_submission", "user": {"id": "UALICE", "team_id": "T1"}, "team": {"id": "T1"},
                  "api_app_id": "A1",
                  "view": {**view, "id": "V1", "state": {"values": {"comment": {"text": {
                      "type": "plain_text_input", "value": "DB failover started"}}}}}}
    from urllib.parse import urlencode

    body = urlencode({"payload": json.dumps(submission)}).encode()
    answer = await post_slack(harness.client, body, harness.clock())
    assert answer.status_code == 200
    timeline = (await _status(harness, incident_id))["timeline"]
    assert {"kind": "commented", "actor": "alice", "text": "DB failover started"} in [
        {"kind": e["kind"], "actor": e["actor"], "text": e["data"].get("text")} for e in timeline]


async def test_oncall_command_lists_who_is_on_call(harness: Harness, fake_slack: FakeSlack) -> None:
    body = slack_command_form("UALICE", "CSRE", fake_slack.response_url())
    response = await post_slack(harness.client, body, harness.clock())
    assert response.status_code == 200
    text = response.text
    assert "On call now" in text and "SRE:" in text
    assert any(name in text for name in ("Alice", "Bob", "Carol"))
    assert "next (from " in text  # the weekly rotation always has a next handoff
    link = re.search(r"<(http://127\.0\.0\.1:8080/schedules/sre\?token=[^|>]+)\|Open the schedule calendar>", text)
    assert link is not None
    page = await harness.client.get(link.group(1).replace("http://127.0.0.1:8080", ""))
    assert page.status_code == 200 and "SRE" in page.text


async def test_oncall_in_a_linked_channel_shows_only_its_schedules(db_url: str, fake_slack: FakeSlack) -> None:
    from tests.support import base_config, start_harness

    raw = base_config(slack_api_url=fake_slack.api_url)
    raw["channels"].append({"id": "dba-slack", "platform": "slack", "chat_id": "CDBA"})
    raw["schedules"].append({"id": "dba", "name": "DBA", "notify": {"channels": ["dba-slack"]},
                             "layers": [{"name": "only", "members": ["carol"], "start": "2026-01-01T00:00",
                                         "rotation": {"every": 1, "unit": "day"}}]})
    async for harness in start_harness(db_url, raw):
        linked = await post_slack(harness.client, slack_command_form("UALICE", "CDBA", fake_slack.response_url()),
                                  harness.clock())
        assert "DBA: Carol" in linked.text and "SRE:" not in linked.text
        harness.clock.advance(seconds=1)  # a new signature, not a replay
        unlinked = await post_slack(harness.client,
                                    slack_command_form("UALICE", "CSRE", fake_slack.response_url()), harness.clock())
        assert "DBA: Carol" in unlinked.text and "SRE:" in unlinked.text


MALFORMED = [
    b"garbage", b"payload=notjson", b"", b"command=%2Foncall&user_id=UALICE",
    b"payload=" + json.dumps({"type": "block_actions"}).encode(),
    b"payload=%7B%22type%22%3A%22view_submission%22%7D",
    b'{"type": "event_callback", "event": {"type": "app_mention"}}',
    b"payload=" + json.dumps({"type": "block_actions", "user": {"id": "UALICE"},
                              "actions": [{"action_id": "ack", "value": "99999999999999999999999"}]}).encode(),
    b"payload=" + json.dumps({"type": "block_actions", "user": {"id": "UALICE"},  # no response_url
                              "actions": [{"action_id": "ack", "value": "7"}]}).encode(),
]


@pytest.mark.parametrize("body", MALFORMED, ids=range(len(MALFORMED)))
@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "application/json"])
async def test_signed_but_malformed_requests_never_get_500(harness: Harness, body: bytes, content_type: str) -> None:
    await harness.post_alerts([alert()])
    response = await post_slack(harness.client, body, harness.clock(), content_type=content_type)
    assert response.status_code < 500, response.text
    assert (await _status(harness, 1))["status"] == "triggered"
