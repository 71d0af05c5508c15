"""`dutybot serve` with an email integration: its SMTP listener takes a mail and the incident appears."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.e2e.procs import dutybot_serve, free_port, wait_until
from tests.support import API_TOKEN, base_config

MAIL_KEY = "mail-e2e-0123456789abcdef"


def test_a_mail_to_the_listener_opens_an_incident(tmp_path: Path) -> None:
    port, smtp_port = free_port(), free_port()
    raw = base_config(public_url=f"http://127.0.0.1:{port}")
    raw["email"] = {"domain": "alerts.example.com"}
    raw["services"][0]["integrations"].append({"kind": "email", "key": MAIL_KEY, "mode": "subject"})
    with dutybot_serve(tmp_path, raw, port, API_TOKEN, extra_env={"DUTYBOT_SMTP_PORT": str(smtp_port)}) as dutybot:
        dutybot.proc.wait_for_output(rf"\(email\): {MAIL_KEY}@alerts\.example\.com")
        mail = EmailMessage()
        mail["From"], mail["To"] = "backup@example.com", f"{MAIL_KEY}@alerts.example.com"
        mail["Subject"] = "PROBLEM: nightly backup failed"
        mail.set_content("exit code 2")
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.send_message(mail)
            with pytest.raises(smtplib.SMTPRecipientsRefused):
                client.send_message(mail, to_addrs=["nobody-0123456789abcdef@alerts.example.com"])
        incidents = dutybot.incidents()
        assert [(item["title"], item["status"]) for item in incidents] == [("PROBLEM: nightly backup failed",
                                                                           "triggered")]

        del mail["Subject"]
        mail["Subject"] = "RESOLVED: nightly backup failed"
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.send_message(mail)
        wait_until(lambda: dutybot.incident(incidents[0]["id"])["status"] == "resolved", 10,
                   "the recovery mail to resolve the incident")
