"""Zabbix webhook media type → neutral alert events.

Zabbix has no fixed webhook body: a media type's script posts whatever the administrator writes. Dutybot
reads the JSON object below, built from the macros the stock Zabbix webhook media types use
(docs/sources.md has the media type script that posts it). Every value may be a string, as Zabbix macros
expand to text; IDs and 0/1 flags may also be JSON integers.

- `event_id` ({EVENT.ID}, required): the alert key `zabbix:<event_id>`. A recovery message's {EVENT.ID} is the
  problem's ID ({EVENT.RECOVERY.ID} is the recovery's), so problem and recovery share the key.
- `event_value` ({EVENT.VALUE}, required): 1 problem (firing), 0 recovery (resolved).
- `event_name` ({EVENT.NAME}) or `subject` ({ALERT.SUBJECT}): the title; required for a problem.
- `event_nseverity` ({EVENT.NSEVERITY}, 0-5), else `event_severity` ({EVENT.SEVERITY}: Not classified,
  Information, Warning, Average, High, Disaster): 5, 4 critical; 3, 2 warning; 1, 0 info. The name is kept as
  annotation `severity`.
- `event_update_status` ({EVENT.UPDATE.STATUS}), `event_update_action` ({EVENT.UPDATE.ACTION}),
  `event_ack_status` ({EVENT.ACK.STATUS}): problem updates, see below.
- `event_date` + `event_time` ({EVENT.DATE} {EVENT.TIME}), `event_recovery_date` + `event_recovery_time`
  ({EVENT.RECOVERY.DATE} {EVENT.RECOVERY.TIME}): the server's local wall time, YYYY.MM.DD and HH:MM:SS, with no
  zone; kept as text (annotations `problem_started`, `recovered`). With `timezone` (the server's IANA zone name)
  they also give starts_at and ends_at; without it the time the request was received does.
- `host_name`, `host_ip`, `trigger_id` ({HOST.NAME} {HOST.IP} {TRIGGER.ID}): labels `host`, `host_ip`, `trigger_id`.
- `event_tags`: a list of {tag, value} objects ({EVENT.TAGSJSON}, parsed or as text) or the {EVENT.TAGS} text
  "k:v, k2:v2": labels (a tag named twice gets its values joined by ","; the labels above win over tags).
- `trigger_description` ({TRIGGER.DESCRIPTION}) and `message` ({ALERT.MESSAGE}): annotations `description`, `message`.
- `zabbix_url` ({$ZABBIX.URL}, http or https): with `trigger_id`, the link
  `<zabbix_url>/tr_events.php?triggerid=..&eventid=..`.

Any other field becomes an annotation of its name. A value that is empty, still an unexpanded macro
(`{EVENT.RECOVERY.DATE}` in a problem message, `{$ZABBIX.URL}` when the macro is not set) or `*UNKNOWN*` counts
as absent.

A problem update (`event_update_status` 1) changes no alert: it acknowledges the incident when its action says
`acknowledged` (or, without an action, when `event_ack_status` is `Yes`), and is ignored otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.localtime import to_instant
from core.model import AlertEvent, AlertStatus, Severity
from core.sources import Parsed, PayloadError
from core.sources.fields import alert_key, check_text, is_http_url, loose_map, severity_word, title_text

# {EVENT.NSEVERITY}: Not classified, Information, Warning, Average, High, Disaster
NUMERIC_SEVERITIES = (Severity.INFO, Severity.INFO, Severity.WARNING, Severity.WARNING,
                      Severity.CRITICAL, Severity.CRITICAL)
KNOWN_FIELDS = frozenset({
    "event_id", "event_value", "event_name", "subject", "event_nseverity", "event_severity",
    "event_update_status", "event_update_action", "event_ack_status", "event_date", "event_time",
    "event_recovery_date", "event_recovery_time", "timezone", "host_name", "host_ip", "trigger_id",
    "trigger_description", "event_tags", "zabbix_url", "message",
})
_MACRO = re.compile(r"\{[?$]?[A-Z0-9_.]+(?::[^{}]*)?\}|\*UNKNOWN\*")
_DIGITS = re.compile(r"[0-9]{1,20}")
_DATE = re.compile(r"([0-9]{4})\.([0-9]{2})\.([0-9]{2})")
_TIME = re.compile(r"([0-9]{2}):([0-9]{2}):([0-9]{2})")
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*")
T = TypeVar("T")


def parse(payload: Any, received_at: datetime) -> Parsed:
    """The `zabbix` source: one problem, recovery or problem update per request."""
    if not isinstance(payload, Mapping):
        raise PayloadError("", "body must be a JSON object")
    event_id = _event_id(payload)
    key = alert_key("zabbix:" + event_id)
    firing = _event_value(payload)
    if _is_update(payload):
        return Parsed((), acknowledged=(key,) if firing and _acknowledges(payload) else ())
    title = _text(payload, "event_name") or _text(payload, "subject")
    if firing and title is None:
        raise PayloadError("event_name", "is required for a problem ({EVENT.NAME}, or subject)")
    zone = _zone(payload)
    started = _local_time(payload, "event_date", "event_time", zone)
    recovered = _local_time(payload, "event_recovery_date", "event_recovery_time", zone)
    return Parsed((AlertEvent(
        source="zabbix",
        fingerprint=key,
        status=AlertStatus.FIRING if firing else AlertStatus.RESOLVED,
        severity=_severity(payload),
        title=title_text(title or key),
        labels=_labels(payload),
        annotations=_annotations(payload),
        starts_at=started or received_at,
        ends_at=None if firing else recovered or received_at,
        links=_links(payload, event_id),
    ),))


def _text(payload: Mapping[str, Any], name: str) -> str | None:
    """A field as text: None when absent, empty or an unexpanded macro; integers (not booleans) as digits."""
    value = payload.get(name)
    if isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value < 10**20:
            raise PayloadError(name, f"{value} is out of range")
        return str(value)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(name, "must be a string")
    text = check_text(value, name).strip()
    return None if not text or _MACRO.fullmatch(text) else text


def _event_id(payload: Mapping[str, Any]) -> str:
    event_id = _text(payload, "event_id")
    if event_id is None:
        raise PayloadError("event_id", "is required ({EVENT.ID})")
    if not _DIGITS.fullmatch(event_id):
        raise PayloadError("event_id", f"must be a Zabbix event ID (digits), not {event_id!r}")
    return event_id


def _event_value(payload: Mapping[str, Any]) -> bool:
    """True for a problem, False for a recovery."""
    value = _text(payload, "event_value")
    if value is None:
        raise PayloadError("event_value", "is required ({EVENT.VALUE}: 1 problem, 0 recovery)")
    if value not in ("0", "1"):
        raise PayloadError("event_value", f"must be 1 (problem) or 0 (recovery), not {value!r}")
    return value == "1"


def _is_update(payload: Mapping[str, Any]) -> bool:
    status = _text(payload, "event_update_status")
    if status not in (None, "0", "1"):
        raise PayloadError("event_update_status", f"must be 0 or 1, not {status!r}")
    return status == "1"


def _acknowledges(payload: Mapping[str, Any]) -> bool:
    """An update that acknowledges: `acknowledged` among {EVENT.UPDATE.ACTION}'s comma-separated actions."""
    action = _text(payload, "event_update_action")
    if action is not None:
        return "acknowledged" in (part.strip().lower() for part in action.split(","))
    return (_text(payload, "event_ack_status") or "").lower() == "yes"


