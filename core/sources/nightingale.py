"""Nightingale (n9e v6, v7) alert events as its webhooks and rule callbacks post them: one event object
(`AlertCurEvent` in JSON), or a list of them (batched webhooks, the v8 "Callback" channel's `jsonMarshal $events`).

- key: the event's `hash` (rule id + series, the same for an alert and its recovery), or a hash of its labels
- status: `is_recovered` true (or 1) → resolved, else firing
- severity: `severity` 1 → critical, 2 → warning, 3 → info; any other number, or none → warning
- labels: the `tags` ("key=value" strings, split at the first "="; items without one are skipped), then
  `tags_map` (which wins where both have a key), then `rule_name`, `target_ident`, `cluster` and `group_name`
  (the business group) when not empty
- annotations: the event's `annotations`; besides, `description` (`rule_note`), `trigger_value`, `prom_ql`,
  `target_note` and `rule_id` when not empty, unless `annotations` already has that name
- title: `rule_name`, with the target in parentheses when there is one and the name does not already say it;
  without a rule name the `summary` annotation, else the key
- link: `runbook_url` when it is an http(s) URL
- start: `first_trigger_time` (the first of a run of triggers), else `trigger_time`, else the time the request
  was received; a recovery ends at `last_eval_time` (the evaluation that saw it recover), else when received.
  Times are Unix seconds (milliseconds are recognised)
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import Parsed, PayloadError
from core.sources.fields import (
    alert_key,
    check_text,
    epoch_seconds,
    fingerprint_of,
    is_http_url,
    optional_text,
    scalar_text,
    string_map,
    title_text,
)

SOURCE = "nightingale"
MAX_EVENTS_PER_PAYLOAD = 1000
SEVERITIES = {1: Severity.CRITICAL, 2: Severity.WARNING, 3: Severity.INFO}
LABEL_FIELDS = ("rule_name", "target_ident", "cluster", "group_name")
ANNOTATION_FIELDS = (("rule_note", "description"), ("trigger_value", "trigger_value"), ("prom_ql", "prom_ql"),
                     ("target_note", "target_note"), ("rule_id", "rule_id"))
LATEST_TIME = 10**15  # far past any date a datetime holds, even read as milliseconds


def parse(payload: Any, received_at: datetime) -> Parsed:
    """The `nightingale` source: one event, or each event of a list."""
    if isinstance(payload, list):
        if len(payload) > MAX_EVENTS_PER_PAYLOAD:
            raise PayloadError("", f"at most {MAX_EVENTS_PER_PAYLOAD} events per request")
        return Parsed(tuple(_parse_event(event, f"[{index}]", received_at) for index, event in enumerate(payload)))
    if not isinstance(payload, Mapping):
        raise PayloadError("", "body must be a JSON object (one event) or a list of events")
    return Parsed((_parse_event(payload, "", received_at),))


def _parse_event(event: Any, path: str, received_at: datetime) -> AlertEvent:
    if not isinstance(event, Mapping):
        raise PayloadError(path, "must be an object")
    labels = _tags(event.get("tags"), _join(path, "tags"))
    if event.get("tags_map") is not None:
        labels.update(string_map(event["tags_map"], _join(path, "tags_map")))
    for name in LABEL_FIELDS:
        value = optional_text(event, name, path)
        if value:
            labels[name] = value
    annotations = {} if event.get("annotations") is None else string_map(event["annotations"],
                                                                        _join(path, "annotations"))
    for field, name in ANNOTATION_FIELDS:
        value = _scalar(event, field, path)
        if value:
            annotations.setdefault(name, value)

    digest = optional_text(event, "hash", path)
    key = alert_key(digest or fingerprint_of(labels))
    recovered = _recovered(event.get("is_recovered"), _join(path, "is_recovered"))
    started = (_time(event, "first_trigger_time", path) or _time(event, "trigger_time", path) or received_at)
    ended = (_time(event, "last_eval_time", path) or received_at) if recovered else None

    rule_name = labels.get("rule_name", "")
    target = labels.get("target_ident", "")
    if rule_name:
        title = f"{rule_name} ({target})" if target and target not in rule_name else rule_name
    else:
        title = annotations.get("summary") or key
    runbook = optional_text(event, "runbook_url", path) or ""
    return AlertEvent(
        source=SOURCE,
        fingerprint=key,
        status=AlertStatus.RESOLVED if recovered else AlertStatus.FIRING,
        severity=_severity(event.get("severity"), _join(path, "severity")),
        title=title_text(title),
        labels=labels,
        annotations=annotations,
        starts_at=started,
        ends_at=ended,
        links=(runbook,) if is_http_url(runbook) else (),
    )


def _tags(value: Any, path: str) -> dict[str, str]:
    """`tags`: ["key=value", ...] as labels."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise PayloadError(path, "must be a list of \"key=value\" strings")
    labels: dict[str, str] = {}
    for index, tag in enumerate(value):
        if not isinstance(tag, str):
            raise PayloadError(f"{path}[{index}]", "must be a \"key=value\" string")
        name, equals, text = check_text(tag, f"{path}[{index}]").partition("=")
        if equals and name.strip():
            labels[name.strip()] = text.strip()
    return labels


def _severity(value: Any, path: str) -> Severity:
    """1 critical, 2 warning, 3 info; other numbers and none: warning. Digits in a string are read too."""
    if value is None or value == "":
        return Severity.WARNING
    if isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(path, "must be 1 (critical), 2 (warning) or 3 (info)")
    return SEVERITIES.get(value, Severity.WARNING)


def _recovered(value: Any, path: str) -> bool:
    """`is_recovered`: a boolean (alert_cur_event), or 0 and 1 (alert_his_event); absent is false."""
    if value is None:
        return False
    if isinstance(value, int) and value in (0, 1):  # bool is an int too
        return bool(value)
    raise PayloadError(path, "must be true or false")


def _scalar(event: Mapping[str, Any], name: str, path: str) -> str:
    """A field kept as annotation text: strings as they are, numbers as JSON; objects and lists are refused."""
    value = event.get(name)
    if isinstance(value, (Mapping, list)):
        raise PayloadError(_join(path, name), "must be a string or a number")
    return check_text(scalar_text(value), _join(path, name))


def _time(event: Mapping[str, Any], name: str, path: str) -> datetime | None:
    value = event.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > LATEST_TIME:
        raise PayloadError(_join(path, name), f"{value!r} is out of range for a time")
    return epoch_seconds(value, _join(path, name))




def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
