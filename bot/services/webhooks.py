"""Outbound webhooks: incident events POSTed as signed JSON to the URLs in the config's `webhooks`.

The dispatcher fans each `event` outbox row out to one `webhook` row per subscribed webhook (so each retries on
its own), then sends those with `WebhookSender`. docs/webhooks.md is the receiver's side.
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from bot.config import WebhookConfig
from core.model import IncidentView
from core.ports import PermanentSendError, RetryableSendError
from core.webhooks import signature

TIMEOUT_SECONDS = 10.0
RETRYABLE_STATUS = {408, 425, 429}  # and every 5xx


def subscribed(hook: WebhookConfig, event: str, service_id: str) -> bool:
    return event in hook.events and (hook.services is None or service_id in hook.services)


def incident_json(view: IncidentView, acknowledged_by: str | None) -> dict[str, Any]:
    """The incident as the API shows it (docs/api.md), at the time of the event."""
    def at(moment: Any) -> str | None:
        return moment.isoformat() if moment is not None else None

    return {"id": view.id, "number": view.number, "title": view.title, "status": view.status.value,
            "severity": view.severity.value, "service": view.service_id, "alert_count": view.alert_count,
            "labels": dict(view.labels), "created_at": at(view.created_at), "acknowledged_at": at(view.acknowledged_at),
            "acknowledged_by": acknowledged_by, "resolved_at": at(view.resolved_at),
            "snoozed_until": at(view.snoozed_until)}


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def post(self, hook: WebhookConfig, payload: dict[str, Any], timestamp: int) -> None:
        """POST one delivery; raise RetryableSendError or PermanentSendError. Errors name the webhook by its id,
        never by its URL (a URL can carry a key)."""
        url, secret = hook.read_secret("url"), hook.read_secret("secret")
        if not url or not secret:
            raise PermanentSendError(f"webhook {hook.id}: url or secret is missing")
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()
        headers = {"content-type": "application/json", "user-agent": "Dutybot-Webhook/1",
                   "x-dutybot-event": str(payload.get("event", "")), "x-dutybot-event-id": str(payload["event_id"]),
                   "x-dutybot-timestamp": str(timestamp), "x-dutybot-signature": signature(secret, timestamp, body)}
        try:
            response = await self._client.post(url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
        except httpx.HTTPError as error:
            raise RetryableSendError(f"webhook {hook.id}: {type(error).__name__}") from None
        if 200 <= response.status_code < 300:
            return
        if response.status_code >= 500 or response.status_code in RETRYABLE_STATUS:
            raise RetryableSendError(f"webhook {hook.id}: HTTP {response.status_code}",
                                     retry_after=_retry_after(response.headers.get("retry-after")))
        raise PermanentSendError(f"webhook {hook.id}: HTTP {response.status_code}")


def _retry_after(value: str | None) -> float | None:
    """Seconds from a `Retry-After` header, at most an hour (an HTTP date is not honoured: back-off applies)."""
    try:
        return min(3600.0, max(0.0, float(value))) if value else None
    except ValueError:
        return None
