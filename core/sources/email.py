"""Mail sent to an integration's address (`<integration key>@<domain>`, the SMTP listener of bot/mail.py) → one
neutral alert event. Pure: the stdlib `email` package reads the raw message; no I/O.

What one mail becomes (docs/sources.md, "Email"):

- title: the Subject (RFC 2047 encoded words decoded, any charset Python knows; GB2312 and GBK are read as their
  superset GB18030); without a subject, the first line of the body, else "(no subject)"
- body: the first text/plain part, else the first text/html part converted to text; kept as annotation
  `description`, cut to 32 KB (32768 bytes of UTF-8) with label `body_truncated: "true"` when longer
- attachments (parts with `Content-Disposition: attachment` or a file name, and every part that is neither
  text/plain nor text/html: images, PDFs, forwarded messages) are dropped; label `attachments_dropped: "<count>"`
- labels: `from` (the sender's address), `subject` (the subject without Re:/Fwd: prefixes and status markers,
  see below), `mail_key` (the value a rule extracted, rules mode only), and the two above when they apply
- annotations: `description` (the body), `to` (the To addresses), `message_id` and `date` (both as sent)
- start: the Date header when it parses and carries a zone offset, else the time the mail was received
- severity: a rule's `severity` (rules mode); else the severity the subject names (`subject_severity`: a word of
  docs/sources.md in brackets, "[High]", "(P1)", "【严重】", or after "severity:"/"priority:"/"level:"/"级别：", else
  one of the unambiguous words anywhere, BARE_SEVERITY_WORDS and CJK_SEVERITY_WORDS); else the integration's
  default
- source: "email"

How the alert key is made depends on the integration's mode (`MailSettings.mode`):

- "every": every mail is a new alert; key `mail:<Message-ID>` (a retransmitted mail updates its alert instead
  of opening another), or a hash of the raw mail when it has no Message-ID. No mail resolves anything.
- "subject": trigger-or-update by subject. Key `mail:subject:<hash>` of the subject with leading Re:/Fwd:
  prefixes (RE_PREFIXES) and status markers removed, case and spacing ignored: "PROBLEM: disk full on db-1",
  "Re: disk full on db-1" and "[RESOLVED] Disk full on db-1" are the same alert. A subject whose first status
  marker is a recovery word (RECOVERY_WORDS: RESOLVED, RECOVERED, RECOVERY, OK, 恢复, 已恢复, 已解决) resolves
  the alert; problem words (PROBLEM_WORDS: PROBLEM, FIRING, ALERT, ALARM, TRIGGERED, 故障, 告警, 报警) and
  bracketed severity words ("[CRITICAL]") are only removed. A marker counts at the start of the subject (after
  other markers), in brackets ("[OK]", "(OK)", "【恢复】", Alertmanager's and Grafana's "[FIRING:2]") or followed by
  a colon or a spaced dash ("OK: ...", "OK - ...", "恢复：..."); Chinese words may also be followed by a space.
  "Okta down" or "OK so" are no markers. A mail whose subject is empty after this is handled as "every".
- "rules": the first rule whose `key_pattern` matches (searched in the subject, then in the body) gives the key
  `mail:key:<value>` (its group named `key`, else its only group); when the same rule's `recovery_pattern`
  matches the subject or the body, the mail resolves that alert. No rule matches → as "every".

Malformed mail never raises anything but PayloadError: undecodable text becomes U+FFFD, unreadable headers are
skipped, a body that cannot be decoded is empty. Refused (PayloadError) are only a message with neither From nor
Subject, and MIME the email package would take seconds to minutes to read (a Content-Type or Content-Disposition
header over 8,000 bytes, more than about 1,000 parts or 50 boundaries). A body part is read up to 256,000
characters before it is turned into text and cut to 32 KB.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import email
import email.policy
import email.utils
import hashlib
import quopri
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from html.parser import HTMLParser
from typing import Literal

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import Parsed, PayloadError
from core.sources.fields import SEVERITY_WORDS, alert_key, check_text, title_text, utf8_prefix

SOURCE = "email"
MAX_BODY_BYTES = 32 * 1024  # the body kept as annotation `description`, in bytes of UTF-8
MAX_HEADER_CHARS = 1000  # a label or annotation taken from a header
MAX_PARTS = 1000  # MIME parts looked at; the rest of a pathological message is ignored
MAX_DEPTH = 20  # multipart nesting followed
# The email package reads Content-Type parameters in time quadratic in their number (a 1 MB header: seconds with
# policy compat32, minutes with policy default), and works per MIME part (100,000 parts: seconds). Mail beyond these
# limits is refused before it is parsed; no real alert comes near them.
MAX_CONTENT_HEADER_BYTES = 8000
MAX_BOUNDARIES = 50
MAX_DELIMITERS = 2 * MAX_PARTS
MAX_ADDRESS_CHARS = 10_000  # of From and To, the part read for addresses
MAX_SUBJECT_CHARS = 2000  # of the Subject, the part read (the title keeps 500)
MAX_TEXT_CHARS = 256_000  # of the body part, the part turned into text (which is then cut to MAX_BODY_BYTES)
MAX_MARKERS = 20  # leading prefixes and markers removed from a subject

Mode = Literal["every", "subject", "rules"]
MODES: tuple[Mode, ...] = ("every", "subject", "rules")

RE_PREFIXES = ("re", "fw", "fwd", "aw", "wg", "sv", "回复", "答复", "转发")
RECOVERY_WORDS = ("resolved", "recovered", "recovery", "ok", "恢复", "已恢复", "已解决")
PROBLEM_WORDS = ("problem", "firing", "alert", "alarm", "triggered", "故障", "告警", "报警")
# severity words that count anywhere in a subject; the others of SEVERITY_WORDS ("low", "high", "error", "page",
# "ok", ...) are ordinary English too ("Disk space is low") and count only in brackets or after "severity:"
BARE_SEVERITY_WORDS = {word: SEVERITY_WORDS[word] for word in (
    "critical", "crit", "emergency", "fatal", "disaster", "warning", "warn", "p1", "p2", "p3", "info")}
# Chinese severity words (Zabbix's Chinese names among them), matched as whole words
CJK_SEVERITY_WORDS = {"灾难": Severity.CRITICAL, "严重": Severity.CRITICAL, "紧急": Severity.CRITICAL,
                      "致命": Severity.CRITICAL, "一般严重": Severity.WARNING, "警告": Severity.WARNING,
                      "提示": Severity.INFO, "信息": Severity.INFO, "未分类": Severity.INFO}

# charsets mail software labels wrongly or narrowly → the codec that reads what is really sent
CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "cp936": "gb18030",
                   "euc-cn": "gb18030", "x-euc-cn": "gb18030", "ks_c_5601-1987": "cp949", "unicode-1-1-utf-7": "utf-7",
                   "x-unknown": "utf-8", "unknown-8bit": "utf-8", "us-ascii": "utf-8", "ascii": "utf-8"}


@dataclass(frozen=True)
class Rule:
    """One way to read an alert key from a mail (rules mode).

    `key_pattern`: a regular expression with one group, or a group named `key`, searched in the subject, then in
    the body; the group's text is the alert key. `recovery_pattern`: a regular expression; when it matches the
    subject or the body of a mail this rule keyed, the mail resolves the alert. `severity`: the severity of the
    alerts this rule keys, instead of the subject's severity word."""

    key_pattern: str
    recovery_pattern: str | None = None
    severity: Severity | None = None

    def __post_init__(self) -> None:
        key = _compile(self.key_pattern, "key_pattern")
        if "key" not in key.groupindex and key.groups != 1:
            raise ValueError(f"key_pattern {self.key_pattern!r} needs exactly one group, or a group named `key`")
        if self.recovery_pattern is not None:
            _compile(self.recovery_pattern, "recovery_pattern")


