"""Neutral card → DingTalk robot message: an actionCard whose buttons are one-click links."""

from __future__ import annotations

import json
from typing import Any

from adapters.robots.config import DINGTALK_MAX_BODY_BYTES, DINGTALK_MAX_BUTTONS
from cards.markdown import card_markdown
from cards.model import Card

# Not a DingTalk limit: a bound on the one-line title, so that trimming the text can always bring the
# body under DINGTALK_MAX_BODY_BYTES (the title is the card's fallback, which holds the whole incident title).
MAX_TITLE_CHARS = 200


def dingtalk_message(card: Card, title: str) -> dict[str, Any]:
    """An actionCard when there are link buttons, plain markdown otherwise; trimmed to the size limit."""
    if len(title) > MAX_TITLE_CHARS:  # the title is the notification preview; the full one is in the text
        title = title[: MAX_TITLE_CHARS - 1] + "…"
    text = card_markdown(card)
    buttons = [{"title": button.label, "actionURL": button.url} for button in card.buttons if button.url]
    buttons = buttons[:DINGTALK_MAX_BUTTONS]
    if buttons:
        message: dict[str, Any] = {"msgtype": "actionCard",
                                   "actionCard": {"title": title, "text": text, "btnOrientation": "1", "btns": buttons}}
        body = message["actionCard"]
    else:
        message = {"msgtype": "markdown", "markdown": {"title": title, "text": text}}
        body = message["markdown"]
    while len(json.dumps(message, ensure_ascii=False).encode()) > DINGTALK_MAX_BODY_BYTES and len(body["text"]) > 200:
        body["text"] = body["text"][: len(body["text"]) * 3 // 4] + "\n\n…"
    return message
