"""Neutral card → webhook robot messages (DingTalk actionCard, Feishu interactive card, WeCom Markdown), whose
buttons are one-click links: no robot can call back."""

from __future__ import annotations

import json
from typing import Any

from adapters.robots.config import (
    DINGTALK_MAX_BODY_BYTES,
    DINGTALK_MAX_BUTTONS,
    FEISHU_MAX_BODY_BYTES,
    FEISHU_MAX_BUTTONS,
    WECOM_MARKDOWN_MAX_BYTES,
    WECOM_TEXT_MAX_BYTES,
)
from cards.markdown import card_markdown
from cards.model import Card
from core.model import IncidentStatus
from core.sources.fields import utf8_prefix

# Not a DingTalk limit: a bound on the one-line title, so that trimming the text can always bring the
# body under DINGTALK_MAX_BODY_BYTES (the title is the card's fallback, which holds the whole incident title).
MAX_TITLE_CHARS = 200
FEISHU_COLOURS = {"critical": "red", "warning": "orange", "info": "blue"}  # header templates; resolved is green
SIGN_ROOM = 100  # the sender adds Feishu's timestamp and sign to the body after rendering
# Feishu reads `<at user_id="all">` and WeCom's Markdown `<@userid>` as mentions anywhere in a message, so an
# alert whose title or labels carry one would ping the whole group: "<" is shown as the full-width "＜" there
MENTION_OPENER, SHOWN_AS = "<", "\uff1c"


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


def feishu_message(card: Card) -> dict[str, Any]:
    """An interactive card (header in the severity's colour, Markdown body, link buttons) for a Feishu custom
    bot, trimmed to its 20 KB body limit. A custom bot cannot call back, so every button is a URL."""
    title = _defused(card.title if len(card.title) <= MAX_TITLE_CHARS else card.title[: MAX_TITLE_CHARS - 1] + "…")
    colour = "green" if card.status is IncidentStatus.RESOLVED else FEISHU_COLOURS[card.severity.value]
    body: dict[str, Any] = {"tag": "markdown", "content": _defused(card_markdown(card, heading=False))}
    elements: list[dict[str, Any]] = [body]
    buttons = [{"tag": "button", "text": {"tag": "plain_text", "content": button.label}, "url": button.url,
                "type": button.style if button.style in ("primary", "danger") else "default"}
               for button in card.buttons if button.url][:FEISHU_MAX_BUTTONS]
    if buttons:
        elements.append({"tag": "action", "actions": buttons})
    message = {"msg_type": "interactive", "card": {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": title}, "template": colour},
        "elements": elements}}
    while _size(message) > FEISHU_MAX_BODY_BYTES - SIGN_ROOM and len(body["content"]) > 200:
        body["content"] = body["content"][: len(body["content"]) * 3 // 4] + "\n\n…"
    return message


def wecom_message(card: Card) -> dict[str, Any]:
    """Markdown for a WeCom group robot (its cards have no buttons a robot can use): the card, then its
    one-click links on one line, within the 4096-byte limit (the links are kept, the text is cut)."""
    links = "  ".join(f"[{button.label}]({button.url})" for button in card.buttons if button.url)
    text = _defused(card_markdown(card))
    tail = f"\n\n{links}" if links else ""
    room = WECOM_MARKDOWN_MAX_BYTES - len(tail.encode())
    return {"msgtype": "markdown", "markdown": {"content": _cut_bytes(text, room) + tail}}


def robot_message(platform: str, card: Card) -> dict[str, Any]:
    """The card as the robot of `platform` takes it."""
    if platform == "feishu-robot":
        return feishu_message(card)
    if platform == "wecom-robot":
        return wecom_message(card)
    return dingtalk_message(card, title=card.fallback)


def robot_text(platform: str, text: str) -> dict[str, Any]:
    """A plain message (digests, shift reminders) as the robot of `platform` takes it."""
    if platform == "feishu-robot":
        return {"msg_type": "text", "content": {"text": _cut_bytes(_defused(text),
                                                                    FEISHU_MAX_BODY_BYTES - SIGN_ROOM - 200)}}
    if platform == "wecom-robot":
        return {"msgtype": "text", "text": {"content": _cut_bytes(text, WECOM_TEXT_MAX_BYTES)}}
    title = text.splitlines()[0] if text else "Dutybot"
    return {"msgtype": "markdown", "markdown": {"title": title[:100], "text": text}}


def _defused(text: str) -> str:
    return text.replace(MENTION_OPENER, SHOWN_AS)


def _size(message: dict[str, Any]) -> int:
    return len(json.dumps(message, ensure_ascii=False).encode())


def _cut_bytes(text: str, limit: int) -> str:
    """`text` in at most `limit` UTF-8 bytes, cut at a character and marked with "…" when it was longer."""
    if len(text.encode()) <= limit:
        return text
    return utf8_prefix(text, limit - len("…".encode())) + "…"
