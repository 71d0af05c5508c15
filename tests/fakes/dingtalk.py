"""Loopback fake of a DingTalk group custom robot webhook (platforms.md §3.3).

Every answer is HTTP 200 JSON ``{"errcode": N, "errmsg": "..."}`` like DingTalk's,
unless an HTTP-level failure was injected with `fail_next` (tests/fakes/_robot.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote, quote_plus

from aiohttp import web

from tests.fakes._robot import Json, RobotFake, is_http_url, same

MSGTYPES = ("text", "markdown", "actionCard", "link", "feedCard")
MAX_BODY_BYTES = 20000
_REQUIRED_STRINGS = {
    "text": ("content",),
    "markdown": ("title", "text"),
    "actionCard": ("title", "text"),
    "link": ("title", "text", "messageUrl"),
}


def _action_card_problem(card: Json) -> str | None:
    if "singleTitle" in card or "singleURL" in card:
        if not isinstance(card.get("singleTitle"), str) or not card["singleTitle"]:
            return "actionCard.singleTitle must be a non-empty string"
        if not is_http_url(card.get("singleURL")):
            return "actionCard.singleURL must be an absolute http(s) URL"
        return None
    btns = card.get("btns")
    if not isinstance(btns, list) or not btns:
        return "actionCard needs singleTitle+singleURL or a non-empty btns list"
    for i, btn in enumerate(btns):
        if not isinstance(btn, dict) or not isinstance(btn.get("title"), str) or not btn["title"]:
            return f"actionCard.btns[{i}].title must be a non-empty string"
        if not is_http_url(btn.get("actionURL")):
            return f"actionCard.btns[{i}].actionURL must be an absolute http(s) URL"
    return None


def shape_problem(message: Any) -> str | None:
    """Describe what is wrong with a robot message body, or return None when it is well formed."""
    if not isinstance(message, dict):
        return "body must be a JSON object"
    msgtype = message.get("msgtype")
    if msgtype not in MSGTYPES:
        return f"unsupported msgtype {msgtype!r}"
    content = message.get(msgtype)
    if not isinstance(content, dict):
        return f"missing {msgtype} object"
    for field in _REQUIRED_STRINGS.get(msgtype, ()):
        if not isinstance(content.get(field), str) or not content[field]:
            return f"{msgtype}.{field} must be a non-empty string"
    if msgtype == "actionCard":
        return _action_card_problem(content)
    if msgtype == "feedCard":
        links = content.get("links")
        if not isinstance(links, list) or not links:
            return "feedCard.links must be a non-empty list"
        for i, link in enumerate(links):
            if not isinstance(link, dict) or not isinstance(link.get("title"), str):
                return f"feedCard.links[{i}].title must be a string"
            if not is_http_url(link.get("messageURL")):
                return f"feedCard.links[{i}].messageURL must be an absolute http(s) URL"
    if "at" in message and not isinstance(message["at"], dict):
        return "at must be an object"
    return None


class FakeDingTalkRobot(RobotFake):
    """Fake ``POST /robot/send`` with sign check, shape check, size limit and per-minute rate limit."""

    def __init__(
        self, access_token: str = "tok", secret: str | None = "SECtest", per_minute: int = 20
    ) -> None:
        """``secret=None`` models a robot without the sign security setting (no timestamp/sign check)."""
        super().__init__()
        self.access_token = access_token
        self.secret = secret
        self.per_minute = per_minute
        self.windows = ((60.0, per_minute),)
        self.rate_limited = (130101, f"send too fast, exceed {per_minute} times per minute")

    def _setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/robot/send", self._handle)

    @property
    def webhook_url(self) -> str:
        """``http://127.0.0.1:PORT/robot/send?access_token=TOKEN`` (the client adds timestamp and sign)."""
        return f"{self.base_url}/robot/send?access_token={quote(self.access_token, safe='')}"

    @staticmethod
    def sign(secret: str, timestamp_ms: int) -> str:
        """URL-encoded ``base64(HMAC_SHA256(secret, f"{ts}\\n{secret}"))`` as DingTalk documents."""
        return quote_plus(FakeDingTalkRobot._raw_sign(secret, timestamp_ms))

    @staticmethod
    def _raw_sign(secret: str, timestamp_ms: int) -> str:
        digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def signed_url(self, timestamp_ms: int | None = None) -> str:
        """:attr:`webhook_url` with a valid ``timestamp`` and ``sign`` appended (now by default)."""
        ts = int(time.time() * 1000) if timestamp_ms is None else timestamp_ms
        if self.secret is None:
            return self.webhook_url
        return f"{self.webhook_url}&timestamp={ts}&sign={self.sign(self.secret, ts)}"

    def _check(self, request: web.Request, raw: bytes, body: Any) -> tuple[int, str] | None:
        query = request.query
        if not same(query.get("access_token", ""), self.access_token):
            return 300001, "token is not exist"
        if self.secret is not None:
            ts = query.get("timestamp", "")
            if not ts.isdigit() or abs(time.time() * 1000 - int(ts)) > 3600 * 1000:
                return 310000, "invalid timestamp"
            if not same(query.get("sign", ""), self._raw_sign(self.secret, int(ts))):
                return 310000, "sign not match"
        if len(raw) > MAX_BODY_BYTES:
            return 460101, "message too large"
        if body is None:
            return 40035, "missing parameter: body is not valid JSON"
        problem = shape_problem(body)
        return None if problem is None else (40035, f"missing or invalid parameter: {problem}")

    def _answer_body(self, code: int, message: str) -> Json:
        return {"errcode": code, "errmsg": message}