@dataclass(frozen=True)
class MailSettings:
    """How one email integration reads its mail: the mode (module docstring), its rules, the default severity."""

    mode: Mode = "every"
    rules: tuple[Rule, ...] = ()
    severity: Severity = Severity.WARNING

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, not {self.mode!r}")
        if self.mode == "rules" and not self.rules:
            raise ValueError("mode `rules` needs at least one rule")


def parse_mail(raw: bytes, received_at: datetime, settings: MailSettings) -> Parsed:
    """One raw RFC 5322 message → one alert event, or PayloadError."""
    if not isinstance(raw, bytes | bytearray):
        raise PayloadError("", "a mail must be bytes")
    if not raw.strip():
        raise PayloadError("", "empty mail")
    try:
        return Parsed((_event(bytes(raw), received_at, settings),))
    except PayloadError:
        raise
    except (RecursionError, MemoryError):
        raise PayloadError("", "mail too deeply nested or too large to read") from None
    except Exception as problem:  # noqa: BLE001 - the email package fails in many ways on hostile input
        raise PayloadError("", f"unreadable mail ({type(problem).__name__})") from None


def _event(raw: bytes, received_at: datetime, settings: MailSettings) -> AlertEvent:
    _check_shape(raw)
    # compat32, not policy default: headers are decoded here (_headers), and the default policy's header objects
    # cost ~0.3 s for one 2 KB Content-Type of comments or parameters (a mail can carry a thousand of them)
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    headers = _headers(message)
    subject = _one_line(headers.get("subject", "")[:MAX_SUBJECT_CHARS])
    sender = headers.get("from")
    if sender is None and not subject:
        raise PayloadError("", "not a mail: it has neither a From nor a Subject header")
    body, attachments, cut = _body(message)
    truncated = cut or len(body.encode("utf-8")) > MAX_BODY_BYTES
    if truncated:
        body = utf8_prefix(body, MAX_BODY_BYTES)
    message_id = _one_line(headers.get("message-id", ""))
    date_text = _one_line(headers.get("date", ""))
    sent_at = _date(date_text)
    stripped, recovery_marker = _strip_markers(subject)

    labels: dict[str, str] = {}
    if sender is not None:
        labels["from"] = _cap(_address(sender))
    if stripped:
        labels["subject"] = title_text(stripped)
    annotations: dict[str, str] = {}
    if body:
        annotations["description"] = body
    if "to" in headers:
        annotations["to"] = _cap(_addresses(headers["to"]))
    if message_id:
        annotations["message_id"] = _cap(message_id)
    if date_text:
        annotations["date"] = _cap(date_text)
    if truncated:
        labels["body_truncated"] = "true"
    if attachments:
        labels["attachments_dropped"] = str(attachments)

    every_key = alert_key("mail:" + message_id) if message_id else _hashed("mail:sha256:", raw)
    status, severity, key = AlertStatus.FIRING, None, every_key
    if settings.mode == "subject" and stripped:
        key = _hashed("mail:subject:", " ".join(stripped.split()).casefold().encode("utf-8"))
        if recovery_marker:
            status = AlertStatus.RESOLVED
    elif settings.mode == "rules":
        for rule in settings.rules:
            value = _rule_key(rule, subject, body)
            if value is None:
                continue
            key, severity = alert_key("mail:key:" + value), rule.severity
            labels["mail_key"] = _cap(value)
            if rule.recovery_pattern is not None and _matches(rule.recovery_pattern, subject, body):
                status = AlertStatus.RESOLVED
            break
    severity = severity or subject_severity(subject) or settings.severity

    starts_at = sent_at or received_at
    title = subject or next((line.strip() for line in body.splitlines() if line.strip()), "") or "(no subject)"
    return AlertEvent(
        source=SOURCE,
        fingerprint=check_text(key, "key"),
        status=status,
        severity=severity,
        title=check_text(title_text(title), "subject"),
        labels={name: check_text(value, name) for name, value in labels.items()},
        annotations={name: check_text(value, name) for name, value in annotations.items()},
        starts_at=starts_at,
        ends_at=starts_at if status is AlertStatus.RESOLVED else None,
    )


