"""Email ingest over real SMTP on loopback: stdlib smtplib (in a thread) → MailIngest on port 0 → the database."""

from __future__ import annotations

import asyncio
import logging
import re
import smtplib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.db.tables import Alert
from bot.mail import MAX_MAIL_BYTES, MailIngest
from core.sources.email import MailSettings, Rule
from tests.support import ALERTMANAGER_KEY, Harness, base_config, rename_table, start_harness

DOMAIN = "alerts.example.com"
EVERY_KEY = "mail-every-0123456789abcdef"
SUBJECT_KEY = "mail-subject-0123456789abcdef"
RULES_KEY = "mail-rules-0123456789abcdef"
SETTINGS = {
    EVERY_KEY: MailSettings(),
    SUBJECT_KEY: MailSettings(mode="subject"),
    RULES_KEY: MailSettings(mode="rules", rules=(
        Rule(key_pattern=r"Original problem ID: (\d+)", recovery_pattern=r"^RESOLVED:"),)),
}
FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"
SECRET_BODY = "body-text-that-must-never-be-logged"


@dataclass
class Mailroom:
    harness: Harness
    listener: MailIngest
    port: int

    async def send(self, raw: bytes | EmailMessage, *recipients: str, esmtp: bool = True) -> None:
        data = raw.as_bytes() if isinstance(raw, EmailMessage) else raw
        data = re.sub(rb"\r?\n", b"\r\n", data)  # on the wire lines end in CRLF; smtplib leaves bytes as they are
        await asyncio.to_thread(_send, self.port, list(recipients), data, esmtp)

    async def incidents(self) -> list[dict[str, Any]]:
        response = await self.harness.api("GET", "/incidents")
        assert response.status_code == 200
        return response.json()["incidents"]

    async def alerts(self) -> list[Alert]:
        async with self.harness.container.db.transaction() as session:
            return list((await session.scalars(select(Alert).order_by(Alert.id))).all())


def _send(port: int, recipients: list[str], data: bytes, esmtp: bool) -> None:
    with smtplib.SMTP("127.0.0.1", port, local_hostname="monitor.test", timeout=30) as client:
        if not esmtp:
            client.helo()  # plain SMTP: no SIZE parameter, so the size is only seen in DATA
        client.sendmail("monitor@example.com", recipients, data)


def message(subject: str, body: str = "disk at 99%", message_id: str | None = None) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = "Monitor <monitor@example.com>"
    mail["To"] = f"{EVERY_KEY}@{DOMAIN}"
    mail["Subject"] = subject
    if message_id:
        mail["Message-ID"] = message_id
    mail.set_content(body)
    return mail


@pytest.fixture
async def mailroom(db_url: str) -> AsyncIterator[Mailroom]:
    config = base_config()
    config["email"] = {"domain": DOMAIN}
    config["services"][0]["integrations"] += [
        {"kind": "email", "key": EVERY_KEY},
        {"kind": "email", "key": SUBJECT_KEY, "mode": "subject"},
        {"kind": "email", "key": RULES_KEY, "mode": "rules",
         "rules": [{"key": r"Original problem ID: (\d+)", "recovery": r"^RESOLVED:"}]},
    ]
    async for harness in start_harness(db_url, config):
        listener = MailIngest(harness.container, host="127.0.0.1", port=0, domain=DOMAIN, mail_settings=SETTINGS)
        port = await listener.start()
        try:
            yield Mailroom(harness, listener, port)
        finally:
            await listener.stop()


async def test_a_mail_opens_an_incident(mailroom: Mailroom) -> None:
    await mailroom.send(message("[CRITICAL] Disk full on db-1", SECRET_BODY), f"{EVERY_KEY}@{DOMAIN}")
    [incident] = await mailroom.incidents()
    assert (incident["title"], incident["severity"], incident["status"], incident["service"]) == (
        "[CRITICAL] Disk full on db-1", "critical", "triggered", "payments")
    assert incident["labels"] == {"from": "monitor@example.com", "subject": "Disk full on db-1"}
    [alert] = await mailroom.alerts()
    assert alert.source == "email"
    assert alert.annotations["description"] == SECRET_BODY
    assert alert.annotations["to"] == f"***@{DOMAIN}"  # the key is a credential: never shown


async def test_domain_is_case_insensitive_and_each_mail_is_an_alert(mailroom: Mailroom) -> None:
    await mailroom.send(message("Disk full", message_id="<1@example.com>"), f"{EVERY_KEY}@ALERTS.Example.COM")
    await mailroom.send(message("Disk full", message_id="<2@example.com>"), f"{EVERY_KEY}@{DOMAIN}")
    [incident] = await mailroom.incidents()  # no grouping labels in mail: one open incident per service
    assert incident["alert_count"] == 2


async def test_unknown_key_is_refused(mailroom: Mailroom) -> None:
    for address in (f"no-such-key-0123456789@{DOMAIN}", f"{ALERTMANAGER_KEY}@{DOMAIN}", f"short@{DOMAIN}"):
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            await mailroom.send(message("Disk full"), address)
        [(code, reason)] = refused.value.recipients.values()
        assert code == 550, reason
    assert await mailroom.incidents() == []


async def test_wrong_domain_is_refused(mailroom: Mailroom) -> None:
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        await mailroom.send(message("Disk full"), f"{EVERY_KEY}@elsewhere.example.com")
    [(code, reason)] = refused.value.recipients.values()
    assert code == 550 and DOMAIN.encode() in reason
    assert await mailroom.incidents() == []


