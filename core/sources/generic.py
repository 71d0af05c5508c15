"""Dutybot's own alert format, for scripts, cron jobs and tools without a source of their own.

The body is one alert object, or a list of at most MAX_ALERTS_PER_REQUEST of them:

- `status` (required): `critical`, `warning` or `info` (a firing alert of that severity), or `ok` (resolved);
  any case.
- `title` (required unless `status` is `ok` and `alert_key` is given): one line, at most 500 characters shown.
- `alert_key`: what makes two requests the same alert. Without it, a hash of the title and the labels: send one
  when the title carries changing numbers ("disk 91% full"), or an `ok` would not find its alert.
- `description`: annotation `description`.
- `labels`: an object of strings (what incidents are grouped by).
- `links`: a list of http(s) URLs; `images`: a list of http(s) URLs, annotations `image`, `image.2`, ...
- `starts_at`: an RFC 3339 time with offset; the time the request was received without it.

Any other field becomes an annotation of its name (objects and lists as JSON text). Nothing is sent back but the
ingest answer (`reply` is None).
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
    fingerprint_of,
    is_http_url,
    loose_map,
    optional_text,
    rfc3339,
    string_map,
    title_text,
)

MAX_ALERTS_PER_REQUEST = 1000
KNOWN_FIELDS = frozenset({"title", "status", "alert_key", "description", "labels", "links", "images", "starts_at"})
STATUSES = {"critical": Severity.CRITICAL, "warning": Severity.WARNING, "info": Severity.INFO, "ok": Severity.INFO}
# the title's place in the label set a derived key is hashed from: no label name can hold NUL (check_text)
_TITLE_SLOT = "\x00title"


def parse(payload: Any, received_at: datetime) -> Parsed:
    """The `generic` source: one alert object or a list of them."""
    if isinstance(payload, list):
        if len(payload) > MAX_ALERTS_PER_REQUEST:
            raise PayloadError("", f"at most {MAX_ALERTS_PER_REQUEST} alerts per request, not {len(payload)}")
        return Parsed(tuple(_parse_alert(alert, f"[{index}]", received_at) for index, alert in enumerate(payload)))
    if isinstance(payload, Mapping):
        return Parsed((_parse_alert(payload, "", received_at),))
    raise PayloadError("", "body must be an alert object or a list of alert objects")


def _parse_alert(alert: Any, path: str, received_at: datetime) -> AlertEvent:
    if not isinstance(alert, Mapping):
        raise PayloadError(path, "must be an alert object")
    severity, firing = _status(alert, path)
    title = optional_text(alert, "title", path)
    title = title_text(title) if title is not None else ""
    labels = string_map(alert["labels"], _join(path, "labels")) if alert.get("labels") is not None else {}
    given_key = optional_text(alert, "alert_key", path)
    if given_key is not None and not given_key.strip():
        raise PayloadError(_join(path, "alert_key"), "must not be empty (leave it out to derive one)")
    if not title and (firing or given_key is None):
        needs = "is required" if firing else "is required for ok without alert_key (the key is derived from it)"
        raise PayloadError(_join(path, "title"), needs)
    key = alert_key(given_key) if given_key is not None else fingerprint_of({**labels, _TITLE_SLOT: title})
    annotations = _extra_fields(alert, path)
    description = optional_text(alert, "description", path)
    if description:
        annotations["description"] = description
    for index, image in enumerate(_urls(alert, "images", path)):
        annotations["image" if index == 0 else f"image.{index + 1}"] = image
    starts_at = rfc3339(alert.get("starts_at"), _join(path, "starts_at"))
    return AlertEvent(
        source="generic",
        fingerprint=key,
        status=AlertStatus.FIRING if firing else AlertStatus.RESOLVED,
        severity=severity,
        title=title or title_text(given_key or key),
        labels=labels,
        annotations=annotations,
        starts_at=starts_at or received_at,
        ends_at=None if firing else received_at,
        links=tuple(_urls(alert, "links", path)),
    )


def _extra_fields(alert: Mapping[str, Any], path: str) -> dict[str, str]:
    extra = {name: value for name, value in alert.items() if name not in KNOWN_FIELDS}
    try:
        return loose_map(extra, path)
    except PayloadError as problem:  # a field of a top-level object is "x", not ".x"
        raise PayloadError(problem.path.removeprefix(".") if not path else problem.path, problem.message) from None


def _status(alert: Mapping[str, Any], path: str) -> tuple[Severity, bool]:
    """The severity and whether the alert is firing."""
    status = alert.get("status")
    if status is None:
        raise PayloadError(_join(path, "status"), "is required: critical, warning, info or ok")
    if not isinstance(status, str):
        raise PayloadError(_join(path, "status"), "must be a string: critical, warning, info or ok")
    word = status.strip().lower()
    if word not in STATUSES:
        raise PayloadError(_join(path, "status"), f"must be critical, warning, info or ok, not {status[:40]!r}")
    return STATUSES[word], word != "ok"


def _urls(alert: Mapping[str, Any], name: str, path: str) -> list[str]:
    """A list of http(s) URLs, each kept once, in order."""
    value = alert.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(_join(path, name), "must be a list of URLs")
    urls: list[str] = []
    for index, url in enumerate(value):
        item_path = f"{_join(path, name)}[{index}]"
        if not isinstance(url, str):
            raise PayloadError(item_path, "must be a URL string")
        url = check_text(url, item_path).strip()
        if not is_http_url(url):
            raise PayloadError(item_path, "must be an http:// or https:// URL")
        if url not in urls:
            urls.append(url)
    return urls


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