_CONTENT_HEADER = re.compile(rb"^content-(?:type|disposition)[ \t]*:[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*",
                             re.IGNORECASE | re.MULTILINE)
_BOUNDARY = re.compile(rb'boundary[ \t]*=[ \t]*"?([^"\s;]{1,200})', re.IGNORECASE)


def _check_shape(raw: bytes) -> None:
    """Refuse mail the email package would take seconds or minutes to read (MAX_CONTENT_HEADER_BYTES)."""
    for header in _CONTENT_HEADER.finditer(raw):
        if len(header.group(0)) > MAX_CONTENT_HEADER_BYTES:
            raise PayloadError("", f"a Content-Type or Content-Disposition header is longer than "
                                   f"{MAX_CONTENT_HEADER_BYTES} bytes")
    boundaries = {found.group(1) for found in _BOUNDARY.finditer(raw)}
    if len(boundaries) > MAX_BOUNDARIES:
        raise PayloadError("", f"more than {MAX_BOUNDARIES} MIME boundaries")
    delimiters = sum(raw.count(b"\n--" + boundary) for boundary in boundaries)
    if delimiters > MAX_DELIMITERS:
        raise PayloadError("", f"more than {MAX_PARTS} MIME parts")


# headers


def _headers(message: Message) -> dict[str, str]:
    """The first value of each header, lower-case names, decoded from RFC 2047 words and raw 8-bit bytes."""
    found: dict[str, str] = {}
    for name, value in message.raw_items():
        key = _clean(str(name)).strip().lower()
        if key in found or key not in ("subject", "from", "to", "date", "message-id"):
            continue
        found[key] = _decode_header(str(value))
    return found


