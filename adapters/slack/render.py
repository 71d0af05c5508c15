"""Neutral card → Block Kit; the modals its buttons open; texts trimmed to Slack's limits."""

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
    element = {"type": "plain_text_input", "action_id": COMMENT_INPUT, "multiline": True, "max_length": 3000}
    return _modal(COMMENT_CALLBACK, {"title": title, "submit": submit, "cancel": cancel},
                  [{"type": "input", "block_id": COMMENT_BLOCK, "label": {"type": "plain_text", "text": label},
                    "element": element}], {"incident_id": incident_id})


PEOPLE_CALLBACK, PEOPLE_BLOCK, PEOPLE_INPUT = "people_modal", "people", "people"


def people_modal(incident_id: int, verb: str, form: dict[str, str], channel: str | None) -> dict[str, Any]:
    """The people picker that Reassign… and Add responders… open: Slack's own user picker, several at once."""
    picker = _input(PEOPLE_BLOCK, form["label"], {"type": "multi_users_select", "max_selected_items": 50})
    return _modal(PEOPLE_CALLBACK, form, [picker],
                  {"incident_id": incident_id, "verb": verb, "channel": channel or ""})


EDIT_CALLBACK, MERGE_CALLBACK = "edit_modal", "merge_modal"
EDIT_TITLE, EDIT_SEVERITY, EDIT_DESCRIPTION, MERGE_INTO = "title", "severity", "description", "into"
MAX_INPUT = 3000  # plain_text_input max_length (Block Kit)
MAX_EDIT_TITLE = 500  # an incident title (bot/services/incident_changes.py MAX_TITLE)


def _modal(callback: str, form: Mapping[str, str], blocks: list[dict[str, Any]],
           metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "modal", "callback_id": callback, "private_metadata": json.dumps(dict(metadata)),
        "title": {"type": "plain_text", "text": form["title"][:MAX_MODAL_TITLE]},
        "submit": {"type": "plain_text", "text": form["submit"][:MAX_MODAL_TITLE]},
        "close": {"type": "plain_text", "text": form["cancel"][:MAX_MODAL_TITLE]},
        "blocks": blocks,
    }


def _input(block_id: str, label: str, element: dict[str, Any], optional: bool = False,
           hint: str | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "input", "block_id": block_id, "label": {"type": "plain_text", "text": label},
             "element": {**element, "action_id": block_id}, "optional": optional}
    if hint:
        block["hint"] = {"type": "plain_text", "text": hint}
    return block


def edit_modal(incident_id: int, form: Mapping[str, str], severities: Sequence[tuple[str, str]],
               channel: str | None) -> dict[str, Any]:
    """Edit… on a card: the title, the severity and (when it fits a form) the description, filled in as they
    are now. A description longer than a form holds is left out, and left as it is, with a note saying so."""
    options = {value: {"text": {"type": "plain_text", "text": label[:MAX_OPTION_TEXT]}, "value": value}
               for value, label in severities}
    severity: dict[str, Any] = {"type": "static_select", "options": list(options.values())}
    if form.get("value_severity") in options:
        severity["initial_option"] = options[form["value_severity"]]
    title: dict[str, Any] = {"type": "plain_text_input", "max_length": MAX_EDIT_TITLE}
    if form.get("value_title"):
        title["initial_value"] = form["value_title"][:MAX_EDIT_TITLE]
    blocks = [_input(EDIT_TITLE, form["title_label"], title), _input(EDIT_SEVERITY, form["severity_label"], severity)]
    description = form.get("value_description")
    if description is not None and len(description) <= MAX_INPUT:
        element: dict[str, Any] = {"type": "plain_text_input", "multiline": True, "max_length": MAX_INPUT}
        if description:
            element["initial_value"] = description
        blocks.append(_input(EDIT_DESCRIPTION, form["description_label"], element, optional=True))
    elif description is not None:
        blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": form["description_note"]}]})
    return _modal(EDIT_CALLBACK, form, blocks, {"incident_id": incident_id, "channel": channel or ""})


def merge_modal(incident_id: int, form: Mapping[str, str], channel: str | None) -> dict[str, Any]:
    """Merge into… on a card: the number of the incident that takes this one's alerts."""
    element = {"type": "number_input", "is_decimal_allowed": False, "min_value": "1"}
    return _modal(MERGE_CALLBACK, form, [_input(MERGE_INTO, form["label"], element, hint=form.get("hint"))],
                  {"incident_id": incident_id, "channel": channel or ""})


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