def _severity(payload: Mapping[str, Any]) -> Severity:
    number = _text(payload, "event_nseverity")
    if number is not None:
        if number not in ("0", "1", "2", "3", "4", "5"):
            raise PayloadError("event_nseverity", f"must be 0 to 5, not {number!r}")
        return NUMERIC_SEVERITIES[int(number)]
    return severity_word(_text(payload, "event_severity") or "")


def _zone(payload: Mapping[str, Any]) -> ZoneInfo | None:
    name = _text(payload, "timezone")
    if name is None:
        return None
    if len(name) <= 64 and _ZONE_NAME.fullmatch(name):
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    raise PayloadError("timezone", f"{name!r} is not an IANA time zone name such as Europe/Berlin")


def _local_time(payload: Mapping[str, Any], date_field: str, time_field: str, zone: ZoneInfo | None) -> datetime | None:
    """Zabbix's zone-less local date and time as an instant; None without both fields or without a zone."""
    date_text, time_text = _text(payload, date_field), _text(payload, time_field)
    if zone is None or date_text is None or time_text is None:
        return None
    day = _parsed(_DATE, date_text, date_field, "a date YYYY.MM.DD", date)
    clock = _parsed(_TIME, time_text, time_field, "a time HH:MM:SS", time)
    try:
        return to_instant(datetime.combine(day, clock), zone).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise PayloadError(date_field, f"{date_text} {time_text} is out of range") from None


