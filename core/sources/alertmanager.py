"""Prometheus Alertmanager webhook receiver payload (version 4)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import PayloadError

MAX_ALERTS_PER_PAYLOAD = 1000

# labels.severity values as teams write them → Dutybot severity (docs/alert-sources.md)
SEVERITY_BY_LABEL = {
    "critical": Severity.CRITICAL, "crit": Severity.CRITICAL, "page": Severity.CRITICAL,
    "error": Severity.CRITICAL, "emergency": Severity.CRITICAL, "p1": Severity.CRITICAL, "high": Severity.CRITICAL,
    "warning": Severity.WARNING, "warn": Severity.WARNING, "p2": Severity.WARNING, "medium": Severity.WARNING,
    "info": Severity.INFO, "informational": Severity.INFO, "none": Severity.INFO, "low": Severity.INFO,
    "p3": Severity.INFO,
}
DEFAULT_SEVERITY = Severity.WARNING


def parse_alertmanager(payload: Any) -> list[AlertEvent]:
    """Turn a webhook body into events; raise PayloadError naming the offending path."""
    if not isinstance(payload, Mapping):
        raise PayloadError("", "body must be a JSON object")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts", "must be a list")
    if len(alerts) > MAX_ALERTS_PER_PAYLOAD:
        raise PayloadError("alerts", f"at most {MAX_ALERTS_PER_PAYLOAD} alerts per request")
    return [_parse_alert(alert, f"alerts[{index}]") for index, alert in enumerate(alerts)]


def _parse_alert(alert: Any, path: str) -> AlertEvent:
    if not isinstance(alert, Mapping):
        raise PayloadError(path, "must be an object")
    labels = _string_map(alert.get("labels", {}), f"{path}.labels")
    annotations = _string_map(alert.get("annotations", {}), f"{path}.annotations")
    status_text = alert.get("status", "firing")
    if status_text not in ("firing", "resolved"):
        raise PayloadError(f"{path}.status", f"must be firing or resolved, not {status_text!r}")
    starts_at = _time(alert.get("startsAt"), f"{path}.startsAt")
    if starts_at is None:
        raise PayloadError(f"{path}.startsAt", "is required")
    ends_at = _time(alert.get("endsAt"), f"{path}.endsAt")
    fingerprint = alert.get("fingerprint") or _fingerprint(labels)
    if not isinstance(fingerprint, str):
        raise PayloadError(f"{path}.fingerprint", "must be a string")
    _utf8(fingerprint, f"{path}.fingerprint", "must be valid UTF-8 text")
    generator = alert.get("generatorURL")
    if isinstance(generator, str):
        _utf8(generator, f"{path}.generatorURL", "must be valid UTF-8 text")
    return AlertEvent(
        source="alertmanager",
        fingerprint=fingerprint,
        status=AlertStatus(status_text),
        severity=SEVERITY_BY_LABEL.get(labels.get("severity", "").lower(), DEFAULT_SEVERITY),
        title=annotations.get("summary") or labels.get("alertname") or fingerprint,
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at if status_text == "resolved" else None,
        links=(generator,) if isinstance(generator, str) and generator else (),
    )


def _string_map(value: Any, path: str) -> dict[str, str]:
    if not isinstance(value, Mapping):
        raise PayloadError(path, "must be an object of strings")
    bad = [key for key, item in value.items() if not isinstance(item, str)]
    if bad:
        raise PayloadError(f"{path}.{bad[0]}", "must be a string")
    for key, item in value.items():
        _utf8(key, path, "names must be valid UTF-8 text")
        _utf8(item, f"{path}.{key}", "must be valid UTF-8 text")
    return dict(value)


def _utf8(text: str, path: str, message: str) -> None:
    """JSON's \\ud800 escapes decode to lone surrogates, and \\u0000 to NUL: no database (PostgreSQL text)
    or chat platform accepts either."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise PayloadError(path, message) from None
    if "\x00" in text:
        raise PayloadError(path, "must not contain NUL characters")


def _time(value: Any, path: str) -> datetime | None:
    if value is None or value == "" or (isinstance(value, str) and value.startswith("0001-01-01")):
        return None
    if not isinstance(value, str):
        raise PayloadError(path, "must be an RFC 3339 time")
    try:
        parsed = datetime.fromisoformat(_trim_fraction(value.replace("Z", "+00:00")))
    except ValueError:
        raise PayloadError(path, f"{value!r} is not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise PayloadError(path, "needs a time zone offset")
    return parsed


def _trim_fraction(text: str) -> str:
    """Go writes nanoseconds; Python 3.10 reads at most microseconds."""
    if "." not in text:
        return text
    head, rest = text.split(".", 1)
    digits = len(rest) - len(rest.lstrip("0123456789"))
    return f"{head}.{rest[:min(digits, 6)]}{rest[digits:]}"


def _fingerprint(labels: Mapping[str, str]) -> str:
    """Alertmanager always sends one; for hand-written payloads derive it from the label set."""
    canonical = json.dumps(sorted(labels.items()), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
