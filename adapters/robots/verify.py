"""Signing of outbound robot requests (robots receive nothing, so there is nothing inbound to verify)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk custom robot sign: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")).

    The caller URL-encodes it as the `sign` query parameter (httpx does that).
    """
    message = f"{timestamp_ms}\n{secret}".encode()
    return base64.b64encode(hmac.new(secret.encode(), message, hashlib.sha256).digest()).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu custom bot sign: base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b"")), sent in the body
    beside `timestamp` (seconds; Feishu refuses one more than an hour off)."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
