"""Slack interactivity and slash-command payloads → neutral inbound events (pure)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from adapters.slack.render import (
    COMMENT_BLOCK,
    COMMENT_INPUT,
    EDIT_DESCRIPTION,
    EDIT_SEVERITY,
    EDIT_TITLE,
    MERGE_INTO,
    OPTION_SEPARATOR,
    PEOPLE_BLOCK,
    PEOPLE_INPUT,
)
from core.ports import InboundAction, InboundCommand, InboundOverride

CARD_BUTTONS = ("ack", "unack", "wake", "resolve", "reopen", "comment", "reassign", "responders", "edit", "merge")
CARD_MENUS = ("snooze", "escalate", "silence")  # select menus: the option chosen is "<incident id>:<choice>"
CARD_ACTIONS = CARD_BUTTONS + CARD_MENUS
MAX_INCIDENT_ID = 2**31 - 1  # the database's integer
PEOPLE_VERBS = {"reassign": "reassign", "responders": "add"}  # the card button → the /incident verb
MAX_PEOPLE = 50  # as the API takes
USER_ID = re.compile(r"[UW][A-Z0-9]{2,20}")
MAX_CHOICE = 16  # longer than any menu option we offer (snooze 30m … 12h, silence 30m … 1w)


def block_action(body: Mapping[str, Any]) -> InboundAction | None:
    """The first card button or menu choice of a `block_actions` payload, or None when it is not one of ours."""
    actions = body.get("actions") or []
    if not actions or not isinstance(actions[0], Mapping):
        return None
    action = actions[0]
    action_id = action.get("action_id")
    option: str | None = None
    if action_id in CARD_BUTTONS:
        incident_id = _incident_id(action.get("value"))
    elif action_id in CARD_MENUS:
        incident_id, option = _chosen(action.get("selected_option"))
    else:
        return None
    if incident_id is None:
        return None
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    return InboundAction(platform="slack", account=str((body.get("user") or {}).get("id", "")),
                         action=str(action_id), incident_id=incident_id, channel=channel, option=option)


def _chosen(selected: Any) -> tuple[int | None, str | None]:
    """A menu option's "<incident id>:<choice>" value (static_select and overflow send the same shape)."""
    value = selected.get("value") if isinstance(selected, Mapping) else None
    if not isinstance(value, str):
        return None, None
    incident, separator, choice = value.partition(OPTION_SEPARATOR)
    if not separator or not 0 < len(choice) <= MAX_CHOICE:
        return None, None
    incident_id = _incident_id(incident)
    return (incident_id, choice) if incident_id is not None else (None, None)


def comment_submission(body: Mapping[str, Any]) -> InboundAction | None:
    """The comment modal's `view_submission`: incident id from private_metadata, text from the input."""
    metadata, values = _view(body)
    incident_id = _incident_id(metadata.get("incident_id"))
    text = _value(values, COMMENT_BLOCK, action=COMMENT_INPUT)
    if incident_id is None or not isinstance(text, str) or not text.strip():
        return None
    return InboundAction(platform="slack", account=str((body.get("user") or {}).get("id", "")),
                         action="comment", incident_id=incident_id, text=text.strip())


def people_submission(body: Mapping[str, Any]) -> InboundCommand | None:
    """The people picker's `view_submission` (Reassign… / Add responders… on a card) as the `/incident` command
    it stands for, so both ways share one path: `reassign 42 <@U1> <@U2>` or `add 42 <@U1>`."""
    metadata, values = _view(body)
    if metadata.get("verb") not in PEOPLE_VERBS:
        return None
    incident_id = _incident_id(metadata.get("incident_id"))
    users = _value(values, PEOPLE_BLOCK, "selected_users", action=PEOPLE_INPUT)
    if incident_id is None or not isinstance(users, list) or not users or len(users) > MAX_PEOPLE:
        return None
    if not all(isinstance(user, str) and USER_ID.fullmatch(user) for user in users):
        return None
    mentions = " ".join(f"<@{user}>" for user in users)
    return InboundCommand(platform="slack", account=str((body.get("user") or {}).get("id", "")), command="incident",
                          text=f"{PEOPLE_VERBS[metadata['verb']]} {incident_id} {mentions}",
                          channel=str(metadata.get("channel") or ""))