_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"[ \t]+")


def _decode_header(value: str) -> str:
    """A raw header value (surrogate-escaped bytes from the parser) as text: unfolded, encoded words decoded."""
    value = re.sub(r"\r?\n(?=[ \t])", "", value).replace("\r", "").replace("\n", "")
    pieces: list[str] = []
    position, previous_was_word = 0, False
    for match in _ENCODED_WORD.finditer(value):
        between = value[position:match.start()]
        if not (previous_was_word and _BETWEEN_WORDS.fullmatch(between)):  # space between two words is dropped
            pieces.append(_from_raw(between))
        pieces.append(_encoded_word(match))
        position, previous_was_word = match.end(), True
    pieces.append(_from_raw(value[position:]))
    return _clean("".join(pieces))


def _encoded_word(match: re.Match[str]) -> str:
    charset, encoding, text = match.group(1).split("*", 1)[0], match.group(2).upper(), match.group(3)
    try:
        if encoding == "B":
            data = base64.b64decode(text + "=" * (-len(text) % 4), validate=False)
        else:
            data = quopri.decodestring(text.encode("ascii", "surrogateescape"), header=True)
    except (binascii.Error, ValueError, UnicodeError):
        return _from_raw(match.group(0))
    return _decode(data, charset)


def _from_raw(text: str) -> str:
    """Header text outside encoded words: ASCII, or raw 8-bit bytes (surrogate-escaped) from lax senders."""
    return _decode(text.encode("utf-8", "surrogateescape"), None) if text else ""


def _address(value: str) -> str:
    """The address of a From header ("Zabbix <zabbix@example.com>" → zabbix@example.com), else the text."""
    try:
        name, address = email.utils.parseaddr(value[:MAX_ADDRESS_CHARS])
    except Exception:  # noqa: BLE001 - parseaddr is lax but not proven total
        return _one_line(value)
    return address or _one_line(value)


def _addresses(value: str) -> str:
    try:
        found = [address for _, address in email.utils.getaddresses([value[:MAX_ADDRESS_CHARS]]) if address]
    except Exception:  # noqa: BLE001
        found = []
    return ", ".join(found) if found else _one_line(value)


def _date(text: str) -> datetime | None:
    """The Date header as an aware time; None when absent, unreadable or without a zone ("-0000")."""
    if not text or len(text) > 200:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed is not None and parsed.tzinfo is not None else None


# body


def _body(message: Message) -> tuple[str, int, bool]:
    """(the body as text, the number of attachments dropped, whether the body part was cut before it was read)."""
    plain: Message | None = None
    html: Message | None = None
    attachments = 0
    for part in _leaves(message):
        content_type = part.get_content_type()
        if _is_attachment(part) or content_type not in ("text/plain", "text/html"):
            attachments += 1
        elif content_type == "text/plain" and plain is None:
            plain = part
        elif content_type == "text/html" and html is None:
            html = part
    chosen = plain if plain is not None else html  # not `or`: a Message without headers is false
    if chosen is None:
        return "", attachments, False
    text = _part_text(chosen)
    cut = len(text) > MAX_TEXT_CHARS
    text = text[:MAX_TEXT_CHARS]
    return (_normalise(text) if chosen is plain else html_to_text(text)), attachments, cut


