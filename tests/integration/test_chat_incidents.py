"""`/incident …` in Slack: every action and change by command, as the person who typed it, answered privately;
a command that cannot be done says why and changes nothing."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fakes.slack import FakeSlack
from tests.support import Harness, alert, dm_users, post_slack, slack_action_form, slack_command_form


async def _say(harness: Harness, fake_slack: FakeSlack, text: str, user: str = "UALICE") -> str:
    harness.clock.advance(seconds=1)  # each request is signed anew
    body = slack_command_form(user, "CSRE", fake_slack.response_url(), command="/incident", text=text)
    response = await post_slack(harness.client, body, harness.clock())
    assert response.status_code == 200, response.text
    return response.text


async def _incident(harness: Harness, number: int) -> dict[str, Any]:
    return dict((await harness.api("GET", f"/incidents/{number}")).json())


async def test_lifecycle_commands_act_as_the_person(harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.work()
    assert "#1" in await _say(harness, fake_slack, "ack 1", user="UBOB")
    incident = await _incident(harness, 1)
    assert (incident["status"], incident["acknowledged_by"]) == ("acknowledged", "bob")
    assert "#1" in await _say(harness, fake_slack, "ack 1")  # already acknowledged: says so, changes nothing
    assert "#1" in await _say(harness, fake_slack, "snooze #1 2h")
    assert (await _incident(harness, 1))["snoozed_until"] is not None
    await _say(harness, fake_slack, "wake 1")
    await _say(harness, fake_slack, "comment 1 looking at the deploy")
    await _say(harness, fake_slack, "resolve 1 rolled back the deploy")
    incident = await _incident(harness, 1)
    assert incident["status"] == "resolved"
    resolved = [entry for entry in incident["timeline"] if entry["kind"] == "resolved"][-1]
    assert (resolved["actor"], resolved["data"]["via"], resolved["data"]["resolution"]) == (
        "alice", "slack", "rolled back the deploy")
    assert any(entry["kind"] == "commented" and entry["data"]["text"] == "looking at the deploy"
               for entry in incident["timeline"])
    await _say(harness, fake_slack, "reopen 1")
    assert (await _incident(harness, 1))["status"] == "triggered"


async def test_change_commands(harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert("HighCPU", fingerprint="a")])
    await harness.post_alerts([alert("DiskFull", fingerprint="b")])
    await harness.work()
    assert "2" in await _say(harness, fake_slack, "escalate 1 2")
    await harness.work()
    assert dm_users(fake_slack)[-1] == "UCAROL"
    await _say(harness, fake_slack, "reassign 1 <@UBOB|bob>")
    await harness.work()
    assert dm_users(fake_slack)[-1] == "UBOB"
    await _say(harness, fake_slack, "add 1 @carol")
    await harness.work()
    assert dm_users(fake_slack)[-1] == "UCAROL"
    await _say(harness, fake_slack, "title 1 CPU and disk on prod")
    await _say(harness, fake_slack, "severity 1 info")
    assert "#1" in await _say(harness, fake_slack, "merge 2 into 1")
    target, source = await _incident(harness, 1), await _incident(harness, 2)
    assert (target["title"], target["severity"], target["alert_count"]) == ("CPU and disk on prod", "info", 2)
    assert source["status"] == "resolved"
    answer = await _say(harness, fake_slack, "new payments critical Checkout down in EU")
    assert "#3" in answer
    created = await _incident(harness, 3)
    assert (created["title"], created["severity"], created["status"]) == (
        "Checkout down in EU", "critical", "triggered")
    await harness.work()
    assert any("Checkout down in EU" in str(call.params) for call in fake_slack.calls_to("chat.postMessage"))


@pytest.mark.parametrize(("text", "user", "says"), [
    ("frobnicate 1", "UALICE", "Usage: /incident"),
    ("ack", "UALICE", "Usage: /incident"),
    ("ack 99", "UALICE", "#99 was not found"),
    ("ack 1", "UNOBODY", "is not bound"),
    ("reassign 1 @zed", "UALICE", "no user @zed"),
    ("escalate 1 5", "UALICE", "no level 5"),
    ("snooze 1 3d", "UALICE", "not a snooze length"),
    ("merge 1 into 1", "UALICE", "cannot be merged into itself"),
    ("new nope critical Something", "UALICE", "no service nope"),
])
async def test_a_command_that_cannot_be_done_says_why_and_changes_nothing(harness: Harness, fake_slack: FakeSlack,
                                                                          text: str, user: str, says: str) -> None:
    await harness.post_alerts([alert()])
    await harness.work()
    before = await _incident(harness, 1)
    pages = len(dm_users(fake_slack))
    assert says in await _say(harness, fake_slack, text, user=user)
    await harness.work()
    after = await _incident(harness, 1)
    assert after == before and len(dm_users(fake_slack)) == pages
    assert len((await harness.api("GET", "/incidents")).json()["incidents"]) == 1


def _card_menu(fake_slack: FakeSlack, action: str) -> dict[str, Any] | None:
    """The `action` menu of the newest state of the card in the SRE channel, or None when it offers none."""
    import json

    (card,) = [message for (channel, _), message in fake_slack.messages.items() if channel == "CSRE"]
    blocks = card["blocks"] if isinstance(card["blocks"], list) else json.loads(card["blocks"])
    elements = [element for block in blocks if block["type"] == "actions" for element in block["elements"]]
    return next((element for element in elements if element.get("action_id") == action), None)


async def test_the_card_escalates_to_a_level_as_the_person_who_chose_it(harness: Harness,
                                                                          fake_slack: FakeSlack) -> None:
    from tests.support import slack_select_form

    await harness.post_alerts([alert()])
    await harness.work()
    menu = _card_menu(fake_slack, "escalate")
    assert menu is not None and menu["placeholder"]["text"] == "Escalate to…"
    options = {option["text"]["text"]: option["value"] for option in menu["options"]}
    assert list(options) == ["Level 1", "Level 2"]  # base_config's policy: the rotation, then carol after 5m
    paged = len(dm_users(fake_slack))

    harness.clock.advance(seconds=1)
    body = slack_select_form("UBOB", "escalate", 1, options["Level 2"], fake_slack.response_url("r1"))
    assert (await post_slack(harness.client, body, harness.clock())).status_code == 200
    replies = [reply for reply in await fake_slack.async_wait_for_responses(1) if reply.name == "r1"]
    assert replies[-1].body["text"] == "Incident #1: level 2 is being paged now."
    await harness.work()
    assert dm_users(fake_slack)[paged:] == ["UCAROL"]  # now, not after the level's 5 minutes
    timeline = (await _incident(harness, 1))["timeline"]
    by_hand = [entry for entry in timeline if entry["kind"] == "escalated_by_hand"]
    assert by_hand[0]["actor"] == "bob" and by_hand[0]["data"]["level"] == 2

    harness.clock.advance(seconds=1)  # a forged level is refused with the reason and changes nothing
    body = slack_select_form("UBOB", "escalate", 1, "1:9", fake_slack.response_url("r2"))
    assert (await post_slack(harness.client, body, harness.clock())).status_code == 200
    replies = [reply for reply in await fake_slack.async_wait_for_responses(2) if reply.name == "r2"]
    assert replies[-1].body["text"] == "Incident #1's policy has no level 9; it has levels 1 to 2."
    assert len([e for e in (await _incident(harness, 1))["timeline"] if e["kind"] == "escalated_by_hand"]) == 1

    await harness.api("POST", "/incidents/1/resolve")
    await harness.work()
    assert _card_menu(fake_slack, "escalate") is None  # a resolved incident offers no escalation


async def _open_form(harness: Harness, fake_slack: FakeSlack, button: str, number: int = 1,
                     user: str = "UBOB") -> dict[str, Any]:
    """Click `button` on incident `number`'s card as `user`; the modal Slack was asked to open."""
    opened = len(fake_slack.calls_to("views.open"))
    harness.clock.advance(seconds=1)
    click = slack_action_form(user, button, number, fake_slack.response_url())
    assert (await post_slack(harness.client, click, harness.clock())).status_code == 200
    view = fake_slack.calls_to("views.open")[opened].params["view"]
    return dict(json.loads(view) if isinstance(view, str) else view)


