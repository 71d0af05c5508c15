"""Self-tests for the fake Slack and DingTalk servers in ``tests.fakes``."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.dingtalk import FakeDingTalkRobot
from tests.fakes.slack import FakeSlack
from tests.support import BOT_TOKEN as TOKEN
from tests.support import ROBOT_SECRET, ROBOT_TOKEN


@pytest.fixture
def slack(fake_slack: FakeSlack) -> FakeSlack:
    return fake_slack


@pytest.fixture
def ding(fake_robot: FakeDingTalkRobot) -> FakeDingTalkRobot:
    return fake_robot


def _client(slack: FakeSlack, token: str = TOKEN) -> AsyncWebClient:
    return AsyncWebClient(token=token, base_url=slack.api_url)


def _button(text: str, action_id: str = "ack") -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": action_id,
        "text": {"type": "plain_text", "text": text},
        "value": "INC-1",
    }


# ---------------------------------------------------------------------- Slack


def test_slack_sign_known_answer() -> None:
    body = (
        b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        b"&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        b"&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    headers = FakeSlack.sign("8f742231b10e8888abcd99yyyzzz85a5", body, 1531420618)
    assert headers == {
        "X-Slack-Request-Timestamp": "1531420618",
        "X-Slack-Signature": "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503",
    }


@pytest.mark.asyncio
async def test_slack_dm_post_and_update(slack: FakeSlack) -> None:
    client = _client(slack)
    assert (await client.auth_test())["user_id"] == "UBOT"
    opened = await client.conversations_open(users="U123")
    channel = opened["channel"]["id"]
    assert channel == "DU123"

    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": "*INC-1* firing"}},
        {"type": "actions", "block_id": "inc:INC-1", "elements": [_button("Acknowledge")]},
    ]
    first = await client.chat_postMessage(channel=channel, text="INC-1 firing", blocks=blocks)
    second = await client.chat_postMessage(channel=channel, text="second")
    assert first["ts"] == "1700000000.000101" and second["ts"] == "1700000000.000102"

    await client.chat_update(channel=channel, ts=first["ts"], text="INC-1 acked")
    stored = slack.messages[(channel, first["ts"])]
    assert stored["text"] == "INC-1 acked" and stored["blocks"] == blocks
    assert [v["text"] for v in slack.history[(channel, first["ts"])]] == ["INC-1 firing", "INC-1 acked"]

    calls = slack.wait_for("chat.postMessage", count=2)
    assert calls[0].params["channel"] == channel
    assert calls[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert await slack.async_wait_for("chat.update") == slack.calls_to("chat.update")


@pytest.mark.asyncio
async def test_slack_update_errors(slack: FakeSlack) -> None:
    client = _client(slack)
    posted = await client.chat_postMessage(channel="C1", text="hi")
    with pytest.raises(SlackApiError) as by_user:
        await client.chat_update(channel="U123", ts=posted["ts"], text="x")
    assert by_user.value.response["error"] == "channel_not_found"
    with pytest.raises(SlackApiError) as missing:
        await client.chat_update(channel="C1", ts="1.000000", text="x")
    assert missing.value.response["error"] == "message_not_found"


@pytest.mark.asyncio
async def test_slack_rate_limit_then_recovers(slack: FakeSlack) -> None:
    client = _client(slack)
    slack.fail_next("chat.postMessage", status=429, retry_after=7)
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "7"
    assert err.value.response["error"] == "ratelimited"
    assert (await client.chat_postMessage(channel="C1", text="hi"))["ok"] is True
    assert len(slack.calls_to("chat.postMessage")) == 2


@pytest.mark.asyncio
async def test_slack_injected_500_and_error(slack: FakeSlack) -> None:
    client = _client(slack)
    slack.fail_next("chat.postMessage", status=500)
    slack.error_next("conversations.open", error="user_not_found")
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="hi")
    assert err.value.response.status_code == 500
    with pytest.raises(SlackApiError) as err2:
        await client.conversations_open(users="U9")
    assert err2.value.response["error"] == "user_not_found"


@pytest.mark.asyncio
async def test_slack_invalid_blocks_button_text(slack: FakeSlack) -> None:
    client = _client(slack)
    blocks = [{"type": "actions", "elements": [_button("x" * 76)]}]
    with pytest.raises(SlackApiError) as err:
        await client.chat_postMessage(channel="C1", text="t", blocks=blocks)
    assert err.value.response["error"] == "invalid_blocks"
    assert any("/blocks/0/elements/0/text/text" in e for e in err.value.response["errors"])
    assert slack.messages == {}


@pytest.mark.asyncio
async def test_slack_auth_and_unknown_method(slack: FakeSlack) -> None:
    with pytest.raises(SlackApiError) as err:
        await _client(slack, token="xoxb-wrong").auth_test()
    assert err.value.response["error"] == "invalid_auth"
    with pytest.raises(SlackApiError) as err2:
        await _client(slack).api_call("users.info", params={"user": "U1"})
    assert err2.value.response["error"] == "unknown_method"


def test_slack_block_rules_and_form_encoding(slack: FakeSlack) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    bad = [
        {"type": "table"},
        {"type": "header", "text": {"type": "mrkdwn", "text": "h"}},
        {"type": "actions", "elements": [_button("a", "dup"), _button("b", "dup")]},
    ] + [{"type": "divider"}] * 48
    with httpx.Client(trust_env=False) as http:
        form = {"channel": "C1", "text": "t", "blocks": json.dumps(bad)}
        answer = http.post(slack.api_url + "chat.postMessage", data=form, headers=auth).json()
        good = {"channel": "C1", "blocks": json.dumps([{"type": "divider"}])}
        posted = http.post(slack.api_url + "chat.postMessage", data=good, headers=auth).json()
    assert answer["error"] == "invalid_blocks"
    joined = "\n".join(answer["errors"])
    for fragment in ("50 items", "/blocks/0/type", "/blocks/1/text/type", "duplicate action_id"):
        assert fragment in joined
    assert posted["ok"] and slack.messages[("C1", posted["ts"])]["blocks"] == [{"type": "divider"}]


@pytest.mark.asyncio
async def test_slack_views_open_and_ephemeral(slack: FakeSlack) -> None:
    client = _client(slack)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Snooze"}, "blocks": []}
    opened = await client.views_open(trigger_id="t1", view=view)
    assert opened["view"]["id"].startswith("V") and slack.views[0]["title"]["text"] == "Snooze"
    with pytest.raises(SlackApiError) as err:
        await client.views_open(
            trigger_id="t1", view={**view, "title": {"type": "plain_text", "text": "x" * 25}}
        )
    assert err.value.response["error"] == "invalid_arguments"
    eph = await client.chat_postEphemeral(channel="C1", user="U1", text="only you")
    assert slack.ephemeral[0]["message_ts"] == eph["message_ts"]


def test_slack_response_url(slack: FakeSlack) -> None:
    with httpx.Client(trust_env=False) as http:
        reply = http.post(slack.response_url("r7"), json={"text": "done", "replace_original": True})
    assert reply.status_code == 200 and reply.text == "ok"
    assert slack.wait_for_responses(1) == [("r7", {"text": "done", "replace_original": True})]
    assert slack.responses[0].name == "r7"


def test_slack_wait_for_times_out(slack: FakeSlack) -> None:
    with pytest.raises(TimeoutError):
        slack.wait_for("chat.postMessage", timeout=0.05)


# ---------------------------------------------------------------------- DingTalk


def test_dingtalk_sign_known_answer() -> None:
    assert (
        FakeDingTalkRobot.sign("SECdemo", 1599360473000)
        == "tGWkA5eQOQNCNPDgphtxIoNLO%2B%2FgD8Lcb705KQoRzeY%3D"
    )


def _url(ding: FakeDingTalkRobot, params: dict[str, str]) -> httpx.URL:
    """Note: httpx's ``params=`` would *replace* the ``access_token`` already in the URL; merge instead."""
    return httpx.URL(ding.webhook_url).copy_merge_params(params)


