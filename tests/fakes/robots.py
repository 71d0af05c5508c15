"""Loopback fakes of the Feishu custom bot and the WeCom group robot webhooks (platforms.md §2.3, §4.3).

Each answers like the platform: HTTP 200 with an error code in the JSON body for a wrong token or sign, a
malformed or oversized message, and going over the robot's rate limit. `fail_next` injects an HTTP-level
failure (500, 429), `code_next` an error code in a 200 answer.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from typing import Any
from urllib.parse import quote

from aiohttp import web

from tests.fakes._robot import Json, RobotFake, is_http_url, same


class FakeFeishuRobot(RobotFake):
    """Fake `POST /open-apis/bot/v2/hook/<token>`: token, sign in the body (within an hour), 20 KB, message
    shape (URL-only buttons: a custom bot cannot call back), 5/s and 100/min."""

    windows = ((1.0, 5), (60.0, 100))
    rate_limited = (11232, "frequency limited psm[lark.oapi.app_platform_runtime]")
    MSG_TYPES = ("text", "post", "image", "share_chat", "interactive")
    MAX_BODY_BYTES = 20_000

    def __init__(self, token: str = "hook-token", secret: str | None = "feishu-sign-secret") -> None:
        super().__init__()
        self.token, self.secret = token, secret

    def _setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/open-apis/bot/v2/hook/{token}", self._handle)

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/open-apis/bot/v2/hook/{quote(self.token, safe='')}"

    @staticmethod
    def sign(secret: str, timestamp: int) -> str:
        key = f"{timestamp}\n{secret}".encode()
        return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()

    def _check(self, request: web.Request, raw: bytes, body: Any) -> tuple[int, str] | None:
        if not same(request.match_info["token"], self.token):
            return 19001, "param invalid: incoming webhook access token invalid"
        if len(raw) > self.MAX_BODY_BYTES:
            return 9499, "request body too large"
        if not isinstance(body, dict):
            return 9499, "Bad Request"
        if self.secret is not None:
            stamp = body.get("timestamp")
            if not (isinstance(stamp, str) and stamp.isdigit()) or abs(time.time() - int(stamp)) > 3600:
                return 19021, "sign match fail or timestamp is not within one hour from current time"
            if not same(str(body.get("sign", "")), self.sign(self.secret, int(stamp))):
                return 19021, "sign match fail or timestamp is not within one hour from current time"
        problem = self._shape(body)
        return None if problem is None else (9499, f"Bad Request: {problem}")

    def _shape(self, body: Json) -> str | None:
        kind = body.get("msg_type")
        if kind not in self.MSG_TYPES:
            return f"unsupported msg_type {kind!r}"
        if kind == "text":
            content = body.get("content")
            if not isinstance(content, dict) or not isinstance(content.get("text"), str) or not content["text"]:
                return "content.text must be a non-empty string"
            return None
        if kind != "interactive":
            return None
        card = body.get("card")
        if not isinstance(card, dict):  # a card object, not a JSON string in `content` (platforms.md §2.3)
            return "interactive needs a card object"
        elements = card.get("elements")
        if not isinstance(elements, list) or not elements:
            return "card.elements must be a non-empty list"
        for i, element in enumerate(elements):
            if not isinstance(element, dict) or element.get("tag") not in ("markdown", "div", "hr", "action", "note"):
                return f"card.elements[{i}] has an unknown tag"
            for j, action in enumerate(element.get("actions", []) if element["tag"] == "action" else []):
                if action.get("tag") != "button" or not is_http_url(action.get("url")):
                    return f"card.elements[{i}].actions[{j}] must be a button with a url"
        return None

    def _accepted(self, body: Json) -> Json:
        return {key: value for key, value in body.items() if key not in ("timestamp", "sign")}

    def _answer_body(self, code: int, message: str) -> Json:
        return {"code": code, "msg": "success" if code == 0 else message, "data": {}}


class FakeWeComRobot(RobotFake):
    """Fake `POST /cgi-bin/webhook/send?key=<key>`: key, message shape and byte limits, 20/min."""

    windows = ((60.0, 20),)
    rate_limited = (45009, "api freq out of limit")
    LIMITS = {"text": 2048, "markdown": 4096}

    def __init__(self, key: str = "wecom-robot-key") -> None:
        super().__init__()
        self.key = key

    def _setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/cgi-bin/webhook/send", self._handle)

    @property
    def webhook_url(self) -> str:
        return f"{self.base_url}/cgi-bin/webhook/send?key={quote(self.key, safe='')}"

    def _check(self, request: web.Request, raw: bytes, body: Any) -> tuple[int, str] | None:
        if not same(request.query.get("key", ""), self.key):
            return 93000, "invalid webhook url"
        if not isinstance(body, dict):
            return 40058, "invalid json"
        kind = body.get("msgtype")
        if kind not in self.LIMITS:
            return 40008, f"invalid message type {kind!r}"
        content = (body.get(kind) or {}).get("content") if isinstance(body.get(kind), dict) else None
        if not isinstance(content, str) or not content:
            return 44004, "empty content"
        if len(content.encode()) > self.LIMITS[kind]:
            return 40058, f"content exceed max length {self.LIMITS[kind]}"
        return None

    def _answer_body(self, code: int, message: str) -> Json:
        return {"errcode": code, "errmsg": "ok" if code == 0 else message}
