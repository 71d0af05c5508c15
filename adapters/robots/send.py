"""Posting to webhook robots over httpx; errors say whether to retry and never carry the webhook URL.

The three robots answer HTTP 200 with an error code in the body for most failures (platforms.md §2.3, §3.3,
§4.3): a rate-limit or "busy" code is retried after a wait, any other code is permanent (a wrong sign, a
keyword the robot requires, a deleted robot) and reaches the incident's timeline with the platform's message.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from adapters.robots.config import (
    DINGTALK_OK,
    DINGTALK_RETRYABLE,
    FEISHU_OK,
    FEISHU_RETRY_SECONDS,
    FEISHU_RETRYABLE,
    WECOM_OK,
    WECOM_RETRYABLE,
    RobotTarget,
)
from adapters.robots.verify import dingtalk_sign, feishu_sign
from core.ports import PermanentSendError, RetryableSendError

DEFAULT_TIMEOUT = httpx.Timeout(10.0)


@dataclass(frozen=True)
class _Answers:
    """How one robot says how a post went."""

    name: str  # in errors: "feishu robot"
    code: Callable[[dict[str, Any]], object]  # the error code of a JSON answer
    message: Callable[[dict[str, Any]], object]
    ok: int
    retryable: frozenset[int]
    retry_seconds: float  # how long a retryable code waits at least


ANSWERS = {
    "dingtalk-robot": _Answers("dingtalk robot", lambda a: a.get("errcode"), lambda a: a.get("errmsg", ""),
                               DINGTALK_OK, frozenset(DINGTALK_RETRYABLE), 60.0),
    "feishu-robot": _Answers("feishu robot", lambda a: a.get("code", a.get("StatusCode")),
                             lambda a: a.get("msg", a.get("StatusMessage", "")),
                             FEISHU_OK, frozenset(FEISHU_RETRYABLE), FEISHU_RETRY_SECONDS),
    "wecom-robot": _Answers("wecom robot", lambda a: a.get("errcode"), lambda a: a.get("errmsg", ""),
                            WECOM_OK, frozenset(WECOM_RETRYABLE), 60.0),
}


class RobotSender:
    """Sends messages to DingTalk, Feishu and WeCom custom robots (the caller renders them for the platform)."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def post(self, target: RobotTarget, message: dict[str, Any], now_ms: int | None = None) -> None:
        """POST one message; raise RetryableSendError or PermanentSendError on failure."""
        answers = ANSWERS.get(target.platform)
        if answers is None:
            raise PermanentSendError(f"{target.platform} is not a robot platform")
        timestamp_ms = now_ms if now_ms is not None else int(time.time() * 1000)
        url = httpx.URL(target.webhook)
        if target.secret and target.platform == "dingtalk-robot":  # merge, not replace: it carries access_token
            url = url.copy_merge_params({"timestamp": str(timestamp_ms),
                                         "sign": dingtalk_sign(target.secret, timestamp_ms)})
        if target.secret and target.platform == "feishu-robot":  # Feishu signs in the body
            seconds = timestamp_ms // 1000
            message = {"timestamp": str(seconds), "sign": feishu_sign(target.secret, seconds), **message}
        try:
            response = await self._client.post(url, json=message, timeout=DEFAULT_TIMEOUT)
        except httpx.HTTPError as error:
            raise RetryableSendError(f"{answers.name}: {type(error).__name__}") from None
        _raise_for(answers, response)


def _raise_for(answers: _Answers, response: httpx.Response) -> None:
    try:
        body = response.json()
    except ValueError:
        body = None
    answer = body if isinstance(body, dict) else {}
    code = answers.code(answer) if answer else None
    if response.status_code == 429 or response.status_code >= 500:
        retry_after = _seconds(response.headers.get("Retry-After"))
        raise RetryableSendError(f"{answers.name}: HTTP {response.status_code}", retry_after=retry_after)
    detail = f"{answers.name}: errcode {code}: {str(answers.message(answer))[:200]}"
    if isinstance(code, int) and code in answers.retryable:  # Feishu answers its rate limit with HTTP 400 too
        raise RetryableSendError(detail, retry_after=answers.retry_seconds)
    if response.status_code != 200:
        raise PermanentSendError(f"{answers.name}: HTTP {response.status_code}")
    if body is None:
        raise RetryableSendError(f"{answers.name}: answer is not JSON")
    if code == answers.ok:
        return
    raise PermanentSendError(detail)


def _seconds(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None
