"""Outbound webhooks on incident events: which timeline entries are events, and how a delivery is signed.

A receiver checks `X-Dutybot-Signature: v1=<hex>`, the HMAC-SHA256 under the webhook's secret of
`"<X-Dutybot-Timestamp>.<raw body>"` (the Slack and Stripe scheme: the timestamp inside the MAC stops replays of
old deliveries), and drops a repeated `event_id` (a retry after a lost answer sends the same event again).
"""

from __future__ import annotations

import hashlib
import hmac

# timeline kind → event name, as PagerDuty names its webhook events
EVENTS = {
    "created": "incident.triggered",
    "acknowledged": "incident.acknowledged",
    "unacknowledged": "incident.unacknowledged",
    "snoozed": "incident.snoozed",
    "woken": "incident.woken",
    "escalated": "incident.escalated",
    "commented": "incident.commented",
    "resolved": "incident.resolved",
    "reopened": "incident.reopened",
    "reassigned": "incident.reassigned",
    "responders_added": "incident.responders_added",
    "edited": "incident.edited",
    "merged_into": "incident.merged",
}
EVENT_NAMES = tuple(EVENTS.values())
SIGNATURE_VERSION = "v1"


def event_of(timeline_kind: str) -> str | None:
    """The webhook event a timeline entry is, or None when it is not one (alerts merged, notified, …)."""
    return EVENTS.get(timeline_kind)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The `X-Dutybot-Signature` header value of `body` sent at POSIX `timestamp`."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={mac}"


def verify(secret: str, timestamp: int, body: bytes, header: str, now: int, tolerance: int = 300) -> bool:
    """What a receiver does: the signature matches and the timestamp is within `tolerance` seconds of `now`."""
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(signature(secret, timestamp, body), header)
