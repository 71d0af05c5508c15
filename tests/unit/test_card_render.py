"""Platform renderers of the neutral card: Slack Block Kit and the three webhook robots, within each platform's
limits."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.robots.render import dingtalk_message, feishu_message, robot_text, wecom_message
from adapters.robots.verify import dingtalk_sign, feishu_sign
from adapters.slack.render import card_blocks
from cards.build import incident_card
from cards.i18n import Translator
from cards.model import Card
from core.model import IncidentStatus, IncidentView, Severity
from tests.fakes._blockkit import validate_blocks

GOLDEN = Path(__file__).parent / "golden"
# Block Kit limits (platforms.md §1: slack_sdk/models/blocks and the Block Kit docs)
MAX_BLOCKS, MAX_SECTION, MAX_FIELDS, MAX_FIELD, MAX_BUTTON, MAX_HEADER, MAX_ID = 50, 3000, 10, 2000, 75, 150, 255
MAX_OPTIONS, MAX_PLACEHOLDER, MAX_OPTION_VALUE = 100, 150, 150  # static_select (slack_sdk block_elements.py)
DINGTALK_MAX_BYTES = 20_000  # custom robot body (platforms.md §1)
LINKS = {"ack": "https://dutybot.example.com/a/ack-token", "resolve": "https://dutybot.example.com/a/resolve-token"}

VIEW = IncidentView(
    id=7, number=12, title="CPU high on db-1", status=IncidentStatus.TRIGGERED, severity=Severity.CRITICAL,
    service_id="payments", service_name="支付服务", alert_count=3, labels={"alertname": "CPUHigh", "cluster": "prod"},
    created_at=datetime(2026, 12, 1, 1, 58, tzinfo=UTC), on_call=("王丽",),
)
HUGE = replace(
    VIEW, title="磁盘" * 5_000, service_name="s" * 5_000, on_call=tuple(f"person-{i}" for i in range(500)),
    labels={f"label-{i:03}": "<&>" * 300 for i in range(500)},
    status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
    acknowledged_by="名" * 5_000,
)


def card(view: IncidentView = VIEW, locale: str = "en", links: dict[str, str] | None = None) -> Card:
    return incident_card(view, Translator(locale), "Asia/Shanghai", links=links)


def assert_matches_golden(name: str, actual: Any) -> None:
    """Compare with tests/unit/golden/<name>; `UPDATE_GOLDEN=1` rewrites the file after a deliberate change."""
    path = GOLDEN / name
    text = json.dumps(actual, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 to write it, then review it"
    assert json.loads(path.read_text(encoding="utf-8")) == actual


def block_kit_violations(blocks: list[dict[str, Any]]) -> list[str]:
    problems = [] if len(blocks) <= MAX_BLOCKS else [f"{len(blocks)} blocks"]
    for index, block in enumerate(blocks):
        where = f"blocks[{index}] ({block['type']})"
        if len(block.get("block_id", "")) > MAX_ID:
            problems.append(f"{where}.block_id")
        if block["type"] == "header" and not 0 < len(block["text"]["text"]) <= MAX_HEADER:
            problems.append(f"{where}.text: {len(block['text']['text'])} characters")
        if block["type"] == "section":
            if "text" in block and not 0 < len(block["text"]["text"]) <= MAX_SECTION:
                problems.append(f"{where}.text: {len(block['text']['text'])} characters")
            fields = block.get("fields", [])
            if len(fields) > MAX_FIELDS:
                problems.append(f"{where}.fields: {len(fields)} fields")
            problems += [f"{where}.fields[{i}]" for i, field in enumerate(fields) if len(field["text"]) > MAX_FIELD]
        for element in block.get("elements", []):
            if element["type"] == "static_select":
                problems += menu_violations(element, where)
                continue
            if not 0 < len(element["text"]["text"]) <= MAX_BUTTON:
                problems.append(f"{where}: button text of {len(element['text']['text'])} characters")
            if len(element.get("action_id", "")) > MAX_ID or len(element.get("value", "")) > 2000:
                problems.append(f"{where}: button id or value")
    return problems + validate_blocks(blocks)  # and the fake Slack's checks, as chat.postMessage would see them


def menu_violations(element: dict[str, Any], where: str) -> list[str]:
    """A static_select: 1–100 options of text ≤ 75 and value ≤ 150, a placeholder ≤ 150 characters."""
    problems = [] if 0 < len(element["options"]) <= MAX_OPTIONS else [f"{where}: {len(element['options'])} options"]
    if not 0 < len(element["placeholder"]["text"]) <= MAX_PLACEHOLDER:
        problems.append(f"{where}: placeholder of {len(element['placeholder']['text'])} characters")
    for option in element["options"]:
        if not 0 < len(option["text"]["text"]) <= MAX_BUTTON or not 0 < len(option["value"]) <= MAX_OPTION_VALUE:
            problems.append(f"{where}: option {option['value']!r}")
    return problems


def test_slack_blocks_golden() -> None:
    assert_matches_golden("slack_card_blocks.json", card_blocks(card()))


def test_dingtalk_message_golden() -> None:
    robot_card = card(locale="zh-CN", links=LINKS)
    assert_matches_golden("dingtalk_message.json", dingtalk_message(robot_card, title=robot_card.fallback))


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.parametrize("status", list(IncidentStatus), ids=lambda status: status.value)
def test_slack_blocks_of_a_huge_incident_stay_within_block_kit_limits(locale: str, status: IncidentStatus) -> None:
    view = replace(HUGE, status=status, resolved_at=HUGE.acknowledged_at, resolved_by=HUGE.acknowledged_by)
    blocks = card_blocks(card(view, locale))
    assert block_kit_violations(blocks) == []
    assert blocks[0]["text"]["text"].startswith("#12 磁盘磁盘")


def test_slack_buttons_carry_the_incident_and_action() -> None:
    (actions,) = [block for block in card_blocks(card()) if block["type"] == "actions"]
    buttons = [element for element in actions["elements"] if element["type"] == "button"]
    assert [(e["action_id"], e["value"], e["text"]["text"]) for e in buttons] == [
        ("ack", "7", "Acknowledge"), ("resolve", "7", "Resolve"), ("comment", "7", "Comment"),
        ("reassign", "7", "Reassign…"), ("responders", "7", "Add responders…"), ("edit", "7", "Edit…"),
        ("merge", "7", "Merge into…")]
    assert actions["block_id"] == "incident:7"


def test_slack_link_buttons_open_the_link() -> None:
    (actions,) = [block for block in card_blocks(card(links=LINKS)) if block["type"] == "actions"]
    assert [element.get("url") for element in actions["elements"]] == [LINKS["ack"], LINKS["resolve"]]


def test_slack_text_from_alerts_and_config_is_escaped() -> None:
    view = replace(VIEW, service_name="R&D <!channel>", labels={"team": "<!here> & <@U123>"},
                   status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=VIEW.created_at, acknowledged_by="<b>")
    mrkdwn = _mrkdwn_texts(card_blocks(card(view)))
    assert not any(marker in text for text in mrkdwn for marker in ("<!channel>", "<!here>", "<@U123>", "<b>"))
    assert "*Service*\nR&amp;D &lt;!channel&gt;" in mrkdwn


def _mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    texts = [block["text"]["text"] for block in blocks if block["type"] == "section" and "text" in block]
    return texts + [field["text"] for block in blocks for field in block.get("fields", [])]


TEXT = st.text(max_size=400)


@settings(max_examples=50)
@given(TEXT, TEXT, st.dictionaries(st.text(max_size=50), TEXT, max_size=60), st.sampled_from(["en", "zh-CN"]))
def test_slack_limits_hold_for_any_text(title: str, service: str, labels: dict[str, str], locale: str) -> None:
    view = replace(VIEW, title=title * 30, service_name=service * 10, labels=labels)
    assert block_kit_violations(card_blocks(card(view, locale))) == []


def body_bytes(message: dict[str, Any]) -> int:
    return len(json.dumps(message, ensure_ascii=False).encode("utf-8"))


@pytest.mark.parametrize("links", [LINKS, None], ids=["action-card", "markdown"])
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_dingtalk_message_of_a_huge_incident_fits_the_robot_limit(links: dict[str, str] | None, locale: str) -> None:
    huge = card(replace(HUGE, status=IncidentStatus.TRIGGERED), locale, links)
    message = dingtalk_message(huge, title=huge.fallback)
    assert body_bytes(message) <= DINGTALK_MAX_BYTES
    body = message[message["msgtype"]]
    assert body["text"].startswith("### 🔴 #12 磁盘")
    if links:
        assert message["msgtype"] == "actionCard"
        assert [button["actionURL"] for button in body["btns"]] == [LINKS["ack"], LINKS["resolve"]]
    else:
        assert message["msgtype"] == "markdown"


@pytest.mark.parametrize("links", [LINKS, None], ids=["buttons", "no-buttons"])
@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_feishu_card_of_a_huge_incident_fits_the_bot_limit_with_its_sign(links: dict[str, str] | None,
                                                                        locale: str) -> None:
    huge = card(replace(HUGE, status=IncidentStatus.TRIGGERED), locale, links)
    message = feishu_message(huge)
    signed = {"timestamp": "1799999999", "sign": feishu_sign("s" * 64, 1799999999), **message}
    assert body_bytes(signed) <= 20_000  # platforms.md §2.3: custom bot body ≤ 20 KB
    header = message["card"]["header"]
    assert header["template"] == "red" and header["title"]["content"].startswith("#12 磁盘")
    assert len(header["title"]["content"]) <= 200
    actions = [element for element in message["card"]["elements"] if element["tag"] == "action"]
    if links:
        assert [(button["url"], button["type"]) for button in actions[0]["actions"]] == [
            (LINKS["ack"], "primary"), (LINKS["resolve"], "danger")]
    else:
        assert actions == []


def test_feishu_card_of_a_resolved_incident_is_green_and_untrimmed() -> None:
    resolved = card(replace(VIEW, status=IncidentStatus.RESOLVED, resolved_at=datetime(2026, 12, 1, 3, tzinfo=UTC)))
    message = feishu_message(resolved)
    assert message["card"]["header"]["template"] == "green"
    body = message["card"]["elements"][0]["content"]
    assert body.startswith("**Resolved") and "- `cluster` = `prod`" in body and "…" not in body


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
def test_wecom_markdown_of_a_huge_incident_fits_and_keeps_its_links(locale: str) -> None:
    huge = card(replace(HUGE, status=IncidentStatus.TRIGGERED), locale, LINKS)
    content = wecom_message(huge)["markdown"]["content"]
    assert len(content.encode()) <= 4096  # platforms.md §4.3: robot markdown ≤ 4096 bytes
    assert content.startswith("### 🔴 #12 磁盘")
    assert content.endswith(f"({LINKS['ack']})  [{huge.buttons[1].label}]({LINKS['resolve']})")
    assert "…" in content


def test_robot_text_is_cut_on_a_character_within_each_limit() -> None:
    text = "值班" * 4_000  # 24,000 bytes of three-byte characters
    wecom = robot_text("wecom-robot", text)["text"]["content"]
    assert len(wecom.encode()) <= 2048 and wecom.endswith("…") and set(wecom[:-1]) == {"值", "班"}
    feishu = robot_text("feishu-robot", text)["content"]["text"]
    assert len(feishu.encode()) < 20_000 and feishu.endswith("…")
    assert robot_text("wecom-robot", "short")["text"]["content"] == "short"


def test_feishu_sign_known_answer() -> None:
    """platforms.md §2.3: timestamp 1599360473 with secret demo-secret."""
    assert feishu_sign("demo-secret", 1599360473) == "3/MaVZ8JLIy4TUG+7KSFJqvUkTKd+HWY8g+56DZWq8s="


def test_dingtalk_message_of_a_normal_card_is_not_trimmed() -> None:
    robot_card = card(links=LINKS)
    message = dingtalk_message(robot_card, title=robot_card.fallback)
    assert message["actionCard"]["title"] == "[Critical] #12 CPU high on db-1 (Triggered)"
    assert "- `cluster` = `prod`" in message["actionCard"]["text"]
    assert "…" not in message["actionCard"]["text"]


def test_dingtalk_sign_known_answer() -> None:
    """platforms.md §3.3: timestamp 1599360473000 with secret SECdemo."""
    signature = dingtalk_sign("SECdemo", 1599360473000)
    assert signature == "tGWkA5eQOQNCNPDgphtxIoNLO+/gD8Lcb705KQoRzeY="
    assert quote(signature, safe="") == "tGWkA5eQOQNCNPDgphtxIoNLO%2B%2FgD8Lcb705KQoRzeY%3D"


@pytest.mark.parametrize(("secret", "timestamp"), [("SECother", 1599360473000), ("SECdemo", 1599360473001)])
def test_dingtalk_sign_depends_on_secret_and_time(secret: str, timestamp: int) -> None:
    assert dingtalk_sign(secret, timestamp) != dingtalk_sign("SECdemo", 1599360473000)


def test_slack_silence_menu_is_a_static_select_of_the_presets() -> None:
    (actions,) = [block for block in card_blocks(card()) if block["type"] == "actions"]
    menu = actions["elements"][-1]
    assert (menu["type"], menu["action_id"], menu["placeholder"]["text"]) == ("static_select", "silence", "Silence…")
    assert [(option["value"], option["text"]["text"]) for option in menu["options"]] == [
        ("7:30m", "30 minutes"), ("7:1h", "1 hour"), ("7:12h", "12 hours"), ("7:1d", "1 day"), ("7:1w", "1 week")]
    assert validate_blocks(card_blocks(card(locale="zh-CN"))) == []


@pytest.mark.parametrize(("status", "menus"), [(IncidentStatus.TRIGGERED, ["snooze", "silence"]),
                                               (IncidentStatus.ACKNOWLEDGED, ["snooze", "silence"]),
                                               (IncidentStatus.RESOLVED, [])])
def test_slack_snooze_and_silence_menus_only_on_open_incidents(status: IncidentStatus, menus: list[str]) -> None:
    blocks = card_blocks(card(replace(VIEW, status=status)))
    selects = [element["action_id"] for block in blocks for element in block.get("elements", [])
               if element["type"] == "static_select"]
    assert selects == menus


def test_slack_snooze_menu_offers_the_presets() -> None:
    (actions,) = [block for block in card_blocks(card()) if block["type"] == "actions"]
    (menu,) = [element for element in actions["elements"] if element.get("action_id") == "snooze"]
    assert (menu["type"], menu["placeholder"]["text"]) == ("static_select", "Snooze…")
    assert [(option["value"], option["text"]["text"]) for option in menu["options"]] == [
        ("7:30m", "30 minutes"), ("7:2h", "2 hours"), ("7:4h", "4 hours"), ("7:12h", "12 hours")]


@pytest.mark.parametrize(("element", "problem"), [
    ({"type": "static_select", "action_id": "s", "options": []}, "/options"),
    ({"type": "static_select", "action_id": "s", "options": [{"text": {"type": "plain_text", "text": "x" * 76},
                                                              "value": "1"}]}, "/options/0/text/text"),
    ({"type": "static_select", "action_id": "s", "options": [{"text": {"type": "plain_text", "text": "x"},
                                                              "value": "v" * 151}]}, "/options/0/value"),
    ({"type": "static_select", "action_id": "s", "placeholder": {"type": "mrkdwn", "text": "x"},
      "options": [{"text": {"type": "plain_text", "text": "x"}, "value": "1"}]}, "/placeholder/type"),
    ({"type": "overflow", "action_id": "o", "options": [{"text": {"type": "plain_text", "text": "x"},
                                                         "value": str(i)} for i in range(6)]}, "/options"),
])
def test_the_fake_slack_refuses_menus_beyond_block_kit_limits(element: dict[str, Any], problem: str) -> None:
    errors = validate_blocks([{"type": "actions", "elements": [element]}])
    assert any(error.endswith(f"[json-pointer:/blocks/0/elements/0{problem}]") for error in errors), errors


def test_dingtalk_message_with_a_silence_link() -> None:
    links = {**LINKS, "silence:1h": "https://dutybot.example.com/a/silence-token"}
    for locale, label in (("en", "Silence 1 hour"), ("zh-CN", "静默 1 小时")):
        robot_card = card(locale=locale, links=links)
        message = dingtalk_message(robot_card, title=robot_card.fallback)
        assert message["actionCard"]["btns"][-1] == {"title": label, "actionURL": links["silence:1h"]}
        assert len(message["actionCard"]["btns"]) == 3


def test_an_alert_cannot_mention_the_whole_group_through_a_feishu_or_wecom_robot() -> None:
    """Feishu reads `<at user_id="all">` and WeCom Markdown `<@userid>` anywhere in a message: text from an
    alert (title, labels) is shown, never read as a mention."""
    sneaky = replace(VIEW, title='Disk <at user_id="all">all</at> full',
                     labels={"owner": '`<at id=all></at>` <@zhangsan>'})
    robot_card = card(sneaky, links=LINKS)
    feishu = json.dumps(feishu_message(robot_card), ensure_ascii=False)
    wecom = wecom_message(robot_card)["markdown"]["content"]
    digest = robot_text("feishu-robot", "1 incident\n#12 Disk <at user_id=\"all\">all</at> full")["content"]["text"]
    assert "<at" not in feishu and "<at" not in digest and "<@" not in wecom
    assert "＜at user_id=\"all\">all＜/at>" in wecom and "＜@zhangsan>" in wecom  # still readable
    assert json.loads(feishu)["card"]["header"]["title"]["content"] == '#12 Disk ＜at user_id="all">all＜/at> full'
