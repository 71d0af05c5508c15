"""Signed one-click action links for webhook-only robots: `GET /a/{token}` confirms, `POST` acts.

A token names one action on one incident, carries its expiry and a unique id (so the store can make it
work once), and is signed with HMAC-SHA256 over its payload. The action is `ack`, `resolve`, or
`silence:<preset>` (a quick silence of the incident's labels, e.g. `silence:1h`); tokens issued before
silence links existed read back unchanged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

DEFAULT_TTL = timedelta(hours=24)
SILENCE_PREFIX = "silence:"


class InvalidLink(ValueError):
    """The token is not one we signed (tampered, truncated or made up)."""


class ExpiredLink(ValueError):
    """The token is genuine but past its expiry."""


@dataclass(frozen=True)
class LinkClaim:
    action: str
    incident_id: int
    expires_at: int  # unix seconds
    jti: str
    channel: str = ""  # where the link was posted, for the timeline


def silence_action(preset: str) -> str:
    """The link action that quick-silences an incident for `preset` (`1h` → `silence:1h`)."""
    return f"{SILENCE_PREFIX}{preset}"


def silence_preset(action: str) -> str | None:
    """The preset of a `silence:<preset>` action; None for any other action."""
    return action.removeprefix(SILENCE_PREFIX) if action.startswith(SILENCE_PREFIX) else None


def issue_link(key: bytes, action: str, incident_id: int, now: datetime, channel: str = "",
               ttl: timedelta = DEFAULT_TTL, nonce: str | None = None) -> str:
    """A URL-safe token for `action` on `incident_id`, valid until now + ttl."""
    claim = {"a": action, "i": incident_id, "e": int((now + ttl).timestamp()), "j": nonce or secrets.token_hex(8),
             "c": channel}
    body = _b64(json.dumps(claim, separators=(",", ":")).encode())
    return f"{body}.{_b64(_mac(key, body))}"


def read_link(key: bytes, token: str, now: datetime) -> LinkClaim:
    """Verify the signature, then the expiry; raise InvalidLink or ExpiredLink."""
    body, _, signature = token.partition(".")
    try:
        valid = hmac.compare_digest(_unb64(signature), _mac(key, body))
        raw = json.loads(_unb64(body)) if valid else None
    except (ValueError, UnicodeDecodeError):
        raise InvalidLink("malformed link") from None
    if not valid or not isinstance(raw, dict):
        raise InvalidLink("bad signature")
    try:
        claim = LinkClaim(action=str(raw["a"]), incident_id=int(raw["i"]), expires_at=int(raw["e"]),
                          jti=str(raw["j"]), channel=str(raw.get("c", "")))
    except (KeyError, TypeError, ValueError):
        raise InvalidLink("incomplete link") from None
    if now.timestamp() >= claim.expires_at:
        raise ExpiredLink("link expired")
    return claim


def _mac(key: bytes, body: str) -> bytes:
    return hmac.new(key, body.encode(), hashlib.sha256).digest()[:20]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
