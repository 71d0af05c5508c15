"""Grafana Alerting's webhook contact point (unified alerting, payload `version` "1").

One event per entry of `alerts`; the group fields (`groupLabels`, `commonLabels`, `state`, `message`, ...) are
ignored, except `title`, the last fallback of an alert's title.

- key: the alert's `fingerprint`, or a hash of its labels when it has none
- status: the alert's `status` (`firing` or `resolved`; absent means firing); `endsAt` only on resolved alerts
- severity: the `severity` label through the shared severity words (docs/sources.md); none or unknown → warning
- title: the `summary` annotation, else the `alertname` label, else the payload's `title`, else the key
- labels and annotations: as Grafana sends them; besides, `values` (the rule's expression results, numbers)
  become annotations `value.<refId>`, Grafana 9's `valueString` becomes `value`, and `imageURL` becomes
  `image`, unless the rule already has an annotation of that name
- links: `generatorURL`, `dashboardURL`, `panelURL`, `silenceURL`, those that are http(s) URLs
- start: `startsAt`, or the time the request was received when it is absent

Grafana's "Test" button sends an ordinary-looking firing alert (`alertname` "TestAlert", `instance` "Grafana")
that no resolved notification ever follows: it opens an incident like any alert (docs/sources.md says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.model import AlertEvent, AlertStatus
from core.sources import Parsed, PayloadError
from core.sources.fields import (
    alert_key,
    check_text,
    fingerprint_of,
    is_http_url,
    optional_text,
    rfc3339,
    severity_word,
    string_map,
    title_text,
)

SOURCE = "grafana"
MAX_ALERTS_PER_PAYLOAD = 1000
LINK_FIELDS = ("generatorURL", "dashboardURL", "panelURL", "silenceURL")


def parse(payload: Any, received_at: datetime) -> Parsed:
    """The `grafana` source: every alert of the notification the contact point sent."""
    if not isinstance(payload, Mapping):
        raise PayloadError("", "body must be a JSON object")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list):
        raise PayloadError("alerts", "must be a list")
    if len(alerts) > MAX_ALERTS_PER_PAYLOAD:
        raise PayloadError("alerts", f"at most {MAX_ALERTS_PER_PAYLOAD} alerts per request")
    group_title = optional_text(payload, "title", "") or ""
    return Parsed(tuple(_parse_alert(alert, f"alerts[{index}]", group_title, received_at)
                        for index, alert in enumerate(alerts)))


def _parse_alert(alert: Any, path: str, group_title: str, received_at: datetime) -> AlertEvent:
    if not isinstance(alert, Mapping):
        raise PayloadError(path, "must be an object")
    labels = _string_map_or_null(alert.get("labels"), f"{path}.labels")
    annotations = _string_map_or_null(alert.get("annotations"), f"{path}.annotations")
    status_text = alert.get("status", "firing")
    if status_text not in ("firing", "resolved"):
        raise PayloadError(f"{path}.status", f"must be firing or resolved, not {status_text!r}")
    starts_at = _time(alert.get("startsAt"), f"{path}.startsAt") or received_at
    ends_at = _time(alert.get("endsAt"), f"{path}.endsAt")
    fingerprint = optional_text(alert, "fingerprint", path)
    key = alert_key(fingerprint or fingerprint_of(labels))
    for name, value in _values(alert.get("values"), f"{path}.values").items():
        annotations.setdefault(f"value.{name}", value)
    value_string = alert.get("valueString")
    if isinstance(value_string, str) and value_string:  # Grafana 8 and 9; any other type is ignored
        annotations.setdefault("value", check_text(value_string, f"{path}.valueString"))
    image = optional_text(alert, "imageURL", path)
    if image:
        annotations.setdefault("image", image)
    links: list[str] = []
    for field in LINK_FIELDS:
        url = optional_text(alert, field, path)
        if url and is_http_url(url) and url not in links:
            links.append(url)
    return AlertEvent(
        source=SOURCE,
        fingerprint=key,
        status=AlertStatus(status_text),
        severity=severity_word(labels.get("severity", "")),
        title=title_text(annotations.get("summary") or labels.get("alertname") or group_title or key),
        labels=labels,
        annotations=annotations,
        starts_at=starts_at,
        ends_at=ends_at if status_text == "resolved" else None,
        links=tuple(links),
    )


def _time(value: Any, path: str) -> datetime | None:
    """An RFC 3339 time that has a UTC time (year 9999 with a negative offset has none)."""
    parsed = rfc3339(value, path)
    if parsed is not None:
        try:
            parsed.astimezone(UTC)
        except OverflowError:
            raise PayloadError(path, f"{value!r} is out of range for a time") from None
    return parsed


def _string_map_or_null(value: Any, path: str) -> dict[str, str]:
    return {} if value is None else string_map(value, path)


def _values(value: Any, path: str) -> dict[str, str]:
    """`values`: the rule's query and expression results by refId, numbers (null ones are left out)."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise PayloadError(path, "must be an object of numbers")
    kept: dict[str, str] = {}
    for name, number in value.items():
        check_text(name, path)
        if number is None:
            continue
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise PayloadError(f"{path}.{name}", "must be a number")
        kept[name] = _number_text(number)
    return kept


def _number_text(number: float) -> str:
    """A number in its shortest exact form; whole floats (as Go writes `1`, Python reads `1.0`) without `.0`."""
    if isinstance(number, float) and number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