def edit_submission(body: Mapping[str, Any]) -> InboundAction | None:
    """The Edit… form's `view_submission`: the title as `text`, the severity as `option`, and the description
    in `fields` when the form had it (cleared when emptied; left alone when the form did not show it)."""
    metadata, values = _view(body)
    incident_id = _incident_id(metadata.get("incident_id"))
    title = _value(values, EDIT_TITLE)
    severity = _value(values, EDIT_SEVERITY, "selected_option")
    if incident_id is None or not isinstance(title, str):
        return None
    fields: tuple[tuple[str, str], ...] = ()
    if EDIT_DESCRIPTION in values:
        description = _value(values, EDIT_DESCRIPTION)
        fields = (("description", description if isinstance(description, str) else ""),)
    chosen = severity.get("value") if isinstance(severity, Mapping) else None
    return InboundAction(platform="slack", account=str((body.get("user") or {}).get("id", "")), action="edit",
                         incident_id=incident_id, text=title, option=chosen if isinstance(chosen, str) else None,
                         channel=str(metadata.get("channel") or "") or None, fields=fields)


def merge_submission(body: Mapping[str, Any]) -> InboundCommand | None:
    """The Merge into… form's `view_submission` as the `/incident merge <this> into <that>` command."""
    metadata, values = _view(body)
    incident_id = _incident_id(metadata.get("incident_id"))
    into = _incident_id(_value(values, MERGE_INTO))
    if incident_id is None or into is None:
        return None
    return InboundCommand(platform="slack", account=str((body.get("user") or {}).get("id", "")), command="incident",
                          text=f"merge {incident_id} into {into}", channel=str(metadata.get("channel") or ""))


def _view(body: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A submitted view's private_metadata (an object, or empty when it is not one) and its input values."""
    view = body.get("view") if isinstance(body.get("view"), Mapping) else {}
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except (ValueError, TypeError):
        metadata = {}
    values = (view.get("state") or {}).get("values") if isinstance(view.get("state"), Mapping) else None
    return (metadata if isinstance(metadata, dict) else {}), (values if isinstance(values, dict) else {})


def _value(values: Mapping[str, Any], block: str, key: str = "value", action: str | None = None) -> Any:
    """What input `action` (by default named like its block) of `block` holds: its `value`, a select's
    `selected_option`, a user picker's `selected_users`; None when the submission does not have it."""
    element = values.get(block)
    element = element.get(action or block) if isinstance(element, Mapping) else None
    return element.get(key) if isinstance(element, Mapping) else None


def override_submission(body: Mapping[str, Any]) -> InboundOverride | None:
    """The override form's `view_submission`: schedule, Slack user, and two datetimepicker timestamps."""
    values = ((body.get("view") or {}).get("state") or {}).get("values") or {}

    def picked(block: str, key: str) -> Any:
        return ((values.get(block) or {}).get(block) or {}).get(key)

    schedule = (picked("schedule", "selected_option") or {}).get("value")
    user, start, end = picked("user", "selected_user"), picked("start", "selected_date_time"), picked(
        "end", "selected_date_time")
    if not (isinstance(schedule, str) and isinstance(user, str) and isinstance(start, int) and isinstance(end, int)):
        return None
    try:
        start_at, end_at = datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return InboundOverride(platform="slack", account=str((body.get("user") or {}).get("id", "")),
                           schedule_id=schedule, user_account=user, start=start_at, end=end_at)


def command_button(body: Mapping[str, Any]) -> InboundCommand | None:
    """A button under a command's answer (e.g. "Cover a shift" under /oncall) as the command it runs."""
    actions = body.get("actions") or []
    value = actions[0].get("value") if actions and isinstance(actions[0], Mapping) else None
    if value not in ("override",):
        return None
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or ""
    return InboundCommand(platform="slack", account=str((body.get("user") or {}).get("id", "")), command="oncall",
                          text=str(value), channel=str(channel))


def slash_command(body: Mapping[str, Any]) -> InboundCommand:
    return InboundCommand(platform="slack", account=str(body.get("user_id", "")),
                          command=str(body.get("command", "")).lstrip("/"), text=str(body.get("text", "")),
                          channel=str(body.get("channel_id", "")))


def _incident_id(value: Any) -> int | None:
    try:
        number = int(str(value).lstrip("#"))
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= MAX_INCIDENT_ID else None