def _leaves(message: Message) -> Iterator[Message]:
    """The non-multipart parts, depth first, in order; attachments are not descended into."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack and seen < MAX_PARTS:
        part, depth = stack.pop()
        seen += 1
        if part.get_content_maintype() == "multipart" and not _is_attachment(part):
            children = part.get_payload()
            if isinstance(children, list) and depth < MAX_DEPTH:
                stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))
            continue
        yield part


def _is_attachment(part: Message) -> bool:
    disposition = (part.get_content_disposition() or "").lower()
    return disposition == "attachment" or part.get_filename() is not None


def _part_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding reads as no body
        return ""
    if not isinstance(data, bytes):
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        charset = None
    return _decode(data, charset)


_PARAGRAPH = "\ue000"  # a private-use character marks paragraph breaks while the HTML is read


class _TextOfHtml(HTMLParser):
    LINES = frozenset({"br", "div", "tr", "li", "dt", "dd", "title", "section", "article", "header", "footer"})
    PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "dl", "pre", "blockquote",
                            "hr"})
    CELLS = frozenset({"td", "th"})
    SKIPPED = frozenset({"script", "style", "head", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIPPED:
            self.skipping += 1
        self._boundary(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._boundary(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIPPED:
            self.skipping = max(0, self.skipping - 1)
        self._boundary(tag)

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.chunks.append(data.replace(_PARAGRAPH, " "))

    def _boundary(self, tag: str) -> None:
        if tag in self.PARAGRAPHS:
            self.chunks.append(_PARAGRAPH)
        elif tag in self.LINES:
            self.chunks.append("\n")
        elif tag in self.CELLS:
            self.chunks.append(" ")


def html_to_text(html: str) -> str:
    """Text of an HTML body: tags dropped, script and style skipped, rows and list items on their own lines,
    paragraphs, headings and tables set apart by an empty line."""
    parser = _TextOfHtml()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - html.parser is lax, but a wrong page must not lose the mail
        return re.sub(r"<[^>]*>", " ", html)
    text = _normalise("".join(parser.chunks))
    text = re.sub(r"\n+", "\n", text)
    return re.sub(rf"\s*{_PARAGRAPH}[\s{_PARAGRAPH}]*", "\n\n", text).strip()


def _normalise(text: str) -> str:
    """Lines without trailing spaces or runs of spaces, at most one empty line in a row, no edge blank lines."""
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# subject


_OPEN, _CLOSE = r"[\[(【<]", r"[\])】>]"
_SEPARATOR = r"(?:\s*[:：]|\s+[-–—](?=\s))"


def _alternation(words: Iterable[str]) -> str:
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


_STATUS = _alternation(RECOVERY_WORDS + PROBLEM_WORDS)
_CJK_STATUS = _alternation(word for word in RECOVERY_WORDS + PROBLEM_WORDS if not word.isascii())
_SEVERITY = _alternation([word for word in SEVERITY_WORDS if " " not in word] + list(CJK_SEVERITY_WORDS))
_PREFIX = re.compile(
    rf"(?P<reply>(?:{_alternation(RE_PREFIXES)})(?:\[\d+\])?\s*[:：])"
    rf"|{_OPEN}\s*(?P<bracketed>{_STATUS})(?:\s*:\s*\d+)?\s*{_CLOSE}{_SEPARATOR}?"
    rf"|(?P<bare>{_STATUS}){_SEPARATOR}"
    rf"|(?P<cjk>{_CJK_STATUS})\s"
    rf"|{_OPEN}\s*(?:{_SEVERITY})\s*{_CLOSE}{_SEPARATOR}?",
    re.IGNORECASE)
_IN_BRACKETS = re.compile(r"[\[(【]\s*([^\[\]()【】]{1,30}?)\s*[\])】]")
_LABELLED = re.compile(r"(?:severity|priority|level|级别|等级)\s*[:：=]\s*([A-Za-z0-9]+|[\u4e00-\u9fff]+)",
                       re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z0-9]+|[\u4e00-\u9fff]+")


def _strip_markers(subject: str) -> tuple[str, bool]:
    """(the subject without leading Re:/Fwd: prefixes, status markers and bracketed severity words,
    whether its first status marker is a recovery word)."""
    rest, recovery, status_seen = subject.strip(), False, False
    for _ in range(MAX_MARKERS):
        match = _PREFIX.match(rest)
        if match is None or match.end() == 0:
            break
        word = (match.group("bracketed") or match.group("bare") or match.group("cjk") or "").casefold()
        if word and not status_seen:
            status_seen, recovery = True, word in RECOVERY_WORDS
        rest = rest[match.end():].lstrip()
    return rest, recovery


def subject_severity(subject: str) -> Severity | None:
    """The severity a subject names: a severity word in brackets ("[High]", "(P1)", "【严重】"), else after
    "severity:", "priority:", "level:", "级别：", else a word of BARE_SEVERITY_WORDS or CJK_SEVERITY_WORDS."""
    for found in _IN_BRACKETS.finditer(subject):
        severity = _severity_of(found.group(1), SEVERITY_WORDS)
        if severity is not None:
            return severity
    for found in _LABELLED.finditer(subject):
        severity = _severity_of(found.group(1), SEVERITY_WORDS)
        if severity is not None:
            return severity
    for found in _WORD.finditer(subject):
        severity = _severity_of(found.group(0), BARE_SEVERITY_WORDS)
        if severity is not None:
            return severity
    return None


def _severity_of(word: str, english: Mapping[str, Severity]) -> Severity | None:
    word = word.strip().lower()
    if word in RECOVERY_WORDS:  # "[OK]" in a subject is a status, not the severity "ok" (info)
        return None
    return english.get(word) or CJK_SEVERITY_WORDS.get(word)


# rules


def _rule_key(rule: Rule, subject: str, body: str) -> str | None:
    pattern = _compile(rule.key_pattern, "key_pattern")
    for text in (subject, body):
        match = pattern.search(text)
        if match is None:
            continue
        value = match.group("key") if "key" in pattern.groupindex else match.group(1)
        if value and value.strip():
            return value.strip()
    return None


def _matches(pattern: str, subject: str, body: str) -> bool:
    compiled = _compile(pattern, "recovery_pattern")
    return compiled.search(subject) is not None or compiled.search(body) is not None


def _compile(pattern: str, name: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)  # re keeps a cache of compiled patterns
    except re.error as problem:
        raise ValueError(f"{name} {pattern!r} is not a regular expression: {problem}") from None


# text


def _decode(data: bytes, charset: str | None) -> str:
    """Bytes in the named charset; unnamed or unknown: UTF-8, else GB18030, else UTF-8 with U+FFFD."""
    name = (charset or "").strip().strip('"').lower()
    name = CHARSET_ALIASES.get(name, name)
    if name and name != "utf-8":
        try:
            if codecs.lookup(name).name in ("utf-8", "ascii"):
                raise LookupError(name)
            return _clean(data.decode(name, "replace"))
        except (LookupError, UnicodeError, ValueError, TypeError):  # not a codec, or not a text codec
            pass
    for candidate in ("utf-8", "gb18030"):
        try:
            return _clean(data.decode(candidate))
        except UnicodeDecodeError:
            continue
    return _clean(data.decode("utf-8", "replace"))


def _clean(text: str) -> str:
    """Text every database and chat platform can hold: raw bytes the parser escaped read as UTF-8, other lone
    surrogates and NUL replaced."""
    try:
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8", "replace")
    return text.replace("\x00", "\ufffd")


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _cap(text: str) -> str:
    return text if len(text) <= MAX_HEADER_CHARS else text[:MAX_HEADER_CHARS - 1] + "…"


def _hashed(prefix: str, data: bytes) -> str:
    return prefix + hashlib.sha256(data).hexdigest()[:32]
