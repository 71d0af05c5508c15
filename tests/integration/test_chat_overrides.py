"""Covering a shift from chat: `/oncall override …` or its form; both people are told by DM."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from tests.fakes.slack import FakeSlack
from tests.support import FakeClock, Harness, base_config, post_slack, slack_command_form, start_harness

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
async def chat(db_url: str, fake_slack: FakeSlack):  # type: ignore[no-untyped-def]
    clock = FakeClock(datetime(2026, 1, 10, 12, tzinfo=SHANGHAI))
    async for harness in start_harness(db_url, base_config(slack_api_url=fake_slack.api_url), clock=clock):
        yield harness


async def _command(harness: Harness, fake_slack: FakeSlack, text: str, user: str = "UALICE") -> str:
    harness.clock.advance(seconds=1)  # each request is signed anew
    body = slack_command_form(user, "CSRE", fake_slack.response_url(), text=text)
    response = await post_slack(harness.client, body, harness.clock())
    assert response.status_code == 200, response.text
    return response.text


async def _who(harness: Harness, at: str) -> list[str]:
    return (await harness.api("GET", "/schedules/sre/oncall", params={"at": at})).json()["users"]


async def test_override_command_covers_the_shift_and_tells_both(chat: Harness, fake_slack: FakeSlack) -> None:
    # alice is on call until the Monday 10:00 handoff to bob
    answer = await _command(chat, fake_slack, "override <@UCAROL|carol> 2026-01-12T09:00 2026-01-12T18:00")
    assert "Saved: Carol covers SRE" in answer
    assert await _who(chat, "2026-01-12T09:30") == ["carol"]
    assert await _who(chat, "2026-01-12T18:00") == ["bob"]
    await chat.work()
    dms = {call.params["channel"]: call.params["text"] for call in fake_slack.calls_to("chat.postMessage")}
    assert "You cover SRE" in dms["DUCAROL"] and "for Alice" in dms["DUCAROL"]
    assert "Carol covers your shift on SRE" in dms["DUALICE"]
    audit = (await chat.api("GET", "/schedules/sre/audit")).json()["entries"]
    assert audit[0]["action"] == "override.create" and audit[0]["actor"] == "alice"


@pytest.mark.parametrize(("text", "user", "fragment"), [
    ("override <@UCAROL> 2026-01-12T18:00 2026-01-12T09:00", "UALICE", "end must be after start"),
    ("override <@UCAROL> tomorrow later", "UALICE", "not an ISO 8601 time"),
    ("override <@UNOBODY> 2026-01-12T09:00 2026-01-12T18:00", "UALICE", "No user UNOBODY"),
    ("override <@UCAROL> 2026-01-12T09:00", "UALICE", "Usage: /oncall override"),
    ("override <@UCAROL> 2026-01-12T09:00 2026-01-12T18:00", "USTRANGER", "not bound"),
    ("override <@UCAROL> 2026-01-12T09:00 2026-03-12T18:00", "UALICE", "at most 31 days"),
])
async def test_bad_override_commands_say_why_and_change_nothing(chat: Harness, fake_slack: FakeSlack, text: str,
                                                                user: str, fragment: str) -> None:
    assert fragment in await _command(chat, fake_slack, text, user=user)
    assert await _who(chat, "2026-01-12T09:30") == ["alice"]


async def test_override_form_opens_and_its_submission_is_stored(chat: Harness, fake_slack: FakeSlack) -> None:
    await _command(chat, fake_slack, "override")
    view = fake_slack.calls_to("views.open")[0].params["view"]
    assert view["callback_id"] == "override_modal"
    assert [option["value"] for option in view["blocks"][0]["element"]["options"]] == ["sre"]
    start = int(datetime(2026, 1, 12, 9, tzinfo=SHANGHAI).timestamp())
    values = {"schedule": {"schedule": {"type": "static_select", "selected_option": {"value": "sre"}}},
              "user": {"user": {"type": "users_select", "selected_user": "UBOB"}},
              "start": {"start": {"type": "datetimepicker", "selected_date_time": start}},
              "end": {"end": {"type": "datetimepicker", "selected_date_time": start + 3600}}}
    submission = {"type": "view_submission", "user": {"id": "UCAROL", "team_id": "T1"}, "team": {"id": "T1"},
                  "api_app_id": "A1", "view": {**view, "id": "V2", "state": {"values": values}}}
    chat.clock.advance(seconds=1)
    response = await post_slack(chat.client, urlencode({"payload": json.dumps(submission)}).encode(), chat.clock())
    assert response.status_code == 200 and response.text in ("", "null")
    assert await _who(chat, "2026-01-12T09:30") == ["bob"]
    # a form that fails validation stays open with the reason under the last field
    values["end"]["end"]["selected_date_time"] = start - 60
    chat.clock.advance(seconds=1)
    refused = await post_slack(chat.client, urlencode({"payload": json.dumps(submission)}).encode(), chat.clock())
    answer = refused.json()
    assert answer["response_action"] == "errors" and "end must be after start" in answer["errors"]["end"]


async def test_oncall_answer_offers_a_cover_button_that_opens_the_form(chat: Harness, fake_slack: FakeSlack) -> None:
    chat.clock.advance(seconds=1)
    response = await post_slack(chat.client, slack_command_form("UALICE", "CSRE", fake_slack.response_url()),
                                chat.clock())
    answer = response.json()
    button = answer["blocks"][-1]["elements"][0]
    assert button["text"]["text"] == "Cover a shift" and "On call now" in answer["text"]
    click = {"type": "block_actions", "user": {"id": "UALICE", "team_id": "T1"}, "team": {"id": "T1"},
             "api_app_id": "A1", "trigger_id": "t-cover", "channel": {"id": "CSRE"},
             "actions": [{"type": "button", "action_id": button["action_id"], "value": button["value"],
                          "block_id": "commands", "action_ts": "1"}]}
    chat.clock.advance(seconds=1)
    clicked = await post_slack(chat.client, urlencode({"payload": json.dumps(click)}).encode(), chat.clock())
    assert clicked.status_code == 200
    opened = fake_slack.calls_to("views.open")
    assert opened and opened[0].params["trigger_id"] == "t-cover"
    assert opened[0].params["view"]["callback_id"] == "override_modal"
