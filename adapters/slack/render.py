"""Neutral card → Block Kit; the comment modal; texts trimmed to Slack's limits."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from adapters.slack.config import (
    MAX_BUTTON_TEXT,
    MAX_FIELD_TEXT,
    MAX_FIELDS,
    MAX_HEADER_TEXT,
    MAX_MODAL_TITLE,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    MAX_OPTIONS,
    MAX_PLACEHOLDER_TEXT,
    MAX_SECTION_TEXT,
)
from cards.model import Card, Menu

SEVERITY_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}
COMMENT_CALLBACK = "comment_modal"
COMMENT_BLOCK = "comment"
COMMENT_INPUT = "text"
OPTION_SEPARATOR = ":"  # a menu option's value is "<incident id>:<choice>", e.g. "7:1h"


def card_blocks(card: Card) -> list[dict[str, Any]]:
    """The incident card: header, status, fields, labels, and the action buttons and menus (select menus)."""
    header = card.title[:MAX_HEADER_TEXT]
    emoji = SEVERITY_EMOJI[card.severity.value]
    fields = [{"type": "mrkdwn",
               "text": _clip(f"*{escape_mrkdwn(field.label)}*\n{escape_mrkdwn(field.value)}", MAX_FIELD_TEXT)}
              for field in card.fields][:MAX_FIELDS]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "section", "block_id": "status",
         "text": {"type": "mrkdwn",
                  "text": _clip(f"{emoji} *{escape_mrkdwn(card.status_line)}*", MAX_SECTION_TEXT)}},
        {"type": "section", "block_id": "fields", "fields": fields},
    ]
    if card.labels:
        label_text = "\n".join(f"`{escape_mrkdwn(key)}` = `{escape_mrkdwn(value)}`" for key, value in card.labels)
        blocks.append({"type": "section", "block_id": "labels",
                       "text": {"type": "mrkdwn", "text": _clip(f"*{card.labels_heading}*\n{label_text}",
                                                                MAX_SECTION_TEXT)}})
    elements = [_button(card, button.action, button.label, button.style, button.url) for button in card.buttons]
    elements += [_menu(card, menu) for menu in card.menus]
    if elements:
        blocks.append({"type": "actions", "block_id": f"incident:{card.incident_id}", "elements": elements})
    return blocks


def _button(card: Card, action: str, label: str, style: str, url: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "action_id": action, "value": str(card.incident_id),
                               "text": {"type": "plain_text", "text": label[:MAX_BUTTON_TEXT], "emoji": True}}
    if style in ("primary", "danger"):
        element["style"] = style
    if url:
        element["url"] = url
    return element


def _menu(card: Card, menu: Menu) -> dict[str, Any]:
    """A static_select: it shows its placeholder ("Silence…") and sends the chosen option, incident id first."""
    options = [{"text": {"type": "plain_text", "text": option.label[:MAX_OPTION_TEXT], "emoji": True},
                "value": f"{card.incident_id}{OPTION_SEPARATOR}{option.value}"[:MAX_OPTION_VALUE]}
               for option in menu.options][:MAX_OPTIONS]
    return {"type": "static_select", "action_id": menu.action, "options": options,
            "placeholder": {"type": "plain_text", "text": menu.placeholder[:MAX_PLACEHOLDER_TEXT], "emoji": True}}


def comment_modal(incident_id: int, title: str, label: str, submit: str, cancel: str) -> dict[str, Any]:
    """The modal the Comment button opens; the incident id travels in private_metadata."""
    return {
        "type": "modal",
        "callback_id": COMMENT_CALLBACK,
        "private_metadata": json.dumps({"incident_id": incident_id}),
        "title": {"type": "plain_text", "text": title[:MAX_MODAL_TITLE]},
        "submit": {"type": "plain_text", "text": submit[:MAX_MODAL_TITLE]},
        "close": {"type": "plain_text", "text": cancel[:MAX_MODAL_TITLE]},
        "blocks": [{"type": "input", "block_id": COMMENT_BLOCK, "label": {"type": "plain_text", "text": label},
                    "element": {"type": "plain_text_input", "action_id": COMMENT_INPUT, "multiline": True,
                                "max_length": 3000}}],
    }


PEOPLE_CALLBACK, PEOPLE_BLOCK, PEOPLE_INPUT = "people_modal", "people", "people"


def people_modal(incident_id: int, verb: str, form: dict[str, str], channel: str | None) -> dict[str, Any]:
    """The people picker that Reassign… and Add responders… open: Slack's own user picker, several at once."""
    return {
        "type": "modal",
        "callback_id": PEOPLE_CALLBACK,
        "private_metadata": json.dumps({"incident_id": incident_id, "verb": verb, "channel": channel or ""}),
        "title": {"type": "plain_text", "text": form["title"][:MAX_MODAL_TITLE]},
        "submit": {"type": "plain_text", "text": form["submit"][:MAX_MODAL_TITLE]},
        "close": {"type": "plain_text", "text": form["cancel"][:MAX_MODAL_TITLE]},
        "blocks": [{"type": "input", "block_id": PEOPLE_BLOCK, "label": {"type": "plain_text", "text": form["label"]},
                    "element": {"type": "multi_users_select", "action_id": PEOPLE_INPUT,
                                "max_selected_items": 50}}],
    }


def escape_mrkdwn(text: str) -> str:
    """Slack mrkdwn needs &, < and > escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


OVERRIDE_CALLBACK = "override_modal"
COMMAND_BUTTON_PREFIX = "cmd:"


def command_answer(text: str, buttons: Sequence[tuple[str, str]]) -> list[dict[str, Any]]:
    """A command's answer as blocks: its text, then buttons that run follow-up commands (e.g. override)."""
    section = {"type": "mrkdwn", "text": _clip(text, MAX_SECTION_TEXT)}
    blocks: list[dict[str, Any]] = [{"type": "section", "text": section}]
    if buttons:
        blocks.append({"type": "actions", "block_id": "commands", "elements": [
            {"type": "button", "action_id": f"{COMMAND_BUTTON_PREFIX}{command}", "value": command,
             "text": {"type": "plain_text", "text": label[:MAX_BUTTON_TEXT]}} for command, label in buttons]})
    return blocks


def override_modal(form: Mapping[str, str], schedules: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The cover-a-shift form: schedule, the person covering (a Slack user picker), from and until."""
    options = [{"text": {"type": "plain_text", "text": label[:MAX_OPTION_TEXT]}, "value": value}
               for value, label in schedules][:MAX_OPTIONS]

    def field(block_id: str, label: str, element: dict[str, Any]) -> dict[str, Any]:
        return {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
                "element": {**element, "action_id": block_id}}

    return {
        "type": "modal",
        "callback_id": OVERRIDE_CALLBACK,
        "title": {"type": "plain_text", "text": form["title"][:MAX_MODAL_TITLE]},
        "submit": {"type": "plain_text", "text": form["submit"][:MAX_MODAL_TITLE]},
        "close": {"type": "plain_text", "text": form["cancel"][:MAX_MODAL_TITLE]},
        "blocks": [
            field("schedule", form["schedule"], {"type": "static_select", "options": options}),
            field("user", form["user"], {"type": "users_select"}),
            field("start", form["start"], {"type": "datetimepicker"}),
            field("end", form["end"], {"type": "datetimepicker"}),
        ],
    }
