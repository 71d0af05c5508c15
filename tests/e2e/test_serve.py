"""`dutybot serve` as a subprocess, walked over real HTTP: alert → pages → ack in Slack → links → resolve."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

from bot.directory import Directory
from core.schedule import on_call
from tests.e2e.procs import Dutybot, dutybot_serve, free_port, wait_until
from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.fakes.slack import FakeSlack
from tests.support import (
    API_TOKEN,
    BOT_TOKEN,
    SIGNING_SECRET,
    alert,
    alertmanager_payload,
    base_config,
    to_config,
)

SLACK_IDS = {"alice": "UALICE", "bob": "UBOB", "carol": "UCAROL"}


def on_call_now(raw: dict[str, Any]) -> set[str]:
    directory = Directory.from_config(to_config(raw))
    return set(on_call(directory.schedule("sre"), datetime.now(UTC)).users)


def post_alerts(dutybot: Dutybot, alerts: list[dict[str, Any]]) -> httpx.Response:
    return dutybot.http.post(dutybot.integration_url, json=alertmanager_payload(alerts))


def slack_click(dutybot: Dutybot, fake_slack: FakeSlack, user: str, action: str, incident_id: int,
                secret: str = SIGNING_SECRET) -> httpx.Response:
    """A `block_actions` request as Slack sends it: form-encoded `payload`, v0-signed with the time now."""
    card_ts = next(ts for (channel, ts) in fake_slack.messages if channel == "CSRE")
    payload = {
        "type": "block_actions", "token": "verification-token", "api_app_id": "A1", "trigger_id": "111.222",
        "team": {"id": "T1", "domain": "fake"}, "user": {"id": user, "username": user.lower()},
        "container": {"type": "message", "message_ts": card_ts, "channel_id": "CSRE", "is_ephemeral": False},
        "channel": {"id": "CSRE", "name": "sre"}, "message": fake_slack.messages[("CSRE", card_ts)],
        "response_url": fake_slack.response_url(),
        "actions": [{"type": "button", "action_id": action, "block_id": "actions", "value": str(incident_id),
                     "action_ts": f"{time.time():.6f}", "text": {"type": "plain_text", "text": action}}],
    }
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {"content-type": "application/x-www-form-urlencoded",
               **FakeSlack.sign(secret, body, int(time.time()))}
    return dutybot.http.post(f"{dutybot.url}/slack/events", content=body, headers=headers)


def test_alert_to_acknowledged_incident_over_http(tmp_path: Path, fake_slack: FakeSlack,
                                                  fake_robot: FakeDingTalkRobot) -> None:
    port = free_port()
    public_url = f"http://127.0.0.1:{port}"
    raw = base_config(slack_api_url=fake_slack.api_url, dingtalk_webhook=fake_robot.webhook_url,
                      dingtalk_secret=fake_robot.secret, public_url=public_url)
    with dutybot_serve(tmp_path, raw, port, API_TOKEN) as dutybot:
        key = raw["services"][0]["integrations"][0]["key"]
        assert dutybot.integration_url == f"{public_url}/hooks/alertmanager/{key}"

        # an Alertmanager v4 firing alert: stored, then step 1 pages the on-call by DM, channel and robot
        expected_on_call = on_call_now(raw)
        response = post_alerts(dutybot, [alert()])
        assert response.status_code == 202, response.text
        [incident_id] = response.json()["incidents_created"]
        opened = fake_slack.wait_for("conversations.open", timeout=15)
        dm_user = opened[0].params["users"]
        assert dm_user in {SLACK_IDS[user] for user in expected_on_call}
        posts = fake_slack.wait_for("chat.postMessage", count=2, timeout=15)
        assert sorted(call.params["channel"] for call in posts) == sorted(["CSRE", "D" + dm_user])
        for call in posts:
            blocks = json.dumps(call.params["blocks"])
            assert "HighCPU on prod" in blocks and "Acknowledge" in blocks and "Resolve" in blocks
        [card] = fake_robot.wait_for(timeout=15)
        assert card["msgtype"] == "actionCard"
        links = {button["title"]: button["actionURL"] for button in card["actionCard"]["btns"]}
        assert links and all(url.startswith(f"{public_url}/a/") for url in links.values()), links
        ack_link = links["Acknowledge"]
        assert dutybot.incident(incident_id)["status"] == "triggered"

        # a chat app prefetching the link: a confirm page, no change
        confirm = dutybot.http.get(ack_link)
        assert confirm.status_code == 200, confirm.text
        assert "<form" in confirm.text and "Acknowledge" in confirm.text
        assert dutybot.incident(incident_id)["status"] == "triggered"

        # Alice clicks Acknowledge on the Slack card: every posted card is updated in place
        cards = set(fake_slack.messages)
        clicked = slack_click(dutybot, fake_slack, "UALICE", "ack", incident_id)
        assert clicked.status_code == 200, clicked.text
        acknowledged = dutybot.wait_for_status(incident_id, "acknowledged", timeout=10)
        assert acknowledged["acknowledged_by"] == "alice"
        assert acknowledged["acknowledged_at"] is not None

        def cards_show_ack() -> bool:
            history = fake_slack.history
            return all(len(versions) > 1 and "Acknowledged by Alice" in json.dumps(versions[-1]["blocks"])
                       for versions in (history[key] for key in cards))

        wait_until(cards_show_ack, 15, "every Slack card to show the acknowledger")
        updated = {(call.params["channel"], call.params["ts"]) for call in fake_slack.calls_to("chat.update")}
        assert updated >= cards
        robot_update = fake_robot.wait_for(count=2, timeout=15)[1]  # robots cannot edit: a new message
        assert "Acknowledged by Alice" in json.dumps(robot_update, ensure_ascii=False)

        # a forged signature: 401, nothing changes
        updates_before = len(fake_slack.calls_to("chat.update"))
        forged = slack_click(dutybot, fake_slack, "UALICE", "resolve", incident_id, secret="not-the-secret")
        assert forged.status_code == 401, forged.text
        time.sleep(0.5)
        assert dutybot.incident(incident_id)["status"] == "acknowledged"
        assert len(fake_slack.calls_to("chat.update")) == updates_before

        # the robot's link, now stale: it works once, then answers 410
        first = dutybot.http.post(ack_link)
        assert first.status_code == 200, first.text
        second = dutybot.http.post(ack_link)
        assert second.status_code == 410, second.text
        assert dutybot.incident(incident_id)["acknowledged_by"] == "alice"

        # Alertmanager says it is over: the incident resolves
        resolved = post_alerts(dutybot, [alert(status="resolved")])
        assert resolved.status_code == 202, resolved.text
        assert resolved.json()["incidents_resolved"] == [incident_id]
        dutybot.wait_for_status(incident_id, "resolved", timeout=10)
        [listed] = dutybot.incidents(status="resolved")
        assert {key: listed[key] for key in ("id", "number", "title", "status", "severity", "service",
                                              "alert_count", "acknowledged_by")} == {
            "id": incident_id, "number": incident_id, "title": "HighCPU on prod", "status": "resolved",
            "severity": "critical", "service": "payments", "alert_count": 1, "acknowledged_by": "alice"}
        assert listed["labels"]["alertname"] == "HighCPU" and listed["labels"]["cluster"] == "prod"
        assert listed["created_at"] <= listed["acknowledged_at"] <= listed["resolved_at"]
        assert dutybot.incidents(status="triggered") == []
        assert dutybot.api("GET", "/incidents", headers={"authorization": "Bearer wrong"}).status_code == 401

        # the operational surface
        for path in ("/healthz", "/readyz", "/metrics"):
            answer = dutybot.http.get(f"{dutybot.url}{path}")
            assert answer.status_code == 200, (path, answer.text)
        assert "dutybot_alerts_received" in dutybot.http.get(f"{dutybot.url}/metrics").text
        paths = dutybot.http.get(f"{dutybot.url}/openapi.json").json()["paths"]
        assert {"/api/v1/incidents", "/api/v1/incidents/{incident_id}",
                "/api/v1/incidents/{incident_id}/ack"} <= set(paths)

        log = dutybot.proc.output()
        for secret in (fake_robot.access_token, fake_robot.secret, BOT_TOKEN, SIGNING_SECRET, API_TOKEN):
            assert secret not in log, f"the server log leaks {secret!r}"

        # SIGTERM stops the worker and closes the database before the process exits
        assert dutybot.proc.stop() == 0, dutybot.proc.output()


def test_escalation_step_two_pages_the_next_person(tmp_path: Path, fake_slack: FakeSlack) -> None:
    port = free_port()
    raw = base_config(slack_api_url=fake_slack.api_url, public_url=f"http://127.0.0.1:{port}")
    raw["schedules"][0]["layers"][0]["members"] = ["alice"]
    raw["escalation_policies"][0]["steps"][1] = {"after": "2s", "notify": [{"user": "carol"}], "via": ["dm"]}
    with dutybot_serve(tmp_path, raw, port, API_TOKEN) as dutybot:
        posted_at = time.monotonic()
        response = post_alerts(dutybot, [alert()])
        assert response.status_code == 202, response.text
        first = fake_slack.wait_for("conversations.open", timeout=15)
        assert first[0].params["users"] == "UALICE"
        second = fake_slack.wait_for("conversations.open", count=2, timeout=10)
        waited = time.monotonic() - posted_at
        assert second[1].params["users"] == "UCAROL"
        assert 1.9 <= waited <= 8.0, waited  # not before the step's 2 s, and soon after
        fake_slack.wait_for("chat.postMessage", count=3, timeout=10)  # DM alice, channel, DM carol
        assert {call.params["channel"] for call in fake_slack.calls_to("chat.postMessage")} == {
            "DUALICE", "CSRE", "DUCAROL"}
        timeline = [entry["kind"] for entry in dutybot.incident(1)["timeline"]]
        assert timeline.count("escalated") == 2, timeline
