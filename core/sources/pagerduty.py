"""PagerDuty Events API v2 and v1 bodies → neutral alert events, answered as PagerDuty answers.

Tools that can page PagerDuty can page Dutybot: the body is PagerDuty's, the URL is Dutybot's. The routing key
(`routing_key`, v1 `service_key`) in the body is ignored; the integration key in the URL names the service.

- v2 (`event_action`): `trigger` needs `payload.summary`, `payload.source` and `payload.severity` (critical,
  error, warning or info); `acknowledge` and `resolve` need `dedup_key`.
- v1 (`event_type`): `trigger` needs `description`; `acknowledge` and `resolve` need `incident_key`.

The alert key is the dedup key (v1: incident key) as sent. A trigger without one gets a generated key, returned
in the reply as PagerDuty returns its random one: a hash of the receive time and the body, so a retry of the same
body at another instant opens another alert, as it does in PagerDuty.

A v2 trigger gives labels `source`, `component`, `group`, `class`; annotations `details.<name>` (custom_details),
`client`, `image` (the first image), and `summary` when the title cannot show it whole; links from `links[].href`
and `client_url`, http(s) only. A v1 trigger is critical (v1 has no severity), with `details.<name>`, `client`,
and the link and image `contexts`. Acknowledge and resolve read only their key (and a resolve's summary, for its
title): nothing else in them can refuse them. Other fields are ignored, as PagerDuty ignores them.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import Parsed, PayloadError
from core.sources.fields import (
    alert_key,
    check_text,
    epoch_seconds,
    is_http_url,
    loose_map,
    optional_text,
    required_text,
    rfc3339,
    scalar_text,
    title_text,
)

ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = {"critical": Severity.CRITICAL, "error": Severity.CRITICAL, "warning": Severity.WARNING,
              "info": Severity.INFO}
MAX_KEY_LENGTH = 255  # dedup_key and incident_key, as PagerDuty documents them
MAX_SUMMARY_LENGTH = 1024  # PagerDuty keeps this much of a summary (v1: description)
V1_SEVERITY = Severity.CRITICAL  # v1 events carry no severity; PagerDuty pages for them
RESOLVE_SEVERITY = Severity.WARNING  # a resolve carries none; it changes no severity either


def parse(payload: Any, received_at: datetime) -> Parsed:
    """The `pagerduty` source: Events API v2 when the body has `event_action`, else v1."""
    if isinstance(payload, Mapping) and "event_action" not in payload and "event_type" not in payload:
        raise PayloadError("event_action", "is required: trigger, acknowledge or resolve (v1: event_type)")
    if isinstance(payload, Mapping) and "event_action" in payload:
        return parse_v2(payload, received_at)
    return parse_v1(payload, received_at)


def parse_v2(payload: Any, received_at: datetime) -> Parsed:
    """An Events API v2 alert event (`POST /v2/enqueue`)."""
    if not isinstance(payload, Mapping):
        raise PayloadError("", "body must be a JSON object")
    action = _action(payload, "event_action")
    raw_key = _dedup_key(payload, "dedup_key", action) or _generated_key(payload, received_at)
    event = _trigger_v2(payload, alert_key(raw_key), received_at) if action == "trigger" else None
    return _answer(action, raw_key, event, _v2_summary(payload), received_at,
                   {"status": "success", "message": "Event processed", "dedup_key": raw_key}, 202)


def parse_v1(payload: Any, received_at: datetime) -> Parsed:
    """An Events API v1 event (`POST /generic/2010-04-15/create_event.json`)."""
    if not isinstance(payload, Mapping):
        raise PayloadError("", "body must be a JSON object")
    action = _action(payload, "event_type")
    raw_key = _dedup_key(payload, "incident_key", action) or _generated_key(payload, received_at)
    event = _trigger_v1(payload, alert_key(raw_key), received_at) if action == "trigger" else None
    return _answer(action, raw_key, event, payload.get("description"), received_at,
                   {"status": "success", "message": "Event processed", "incident_key": raw_key}, 200)


def _answer(action: str, raw_key: str, event: AlertEvent | None, summary: Any, received_at: datetime,
            reply: dict[str, Any], status: int) -> Parsed:
    """PagerDuty's answer: v2 202 {status, message, dedup_key}, v1 200 {status, message, incident_key}."""
    key = alert_key(raw_key)
    if action == "acknowledge":
        return Parsed((), acknowledged=(key,), reply=reply, status=status)
    if action == "resolve":
        event = AlertEvent(
            source="pagerduty", fingerprint=key, status=AlertStatus.RESOLVED, severity=RESOLVE_SEVERITY,
            title=_resolve_title(summary, raw_key), labels={}, annotations={}, starts_at=received_at,
            ends_at=received_at,
        )
    assert event is not None
    return Parsed((event,), reply=reply, status=status)


def _action(payload: Mapping[str, Any], name: str) -> str:
    action = payload.get(name)
    if action is None:
        raise PayloadError(name, "is required: trigger, acknowledge or resolve")
    if not isinstance(action, str):
        raise PayloadError(name, "must be a string: trigger, acknowledge or resolve")
    if action not in ACTIONS:
        raise PayloadError(name, f"must be trigger, acknowledge or resolve, not {action[:40]!r}")
    return action


def _dedup_key(payload: Mapping[str, Any], name: str, action: str) -> str | None:
    key = optional_text(payload, name, "")
    if key is not None and len(key) > MAX_KEY_LENGTH:
        raise PayloadError(name, f"must be at most {MAX_KEY_LENGTH} characters")
    if not key:
        if action != "trigger":
            raise PayloadError(name, f"is required for {action}")
        return None
    return key


