"""cards/email.py: a card as an email subject and plain-text body."""

from __future__ import annotations

from cards.email import MAX_SUBJECT, email_text
from cards.model import Button, Card, Field
from core.model import IncidentStatus, Severity


def card(title: str = "#12 CPU high on db-1") -> Card:
    return Card(incident_id=12, title=title, severity=Severity.CRITICAL, status=IncidentStatus.TRIGGERED,
                status_line="Triggered at 03:02", fields=(Field("Service", "Payments"), Field("Alerts", "3")),
                labels=(("cluster", "prod"),), labels_heading="Labels",
                buttons=(Button("ack", "Acknowledge", url="https://duty.example.com/l/ack"),
                         Button("comment", "Comment")),
                fallback="#12 CPU high on db-1")


def test_subject_and_body() -> None:
    text = email_text(card())
    assert text.subject == "[critical] #12 CPU high on db-1"
    assert text.body.splitlines() == [
        "#12 CPU high on db-1", "Triggered at 03:02", "", "Service: Payments", "Alerts: 3", "", "Labels",
        "  cluster=prod", "", "Acknowledge: https://duty.example.com/l/ack"]  # buttons without a link are left out


def test_a_title_cannot_break_the_subject_header() -> None:
    text = email_text(card("#12 evil\r\nBcc: everyone@example.com" + "x" * 500))
    assert "\n" not in text.subject and "\r" not in text.subject and len(text.subject) == MAX_SUBJECT
