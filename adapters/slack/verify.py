"""Slack request signatures (v0 HMAC-SHA256 over the raw body, 5-minute window)."""

from __future__ import annotations

from slack_sdk.signature import SignatureVerifier

from adapters.slack.config import SIGNATURE_WINDOW_SECONDS
from core.ports import InvalidSignature, RawRequest


def verify(signing_secret: str, request: RawRequest, now_seconds: float) -> str:
    """Check the signature and its freshness; return the signature (the replay key) or raise."""
    headers = {key.lower(): value for key, value in request.headers.items()}
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp.isdigit() or abs(now_seconds - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        raise InvalidSignature("stale or missing timestamp")
    verifier = SignatureVerifier(signing_secret, clock=_FixedClock(now_seconds))
    if not verifier.is_valid(request.body, timestamp, signature):
        raise InvalidSignature("bad signature")
    return signature


class _FixedClock:
    """slack_sdk's verifier asks a clock for now; time is an argument here."""

    def __init__(self, now_seconds: float) -> None:
        self._now = now_seconds

    def now(self) -> float:
        return self._now
