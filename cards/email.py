"""An incident card as an email: a subject line and a plain-text body, with the one-click links as lines.

Plain text only: it reads the same in every mail client and on a lock screen, and no HTML is built from alert
text (titles and labels come from monitoring tools)."""

from __future__ import annotations

from dataclasses import dataclass

from cards.model import Card

MAX_SUBJECT = 200


@dataclass(frozen=True)
class EmailText:
    subject: str
    body: str


def email_text(card: Card) -> EmailText:
    """`[critical] #12 CPU high on db-1` and a body: status, fields, labels, then each action and its link."""
    subject = " ".join(f"[{card.severity.value}] {card.title}".split())[:MAX_SUBJECT]  # no header injection
    lines = [card.title, card.status_line, ""]
    lines += [f"{field.label}: {field.value}" for field in card.fields]
    if card.labels:
        lines += ["", card.labels_heading]
        lines += [f"  {name}={value}" for name, value in card.labels]
    links = [button for button in card.buttons if button.url]
    if links:
        lines.append("")
        lines += [f"{button.label}: {button.url}" for button in links]
    return EmailText(subject=subject, body="\n".join(lines) + "\n")