async def test_one_good_recipient_is_enough(mailroom: Mailroom) -> None:
    await mailroom.send(message("Disk full"), f"{EVERY_KEY}@elsewhere.example.com", f"{EVERY_KEY}@{DOMAIN}")
    assert len(await mailroom.incidents()) == 1


@pytest.mark.parametrize("esmtp", [True, False], ids=["size-at-mail-from", "size-at-data"])
async def test_mail_over_5_mb_is_refused_and_nothing_stored(mailroom: Mailroom, esmtp: bool) -> None:
    line = "x" * 76 + "\n"
    mail = message("Huge", line * (6 * 1024 * 1024 // len(line)))
    assert len(mail.as_bytes()) > MAX_MAIL_BYTES
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as refused:
        await mailroom.send(mail, f"{EVERY_KEY}@{DOMAIN}", esmtp=esmtp)
    assert refused.value.smtp_code == 552
    assert await mailroom.incidents() == []
    await mailroom.send(message("small one after"), f"{EVERY_KEY}@{DOMAIN}")  # the listener still works
    assert len(await mailroom.incidents()) == 1


async def test_size_limit_is_advertised(mailroom: Mailroom) -> None:
    def ehlo() -> str:
        with smtplib.SMTP("127.0.0.1", mailroom.port, local_hostname="monitor.test", timeout=30) as client:
            client.ehlo()
            return client.esmtp_features["size"]

    assert await asyncio.to_thread(ehlo) == str(MAX_MAIL_BYTES)


async def test_recovery_mail_in_rules_mode_resolves(mailroom: Mailroom) -> None:
    await mailroom.send((FIXTURES / "plain.eml").read_bytes(), f"{RULES_KEY}@{DOMAIN}")
    [incident] = await mailroom.incidents()
    assert incident["status"] == "triggered" and incident["severity"] == "critical"
    await mailroom.send((FIXTURES / "recovery.eml").read_bytes(), f"{RULES_KEY}@{DOMAIN}")
    [incident] = await mailroom.incidents()
    assert incident["status"] == "resolved" and incident["alert_count"] == 1
    [alert] = await mailroom.alerts()
    assert (alert.fingerprint, alert.status) == ("mail:key:3301", "resolved")


async def test_trigger_or_update_by_subject(mailroom: Mailroom) -> None:
    await mailroom.send(message("PROBLEM: Disk full on db-1", "first"), f"{SUBJECT_KEY}@{DOMAIN}")
    await mailroom.send(message("Re: problem: disk full on db-1", "second"), f"{SUBJECT_KEY}@{DOMAIN}")
    [incident] = await mailroom.incidents()
    assert incident["alert_count"] == 1
    [alert] = await mailroom.alerts()
    assert alert.annotations["description"] == "second"  # updated by the later mail
    await mailroom.send(message("RESOLVED: Disk full on db-1"), f"{SUBJECT_KEY}@{DOMAIN}")
    [incident] = await mailroom.incidents()
    assert incident["status"] == "resolved"


async def test_unreadable_mail_is_refused(mailroom: Mailroom) -> None:
    with pytest.raises(smtplib.SMTPDataError) as refused:
        await mailroom.send(b"X-Nothing: here\r\n\r\nno From, no Subject\r\n", f"{EVERY_KEY}@{DOMAIN}")
    assert refused.value.smtp_code == 554 and b"neither a From nor a Subject" in refused.value.smtp_error


async def test_storage_failure_is_a_temporary_error(mailroom: Mailroom) -> None:
    await rename_table(mailroom.harness, "alerts", "alerts_away")  # a real failure of the database write
    try:
        with pytest.raises(smtplib.SMTPDataError) as refused:
            await mailroom.send(message("Disk full"), f"{EVERY_KEY}@{DOMAIN}")
    finally:
        await rename_table(mailroom.harness, "alerts_away", "alerts")
    assert refused.value.smtp_code == 451  # the sender keeps the mail and retries
    await mailroom.send(message("Disk full"), f"{EVERY_KEY}@{DOMAIN}")  # the retry
    assert len(await mailroom.incidents()) == 1


async def test_logs_carry_neither_bodies_nor_keys(mailroom: Mailroom, caplog: pytest.LogCaptureFixture) -> None:
    # the listener's own logger and aiosmtpd's ("mail.log"); the database driver's debug log is another matter
    caplog.set_level(logging.DEBUG, logger="bot.mail")
    caplog.set_level(logging.DEBUG, logger="mail.log")
    await mailroom.send(message("Disk full", SECRET_BODY), f"{EVERY_KEY}@{DOMAIN}")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        await mailroom.send(message("Disk full", SECRET_BODY), f"wrong-key-0123456789abcdef@{DOMAIN}")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "stored a mail" in logged
    assert SECRET_BODY not in logged and EVERY_KEY not in logged and "wrong-key" not in logged


async def test_stop_closes_open_connections(mailroom: Mailroom) -> None:
    client = await asyncio.to_thread(smtplib.SMTP, "127.0.0.1", mailroom.port, "monitor.test", 30)
    try:
        await mailroom.listener.stop()
        with pytest.raises((smtplib.SMTPServerDisconnected, ConnectionError)):
            await asyncio.to_thread(client.noop)
    finally:
        client.close()
