"""core/sources/robots.py: Feishu, DingTalk and WeCom custom group robot messages → one alert event each."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import Parsed, Parser, PayloadError
from core.sources.fields import MAX_TITLE_LENGTH, fingerprint_of
from core.sources.robots import (
    MAX_DESCRIPTION_BYTES,
    MAX_LINKS,
    MAX_MENTIONS,
    parse_dingtalk,
    parse_feishu,
    parse_wecom,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "sources"
RECEIVED = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
PARSERS: dict[str, Parser] = {"feishu": parse_feishu, "dingtalk": parse_dingtalk, "wecom": parse_wecom}
REPLIES = {"feishu": {"code": 0, "msg": "success", "data": {}}, "dingtalk": {"errcode": 0, "errmsg": "ok"},
           "wecom": {"errcode": 0, "errmsg": "ok"}}

# Where each fixture's shape comes from (the message bodies as the platforms document them; the contents are ours):
# - Feishu custom bot guide (自定义机器人使用指南), https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot
#   (also open.larkoffice.com/document/ukTMukTMukTM/ucTM5YjL3ETO24yNxkjN): text, post, image, share_chat,
#   interactive; `timestamp` + `sign` when signing is on (the doc's example pair is used).
# - Feishu card JSON 1.0 structure, https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-structure
#   (header, elements: div text/fields, action buttons with url/multi_url, note) and card JSON 2.0 structure,
#   .../feishu-cards/card-json-v2-structure (schema "2.0", body.elements, column_set, open_url behaviours).
# - DingTalk custom robot, https://open.dingtalk.com/document/robots/custom-robot-access and its message types,
#   https://open.dingtalk.com/document/orgapp/custom-bot-send-message-type: text, markdown, link, actionCard
#   (btns), feedCard, `at` {atMobiles, atUserIds, isAtAll}.
# - WeCom group robot (群机器人配置说明), https://developer.work.weixin.qq.com/document/path/91770: text (with
#   mentioned_list), markdown (<font color>), markdown_v2, news, template_card text_notice, image, file.
DOCS = {
    "robot_feishu_text": "feishu custom bot guide: text, signed",
    "robot_feishu_post": "feishu custom bot guide: post (rich text)",
    "robot_feishu_interactive": "feishu custom bot guide: interactive + card JSON 1.0",
    "robot_feishu_interactive_v2": "feishu custom bot guide: interactive + card JSON 2.0",
    "robot_feishu_image": "feishu custom bot guide: image",
    "robot_feishu_share_chat": "feishu custom bot guide: share_chat",
    "robot_dingtalk_text": "dingtalk custom robot: text with at",
    "robot_dingtalk_markdown": "dingtalk custom robot: markdown",
    "robot_dingtalk_link": "dingtalk custom robot: link",
    "robot_dingtalk_actioncard": "dingtalk custom robot: actionCard with btns",
    "robot_dingtalk_feedcard": "dingtalk custom robot: feedCard",
    "robot_wecom_text": "wecom group robot 91770: text",
    "robot_wecom_markdown": "wecom group robot 91770: markdown",
    "robot_wecom_markdown_v2": "wecom group robot 91770: markdown_v2",
    "robot_wecom_news": "wecom group robot 91770: news",
    "robot_wecom_template_card": "wecom group robot 91770: template_card text_notice",
    "robot_wecom_image": "wecom group robot 91770: image",
    "robot_wecom_file": "wecom group robot 91770: file",
}


def fixture(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return body


def expected(robot: str, msgtype: str, fingerprint: str, status: AlertStatus, severity: Severity, title: str,
             annotations: dict[str, str], links: tuple[str, ...] = ()) -> Parsed:
    resolved = status is AlertStatus.RESOLVED
    return Parsed((AlertEvent(
        source=f"{robot}-robot", fingerprint=fingerprint, status=status, severity=severity, title=title,
        labels={"robot": robot, "msgtype": msgtype}, annotations=annotations, starts_at=RECEIVED,
        ends_at=RECEIVED if resolved else None, links=links,
    ),), reply=REPLIES[robot], status=200)


FIRING, RESOLVED = AlertStatus.FIRING, AlertStatus.RESOLVED
CRITICAL, WARNING = Severity.CRITICAL, Severity.WARNING
GRAFANA = "https://grafana.example.com"
GOLDEN = {
    "robot_feishu_text": expected(
        "feishu", "text", "robot:2b52da17ebbe60a1", FIRING, CRITICAL, "Disk full on db-1",
        {"description": '<at user_id="all">所有人</at> [FIRING:1] Disk full on db-1\nseverity: critical\n'
                        "/data has 1.2 GB of 500 GB free"}),
    "robot_feishu_post": expected(
        "feishu", "post", "robot:2b52da17ebbe60a1", RESOLVED, WARNING, "Disk full on db-1",
        {"description": "磁盘使用率已降至 72%\n查看面板\n@王丽 请确认"}, (f"{GRAFANA}/d/disk?var-host=db-1",)),
    "robot_feishu_interactive": expected(
        "feishu", "interactive", "robot:03ec7d41094e4b23", FIRING, CRITICAL, "HighLatency checkout",
        {"description": "**服务：** checkout\n**级别：** 严重\n**P99：**\n1.8 s\n**实例：**\ncheckout-7\n"
                        "Sent by Grafana"},
        (f"{GRAFANA}/d/latency", "https://wiki.example.com/runbooks/latency")),
    "robot_feishu_interactive_v2": expected(
        "feishu", "interactive", "robot:03ec7d41094e4b23", RESOLVED, WARNING, "HighLatency checkout",
        {"description": "prod / cn-north-1\nP99 back to **0.3 s**\n**Severity:** warning\n**Duration:** 14 min"},
        (f"{GRAFANA}/d/latency",)),
    "robot_feishu_image": expected(
        "feishu", "image", "robot:064ffa854d612503", FIRING, WARNING, "(image)",
        {"image_key": "img_ecffc3b9-8f14-400f-a014-05eca1a4310g"}),
    "robot_feishu_share_chat": expected(
        "feishu", "share_chat", "robot:269d3b3ca71c2ed8", FIRING, WARNING, "(shared chat)",
        {"share_chat_id": "oc_f5b1a7eb27ae2c7b6adc2a74faf339ff"}),
    "robot_dingtalk_text": expected(
        "dingtalk", "text", "robot:866a9a76c1351b1f", FIRING, CRITICAL, "[P1] 支付服务 5xx 错误率 12%",
        {"at": "13800001111, user123", "description": "[P1] 支付服务 5xx 错误率 12% @13800001111"}),
    "robot_dingtalk_markdown": expected(
        "dingtalk", "markdown", "robot:10b58b27e7a8d6f6", FIRING, CRITICAL, "CPUHigh",
        {"at": "@all",
         "description": "#### \\[FIRING:1\\] **[CPUHigh](http://prometheus.example.com:9090/alerts)**\n\n"
                        "**Alert**: CPU above 90% on db-1\n\n**Labels**\n\n- alertname: CPUHigh\n"
                        "- instance: db-1:9100\n- severity: critical\n"},
        ("http://prometheus.example.com:9090/alerts",)),
    "robot_dingtalk_link": expected(
        "dingtalk", "link", "robot:10b58b27e7a8d6f6", RESOLVED, WARNING, "CPUHigh",
        {"description": "CPU on db-1 is back under 90%", "image": f"{GRAFANA}/render/d-solo/cpu.png"},
        (f"{GRAFANA}/alerting/list",)),
    "robot_dingtalk_actioncard": expected(
        "dingtalk", "actionCard", "robot:18d93ea93d0d64ea", FIRING, CRITICAL, "[严重] 订单库主从延迟",
        {"description": f"![screenshot]({GRAFANA}/render/d-solo/lag.png)\n### 订单库主从延迟 120 s\n\n"
                        "- 级别: 严重\n- 实例: mysql-order-2",
         "image": f"{GRAFANA}/render/d-solo/lag.png"},
        (f"{GRAFANA}/d/mysql", "https://wiki.example.com/runbooks/mysql-lag")),
    "robot_dingtalk_feedcard": expected(
        "dingtalk", "feedCard", "robot:e049c7ec3cf62d61", FIRING, WARNING, "磁盘使用率 91%: db-1 /data",
        {"description": "【告警】磁盘使用率 91%: db-1 /data\n磁盘使用率 88%: db-2 /data",
         "image": f"{GRAFANA}/render/disk-db-1.png", "image.2": f"{GRAFANA}/render/disk-db-2.png"},
        (f"{GRAFANA}/d/disk?var-host=db-1", f"{GRAFANA}/d/disk?var-host=db-2")),
    "robot_wecom_text": expected(
        "wecom", "text", "robot:66adea854686fe8f", FIRING, CRITICAL, "广州机房 UPS 告警：市电中断，电池供电中",
        {"description": "广州机房 UPS 告警：市电中断，电池供电中\n级别：紧急"}),
    "robot_wecom_markdown": expected(
        "wecom", "markdown", "robot:9bbb2799ebbe119d", RESOLVED, CRITICAL, "支付网关超时",
        {"description": '# 【恢复】支付网关超时\n>持续时间：<font color="comment">12 分钟</font>\n'
                        '>告警级别：<font color="warning">严重</font>\n'
                        f"[查看详情]({GRAFANA}/d/pay) <@wangqing>"},
        (f"{GRAFANA}/d/pay",)),
    "robot_wecom_markdown_v2": expected(
        "wecom", "markdown_v2", "robot:9bbb2799ebbe119d", FIRING, WARNING, "支付网关超时",
        {"description": "# [FIRING:1] 支付网关超时\n## 网关\n*P99 3.2 s*\n\n- 级别: 警告\n\n"
                        "| 指标 | 值 |\n| :----- | ----: |\n| P99 | 3.2 s |\n\n"
                        f"[这是一个链接]({GRAFANA}/d/pay)"},
        (f"{GRAFANA}/d/pay",)),
    "robot_wecom_news": expected(
        "wecom", "news", "robot:3f288a1d2c2814fd", FIRING, WARNING, "订单量骤降 40%",
        {"description": "[FIRING] 订单量骤降 40%\n过去 10 分钟订单量低于基线\n相关：支付成功率",
         "image": f"{GRAFANA}/render/orders.png"},
        (f"{GRAFANA}/d/orders", f"{GRAFANA}/d/pay")),
    "robot_wecom_template_card": expected(
        "wecom", "template_card", "robot:e0d169ea35434989", FIRING, CRITICAL, "数据库连接数过高",
        {"card_type": "text_notice",
         "description": "db-1 连接数 980/1000\n连接使用率: 98%\n请值班同学尽快处理\n最近变更\n"
                        "10:02 发布 order-service v2.3\n级别: 严重\n实例: db-1\n面板: 点击访问"},
        (f"{GRAFANA}/alerting/list", f"{GRAFANA}/d/db/annotations", f"{GRAFANA}/d/db",
         "https://wiki.example.com/runbooks/db-connections")),
    "robot_wecom_image": expected(
        "wecom", "image", "robot:064ffa854d612503", FIRING, WARNING, "(image)",
        {"image_md5": "6f3d7b1c2b3c4a5e9f0a1b2c3d4e5f60"}),
    "robot_wecom_file": expected(
        "wecom", "file", "robot:2f98ce30c8032a48", FIRING, WARNING, "(file)", {"media_id": "3a8asd892asd8asd"}),
}


def test_every_fixture_has_a_golden_answer_and_a_doc() -> None:
    assert {path.stem for path in FIXTURES.glob("robot_*.json")} == set(GOLDEN) == set(DOCS)


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_message(name: str) -> None:
    robot = name.split("_")[1]
    assert PARSERS[robot](fixture(name), RECEIVED) == GOLDEN[name]


def test_the_key_is_a_hash_of_the_normalised_title() -> None:
    key = "robot:" + fingerprint_of({"title": "disk full on db-1"})
    assert GOLDEN["robot_feishu_text"].events[0].fingerprint == key


# --- one alert, firing then resolved --------------------------------------------------------------------------


@pytest.mark.parametrize(("firing", "resolved"), [
    ("robot_feishu_text", "robot_feishu_post"),
    ("robot_feishu_interactive", "robot_feishu_interactive_v2"),
    ("robot_dingtalk_markdown", "robot_dingtalk_link"),
    ("robot_wecom_markdown_v2", "robot_wecom_markdown"),
])
def test_a_firing_and_a_resolved_message_share_a_key(firing: str, resolved: str) -> None:
    robot = firing.split("_")[1]
    (problem,) = PARSERS[robot](fixture(firing), RECEIVED).events
    (recovery,) = PARSERS[robot](fixture(resolved), RECEIVED).events
    assert (problem.status, recovery.status) == (FIRING, RESOLVED)
    assert problem.fingerprint == recovery.fingerprint
    assert (problem.ends_at, recovery.ends_at) == (None, RECEIVED)


def text_event(text: str, robot: str = "wecom") -> AlertEvent:
    body = ({"msg_type": "text", "content": {"text": text}} if robot == "feishu"
            else {"msgtype": "text", "text": {"content": text}})
    (event,) = PARSERS[robot](body, RECEIVED).events
    return event


@pytest.mark.parametrize(("firing", "resolved"), [
    ("[FIRING] disk full on db-1", "[RESOLVED] disk full on db-1"),
    ("🔥 [FIRING:3] Disk full on db-1", "✅ [RESOLVED]  disk full on DB-1"),
    ("[Alerting] Login errors", "[OK] Login errors"),
    ("disk full on db-1", "OK: disk full on db-1"),
    ("FIRING disk full on db-1", "Resolved disk full on db-1"),
    ("Problem: High CPU on db-1", "Resolved in 1h 5m 3s: High CPU on db-1"),
    ("Problem: High CPU on db-1", "Resolved: High CPU on db-1"),
    ("UptimeKuma Alert: [🔴 Down] web", "UptimeKuma Alert: [✅ Up] web"),
    ("【告警】磁盘满 db-1", "【已恢复】磁盘满 db-1"),
    ("告警：磁盘满 db-1", "告警恢复：磁盘满 db-1"),
    ("磁盘满 db-1", "恢复 磁盘满 db-1"),
    ("# **[FIRING:1] CPUHigh**", "### \\[RESOLVED\\] CPUHigh"),
    ("[P1] [FIRING] disk full", "[P1] [RESOLVED] disk full"),
    ("[FIRING]\ndisk full on db-1", "[RESOLVED]\n\ndisk full on db-1"),
])
def test_recovery_markers(firing: str, resolved: str) -> None:
    problem, recovery = text_event(firing), text_event(resolved)
    assert (problem.status, recovery.status) == (FIRING, RESOLVED)
    assert problem.fingerprint == recovery.fingerprint
    assert problem.title.casefold() == recovery.title.casefold()


@pytest.mark.parametrize(("text", "status", "title"), [
    ("[FIRING:1] CPUHigh (prod)", FIRING, "CPUHigh (prod)"),
    ("✅ [RESOLVED] Disk full on db-1", RESOLVED, "Disk full on db-1"),
    ("【恢复】磁盘满", RESOLVED, "磁盘满"),
    ("「已解决」磁盘满", RESOLVED, "磁盘满"),
    ("RESOLVED - disk full", RESOLVED, "disk full"),
    ("resolved", RESOLVED, "(no title)"),                # a line of markers only, and no other line
    ("OK to deploy", FIRING, "OK to deploy"),             # weak markers count bare only before a colon
    ("Up for 3 days: web-1", FIRING, "Up for 3 days: web-1"),
    ("Firing-rate high", FIRING, "Firing-rate high"),     # a marker word must end at a separator
    ("告警恢复磁盘满", FIRING, "告警恢复磁盘满"),                  # a CJK marker too: 告警恢复：磁盘满 is one
    ("Disk usage (ok) on db-1", FIRING, "Disk usage (ok) on db-1"),  # round brackets hold no markers
    ("disk full, will be resolved by cron", FIRING, "disk full, will be resolved by cron"),
    ("[FIRING] disk [RESOLVED]", FIRING, "disk"),          # the first marker decides
    ("🔴 #12 CPU high on db-1", FIRING, "🔴 #12 CPU high on db-1"),  # no marker: nothing removed
    ("\n\n   \n## **Title** line\nbody", FIRING, "Title line"),
    ("> [查看](https://x.example) `db-1` ~~old~~", FIRING, "查看 db-1 old"),
])
def test_title_line_and_its_markers(text: str, status: AlertStatus, title: str) -> None:
    event = text_event(text)
    assert (event.status, event.title) == (status, title)


def test_mentions_are_not_part_of_the_title_or_key() -> None:
    plain = text_event("[RESOLVED] Disk full on db-1", "feishu")
    mentioned = '<at user_id="ou_7d8a6e6d">Tom</at> [RESOLVED] Disk full on db-1'
    assert text_event(mentioned, "feishu") == replace(plain, annotations={"description": mentioned})
    assert text_event("<@wangqing> [FIRING] Disk full on db-1").fingerprint == plain.fingerprint
    (dingtalk,) = parse_dingtalk({"msgtype": "text", "text": {"content": "@13800001111 Disk full on db-1"},
                                  "at": {"atMobiles": ["13800001111"]}}, RECEIVED).events
    assert (dingtalk.title, dingtalk.fingerprint) == ("Disk full on db-1", plain.fingerprint)
    assert text_event("@13800001111 Disk full on db-1", "dingtalk").title == "@13800001111 Disk full on db-1"


# --- severity -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "severity"), [
    ("[P1] disk full", CRITICAL),
    ("【严重】磁盘满", CRITICAL),
    ("[🔴 critical] disk full", CRITICAL),
    ("CRITICAL: disk full", CRITICAL),
    ("[P0] [FIRING] disk full", CRITICAL),
    ("[info] backup finished", Severity.INFO),
    ("【提示】备份完成", Severity.INFO),
    ("[P3] [P1] disk full", Severity.INFO),                 # the first severity word of the title
    ("CRITICAL: [P3] disk full", CRITICAL),
    ("disk full\nseverity: critical", CRITICAL),
    ("disk full\n- **Severity**: `warning`", WARNING),
    ("disk full\nseverity = info", Severity.INFO),
    ("磁盘满\n告警级别：<font color=\"warning\">紧急</font>", CRITICAL),
    ("磁盘满\n**级别：**\n一般", WARNING),                     # a key alone on its line takes the next line
    ("磁盘满\n级别: P2 - 一般", WARNING),                      # the value's first word
    ("磁盘满\n级别: 致命的", WARNING),                          # an unknown value: the default
    ("disk full\nseverity: bogus\nlevel: critical", WARNING),  # only the first severity line counts
    ("[OK] disk full", WARNING),                           # a marker is no severity word
    ("disk full\nerror rate high", WARNING),               # words in prose are not read
    ("disk full", WARNING),
])
def test_severity_words(text: str, severity: Severity) -> None:
    assert text_event(text).severity is severity


# --- what is read from each format ---------------------------------------------------------------------------


def test_feishu_signature_fields_are_ignored() -> None:
    signed = fixture("robot_feishu_text")
    unsigned = {key: value for key, value in signed.items() if key not in ("timestamp", "sign")}
    assert parse_feishu(unsigned, RECEIVED) == parse_feishu(signed, RECEIVED)
    assert parse_feishu({**unsigned, "sign": 42, "timestamp": None}, RECEIVED) == parse_feishu(signed, RECEIVED)


def test_unknown_fields_are_ignored() -> None:
    for name in GOLDEN:
        robot, body = name.split("_")[1], fixture(name)
        body["future_field"] = {"x": [1, 2]}
        for value in body.values():
            if isinstance(value, dict):
                value["future_field"] = [None]
        assert PARSERS[robot](body, RECEIVED) == GOLDEN[name], name


@pytest.mark.parametrize(("post", "title"), [
    ({"en_us": {"title": "English", "content": []}, "zh_cn": {"title": "中文", "content": []}}, "中文"),
    ({"ja_jp": {"title": "日本語", "content": []}, "en_us": {"title": "English", "content": []}}, "English"),
    ({"ja_jp": {"title": "日本語", "content": []}}, "日本語"),
])
def test_feishu_post_language(post: dict[str, Any], title: str) -> None:
    (event,) = parse_feishu({"msg_type": "post", "content": {"post": post}}, RECEIVED).events
    assert event.title == title


@pytest.mark.parametrize(("card", "title", "description"), [
    ({}, "(card)", None),
    ({"header": {"title": {"tag": "plain_text", "i18n": {"en_us": "Disk full", "zh_cn": "磁盘满"}}}}, "磁盘满", None),
    ({"i18n_elements": {"en_us": [{"tag": "markdown", "content": "English"}],
                        "zh_cn": [{"tag": "markdown", "content": "中文"}]}}, "中文", "中文"),
    ({"elements": [{"tag": "div", "text": {"tag": "plain_text", "content": ""}},
                   {"tag": "action", "actions": [{"tag": "button", "text": {"tag": "plain_text", "content": "Ack"}}]},
                   {"tag": "div", "text": {"tag": "lark_md", "content": "[FIRING] body line"}}]},
     "body line", "[FIRING] body line"),
    ({"elements": [{"tag": ["markdown"], "content": "x"}, {"tag": "markdown", "content": "y"}]}, "y", "y"),
    ({"type": "template", "data": {"template_id": "AAqk1x2y", "template_variable": {"alert": "disk full", "n": 3}}},
     "disk full", "alert: disk full\nn: 3"),  # "alert:" is a (weak) marker before a colon
])
def test_feishu_cards(card: dict[str, Any], title: str, description: str | None) -> None:
    (event,) = parse_feishu({"msg_type": "interactive", "card": card}, RECEIVED).events
    assert (event.title, event.annotations.get("description")) == (title, description)


def test_feishu_card_link_and_template_id() -> None:
    card = {"card_link": {"url": "https://grafana.example.com/d/x"},
            "elements": [{"tag": "markdown", "content": "x", "href": {"urlVal": {"url": "https://wiki.example.com"}}}]}
    (event,) = parse_feishu({"msg_type": "interactive", "card": card}, RECEIVED).events
    assert event.links == ("https://wiki.example.com", "https://grafana.example.com/d/x")
    (template,) = parse_feishu({"msg_type": "interactive", "card": {"type": "template", "data": {
        "template_id": "AAqk1x2y"}}}, RECEIVED).events
    assert (template.title, template.annotations) == ("(card)", {"template_id": "AAqk1x2y"})


def test_dingtalk_single_action_card_and_at_all() -> None:
    body = {"msgtype": "actionCard", "at": {"isAtAll": True, "atUserIds": []},
            "actionCard": {"title": "Disk full", "text": "db-1", "singleTitle": "Open",
                           "singleURL": "https://grafana.example.com/d/disk"}}
    (event,) = parse_dingtalk(body, RECEIVED).events
    assert (event.links, event.annotations) == (("https://grafana.example.com/d/disk",),
                                                {"at": "@all", "description": "db-1"})


def test_wecom_voice_and_news_notice_card() -> None:
    (voice,) = parse_wecom({"msgtype": "voice", "voice": {"media_id": "MEDIA"}}, RECEIVED).events
    assert (voice.title, voice.annotations) == ("(voice)", {"media_id": "MEDIA"})
    card = {"card_type": "news_notice", "card_image": {"url": "https://grafana.example.com/render/x.png"},
            "image_text_area": {"type": 1, "url": "https://grafana.example.com/d/x", "title": "Panel",
                                "image_url": "https://grafana.example.com/render/y.png"},
            "vertical_content_list": [{"title": "Orders", "desc": "-40%"}]}
    (event,) = parse_wecom({"msgtype": "template_card", "template_card": card}, RECEIVED).events
    assert (event.title, event.links) == ("Panel", ("https://grafana.example.com/d/x",))
    assert event.annotations == {"card_type": "news_notice", "description": "Panel\nOrders\n-40%",
                                 "image": "https://grafana.example.com/render/x.png",
                                 "image.2": "https://grafana.example.com/render/y.png"}


def test_links_are_http_urls_once_each() -> None:
    articles = [{"title": "a", "url": url} for url in (
        "javascript:alert(1)", "https://", "ftp://x.example", "weixin://x", "", "https://a.example",
        "HTTP://b.example", "https://a.example")]
    (event,) = parse_wecom({"msgtype": "news", "news": {"articles": articles}}, RECEIVED).events
    assert event.links == ("https://a.example", "HTTP://b.example")


def test_links_pictures_and_mentions_are_capped() -> None:
    articles = [{"title": f"a{index}", "url": f"https://a.example/{index}", "picurl": f"https://p.example/{index}"}
                for index in range(MAX_LINKS + 5)]
    (event,) = parse_wecom({"msgtype": "news", "news": {"articles": articles}}, RECEIVED).events
    assert event.links == tuple(f"https://a.example/{index}" for index in range(MAX_LINKS))
    assert sorted(name for name in event.annotations if name.startswith("image")) == sorted(
        ["image", *(f"image.{index}" for index in range(2, MAX_LINKS + 1))])
    mobiles = [f"1380000{index:04d}" for index in range(MAX_MENTIONS + 5)]
    (dingtalk,) = parse_dingtalk({"msgtype": "text", "text": {"content": "@13800000000 disk full"},
                                  "at": {"atMobiles": mobiles}}, RECEIVED).events
    assert (dingtalk.title, dingtalk.annotations["at"]) == ("disk full", ", ".join(mobiles[:MAX_MENTIONS]))


def test_the_title_line_is_looked_for_in_the_kept_text_only() -> None:
    event = text_event("-\n" * (MAX_DESCRIPTION_BYTES // 2) + "[RESOLVED] disk full")
    assert (event.status, event.title) == (FIRING, "(no title)")


@pytest.mark.parametrize(("text", "kept"), [
    ("[FIRING] big\n" + "x" * 40_000, "[FIRING] big\n" + "x" * (MAX_DESCRIPTION_BYTES - 13)),
    ("磁" * 20_000, "磁" * (MAX_DESCRIPTION_BYTES // 3)),      # cut on a character boundary
])
def test_long_text_is_cut_and_marked(text: str, kept: str) -> None:
    event = text_event(text)
    assert event.annotations["description"] == kept
    assert event.annotations["truncated"] == "true"
    assert len(kept.encode()) <= MAX_DESCRIPTION_BYTES
    assert "truncated" not in text_event("x" * (MAX_DESCRIPTION_BYTES - 1)).annotations


def test_long_title_line_is_cut() -> None:
    assert len(text_event("[FIRING] " + "y" * 10_000).title) == MAX_TITLE_LENGTH


# --- malformed bodies -----------------------------------------------------------------------------------------


def feishu(msg_type: str, **fields: Any) -> dict[str, Any]:
    return {"msg_type": msg_type, **fields}


def card(**fields: Any) -> dict[str, Any]:
    return feishu("interactive", card=fields)


def post(zh_cn: Any) -> dict[str, Any]:
    return feishu("post", content={"post": {"zh_cn": zh_cn}})


def ding(msgtype: str, value: Any, **fields: Any) -> dict[str, Any]:
    return {"msgtype": msgtype, msgtype: value, **fields}


TEXT = {"content": "disk full"}
MALFORMED = [
    *[(robot, body, "") for robot in PARSERS for body in ([], "text", None, 3, [{"msgtype": "text"}])],
    ("feishu", {}, "msg_type"),
    ("feishu", {"msgtype": "text", "text": TEXT}, "msg_type"),
    ("feishu", feishu(1), "msg_type"),
    ("feishu", feishu("file"), "msg_type"),
    ("feishu", feishu("\ud800"), "msg_type"),
    ("feishu", feishu("text"), "content"),
    ("feishu", feishu("text", content='{"text": "hi"}'), "content"),
    ("feishu", feishu("text", content={}), "content.text"),
    ("feishu", feishu("text", content={"text": " \n"}), "content.text"),
    ("feishu", feishu("text", content={"text": 5}), "content.text"),
    ("feishu", feishu("text", content={"text": "a\x00b"}), "content.text"),
    ("feishu", feishu("post", content={}), "content.post"),
    ("feishu", feishu("post", content={"post": {}}), "content.post"),
    ("feishu", post("x"), "content.post.zh_cn"),
    ("feishu", post({}), "content.post.zh_cn.content"),
    ("feishu", post({"content": "x"}), "content.post.zh_cn.content"),
    ("feishu", post({"content": ["x"]}), "content.post.zh_cn.content[0]"),
    ("feishu", post({"content": [[], [5]]}), "content.post.zh_cn.content[1][0]"),
    ("feishu", post({"content": [[{"tag": 3}]]}), "content.post.zh_cn.content[0][0].tag"),
    ("feishu", post({"content": [[{"tag": "text", "text": 5}]]}), "content.post.zh_cn.content[0][0].text"),
    ("feishu", post({"content": [[{"tag": "a", "text": "x", "href": 5}]]}), "content.post.zh_cn.content[0][0].href"),
    ("feishu", post({"content": [[{"tag": "at", "user_id": ["ou_1"]}]]}), "content.post.zh_cn.content[0][0].user_id"),
    ("feishu", post({"title": 5, "content": []}), "content.post.zh_cn.title"),
    ("feishu", feishu("interactive"), "card"),
    ("feishu", feishu("interactive", card="{}"), "card"),
    ("feishu", card(header="x"), "card.header"),
    ("feishu", card(header={"title": "x"}), "card.header.title"),
    ("feishu", card(header={"title": {"content": 5}}), "card.header.title.content"),
    ("feishu", card(header={"title": {"i18n": "x"}}), "card.header.title.i18n"),
    ("feishu", card(header={"title": {"i18n": {"zh_cn": 5}}}), "card.header.title.i18n.zh_cn"),
    ("feishu", card(header={"subtitle": {"content": 5}}), "card.header.subtitle.content"),
    ("feishu", card(elements={}), "card.elements"),
    ("feishu", card(elements=[{"tag": "div", "text": {"tag": "lark_md", "content": 5}}]),
     "card.elements[0].text.content"),
    ("feishu", card(elements=[{"tag": "div", "fields": [{"text": {"tag": "plain_text", "content": None}}, "\udc00"]},
                              {"tag": "note", "elements": [{"tag": "plain_text", "content": "\udc00"}]}]),
     "card.elements[1].elements[0].content"),
    ("feishu", card(elements=[{"tag": "div", "x\ud800": {}}]), "card.elements[0]"),
    ("feishu", card(body="x"), "card.body"),
    ("feishu", card(body={"elements": "x"}), "card.body.elements"),
    ("feishu", card(body={"elements": [{"tag": "markdown", "content": ["x"]}]}), "card.body.elements[0].content"),
    ("feishu", card(i18n_elements="x"), "card.i18n_elements"),
    ("feishu", card(i18n_elements={}), "card.i18n_elements"),
    ("feishu", card(card_link="x"), "card.card_link"),
    ("feishu", card(card_link={"url": 5}), "card.card_link.url"),
    ("feishu", card(type="template"), "card.data"),
    ("feishu", card(type="template", data={"template_variable": "x"}), "card.data.template_variable"),
    ("feishu", card(type="template", data={"template_id": 5}), "card.data.template_id"),
    ("feishu", feishu("image", content={}), "content.image_key"),
    ("feishu", feishu("share_chat", content={"share_chat_id": 5}), "content.share_chat_id"),
    ("dingtalk", {}, "msgtype"),
    ("dingtalk", {"msg_type": "text", "content": {"text": "x"}}, "msgtype"),
    ("dingtalk", {"msgtype": "image"}, "msgtype"),
    ("dingtalk", {"msgtype": ["text"]}, "msgtype"),
    ("dingtalk", {"msgtype": "text"}, "text"),
    ("dingtalk", ding("text", "disk full"), "text"),
    ("dingtalk", ding("text", {}), "text.content"),
    ("dingtalk", ding("text", {"content": "  "}), "text.content"),
    ("dingtalk", ding("markdown", {"title": "x"}), "markdown.text"),
    ("dingtalk", ding("markdown", {"title": 5, "text": "x"}), "markdown.title"),
    ("dingtalk", ding("link", {"text": "x"}), "link.title"),
    ("dingtalk", ding("link", {"title": "x", "messageUrl": 5}), "link.messageUrl"),
    ("dingtalk", ding("link", {"title": "x", "picUrl": []}), "link.picUrl"),
    ("dingtalk", ding("actionCard", {"title": "x"}), "actionCard.text"),
    ("dingtalk", ding("actionCard", {"text": "x", "singleURL": 5}), "actionCard.singleURL"),
    ("dingtalk", ding("actionCard", {"text": "x", "btns": "x"}), "actionCard.btns"),
    ("dingtalk", ding("actionCard", {"text": "x", "btns": ["x"]}), "actionCard.btns[0]"),
    ("dingtalk", ding("actionCard", {"text": "x", "btns": [{"actionURL": 5}]}), "actionCard.btns[0].actionURL"),
    ("dingtalk", ding("feedCard", {}), "feedCard.links"),
    ("dingtalk", ding("feedCard", {"links": []}), "feedCard.links"),
    ("dingtalk", ding("feedCard", {"links": [{}]}), "feedCard.links[0].title"),
    ("dingtalk", ding("feedCard", {"links": [{"title": "a", "messageURL": 1}]}), "feedCard.links[0].messageURL"),
    ("dingtalk", ding("feedCard", {"links": [{"title": "a", "picURL": {}}]}), "feedCard.links[0].picURL"),
    ("dingtalk", ding("text", TEXT, at="x"), "at"),
    ("dingtalk", ding("text", TEXT, at={"atMobiles": "13800001111"}), "at.atMobiles"),
    ("dingtalk", ding("text", TEXT, at={"atMobiles": [None]}), "at.atMobiles[0]"),
    ("dingtalk", ding("text", TEXT, at={"atUserIds": ["u", True]}), "at.atUserIds[1]"),
    ("dingtalk", ding("text", TEXT, at={"atUserIds": ["\ud800"]}), "at.atUserIds[0]"),
    ("dingtalk", ding("text", TEXT, at={"isAtAll": "false"}), "at.isAtAll"),
    ("wecom", {}, "msgtype"),
    ("wecom", {"msgtype": "actionCard"}, "msgtype"),
    ("wecom", ding("text", {"mentioned_list": ["@all"]}), "text.content"),
    ("wecom", ding("markdown", {"content": 5}), "markdown.content"),
    ("wecom", ding("markdown_v2", {}), "markdown_v2.content"),
    ("wecom", ding("markdown_v2", None), "markdown_v2"),
    ("wecom", ding("news", {}), "news.articles"),
    ("wecom", ding("news", {"articles": []}), "news.articles"),
    ("wecom", ding("news", {"articles": {"title": "a"}}), "news.articles"),
    ("wecom", ding("news", {"articles": [{"description": "x"}]}), "news.articles[0].title"),
    ("wecom", ding("news", {"articles": [{"title": "a"}, {"title": "b", "url": 5}]}), "news.articles[1].url"),
    ("wecom", ding("news", {"articles": [{"title": "a", "picurl": 5}]}), "news.articles[0].picurl"),
    ("wecom", {"msgtype": "template_card"}, "template_card"),
    ("wecom", ding("template_card", {"card_type": 1}), "template_card.card_type"),
    ("wecom", ding("template_card", {"main_title": "x"}), "template_card.main_title"),
    ("wecom", ding("template_card", {"main_title": {"title": 5}}), "template_card.main_title.title"),
    ("wecom", ding("template_card", {"emphasis_content": {"desc": 5}}), "template_card.emphasis_content.desc"),
    ("wecom", ding("template_card", {"horizontal_content_list": [5]}), "template_card.horizontal_content_list[0]"),
    ("wecom", ding("template_card", {"horizontal_content_list": [{"keyname": "a", "value": 1}]}),
     "template_card.horizontal_content_list[0].value"),
    ("wecom", ding("template_card", {"vertical_content_list": "x"}), "template_card.vertical_content_list"),
    ("wecom", ding("template_card", {"jump_list": [{"url": 1}]}), "template_card.jump_list[0].url"),
    ("wecom", ding("template_card", {"card_action": {"url": 2}}), "template_card.card_action.url"),
    ("wecom", ding("template_card", {"card_image": {"url": 2}}), "template_card.card_image.url"),
    ("wecom", ding("image", "x"), "image"),
    ("wecom", ding("image", {"md5": 5}), "image.md5"),
    ("wecom", ding("image", {"base64": ["x"]}), "image.base64"),
    ("wecom", ding("file", {}), "file.media_id"),
    ("wecom", ding("voice", {"media_id": 3}), "voice.media_id"),
]


@pytest.mark.parametrize(("robot", "payload", "path"), MALFORMED,
                         ids=lambda value: value if isinstance(value, str) and value in PARSERS else None)
def test_malformed_body_names_the_path(robot: str, payload: Any, path: str) -> None:
    with pytest.raises(PayloadError) as raised:
        PARSERS[robot](copy.deepcopy(payload), RECEIVED)
    assert raised.value.path == path
    assert str(raised.value).startswith(f"{path}: " if path else raised.value.message)


@pytest.mark.parametrize(("robot", "field", "supported"), [
    ("feishu", "msg_type", "one of text, post, interactive, image, share_chat"),
    ("dingtalk", "msgtype", "one of text, markdown, link, actionCard, feedCard"),
    ("wecom", "msgtype", "one of text, markdown, markdown_v2, news, template_card, image, file, voice"),
])
def test_an_unknown_or_missing_type_names_the_supported_ones(robot: str, field: str, supported: str) -> None:
    for body in ({}, {field: 7}, {field: "sticker"}):
        with pytest.raises(PayloadError) as raised:
            PARSERS[robot](body, RECEIVED)
        assert (raised.value.path, supported in raised.value.message) == (field, True)


# --- any JSON value: an event or PayloadError, nothing else ------------------------------------------------------

TEXTS = st.text(st.characters(exclude_categories=()), max_size=12)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | TEXTS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
# the names the parsers read, so generated bodies reach deep into every reader
NAMES = st.sampled_from([
    "msg_type", "msgtype", "content", "text", "title", "post", "zh_cn", "en_us", "tag", "href", "user_name",
    "user_id", "card", "header", "subtitle", "i18n", "elements", "body", "i18n_elements", "fields", "columns",
    "actions", "url", "default_url", "multi_url", "card_link", "type", "data", "template_id", "template_variable",
    "image_key", "share_chat_id", "at", "atMobiles", "atUserIds", "isAtAll", "markdown", "link", "messageUrl",
    "picUrl", "actionCard", "singleURL", "btns", "actionURL", "feedCard", "links", "messageURL", "picURL",
    "markdown_v2", "news", "articles", "description", "picurl", "template_card", "card_type", "main_title", "desc",
    "emphasis_content", "sub_title_text", "quote_area", "quote_text", "image_text_area", "image_url", "card_image",
    "horizontal_content_list", "keyname", "value", "vertical_content_list", "jump_list", "card_action", "image",
    "base64", "md5", "file", "voice", "media_id",
]) | st.text(max_size=6)
WORDS = st.sampled_from([
    "text", "post", "interactive", "image", "share_chat", "markdown", "link", "actionCard", "feedCard",
    "markdown_v2", "news", "template_card", "file", "voice", "plain_text", "lark_md", "a", "at", "button",
    "template", "[RESOLVED] x", "✅ [FIRING:1]", "OK:", "级别: 严重", "**级别：**", "<at user_id='all'></at>",
    "https://x.example/[a](https://y.example)", "\\[", "", " ", "\n",
]) | TEXTS
SHAPED = st.recursive(
    st.none() | st.booleans() | st.integers() | WORDS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(NAMES, children, max_size=6),
    max_leaves=40,
)
TYPES = {"feishu": ("msg_type", ["text", "post", "interactive", "image", "share_chat"]),
         "dingtalk": ("msgtype", ["text", "markdown", "link", "actionCard", "feedCard"]),
         "wecom": ("msgtype", ["text", "markdown", "markdown_v2", "news", "template_card", "image", "file", "voice"])}


def parses_or_payload_error(robot: str, payload: Any) -> None:
    try:
        parsed = PARSERS[robot](payload, RECEIVED)
    except PayloadError as problem:
        json.dumps({"error": problem.message, "path": problem.path}, ensure_ascii=False).encode("utf-8")
        return
    (event,) = parsed.events
    assert (parsed.reply, parsed.status) == (REPLIES[robot], 200)
    assert event.title and "\n" not in event.title and len(event.title) <= MAX_TITLE_LENGTH
    assert event.fingerprint.startswith("robot:") and len(event.fingerprint) <= 128
    assert len(event.annotations.get("description", "").encode("utf-8")) <= MAX_DESCRIPTION_BYTES
    assert all(link.lower().startswith(("http://", "https://")) for link in event.links)
    assert (event.ends_at is not None) == (event.status is RESOLVED)
    json.dumps([event.title, dict(event.labels), dict(event.annotations), event.links],
               ensure_ascii=False).encode("utf-8")


@pytest.mark.parametrize("robot", sorted(PARSERS))
@given(payload=JSON)
def test_arbitrary_json_raises_nothing_but_payload_error(robot: str, payload: Any) -> None:
    parses_or_payload_error(robot, payload)


@pytest.mark.parametrize("robot", sorted(PARSERS))
@given(data=st.data())
def test_bodies_shaped_like_robot_messages_raise_nothing_but_payload_error(robot: str, data: st.DataObject) -> None:
    field, types = TYPES[robot]
    msgtype = data.draw(st.sampled_from(types))
    body = data.draw(st.dictionaries(NAMES | st.just(msgtype), SHAPED, max_size=5))
    body[field] = msgtype
    body[msgtype if robot != "feishu" else data.draw(st.sampled_from(["content", "card"]))] = data.draw(
        st.dictionaries(NAMES, SHAPED, max_size=6))
    parses_or_payload_error(robot, body)


def subtrees(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """The path of every value inside `value` (keys and list indexes), `value` itself first."""
    inner = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    return [path, *(found for key, item in inner for found in subtrees(item, (*path, key)))]


@given(data=st.data(), name=st.sampled_from(sorted(GOLDEN)))
def test_golden_messages_with_parts_replaced_raise_nothing_but_payload_error(data: st.DataObject, name: str) -> None:
    body: Any = fixture(name)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(subtrees(body)))
        replacement = data.draw(st.none() | SHAPED | JSON)
        if not path:
            body = replacement
            continue
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = replacement
    parses_or_payload_error(name.split("_")[1], body)
