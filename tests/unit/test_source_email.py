"""core/sources/email.py: raw mail → one neutral alert event, in the modes every, subject and rules."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import PayloadError
from core.sources.email import (
    MAX_BODY_BYTES,
    MAX_CONTENT_HEADER_BYTES,
    MAX_PARTS,
    MailSettings,
    Rule,
    html_to_text,
    parse_mail,
    subject_severity,
)

FIXTURES = Path(__file__).parent.parent / "fixtures" / "mail"
RECEIVED = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
SHANGHAI = timezone(timedelta(hours=8))
TO = "pay-mail-key-0123456789@alerts.example.com"
EVERY = MailSettings()
BY_SUBJECT = MailSettings(mode="subject")
ZABBIX_RULES = MailSettings(mode="rules", rules=(
    Rule(key_pattern=r"Original problem ID: (\d+)", recovery_pattern=r"^RESOLVED:"),
))


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def only(raw: bytes, mail_settings: MailSettings = EVERY) -> AlertEvent:
    (event,) = parse_mail(raw, RECEIVED, mail_settings).events
    return event


def mail(subject: str | None = "Disk full on db-1", body: str = "df says 99%", sender: str | None = "mon@example.com",
         **headers: str) -> bytes:
    message = EmailMessage()
    if sender is not None:
        message["From"] = sender
    message["To"] = TO
    if subject is not None:
        message["Subject"] = subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


# golden mails


def test_plain() -> None:
    assert only(fixture("plain.eml")) == AlertEvent(
        source="email", fingerprint="mail:<20261201015804.3301@zabbix.example.com>", status=AlertStatus.FIRING,
        severity=Severity.CRITICAL,  # "[High]"
        title="PROBLEM: Disk space is low on db-1 [High]",
        labels={"from": "zabbix@example.com", "subject": "Disk space is low on db-1 [High]"},
        annotations={
            "description": "Problem started at 09:58:04 on 2026.12.01\nProblem name: Disk space is low on db-1\n"
                           "Host: db-1\nSeverity: High\nOperational data: 4.2 GB free (3%)\n\n"
                           "Original problem ID: 3301",
            "to": TO, "message_id": "<20261201015804.3301@zabbix.example.com>",
            "date": "Tue, 01 Dec 2026 09:58:04 +0800"},
        starts_at=datetime(2026, 12, 1, 9, 58, 4, tzinfo=SHANGHAI), ends_at=None)


def test_html_only_is_converted_to_text() -> None:
    assert only(fixture("html_only.eml")) == AlertEvent(
        source="email", fingerprint="mail:<grafana-1764554400-1@grafana.example.com>", status=AlertStatus.FIRING,
        severity=Severity.WARNING, title="[FIRING:1] HighLatency api (prod)",
        labels={"from": "grafana@example.com", "subject": "HighLatency api (prod)"},
        annotations={
            # no <title>, <style> or <script> text; entities decoded; quoted-printable UTF-8 read
            "description": "HighLatency\n\np99 latency is 2.5 s > 1 s on api.\n\ncluster prod\ninstance api-7\n\n"
                           "Café runbook: open",
            "to": TO, "message_id": "<grafana-1764554400-1@grafana.example.com>",
            "date": "Tue, 01 Dec 2026 02:00:00 +0000"},
        starts_at=datetime(2026, 12, 1, 2, 0, tzinfo=UTC), ends_at=None)


def test_multipart_prefers_plain_and_drops_attachments() -> None:
    assert only(fixture("multipart_attachment.eml")) == AlertEvent(
        source="email", fingerprint="mail:<report-42@example.com>", status=AlertStatus.FIRING,
        severity=Severity.WARNING, title="Fwd: [WARNING] Error budget burn on checkout",
        labels={"from": "reports@example.com", "subject": "Error budget burn on checkout",
                "attachments_dropped": "2"},  # the PDF and the inline image with a file name
        annotations={"description": "Error budget of checkout burns at 6x.\nSee the attached report.",
                     "to": f"{TO}, sre@example.com", "message_id": "<report-42@example.com>",
                     "date": "Tue, 01 Dec 2026 03:15:00 -0500"},
        starts_at=datetime(2026, 12, 1, 3, 15, tzinfo=timezone(timedelta(hours=-5))), ends_at=None)


def test_huge_body_is_truncated_on_a_character_boundary() -> None:
    raw = fixture("huge_body.eml")
    assert len(raw) > MAX_BODY_BYTES
    event = only(raw)
    description = event.annotations["description"]
    assert event.labels["body_truncated"] == "true"
    assert len(description.encode("utf-8")) == MAX_BODY_BYTES - 1  # 3-byte characters: 32767 is the last boundary
    assert description.startswith("磁盘空间不足磁盘") and "\ufffd" not in description


def test_gb2312_subject_and_gbk_body() -> None:
    assert only(fixture("gb2312.eml")) == AlertEvent(
        source="email", fingerprint="mail:<gb-7@example.cn>", status=AlertStatus.FIRING,
        severity=Severity.CRITICAL,  # the word 严重
        title="【告警】数据库主从延迟过高 严重",
        labels={"from": "monitor@example.cn", "subject": "数据库主从延迟过高 严重"},
        # labelled gb2312, but 镕 is only in GBK: read as GB18030, nothing lost
        annotations={"description": "告警主机：db-2\n告警详情：主从延迟 120 秒\n值班人：朱镕基", "to": TO,
                     "message_id": "<gb-7@example.cn>", "date": "Tue, 1 Dec 2026 18:30:00 +0800"},
        starts_at=datetime(2026, 12, 1, 18, 30, tzinfo=SHANGHAI), ends_at=None)


def test_recovery_mail_resolves_in_subject_mode() -> None:
    problem, recovery = only(fixture("plain.eml"), BY_SUBJECT), only(fixture("recovery.eml"), BY_SUBJECT)
    assert problem.fingerprint == recovery.fingerprint
    assert problem.fingerprint.startswith("mail:subject:")
    assert (problem.status, recovery.status) == (AlertStatus.FIRING, AlertStatus.RESOLVED)
    assert recovery.ends_at == recovery.starts_at == datetime(2026, 12, 1, 10, 20, tzinfo=SHANGHAI)


def test_recovery_mail_resolves_in_rules_mode() -> None:
    problem, recovery = only(fixture("plain.eml"), ZABBIX_RULES), only(fixture("recovery.eml"), ZABBIX_RULES)
    assert problem.fingerprint == recovery.fingerprint == "mail:key:3301"
    assert problem.labels["mail_key"] == "3301"
    assert (problem.status, recovery.status) == (AlertStatus.FIRING, AlertStatus.RESOLVED)


def test_no_date_and_no_message_id() -> None:
    raw = fixture("no_date_no_message_id.eml")
    assert only(raw) == AlertEvent(
        source="email", fingerprint="mail:sha256:" + hashlib.sha256(raw).hexdigest()[:32],
        status=AlertStatus.FIRING, severity=Severity.WARNING, title="backup job failed",
        labels={"from": "cron@backup-1.example.com", "subject": "backup job failed"},
        annotations={"description": "rsync exited with code 23", "to": TO},
        starts_at=RECEIVED, ends_at=None)


# modes


@pytest.mark.parametrize(("first", "second", "same"), [
    ("Disk full on db-1", "Disk full on db-1", True),
    ("PROBLEM: Disk full on db-1", "Re: disk  FULL on db-1", True),
    ("[FIRING:1] HighLatency api", "[RESOLVED] HighLatency api", True),
    ("[CRITICAL] Disk full", "Fwd: RE: [critical] disk full", True),
    ("告警：磁盘满", "回复：恢复：磁盘满", True),
    ("Disk full on db-1", "Disk full on db-2", False),
])
def test_subject_mode_keys(first: str, second: str, same: bool) -> None:
    keys = {only(mail(subject), BY_SUBJECT).fingerprint for subject in (first, second)}
    assert (len(keys) == 1) is same


@pytest.mark.parametrize(("subject", "status"), [
    ("RESOLVED: Disk full", AlertStatus.RESOLVED),
    ("[Resolved] Disk full", AlertStatus.RESOLVED),
    ("Recovered: Disk full", AlertStatus.RESOLVED),
    ("OK: Disk full", AlertStatus.RESOLVED),
    ("OK - Disk full", AlertStatus.RESOLVED),
    ("(OK) Disk full", AlertStatus.RESOLVED),
    ("【恢复】磁盘满", AlertStatus.RESOLVED),
    ("已恢复 磁盘满", AlertStatus.RESOLVED),
    ("恢复：磁盘满", AlertStatus.RESOLVED),
    ("Re: RESOLVED: Disk full", AlertStatus.RESOLVED),
    ("[FIRING:2] Disk full", AlertStatus.FIRING),
    ("PROBLEM: Disk full", AlertStatus.FIRING),
    ("PROBLEM: RESOLVED: Disk full", AlertStatus.FIRING),  # the first marker decides
    ("Okta down", AlertStatus.FIRING),
    ("OK so the disk is full", AlertStatus.FIRING),
    ("Disk full, resolved soon", AlertStatus.FIRING),
])
def test_subject_mode_recovery_markers(subject: str, status: AlertStatus) -> None:
    assert only(mail(subject), BY_SUBJECT).status is status


def test_recovery_markers_mean_nothing_in_every_mode() -> None:
    event = only(mail("RESOLVED: Disk full", Message_ID="<a@x>"))
    assert (event.status, event.fingerprint) == (AlertStatus.FIRING, "mail:<a@x>")


def test_subject_mode_without_subject_text_is_every_mode() -> None:
    event = only(mail("RESOLVED:", Message_ID="<b@x>"), BY_SUBJECT)
    assert (event.status, event.fingerprint) == (AlertStatus.FIRING, "mail:<b@x>")


def test_every_mode_keys_by_message_id_else_by_the_whole_mail() -> None:
    assert only(mail(Message_ID="<1@x>")).fingerprint != only(mail(Message_ID="<2@x>")).fingerprint
    assert only(mail(Message_ID="<1@x>")).fingerprint == only(mail(Message_ID="<1@x>", body="other")).fingerprint
    assert only(mail(body="one")).fingerprint != only(mail(body="two")).fingerprint
    long_id = "<" + "x" * 200 + "@example.com>"
    assert only(mail(Message_ID=long_id)).fingerprint.startswith("sha256:")  # too long for the key column


NAGIOS = MailSettings(mode="rules", severity=Severity.INFO, rules=(
    Rule(key_pattern=r"Service Alert: (?P<key>\S+/\S+) is", recovery_pattern=r"\*\* RECOVERY",
         severity=Severity.CRITICAL),
    Rule(key_pattern=r"(?m)^Ticket: (T-\d+)$"),
))


@pytest.mark.parametrize(("subject", "body", "key", "status", "severity"), [
    ("** PROBLEM Service Alert: db-1/Disk is CRITICAL **", "", "mail:key:db-1/Disk", AlertStatus.FIRING,
     Severity.CRITICAL),
    ("** RECOVERY Service Alert: db-1/Disk is OK **", "", "mail:key:db-1/Disk", AlertStatus.RESOLVED,
     Severity.CRITICAL),
    # the second rule, found in the body; its severity is the subject's, else the default
    ("New ticket", "Opened by ci\nTicket: T-77\n", "mail:key:T-77", AlertStatus.FIRING, Severity.INFO),
    ("[P1] New ticket", "Ticket: T-78", "mail:key:T-78", AlertStatus.FIRING, Severity.CRITICAL),
    # no rule matches: a new alert per mail, as in mode every
    ("Hello", "nothing to see", "mail:<m@x>", AlertStatus.FIRING, Severity.INFO),
])
def test_rules_mode(subject: str, body: str, key: str, status: AlertStatus, severity: Severity) -> None:
    event = only(mail(subject, body=body, Message_ID="<m@x>"), NAGIOS)
    assert (event.fingerprint, event.status, event.severity) == (key, status, severity)


def test_rules_are_checked_when_made() -> None:
    with pytest.raises(ValueError, match="group"):
        Rule(key_pattern=r"no group")
    with pytest.raises(ValueError, match="group"):
        Rule(key_pattern=r"(a)(b)")
    with pytest.raises(ValueError, match="regular expression"):
        Rule(key_pattern=r"(unclosed")
    with pytest.raises(ValueError, match="regular expression"):
        Rule(key_pattern=r"(a)", recovery_pattern="[")
    with pytest.raises(ValueError, match="at least one rule"):
        MailSettings(mode="rules")
    with pytest.raises(ValueError, match="mode"):
        MailSettings(mode="sometimes")  # type: ignore[arg-type]
    Rule(key_pattern=r"(?P<key>\w+) (\w+)")  # a group named key may have company


@pytest.mark.parametrize(("subject", "severity"), [
    ("Disk space is low on db-1", None),  # "low" is ordinary English outside brackets
    ("High CPU on api", None),
    ("Error rate up", None),
    ("[High] CPU on api", Severity.CRITICAL),
    ("CPU on api (low)", Severity.INFO),
    ("severity: average - CPU", Severity.WARNING),
    ("CRITICAL: CPU on api", Severity.CRITICAL),
    ("p2 CPU on api", Severity.WARNING),
    ("[OK] CPU on api", None),  # a status, not the severity "ok"
    ("【严重】数据库宕机", Severity.CRITICAL),
    ("数据库延迟 一般严重", Severity.WARNING),
    ("级别：警告 磁盘", Severity.WARNING),
])
def test_subject_severity(subject: str, severity: Severity | None) -> None:
    assert subject_severity(subject) is severity


def test_default_severity() -> None:
    assert only(mail("Disk full"), MailSettings(severity=Severity.CRITICAL)).severity is Severity.CRITICAL
    assert only(mail("[info] Disk full"), MailSettings(severity=Severity.CRITICAL)).severity is Severity.INFO


# odd mail


def test_title_falls_back_to_the_body_then_a_placeholder() -> None:
    assert only(mail(None, body="\n\n  first line  \nsecond")).title == "first line"
    assert only(mail(None, body="")).title == "(no subject)"


def test_date_without_zone_or_unreadable_is_received_time() -> None:
    assert only(mail(Date="Tue, 01 Dec 2026 10:00:00 -0000")).starts_at == RECEIVED
    assert only(mail(Date="yesterday")).starts_at == RECEIVED
    assert only(mail(Date="Tue, 01 Dec 2026 10:00:00 +0100")).starts_at == datetime(
        2026, 12, 1, 9, 0, tzinfo=UTC)


def test_raw_8bit_headers_and_nul_are_cleaned() -> None:
    raw = "Subject: Диск полон\r\nFrom: a@x\r\n\r\nbody\x00end\r\n".encode()
    event = only(raw)
    assert event.title == "Диск полон" and event.annotations["description"] == "body\ufffdend"


def test_unknown_charset_reads_as_utf8() -> None:
    raw = b"Subject: =?x-martian?Q?caf=C3=A9?=\r\nFrom: a@x\r\nContent-Type: text/plain; charset=base64\r\n\r\nok\r\n"
    event = only(raw)
    assert (event.title, event.annotations["description"]) == ("café", "ok")


def test_a_mail_needs_from_or_subject() -> None:
    for raw in (b"", b"   \r\n", b"just some text\r\n", b"X-Other: 1\r\n\r\nbody"):
        with pytest.raises(PayloadError):
            parse_mail(raw, RECEIVED, EVERY)
    assert only(b"From: a@x\r\n\r\n").title == "(no subject)"


def test_html_to_text() -> None:
    assert html_to_text("<p>a</p><p>b<br>c</p><ul><li>x</li><li>y</li></ul>tail &amp; more") == \
        "a\n\nb\nc\n\nx\ny\n\ntail & more"
    assert html_to_text("<style>x{}</style><script>if (a < b) {}</script>text") == "text"


def test_deeply_nested_multipart_is_read_or_refused_cleanly() -> None:
    depth = 200
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\r\n\r\n--b{i}\r\n' for i in range(depth))
    tail = "".join(f"\r\n--b{i}--\r\n" for i in reversed(range(depth)))
    raw = ("From: a@x\r\nSubject: nested\r\n" + head + "Content-Type: text/plain\r\n\r\ndeep\r\n" + tail).encode()
    try:
        event = only(raw)
    except PayloadError:
        return
    assert event.title == "nested"


def test_mime_the_email_package_would_choke_on_is_refused_before_parsing() -> None:
    params = "; ".join(f"a{index}=b" for index in range(MAX_CONTENT_HEADER_BYTES // 4))
    with pytest.raises(PayloadError, match="longer than"):
        parse_mail(f"From: a@x\r\nContent-Type: text/plain; {params}\r\n\r\nx".encode(), RECEIVED, EVERY)
    head = "From: a@x\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
    with pytest.raises(PayloadError, match="MIME parts"):
        parse_mail((head + "--b\r\n\r\nx\r\n" * (2 * MAX_PARTS + 1) + "--b--\r\n").encode(), RECEIVED, EVERY)
    assert only((head + "--b\r\n\r\nx\r\n" * 10 + "--b--\r\n").encode()).annotations["description"] == "x"


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_anything_but_payload_error(raw: bytes) -> None:
    for mail_settings in (EVERY, BY_SUBJECT, ZABBIX_RULES):
        try:
            parse_mail(raw, RECEIVED, mail_settings)
        except PayloadError:
            pass


_HEADER = st.sampled_from(["From", "Subject", "To", "Date", "Message-ID", "Content-Type",
                           "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version"])
_VALUE = st.one_of(
    st.text(max_size=80).map(lambda text: text.encode("utf-8", "surrogatepass")),
    st.binary(max_size=80),
    st.sampled_from([b"=?utf-8?B?5ZGK6K2m?=", b"=?gb2312?Q?=B8=E6?=", b"=?bogus?X?zz?=", b"multipart/mixed; boundary=x",
                     b"text/html; charset=gbk", b"base64", b"quoted-printable", b"attachment; filename*=x''%ff",
                     b"<a@b>", b"Tue, 99 Foo 2026 99:99:99 +9999"]),
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_HEADER, _VALUE), max_size=8), st.binary(max_size=500))
def test_mail_shaped_garbage_never_raises_anything_but_payload_error(headers: list[tuple[str, bytes]],
                                                                     body: bytes) -> None:
    raw = b"".join(name.encode() + b": " + value + b"\r\n" for name, value in headers) + b"\r\n" + body
    for mail_settings in (EVERY, BY_SUBJECT, ZABBIX_RULES):
        try:
            event = only(raw, mail_settings)
        except PayloadError:
            continue
        assert event.title and event.fingerprint and len(event.fingerprint) <= 128
        for text in (event.title, *event.labels.values(), *event.annotations.values()):
            text.encode("utf-8")  # storable: no lone surrogates
            assert "\x00" not in text
