"""Markdown fallback of a card, for webhook-only robots (DingTalk, Feishu and WeCom robots)."""

from __future__ import annotations

from cards.model import Card

SEVERITY_MARK = {"critical": "🔴", "warning": "🟠", "info": "🔵"}


def card_markdown(card: Card, heading: bool = True) -> str:
    """The card as Markdown; buttons are left to the renderer (robots show them as link buttons). Without
    `heading` the title line is left out, for cards whose header already shows it (Feishu)."""
    lines = [f"### {SEVERITY_MARK[card.severity.value]} {card.title}", ""] if heading else []
    lines += [f"**{card.status_line}**", ""]
    lines += [f"- **{field.label}**: {field.value}" for field in card.fields]
    if card.labels:
        lines += ["", f"**{card.labels_heading}**", ""]
        lines += [f"- `{key}` = `{value}`" for key, value in card.labels]
    return "\n".join(lines)
