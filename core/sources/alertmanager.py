"""Prometheus Alertmanager webhook receiver payload (version 4)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from core.model import AlertEvent, AlertStatus
from core.sources import Parsed, PayloadError
from core.sources.fields import alert_key, check_text, fingerprint_of, rfc3339, severity_word, string_map, title_text

MAX_ALERTS_PER_PAYLOAD = 1000


def parse(payload: Any, received_at: datetime) -> Parsed:
    """The `alertmanager` source: every alert of the group the receiver was sent."""
    return Parsed(tuple(parse_alertmanager(payload)))


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
    labels = string_map(alert.get("labels", {}), f"{path}.labels")
    annotations = string_map(alert.get("annotations", {}), f"{path}.annotations")
    status_text = alert.get("status", "firing")
    if status_text not in ("firing", "resolved"):
        raise PayloadError(f"{path}.status", f"must be firing or resolved, not {status_text!r}")
    starts_at = rfc3339(alert.get("startsAt"), f"{path}.startsAt")
    if starts_at is None:
        raise PayloadError(f"{path}.startsAt", "is required")
    ends_at = rfc3339(alert.get("endsAt"), f"{path}.endsAt")
    fingerprint = alert.get("fingerprint") or fingerprint_of(labels)
    if not isinstance(fingerprint, str):
        raise PayloadError(f"{path}.fingerprint", "must be a string")
    fingerprint = alert_key(check_text(fingerprint, f"{path}.fingerprint"))
    generator = alert.get("generatorURL")
    if isinstance(generator, str):
        check_text(generator, f"{path}.generatorURL")
    return AlertEvent(
        source="alertmanager",
        fingerprint=fingerprint,
        status=AlertStatus(status_text),
        severity=severity_word(labels.get("severity", "")),
        title=title_text(annotations.get("summary") or labels.get("alertname") or fingerprint),
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at if status_text == "resolved" else None,
        links=(generator,) if isinstance(generator, str) and generator else (),
    )