async def _submit(harness: Harness, view: dict[str, Any], values: dict[str, dict[str, Any]],
                  user: str = "UBOB") -> Any:
    """Submit `view` as Slack does: `values` maps each block id to its element's state (action id = block id)."""
    state = {block: {block: value} for block, value in values.items()}
    submission = {"type": "view_submission", "user": {"id": user, "team_id": "T1"}, "team": {"id": "T1"},
                  "api_app_id": "A1", "view": {**view, "id": "V1", "state": {"values": state}}}
    harness.clock.advance(seconds=1)
    return await post_slack(harness.client, urlencode({"payload": json.dumps(submission)}).encode(), harness.clock())


async def _pick_people(harness: Harness, fake_slack: FakeSlack, button: str, people: list[str],
                       user: str = "UBOB") -> Any:
    """Click `button` on the card as `user`, then submit Slack's people picker with `people`."""
    view = await _open_form(harness, fake_slack, button, user=user)
    (block,) = view["blocks"]
    assert block["element"]["type"] == "multi_users_select" and block["element"]["action_id"] == block["block_id"]
    return await _submit(harness, view, {block["block_id"]: {"type": "multi_users_select", "selected_users": people}},
                         user=user)


async def test_reassign_and_add_responders_from_the_card_with_slacks_people_picker(
        harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.work()
    (card,) = [message for (channel, _), message in fake_slack.messages.items() if channel == "CSRE"]
    blocks = card["blocks"] if isinstance(card["blocks"], list) else json.loads(card["blocks"])
    labels = [element["text"]["text"] for block in blocks if block["type"] == "actions"
              for element in block["elements"] if element["type"] == "button"]
    assert "Reassign…" in labels and "Add responders…" in labels

    refused = await _pick_people(harness, fake_slack, "reassign", ["UZED"])  # nobody Dutybot knows
    assert refused.status_code == 200 and refused.json()["response_action"] == "errors"
    assert "UZED" in refused.json()["errors"]["people"]
    assert [e for e in (await _incident(harness, 1))["timeline"] if e["kind"] == "reassigned"] == []

    paged = len(dm_users(fake_slack))
    answer = await _pick_people(harness, fake_slack, "reassign", ["UCAROL"])
    assert answer.status_code == 200 and not answer.content  # the modal closes
    await harness.work()
    assert dm_users(fake_slack)[paged:] == ["UCAROL"]
    entry = [e for e in (await _incident(harness, 1))["timeline"] if e["kind"] == "reassigned"][0]
    assert (entry["actor"], entry["data"]["users"], entry["data"]["via"]) == ("bob", ["carol"], "slack")

    await harness.api("POST", "/incidents/1/ack")
    answer = await _pick_people(harness, fake_slack, "responders", ["UBOB"], user="UCAROL")
    assert answer.status_code == 200
    await harness.work()
    added = [e for e in (await _incident(harness, 1))["timeline"] if e["kind"] == "responders_added"][0]
    assert (added["actor"], added["data"]["users"]) == ("carol", ["bob"])


def _severity(view: dict[str, Any], value: str) -> dict[str, Any]:
    (block,) = [block for block in view["blocks"] if block.get("block_id") == "severity"]
    (option,) = [option for option in block["element"]["options"] if option["value"] == value]
    return {"type": "static_select", "selected_option": option}


async def test_edit_from_the_card_fills_in_the_incident_and_the_change_stays(
        harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.work()
    view = await _open_form(harness, fake_slack, "edit")
    inputs = {block["block_id"]: block["element"] for block in view["blocks"] if block["type"] == "input"}
    assert set(inputs) == {"title", "severity", "description"}
    assert inputs["title"]["initial_value"] == "HighCPU on prod"
    assert inputs["severity"]["initial_option"]["value"] == "critical"
    assert [option["text"]["text"] for option in inputs["severity"]["options"]] == ["Critical", "Warning", "Info"]

    refused = await _submit(harness, view, {"title": {"type": "plain_text_input", "value": "  "},
                                            "severity": _severity(view, "warning"),
                                            "description": {"type": "plain_text_input", "value": None}})
    assert refused.json() == {"response_action": "errors", "errors": {"title": "The title must not be empty."}}
    assert (await _incident(harness, 1))["severity"] == "critical"  # nothing of a refused form is kept

    done = await _submit(harness, view, {"title": {"type": "plain_text_input", "value": "Primary DB down"},
                                         "severity": _severity(view, "warning"),
                                         "description": {"type": "plain_text_input", "value": "Failover *now*"}})
    assert done.status_code == 200 and not done.content  # the modal closes
    incident = await _incident(harness, 1)
    assert (incident["title"], incident["severity"], incident["description"]) == (
        "Primary DB down", "warning", "Failover *now*")
    edited = [entry for entry in incident["timeline"] if entry["kind"] == "edited"]
    assert [(entry["actor"], entry["data"]["via"]) for entry in edited] == [("bob", "slack")]
    await harness.work()
    updates = [call for call in fake_slack.calls_to("chat.update") if call.params["channel"] == "CSRE"]
    assert updates and "Primary DB down" in json.dumps(updates[-1].params, ensure_ascii=False)

    await harness.post_alerts([alert(fingerprint="fp-2", severity="critical")])  # merges into #1
    await harness.work()
    incident = await _incident(harness, 1)
    assert (incident["alert_count"], incident["severity"], incident["title"]) == (2, "warning", "Primary DB down")

    again = await _open_form(harness, fake_slack, "edit")  # the form shows the incident as it is now
    inputs = {block["block_id"]: block["element"] for block in again["blocks"] if block["type"] == "input"}
    assert (inputs["title"]["initial_value"], inputs["description"]["initial_value"]) == (
        "Primary DB down", "Failover *now*")


async def test_a_description_too_long_for_the_form_is_left_as_it_is(harness: Harness,
                                                                    fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    long_text = "line of the runbook\n" * 400  # 8,000 characters: more than a Slack input holds
    assert (await harness.api("PATCH", "/incidents/1", json={"description": long_text})).status_code == 200
    view = await _open_form(harness, fake_slack, "edit")
    assert "description" not in [block.get("block_id") for block in view["blocks"]]
    assert "longer than this form can hold" in json.dumps(view)
    done = await _submit(harness, view, {"title": {"type": "plain_text_input", "value": "Renamed"},
                                         "severity": _severity(view, "critical")})
    assert done.status_code == 200
    incident = await _incident(harness, 1)
    assert (incident["title"], incident["description"]) == ("Renamed", long_text)


async def test_merge_from_the_card_into_another_incident(harness: Harness, fake_slack: FakeSlack) -> None:
    await harness.post_alerts([alert()])
    await harness.post_alerts([alert(name="DiskFull", fingerprint="fp-2")])
    await harness.work()
    view = await _open_form(harness, fake_slack, "merge", number=2)
    (block,) = view["blocks"]
    assert block["element"]["type"] == "number_input" and "Merge #2 into" in block["label"]["text"]

    for into, error in (("2", "Incident #2 cannot be merged into itself."), ("99", "Incident #99 was not found.")):
        refused = await _submit(harness, view, {"into": {"type": "number_input", "value": into}})
        assert refused.json() == {"response_action": "errors", "errors": {"into": error}}
    assert (await _incident(harness, 2))["status"] == "triggered"

    done = await _submit(harness, view, {"into": {"type": "number_input", "value": "1"}}, user="UCAROL")
    assert done.status_code == 200 and not done.content
    source, target = await _incident(harness, 2), await _incident(harness, 1)
    assert source["status"] == "resolved" and target["alert_count"] == 2
    merged = [entry for entry in target["timeline"] if entry["kind"] == "merged"]
    assert [(entry["actor"], entry["data"]["source"], entry["data"]["via"]) for entry in merged] == [
        ("carol", 2, "slack")]
