"""Posting to robots over httpx; errors say whether to retry and never carry the webhook URL."""

from __future__ import annotations

import time
from typing import Any

import httpx

from adapters.robots.config import DINGTALK_OK, DINGTALK_RETRYABLE, RobotTarget
from adapters.robots.verify import dingtalk_sign
from core.ports import PermanentSendError, RetryableSendError

DEFAULT_TIMEOUT = httpx.Timeout(10.0)


class DingTalkRobotSender:
    """Sends messages to DingTalk custom robots (the caller renders them)."""

    platform = "dingtalk-robot"

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def post(self, target: RobotTarget, message: dict[str, Any], now_ms: int | None = None) -> None:
        """POST one message; raise RetryableSendError or PermanentSendError on failure."""
        params: dict[str, str] = {}
        if target.secret:
            timestamp = now_ms if now_ms is not None else int(time.time() * 1000)
            params = {"timestamp": str(timestamp), "sign": dingtalk_sign(target.secret, timestamp)}
        try:
            # merge, not replace: the webhook URL already carries access_token
            url = httpx.URL(target.webhook).copy_merge_params(params)
            response = await self._client.post(url, json=message, timeout=DEFAULT_TIMEOUT)
        except httpx.HTTPError as error:
            raise RetryableSendError(f"dingtalk robot: {type(error).__name__}") from None
        if response.status_code == 429 or response.status_code >= 500:
            retry_after = _seconds(response.headers.get("Retry-After"))
            raise RetryableSendError(f"dingtalk robot: HTTP {response.status_code}", retry_after=retry_after)
        if response.status_code != 200:
            raise PermanentSendError(f"dingtalk robot: HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            raise RetryableSendError("dingtalk robot: answer is not JSON") from None
        code = answer.get("errcode") if isinstance(answer, dict) else None
        if code == DINGTALK_OK:
            return
        detail = f"dingtalk robot: errcode {code}: {str(answer.get('errmsg', ''))[:200]}"
        if code in DINGTALK_RETRYABLE:
            raise RetryableSendError(detail, retry_after=60.0)
        raise PermanentSendError(detail)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