def _generated_key(payload: Mapping[str, Any], received_at: datetime) -> str:
    """PagerDuty's random key, made pure: the same body at the same instant gives the same key."""
    try:
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    except (ValueError, TypeError, RecursionError):
        raise PayloadError("", "body holds a number too large or nesting too deep") from None
    return hashlib.sha256(f"{received_at.isoformat()}\n{body}".encode()).hexdigest()[:32]


def _trigger_v2(payload: Mapping[str, Any], key: str, received_at: datetime) -> AlertEvent:
    body = payload.get("payload")
    if body is None:
        raise PayloadError("payload", "is required for trigger")
    if not isinstance(body, Mapping):
        raise PayloadError("payload", "must be an object")
    summary = required_text(body, "summary", "payload")[:MAX_SUMMARY_LENGTH]
    labels = {"source": required_text(body, "source", "payload")}
    severity = _severity(body)
    for name in ("component", "group", "class"):
        value = optional_text(body, name, "payload")
        if value:
            labels[name] = value
    annotations = _details(body.get("custom_details"), "payload.custom_details")
    annotations |= _summary(summary)
    client = optional_text(payload, "client", "")
    if client:
        annotations["client"] = client
    image = _first(payload, "images", "src")
    if image:
        annotations["image"] = image
    links = _hrefs(payload, "links", "href")
    return AlertEvent(
        source="pagerduty", fingerprint=key, status=AlertStatus.FIRING, severity=severity,
        title=title_text(summary), labels=labels, annotations=annotations,
        starts_at=_timestamp(body.get("timestamp")) or received_at,
        links=_with_client_url(links, payload),
    )


def _trigger_v1(payload: Mapping[str, Any], key: str, received_at: datetime) -> AlertEvent:
    description = required_text(payload, "description", "")[:MAX_SUMMARY_LENGTH]
    annotations = _details(payload.get("details"), "details") | _summary(description)
    client = optional_text(payload, "client", "")
    if client:
        annotations["client"] = client
    links: list[str] = []
    contexts = payload.get("contexts")
    if contexts is not None:
        if not isinstance(contexts, list):
            raise PayloadError("contexts", "must be a list")
        for index, context in enumerate(contexts):
            path = f"contexts[{index}]"
            if not isinstance(context, Mapping):
                raise PayloadError(path, "must be an object")
            kind = context.get("type")
            if kind == "link":
                href = optional_text(context, "href", path)
                if href and is_http_url(href) and href not in links:
                    links.append(href)
            elif kind == "image" and "image" not in annotations:
                src = optional_text(context, "src", path)
                if src and is_http_url(src):
                    annotations["image"] = src
    return AlertEvent(
        source="pagerduty", fingerprint=key, status=AlertStatus.FIRING, severity=V1_SEVERITY,
        title=title_text(description), labels={}, annotations=annotations, starts_at=received_at,
        links=_with_client_url(links, payload),
    )


def _severity(body: Mapping[str, Any]) -> Severity:
    word = required_text(body, "severity", "payload")
    severity = SEVERITIES.get(word.strip().lower())
    if severity is None:
        raise PayloadError("payload.severity", f"must be critical, error, warning or info, not {word!r}")
    return severity


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return epoch_seconds(value, "payload.timestamp")
    return rfc3339(value, "payload.timestamp")


def _details(value: Any, path: str) -> dict[str, str]:
    """custom_details (v1: details) as annotations `details.<name>`; a value that is not an object as `details`."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {f"details.{name}": text for name, text in loose_map(value, path).items()}
    return {"details": check_text(scalar_text(value), path)}


def _summary(summary: str) -> dict[str, str]:
    """The summary as sent when the title cannot show it all (longer than a title, or on several lines)."""
    return {"summary": summary} if title_text(summary) != summary else {}


def _items(payload: Mapping[str, Any], name: str) -> list[tuple[Mapping[str, Any], str]]:
    value = payload.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(name, "must be a list")
    items = []
    for index, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise PayloadError(f"{name}[{index}]", "must be an object")
        items.append((item, f"{name}[{index}]"))
    return items


def _hrefs(payload: Mapping[str, Any], name: str, field: str) -> list[str]:
    """The http(s) URLs in `field` of the objects of the list `name`, each once; objects without one are skipped."""
    found: list[str] = []
    for item, path in _items(payload, name):
        url = optional_text(item, field, path)
        if url and is_http_url(url) and url not in found:
            found.append(url)
    return found


def _first(payload: Mapping[str, Any], name: str, field: str) -> str | None:
    found = _hrefs(payload, name, field)
    return found[0] if found else None


def _with_client_url(links: list[str], payload: Mapping[str, Any]) -> tuple[str, ...]:
    client_url = optional_text(payload, "client_url", "")
    if client_url and is_http_url(client_url) and client_url not in links:
        links = [*links, client_url]
    return tuple(links)


def _v2_summary(payload: Mapping[str, Any]) -> Any:
    body = payload.get("payload")
    return body.get("summary") if isinstance(body, Mapping) else None


def _resolve_title(summary: Any, raw_key: str) -> str:
    """A resolve needs no summary: the one it carries when it is clean text, else the key. Nothing in a resolve
    but its key can refuse it: a resolve that cannot be read leaves an incident open."""
    if isinstance(summary, str) and summary.strip():
        try:
            return title_text(check_text(summary, ""))
        except PayloadError:
            pass
    return title_text(raw_key)