def _send(
    ding: FakeDingTalkRobot, body: Any, secret: str = ROBOT_SECRET, ts: int | None = None
) -> dict[str, Any]:
    """Sign like a real client: raw base64 in ``params``; httpx URL-encodes it."""
    ts = int(time.time() * 1000) if ts is None else ts
    params = {"timestamp": str(ts), "sign": FakeDingTalkRobot._raw_sign(secret, ts)}
    with httpx.Client(trust_env=False) as http:
        response = http.post(_url(ding, params), json=body)
    assert response.status_code == 200
    answer: dict[str, Any] = response.json()
    return answer


MARKDOWN = {"msgtype": "markdown", "markdown": {"title": "INC-1", "text": "### INC-1 firing"}}


def test_dingtalk_good_sign_accepted(ding: FakeDingTalkRobot) -> None:
    assert _send(ding, MARKDOWN) == {"errcode": 0, "errmsg": "ok"}
    assert ding.wait_for(1) == [MARKDOWN]
    assert ding.requests[0].query["access_token"] == ROBOT_TOKEN
    with httpx.Client(trust_env=False) as http:
        assert http.post(ding.signed_url(), json=MARKDOWN).json()["errcode"] == 0


def test_dingtalk_rejections(ding: FakeDingTalkRobot) -> None:
    assert _send(ding, MARKDOWN, secret="SECwrong") == {"errcode": 310000, "errmsg": "sign not match"}
    assert (
        _send(ding, MARKDOWN, ts=int(time.time() * 1000) - 2 * 3600 * 1000)["errmsg"] == "invalid timestamp"
    )
    bad_card = {
        "msgtype": "actionCard",
        "actionCard": {"title": "t", "text": "x", "btns": [{"title": "Ack", "actionURL": "/relative"}]},
    }
    answer = _send(ding, bad_card)
    assert answer["errcode"] == 40035 and "actionURL" in answer["errmsg"]
    assert _send(ding, {"msgtype": "markdown", "markdown": {"title": "t"}})["errcode"] == 40035
    huge = {"msgtype": "text", "text": {"content": "x" * 20001}}
    assert _send(ding, huge)["errcode"] == 460101
    with httpx.Client(trust_env=False) as http:
        wrong_token = http.post(ding.base_url + "/robot/send?access_token=nope", json=MARKDOWN).json()
    assert wrong_token == {"errcode": 300001, "errmsg": "token is not exist"}
    assert ding.messages == [] and len(ding.wait_for_requests(6)) == 6


