"""cards/build.py: what an incident card says, in both locales, in the account's time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from cards.build import MAX_LABELS_LINE, MAX_LABELS_SHOWN, incident_card, labels_line
from cards.i18n import Translator
from cards.model import Button, Field
from core.model import IncidentStatus, IncidentView, Severity

TRIGGERED, ACKNOWLEDGED, RESOLVED = IncidentStatus.TRIGGERED, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED
LINKS = {"ack": "https://dutybot.example.com/a/ack-token", "resolve": "https://dutybot.example.com/a/resolve-token"}

VIEW = IncidentView(
    id=7, number=12, title="CPU high on db-1", status=TRIGGERED, severity=Severity.CRITICAL,
    service_id="payments", service_name="支付服务", alert_count=3,
    labels={"cluster": "prod", "alertname": "CPUHigh"},
    created_at=datetime(2026, 12, 1, 1, 58, tzinfo=UTC),
    on_call=("王丽",),
)
ACKED = replace(VIEW, status=ACKNOWLEDGED, acknowledged_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC),
                acknowledged_by="王丽")
RESOLVED_VIEW = replace(ACKED, status=RESOLVED, resolved_at=datetime(2026, 12, 1, 2, 30, 15, tzinfo=UTC),
                        resolved_by="李博")
VIEWS = {TRIGGERED: VIEW, ACKNOWLEDGED: ACKED, RESOLVED: RESOLVED_VIEW}


def buttons(view: IncidentView, locale: str, links: dict[str, str] | None = None) -> list[tuple[str, str, str | None]]:
    card = incident_card(view, Translator(locale), "Asia/Shanghai", links=links)
    return [(button.action, button.label, button.url) for button in card.buttons]


# an open incident's forms: reassign, add responders, edit, merge into another
PEOPLE_EN = [("reassign", "Reassign…", None), ("responders", "Add responders…", None), ("edit", "Edit…", None),
             ("merge", "Merge into…", None)]
PEOPLE_ZH = [("reassign", "改派…", None), ("responders", "添加响应人…", None), ("edit", "编辑…", None),
             ("merge", "合并到…", None)]


@pytest.mark.parametrize(("status", "locale", "expected"), [
    (TRIGGERED, "en", [("ack", "Acknowledge", None), ("resolve", "Resolve", None), ("comment", "Comment", None),
                       *PEOPLE_EN]),
    (ACKNOWLEDGED, "en", [("resolve", "Resolve", None), ("unack", "Un-acknowledge", None),
                          ("comment", "Comment", None), *PEOPLE_EN]),
    # nobody left to page and nothing to merge into; a post-mortem may still fix the title
    (RESOLVED, "en", [("reopen", "Reopen", None), ("comment", "Comment", None), ("edit", "Edit…", None)]),
    (TRIGGERED, "zh-CN", [("ack", "认领", None), ("resolve", "解决", None), ("comment", "评论", None), *PEOPLE_ZH]),
    (ACKNOWLEDGED, "zh-CN", [("resolve", "解决", None), ("unack", "取消认领", None), ("comment", "评论", None),
                             *PEOPLE_ZH]),
    (RESOLVED, "zh-CN", [("reopen", "重新打开", None), ("comment", "评论", None), ("edit", "编辑…", None)]),
])
def test_buttons_for_app_platforms(status: IncidentStatus, locale: str, expected: list) -> None:
    assert buttons(VIEWS[status], locale) == expected


def test_a_snoozed_card_offers_wake_and_says_until_when() -> None:
    snoozed = replace(ACKED, snoozed_until=datetime(2026, 12, 1, 4, 0, tzinfo=UTC))
    assert buttons(snoozed, "en") == [("resolve", "Resolve", None), ("wake", "Wake now", None),
                                      ("comment", "Comment", None), *PEOPLE_EN]
    card = incident_card(snoozed, Translator("en"), "Asia/Shanghai")
    assert card.status_line == "Snoozed by 王丽 until 2026-12-01 12:00:00 CST: then paged again"
    assert incident_card(snoozed, Translator("zh-CN"), "Asia/Shanghai").status_line == (
        "已由 王丽 暂缓至 2026-12-01 12:00:00 CST，届时将再次通知")
    # robots cannot take these: their one-click links stay acknowledge and resolve
    assert [b.action for b in incident_card(snoozed, Translator("en"), "UTC", links=LINKS).buttons] == ["resolve"]


@pytest.mark.parametrize(("status", "locale", "expected"), [
    # robots cannot take a comment, so a card with links has only the one-click actions
    (TRIGGERED, "en", [("ack", "Acknowledge", LINKS["ack"]), ("resolve", "Resolve", LINKS["resolve"])]),
    (ACKNOWLEDGED, "en", [("resolve", "Resolve", LINKS["resolve"])]),
    (RESOLVED, "en", []),
    (TRIGGERED, "zh-CN", [("ack", "认领", LINKS["ack"]), ("resolve", "解决", LINKS["resolve"])]),
])
def test_link_buttons_for_robots(status: IncidentStatus, locale: str, expected: list) -> None:
    assert buttons(VIEWS[status], locale, LINKS) == expected


def test_an_action_without_a_link_gets_no_button() -> None:
    assert buttons(VIEW, "en", {"resolve": LINKS["resolve"]}) == [("resolve", "Resolve", LINKS["resolve"])]


def test_button_styles() -> None:
    card = incident_card(VIEW, Translator("en"), "UTC")
    assert [(button.action, button.style) for button in card.buttons] == [
        ("ack", "primary"), ("resolve", "danger"), ("comment", "default"), ("reassign", "default"),
        ("responders", "default"), ("edit", "default"), ("merge", "default")]


@pytest.mark.parametrize(("view", "locale", "timezone", "expected"), [
    (VIEW, "en", "Asia/Shanghai", "Triggered: waiting for the on-call to acknowledge"),
    (VIEW, "zh-CN", "Asia/Shanghai", "待处理：等待值班人认领"),
    (ACKED, "en", "Asia/Shanghai", "Acknowledged by 王丽 at 2026-12-01 10:00:00 CST"),
    (ACKED, "en", "America/New_York", "Acknowledged by 王丽 at 2026-11-30 21:00:00 EST"),
    (ACKED, "en", "UTC", "Acknowledged by 王丽 at 2026-12-01 02:00:00 UTC"),
    (ACKED, "zh-CN", "Asia/Shanghai", "已由 王丽 于 2026-12-01 10:00:00 CST 认领"),
    (RESOLVED_VIEW, "en", "Asia/Shanghai", "Resolved by 李博 at 2026-12-01 10:30:15 CST"),
    (RESOLVED_VIEW, "zh-CN", "Europe/Berlin", "已由 李博 于 2026-12-01 03:30:15 CET 解决"),
    (replace(RESOLVED_VIEW, resolved_by=None), "en", "UTC", "Resolved by system at 2026-12-01 02:30:15 UTC"),
    (replace(RESOLVED_VIEW, resolved_by=None), "zh-CN", "UTC", "已由 系统 于 2026-12-01 02:30:15 UTC 解决"),
    (replace(ACKED, acknowledged_by="link:ding-robot"), "en", "UTC",
     "Acknowledged by one-click link (ding-robot) at 2026-12-01 02:00:00 UTC"),
    (replace(ACKED, acknowledged_by="link:ding-robot"), "zh-CN", "UTC",
     "已由 一键链接（ding-robot） 于 2026-12-01 02:00:00 UTC 认领"),
])
def test_status_line_says_who_and_when(view: IncidentView, locale: str, timezone: str, expected: str) -> None:
    assert incident_card(view, Translator(locale), timezone).status_line == expected


@pytest.mark.parametrize(("locale", "fields", "fallback"), [
    ("en", [Field("Severity", "Critical"), Field("Service", "支付服务"), Field("Alerts", "3"),
            Field("Started", "2026-12-01 09:58:00 CST"), Field("On call", "王丽")],
     "[Critical] #12 CPU high on db-1 (Triggered)"),
    ("zh-CN", [Field("级别", "严重"), Field("服务", "支付服务"), Field("告警数", "3"),
               Field("开始时间", "2026-12-01 09:58:00 CST"), Field("值班人", "王丽")],
     "[严重] #12 CPU high on db-1（待处理）"),
])
def test_fields_and_fallback(locale: str, fields: list[Field], fallback: str) -> None:
    card = incident_card(VIEW, Translator(locale), "Asia/Shanghai")
    assert (card.title, list(card.fields), card.fallback) == ("#12 CPU high on db-1", fields, fallback)
    assert (card.incident_id, card.severity, card.status) == (7, Severity.CRITICAL, TRIGGERED)


@pytest.mark.parametrize(("severity", "en", "zh"), [
    (Severity.CRITICAL, "Critical", "严重"), (Severity.WARNING, "Warning", "警告"), (Severity.INFO, "Info", "提醒")])
def test_every_severity_has_a_name(severity: Severity, en: str, zh: str) -> None:
    view = replace(VIEW, severity=severity)
    assert incident_card(view, Translator("en"), "UTC").fields[0].value == en
    assert incident_card(view, Translator("zh-CN"), "UTC").fields[0].value == zh


def test_nobody_on_call_leaves_the_field_out() -> None:
    card = incident_card(replace(VIEW, on_call=()), Translator("en"), "UTC")
    assert [field.label for field in card.fields] == ["Severity", "Service", "Alerts", "Started"]


def test_several_people_on_call() -> None:
    card = incident_card(replace(VIEW, on_call=("王丽", "李博")), Translator("en"), "UTC")
    assert card.fields[-1] == Field("On call", "王丽, 李博")


def test_labels_are_sorted_and_capped() -> None:
    many = {f"label-{index:03}": str(index) for index in range(500)}
    card = incident_card(replace(VIEW, labels=many), Translator("en"), "UTC")
    assert len(card.labels) == MAX_LABELS_SHOWN
    assert card.labels[:2] == (("label-000", "0"), ("label-001", "1"))
    assert incident_card(VIEW, Translator("en"), "UTC").labels == (("alertname", "CPUHigh"), ("cluster", "prod"))
    assert incident_card(VIEW, Translator("zh-CN"), "UTC").labels_heading == "标签"


def test_unknown_locale_is_refused() -> None:
    with pytest.raises(ValueError, match="fr"):
        Translator("fr")


def test_buttons_are_neutral_values() -> None:
    assert incident_card(RESOLVED_VIEW, Translator("en"), "UTC").buttons == (
        Button(action="reopen", label="Reopen", style="default", url=None),
        Button(action="comment", label="Comment", style="default", url=None),
        Button(action="edit", label="Edit…", style="default", url=None))


SILENCE_LINKS = {**LINKS, "silence:1h": "https://dutybot.example.com/a/silence-token"}


def menus(view: IncidentView, locale: str = "en", links: dict[str, str] | None = None) -> list[tuple]:
    card = incident_card(view, Translator(locale), "Asia/Shanghai", links=links)
    return [(menu.action, menu.placeholder, [(option.value, option.label) for option in menu.options])
            for menu in card.menus if menu.action == "silence"]


@pytest.mark.parametrize(("status", "locale", "expected"), [
    (TRIGGERED, "en", [("silence", "Silence…", [("30m", "30 minutes"), ("1h", "1 hour"), ("12h", "12 hours"),
                                               ("1d", "1 day"), ("1w", "1 week")])]),
    (ACKNOWLEDGED, "zh-CN", [("silence", "静默…", [("30m", "30 分钟"), ("1h", "1 小时"), ("12h", "12 小时"),
                                                  ("1d", "1 天"), ("1w", "1 周")])]),
    (RESOLVED, "en", []),
])
def test_open_incidents_offer_a_silence_menu_with_every_preset(status: IncidentStatus, locale: str,
                                                               expected: list) -> None:
    assert menus(VIEWS[status], locale) == expected


def test_an_incident_without_labels_offers_no_silence() -> None:
    """Its silence would hold every alert of the service (docs/silences.md), so the card does not offer one."""
    bare = replace(VIEW, labels={})
    assert menus(bare) == []
    assert [button.action for button in incident_card(bare, Translator("en"), "UTC", SILENCE_LINKS).buttons] == [
        "ack", "resolve"]


@pytest.mark.parametrize(("status", "locale", "expected"), [
    (TRIGGERED, "en", [("ack", "Acknowledge", LINKS["ack"]), ("resolve", "Resolve", LINKS["resolve"]),
                       ("silence:1h", "Silence 1 hour", SILENCE_LINKS["silence:1h"])]),
    (ACKNOWLEDGED, "zh-CN", [("resolve", "解决", LINKS["resolve"]),
                             ("silence:1h", "静默 1 小时", SILENCE_LINKS["silence:1h"])]),
    (RESOLVED, "en", []),
])
def test_robot_cards_offer_one_silence_link_and_no_menu(status: IncidentStatus, locale: str, expected: list) -> None:
    assert buttons(VIEWS[status], locale, SILENCE_LINKS) == expected
    assert menus(VIEWS[status], locale, SILENCE_LINKS) == []


def test_labels_line_is_sorted_and_clipped() -> None:
    assert labels_line({"host": "db-1", "alertname": "DiskFull"}) == "alertname=DiskFull, host=db-1"
    long = labels_line({f"label-{index:03}": "x" * 50 for index in range(100)})
    assert len(long) == MAX_LABELS_LINE and long.endswith("…")


@pytest.mark.parametrize(("status", "levels", "locale", "expected"), [
    (TRIGGERED, 3, "en", ("Escalate to…", ["Level 1", "Level 2", "Level 3"])),
    (ACKNOWLEDGED, 2, "zh-CN", ("升级到…", ["第 1 级", "第 2 级"])),
    (RESOLVED, 3, "en", None),  # nothing to escalate
    (TRIGGERED, 0, "en", None),  # no policy kept with it
])
def test_the_escalate_menu_offers_the_policys_levels_while_open(status: IncidentStatus, levels: int, locale: str,
                                                                expected: tuple[str, list[str]] | None) -> None:
    card = incident_card(replace(VIEWS[status], levels=levels), Translator(locale), "UTC")
    found = [(menu.placeholder, [option.label for option in menu.options]) for menu in card.menus
             if menu.action == "escalate"]
    assert found == ([expected] if expected else [])
    values = [option.value for menu in card.menus if menu.action == "escalate" for option in menu.options]
    assert values == [str(level) for level in range(1, levels + 1)] if expected else values == []


def test_robot_cards_offer_no_escalate_menu() -> None:
    card = incident_card(replace(VIEW, levels=3), Translator("en"), "UTC", links={"ack": "https://x/a"})
    assert card.menus == ()
