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
    MAX_SECTION_TEXT,
)
from cards.model import Card

SEVERITY_EMOJI = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_blue_circle:"}
COMMENT_CALLBACK = "comment_modal"
COMMENT_BLOCK = "comment"
COMMENT_INPUT = "text"


def card_blocks(card: Card) -> list[dict[str, Any]]:
    """The incident card: header, status, fields, labels, and the action buttons."""
    header = card.title[:MAX_HEADER_TEXT]
    emoji = SEVERITY_EMOJI[card.severity.value]
    fields = [{"type": "mrkdwn",
               "text": _clip(f"*{_escape(field.label)}*\n{_escape(field.value)}", MAX_FIELD_TEXT)}
              for field in card.fields][:MAX_FIELDS]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": header, "emoji": True}},
        {"type": "section", "block_id": "status",
         "text": {"type": "mrkdwn", "text": _clip(f"{emoji} *{_escape(card.status_line)}*", MAX_SECTION_TEXT)}},
        {"type": "section", "block_id": "fields", "fields": fields},
    ]
    if card.labels:
        label_text = "\n".join(f"`{_escape(key)}` = `{_escape(value)}`" for key, value in card.labels)
        blocks.append({"type": "section", "block_id": "labels",
                       "text": {"type": "mrkdwn", "text": _clip(f"*{card.labels_heading}*\n{label_text}",
                                                                MAX_SECTION_TEXT)}})
    if card.buttons:
        blocks.append({"type": "actions", "block_id": f"incident:{card.incident_id}",
                       "elements": [_button(card, button.action, button.label, button.style, button.url)
                                    for button in card.buttons]})
    return blocks


def _button(card: Card, action: str, label: str, style: str, url: str | None) -> dict[str, Any]:
    element: dict[str, Any] = {"type": "button", "action_id": action, "value": str(card.incident_id),
                               "text": {"type": "plain_text", "text": label[:MAX_BUTTON_TEXT], "emoji": True}}
    if style in ("primary", "danger"):
        element["style"] = style
    if url:
        element["url"] = url
    return element


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


def _escape(text: str) -> str:
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
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75


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