def test_dingtalk_rate_limit(ding: FakeDingTalkRobot) -> None:
    card = {
        "msgtype": "actionCard",
        "actionCard": {
            "title": "t",
            "text": "x",
            "singleTitle": "Open",
            "singleURL": "https://example.com/inc/1",
        },
    }
    for _ in range(20):
        assert _send(ding, card)["errcode"] == 0
    assert _send(ding, card) == {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}
    assert len(ding.messages) == 20


@pytest.mark.asyncio
async def test_dingtalk_injected_failures(ding: FakeDingTalkRobot) -> None:
    ding.fail_next(status=500)
    ding.code_next(410100, "send too fast")
    ts = int(time.time() * 1000)
    params = {"timestamp": str(ts), "sign": FakeDingTalkRobot._raw_sign(ROBOT_SECRET, ts)}
    async with httpx.AsyncClient(trust_env=False) as http:
        first = await http.post(_url(ding, params), json=MARKDOWN)
        second = await http.post(_url(ding, params), json=MARKDOWN)
        third = await http.post(_url(ding, params), json=MARKDOWN)
    assert first.status_code == 500
    assert second.json() == {"errcode": 410100, "errmsg": "send too fast"}
    assert third.json()["errcode"] == 0
    assert await ding.async_wait_for(1) == [MARKDOWN]
