"""The Foundation's path, in process: Alertmanager → incident → escalation → Slack and DingTalk → ack."""

from __future__ import annotations

import json

from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.fakes.slack import FakeSlack
from tests.support import Harness, alert


async def test_firing_alert_opens_incident_and_pages_on_call(harness: Harness, fake_slack: FakeSlack,
                                                             fake_robot: FakeDingTalkRobot) -> None:
    response = await harness.post_alerts([alert()])
    assert response.status_code == 202, response.text
    assert response.json()["incidents_created"] == [1]

    await harness.work()

    posts = fake_slack.calls_to("chat.postMessage")
    channels = sorted(call.params["channel"] for call in posts)
    on_call_dm = fake_slack.calls_to("conversations.open")[0].params["users"]
    assert on_call_dm in ("UALICE", "UBOB", "UCAROL")
    assert channels == sorted(["CSRE", "D" + on_call_dm])
    blocks = json.dumps(posts[0].params["blocks"])
    assert "HighCPU on prod" in blocks and "Acknowledge" in blocks and "Resolve" in blocks
    assert len(fake_robot.messages) == 1
    card = fake_robot.messages[0]
    assert card["msgtype"] == "actionCard"
    urls = [button["actionURL"] for button in card["actionCard"]["btns"]]
    assert all(url.startswith("http://127.0.0.1:8080/a/") for url in urls)

    listing = await harness.api("GET", "/incidents")
    assert listing.status_code == 200, listing.text
    incidents = listing.json()["incidents"]
    assert [(i["id"], i["status"], i["severity"], i["alert_count"]) for i in incidents] == [
        (1, "triggered", "critical", 1)]
