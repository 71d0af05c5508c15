"""adapters/slack/parse.py: `block_actions` payloads of card buttons and of the silence menu → InboundAction."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from adapters.slack.parse import block_action, edit_submission, merge_submission
from adapters.slack.render import card_blocks, edit_modal
from cards.build import incident_card
from cards.i18n import Translator
from core.model import IncidentStatus, IncidentView, Severity
from core.ports import InboundAction

VIEW = IncidentView(id=7, number=7, title="Disk full", status=IncidentStatus.TRIGGERED, severity=Severity.WARNING,
                    service_id="payments", service_name="Payments", alert_count=1,
                    labels={"alertname": "DiskFull", "host": "db-1"},
                    created_at=datetime(2026, 11, 25, 10, tzinfo=UTC))


def payload(action: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A `block_actions` body as Bolt hands it to the listener (the form's `payload` JSON, parsed)."""
    return {"type": "block_actions", "user": {"id": "UBOB", "team_id": "T1"}, "team": {"id": "T1"},
            "channel": {"id": "CSRE"}, "container": {"type": "message", "channel_id": "CSRE"},
            "actions": [{"block_id": "incident:7", "action_ts": "1700000001.0", **action}], **extra}


def select(value: Any, kind: str = "static_select", action_id: str = "silence") -> dict[str, Any]:
    return {"type": kind, "action_id": action_id,
            "selected_option": {"text": {"type": "plain_text", "text": "1 hour"}, "value": value}}


def test_a_silence_menu_choice_names_the_incident_and_preset() -> None:
    assert block_action(payload(select("7:1h"))) == InboundAction(
        platform="slack", account="UBOB", action="silence", incident_id=7, channel="CSRE", option="1h")


def test_an_overflow_menu_sends_the_same_shape() -> None:
    assert block_action(payload(select("12:1w", kind="overflow"))) == InboundAction(
        platform="slack", account="UBOB", action="silence", incident_id=12, channel="CSRE", option="1w")


@pytest.mark.parametrize("option", ["30m", "1h", "12h", "1d", "1w"])
def test_every_rendered_option_parses_back(option: str) -> None:
    card = incident_card(VIEW, Translator("en"), "UTC")
    (actions,) = [block for block in card_blocks(card) if block["type"] == "actions"]
    (menu,) = [element for element in actions["elements"] if element.get("action_id") == "silence"]
    (chosen,) = [item for item in menu["options"] if item["value"].endswith(f":{option}")]
    action = block_action(payload({"type": "static_select", "action_id": menu["action_id"],
                                   "selected_option": chosen}))
    assert action is not None and (action.action, action.incident_id, action.option) == ("silence", 7, option)


def test_the_channel_falls_back_to_the_container() -> None:
    body = payload(select("7:30m"))
    del body["channel"]
    action = block_action(body)
    assert action is not None and action.channel == "CSRE"


def test_buttons_still_parse_without_an_option() -> None:
    action = block_action(payload({"type": "button", "action_id": "ack", "value": "7"}))
    assert action == InboundAction(platform="slack", account="UBOB", action="ack", incident_id=7, channel="CSRE")


@pytest.mark.parametrize("action", [
    select("1h"),                              # no incident id
    select("7:"),                              # no preset
    select(":1h"),
    select("x:1h"),
    select("0:1h"),
    select("99999999999999999999:1h"),         # beyond the database's integer
    select("7:" + "h" * 17),                   # longer than any option we offer
    select(7),
    select(None),
    {"type": "static_select", "action_id": "silence"},                          # nothing selected
    {"type": "static_select", "action_id": "silence", "selected_option": "7:1h"},
    select("7:1h", action_id="reassign"),      # a menu that is not ours
    {"type": "button", "action_id": "silence", "value": "7"},                   # a silence without a choice
], ids=repr)
def test_malformed_menu_choices_are_ignored(action: dict[str, Any]) -> None:
    assert block_action(payload(action)) is None


@pytest.mark.parametrize("body", [{}, {"actions": []}, {"actions": ["silence"]}, {"actions": [None]}], ids=repr)
def test_payloads_without_an_action_object_are_ignored(body: dict[str, Any]) -> None:
    assert block_action(body) is None


def _submission(metadata: Any, values: Any) -> dict[str, Any]:
    return {"type": "view_submission", "user": {"id": "UBOB"},
            "view": {"private_metadata": metadata, "state": {"values": values}}}


def test_the_edit_form_parses_back_with_or_without_its_description() -> None:
    form = {"title": "Edit", "title_label": "Title", "severity_label": "Severity", "description_label": "D",
            "description_note": "too long", "submit": "Save", "cancel": "Cancel", "value_title": "Old",
            "value_severity": "info", "value_description": ""}
    view = edit_modal(7, form, [("critical", "Critical"), ("info", "Info")], "C1")
    option = {"text": {"type": "plain_text", "text": "Critical"}, "value": "critical"}
    values = {"title": {"title": {"value": "New"}}, "severity": {"severity": {"selected_option": option}},
              "description": {"description": {"value": None}}}  # emptied: Slack sends null
    action = edit_submission(_submission(view["private_metadata"], values))
    assert action == InboundAction(platform="slack", account="UBOB", action="edit", incident_id=7, text="New",
                                   option="critical", channel="C1", fields=(("description", ""),))
    del values["description"]  # the form had no description field: it is left alone
    assert edit_submission(_submission(view["private_metadata"], values)).fields == ()  # type: ignore[union-attr]


@pytest.mark.parametrize(("metadata", "values"), [
    ("not json", {"title": {"title": {"value": "x"}}}),
    ('["a list"]', {"title": {"title": {"value": "x"}}}),
    ('{"incident_id": 0}', {"title": {"title": {"value": "x"}}}),
    ('{"incident_id": 7}', {"title": "not an object"}),
    ('{"incident_id": 7}', {"title": {"title": {"value": 42}}}),
    ('{"incident_id": 7}', "not an object"),
])
def test_malformed_edit_forms_are_ignored(metadata: Any, values: Any) -> None:
    assert edit_submission(_submission(metadata, values)) is None


@pytest.mark.parametrize(("into", "expected"), [
    ("42", "merge 7 into 42"), ("#42", "merge 7 into 42"), ("0", None), ("-3", None), ("4.5", None),
    ("nine", None), (None, None), ("9" * 20, None),
])
def test_the_merge_form_becomes_the_merge_command(into: Any, expected: str | None) -> None:
    command = merge_submission(_submission('{"incident_id": 7, "channel": "C1"}', {"into": {"into": {"value": into}}}))
    assert (command.text if command else None) == expected
