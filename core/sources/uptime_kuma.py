"""Uptime Kuma's Webhook notification, request body "application/json": `{"heartbeat", "monitor", "msg"}`.

Kuma notifies when a monitor changes state (and repeats a down one if the monitor's resend interval says so).
One body is at most one event, keyed `uptime-kuma:monitor:<monitor id>`, so a monitor's up resolves its down:

| heartbeat `status` | event |
|---|---|
| 0 down | firing, critical |
| 1 up | resolved (severity info, which a resolved event does not use) |
| 2 pending (failed, retries left) | firing, warning (a later down raises it to critical) |
| 3 maintenance | none |

- a body without a heartbeat (`heartbeat` null or absent) gives no event and the reply `{"ok": true, "test": true}`:
  it is what the notification's "Test" button sends (`{"heartbeat": null, "monitor": null, "msg": "<name>
  Testing"}`), and Kuma's certificate-expiry notices have the same shape. Neither carries a monitor state that a
  later notification could resolve, so neither opens an incident; the 2xx answer tells the test the URL and
  key work
- time: the heartbeat's `time`, which Kuma writes in UTC as `YYYY-MM-DD HH:MM:SS.mmm` (an ISO time with an
  offset is read with it); the `timezone`, `timezoneOffset` and `localDateTime` fields Kuma 2 adds are the same
  instant for display and are ignored. Absent: the time the request was received. An up event starts and ends
  then
- labels: the monitor's tags (name → value; a tag given several values joins them with ","), then `monitor_id`,
  `monitor_name`, `monitor_type`, `monitor_url`, `monitor_hostname`, `monitor_port` when not empty (the bare
  "https://" Kuma keeps as the URL of non-HTTP monitors is left out)
- annotations: `summary` (Kuma's message, "[name] [🔴 Down] reason"), `message` (the heartbeat's reason),
  `description` (the monitor's), `ping_ms` (the response time, when the heartbeat has one)
- title: "<monitor name>: <heartbeat reason>", or the name alone when Kuma has no reason ("N/A")
- link: the monitor's URL when it is an http(s) URL
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.model import AlertEvent, AlertStatus, Severity
from core.sources import Parsed, PayloadError
from core.sources.fields import alert_key, check_text, is_http_url, optional_text, scalar_text, title_text

SOURCE = "uptime-kuma"
DOWN, UP, PENDING, MAINTENANCE = 0, 1, 2, 3
SEVERITIES = {DOWN: Severity.CRITICAL, UP: Severity.INFO, PENDING: Severity.WARNING}
TEST_REPLY = {"ok": True, "test": True}
MONITOR_LABELS = ("id", "name", "type", "url", "hostname", "port")
MONITOR_FIELDS = ("name", "type", "url", "hostname", "port", "description")  # the rest of the monitor is ignored
BARE_URLS = ("http://", "https://")


def parse(payload: Any, received_at: datetime) -> Parsed:
    """The `uptime-kuma` source: the monitor state change one notification reports."""
    if not isinstance(payload, Mapping):
        raise PayloadError("", "body must be a JSON object")
    summary = optional_text(payload, "msg", "") or ""
    heartbeat = payload.get("heartbeat")
    if heartbeat is None:
        return Parsed((), reply=dict(TEST_REPLY))
    if not isinstance(heartbeat, Mapping):
        raise PayloadError("heartbeat", "must be an object or null")
    monitor = payload.get("monitor")
    if monitor is None:
        monitor = {}
    if not isinstance(monitor, Mapping):
        raise PayloadError("monitor", "must be an object or null")
    status = heartbeat.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or status not in (DOWN, UP, PENDING, MAINTENANCE):
        raise PayloadError("heartbeat.status", "must be 0 (down), 1 (up), 2 (pending) or 3 (maintenance)")
    if status == MAINTENANCE:
        return Parsed(())
    monitor_id = _monitor_id(monitor, heartbeat)
    at = _kuma_time(heartbeat.get("time"), "heartbeat.time") or received_at
    reason = optional_text(heartbeat, "msg", "heartbeat") or ""

    labels = _tags(monitor.get("tags"), "monitor.tags")
    fields = {name: _field(monitor, name) for name in MONITOR_FIELDS} | {"id": monitor_id}
    for name in MONITOR_LABELS:
        value = fields[name]
        if value and not (name == "url" and value in BARE_URLS):
            labels[f"monitor_{name}"] = value
    annotations = {"summary": summary, "message": reason, "description": fields["description"]}
    ping = heartbeat.get("ping")
    if isinstance(ping, (int, float)) and not isinstance(ping, bool):
        annotations["ping_ms"] = scalar_text(ping)
    annotations = {name: text for name, text in annotations.items() if text}

    name = fields["name"].strip()
    if name:
        title = f"{name}: {reason}" if reason and reason != "N/A" else name
    else:
        title = summary or reason or f"Uptime Kuma monitor {monitor_id}"
    link = fields["url"] if is_http_url(fields["url"]) else None
    return Parsed((AlertEvent(
        source=SOURCE,
        fingerprint=alert_key(f"uptime-kuma:monitor:{monitor_id}"),
        status=AlertStatus.RESOLVED if status == UP else AlertStatus.FIRING,
        severity=SEVERITIES[status],
        title=title_text(title),
        labels=labels,
        annotations=annotations,
        starts_at=at,
        ends_at=at if status == UP else None,
        links=(link,) if link else (),
    ),))




def _monitor_id(monitor: Mapping[str, Any], heartbeat: Mapping[str, Any]) -> str:
    """The monitor's id: `monitor.id`, else the heartbeat's `monitorID`."""
    for value, path in ((monitor.get("id"), "monitor.id"), (heartbeat.get("monitorID"), "heartbeat.monitorID")):
        if value is None:
            continue
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, str) and value.strip():
            return check_text(value.strip(), path)
        raise PayloadError(path, "must be the monitor's id (a number)")
    raise PayloadError("monitor.id", "is required (or heartbeat.monitorID)")


def _field(monitor: Mapping[str, Any], name: str) -> str:
    """A monitor field as label text: a string, a number, or null (empty)."""
    value = monitor.get(name)
    if isinstance(value, (bool, list, Mapping)):
        raise PayloadError(f"monitor.{name}", "must be a string or a number")
    return check_text(scalar_text(value), f"monitor.{name}")


def _kuma_time(value: Any, path: str) -> datetime | None:
    """Kuma's `YYYY-MM-DD HH:MM:SS.mmm` in UTC; an ISO 8601 time with an offset keeps it."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(path, "must be a time such as 2026-12-01 01:58:04.123")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PayloadError(path, f"{value!r} is not a time such as 2026-12-01 01:58:04.123") from None
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    try:
        parsed.astimezone(UTC)  # what storing it does; year 1 or 9999 with an offset has no UTC time
    except OverflowError:
        raise PayloadError(path, f"{value!r} is out of range for a time") from None
    return parsed


def _tags(value: Any, path: str) -> dict[str, str]:
    """The monitor's tags, `[{"name", "value", ...}]`, as labels."""
    if value is None:
        return {}
    if not isinstance(value, list):
        raise PayloadError(path, "must be a list of tags")
    values: dict[str, list[str]] = {}
    for index, tag in enumerate(value):
        if not isinstance(tag, Mapping):
            raise PayloadError(f"{path}[{index}]", "must be an object")
        name = optional_text(tag, "name", f"{path}[{index}]")
        if not name or not name.strip():
            continue
        text = check_text(scalar_text(tag.get("value")), f"{path}[{index}].value")
        kept = values.setdefault(name.strip(), [])
        if text not in kept:
            kept.append(text)
    return {name: ",".join(texts) for name, texts in values.items()}