def _parsed(pattern: re.Pattern[str], text: str, path: str, what: str, make: Callable[[int, int, int], T]) -> T:
    found = pattern.fullmatch(text)
    try:
        if found is not None:
            first, second, third = (int(part) for part in found.groups())
            return make(first, second, third)
    except ValueError:
        pass
    raise PayloadError(path, f"must be {what}, not {text[:40]!r}")


def _labels(payload: Mapping[str, Any]) -> dict[str, str]:
    labels = _tags(payload.get("event_tags"))
    for label, name in (("host", "host_name"), ("host_ip", "host_ip"), ("trigger_id", "trigger_id")):
        value = _text(payload, name)
        if value is not None:
            labels[label] = value
    trigger_id = labels.get("trigger_id")
    if trigger_id is not None and not _DIGITS.fullmatch(trigger_id):
        raise PayloadError("trigger_id", f"must be a Zabbix trigger ID (digits), not {trigger_id!r}")
    return labels


def _tags(value: Any) -> dict[str, str]:
    """Event tags as labels; a tag named twice gets its values joined with ","."""
    if value is None:
        return {}
    if isinstance(value, str):
        text = check_text(value, "event_tags").strip()
        if not text or _MACRO.fullmatch(text):
            return {}
        if text.startswith("["):  # {EVENT.TAGSJSON} posted as text
            try:
                value = json.loads(text)
            except (ValueError, RecursionError):
                raise PayloadError("event_tags", "is neither JSON nor k:v, k2:v2 text") from None
        else:
            split = [part.partition(":") for part in text.split(",")]
            return _joined([(tag.strip(), tag_value.strip()) for tag, _, tag_value in split])
    if not isinstance(value, list):
        raise PayloadError("event_tags", "must be a list of {tag, value} objects or the text k:v, k2:v2")
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        path = f"event_tags[{index}]"
        if not isinstance(item, Mapping):
            raise PayloadError(path, "must be an object with tag and value")
        tag, tag_value = item.get("tag"), item.get("value", "")
        if not isinstance(tag, str):
            raise PayloadError(f"{path}.tag", "must be a string")
        if not isinstance(tag_value, str) and tag_value is not None:
            raise PayloadError(f"{path}.value", "must be a string")
        pairs.append((check_text(tag, f"{path}.tag").strip(), check_text(tag_value or "", f"{path}.value").strip()))
    return _joined(pairs)


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, list[str]] = {}
    for tag, value in pairs:
        if tag and value not in values.setdefault(tag, []):
            values[tag].append(value)
    return {tag: ",".join(value for value in tag_values if value) for tag, tag_values in values.items()}


def _annotations(payload: Mapping[str, Any]) -> dict[str, str]:
    extra = {name: value for name, value in payload.items() if name not in KNOWN_FIELDS}
    try:
        kept = loose_map(extra, "")
    except PayloadError as problem:  # the fields are top-level: "x", not ".x"
        raise PayloadError(problem.path.removeprefix("."), problem.message) from None
    annotations = {name: text for name, text in kept.items() if text.strip() and not _MACRO.fullmatch(text.strip())}
    for annotation, name in (("description", "trigger_description"), ("message", "message"),
                             ("severity", "event_severity")):
        value = _text(payload, name)
        if value is not None:
            annotations[annotation] = value
    for annotation, date_field, time_field in (("problem_started", "event_date", "event_time"),
                                               ("recovered", "event_recovery_date", "event_recovery_time")):
        local = " ".join(filter(None, (_text(payload, date_field), _text(payload, time_field))))
        if local:
            annotations[annotation] = local
    return annotations


def _links(payload: Mapping[str, Any], event_id: str) -> tuple[str, ...]:
    url, trigger_id = _text(payload, "zabbix_url"), _text(payload, "trigger_id")
    if url is None or trigger_id is None or not is_http_url(url):
        return ()
    return (f"{url.rstrip('/')}/tr_events.php?triggerid={trigger_id}&eventid={event_id}",)



