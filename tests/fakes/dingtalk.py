"""Loopback fake of a DingTalk group custom robot webhook (platforms.md §3.3).

Every answer is HTTP 200 JSON ``{"errcode": N, "errmsg": "..."}`` like DingTalk's,
unless an HTTP-level failure was injected with :meth:`FakeDingTalkRobot.fail_next`.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlparse

from aiohttp import web
from multidict import CIMultiDict

from tests.fakes._server import ThreadedServer

Json = dict[str, Any]
MSGTYPES = ("text", "markdown", "actionCard", "link", "feedCard")
MAX_BODY_BYTES = 20000
_REQUIRED_STRINGS = {
    "text": ("content",),
    "markdown": ("title", "text"),
    "actionCard": ("title", "text"),
    "link": ("title", "text", "messageUrl"),
}


@dataclass(frozen=True)
class DingTalkRequest:
    """One request to ``/robot/send`` and how the fake answered it."""

    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    json: Any
    status: int
    errcode: int
    errmsg: str


def _same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parsed = urlparse(value)
    return parsed.scheme in ("http", "https") and bool(parsed.netloc)


def _action_card_problem(card: Json) -> str | None:
    if "singleTitle" in card or "singleURL" in card:
        if not isinstance(card.get("singleTitle"), str) or not card["singleTitle"]:
            return "actionCard.singleTitle must be a non-empty string"
        if not _is_http_url(card.get("singleURL")):
            return "actionCard.singleURL must be an absolute http(s) URL"
        return None
    btns = card.get("btns")
    if not isinstance(btns, list) or not btns:
        return "actionCard needs singleTitle+singleURL or a non-empty btns list"
    for i, btn in enumerate(btns):
        if not isinstance(btn, dict) or not isinstance(btn.get("title"), str) or not btn["title"]:
            return f"actionCard.btns[{i}].title must be a non-empty string"
        if not _is_http_url(btn.get("actionURL")):
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
            if not _is_http_url(link.get("messageURL")):
                return f"feedCard.links[{i}].messageURL must be an absolute http(s) URL"
    if "at" in message and not isinstance(message["at"], dict):
        return "at must be an object"
    return None


class FakeDingTalkRobot(ThreadedServer):
    """Fake ``POST /robot/send`` with sign check, shape check, size limit and per-minute rate limit."""

    def __init__(
        self, access_token: str = "tok", secret: str | None = "SECtest", per_minute: int = 20
    ) -> None:
        """``secret=None`` models a robot without the sign security setting (no timestamp/sign check)."""
        super().__init__()
        self.access_token = access_token
        self.secret = secret
        self.per_minute = per_minute
        self._requests: list[DingTalkRequest] = []
        self._messages: list[Json] = []
        self._accepted_at: collections.deque[float] = collections.deque()
        self._http_failures: list[int] = []
        self._errcodes: list[tuple[int, str]] = []

    def _setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/robot/send", self._handle_send)

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

    # ------------------------------------------------------------------ inspection
    @property
    def messages(self) -> list[Json]:
        """JSON bodies of accepted messages (errcode 0), in order."""
        with self._cond:
            return list(self._messages)

    @property
    def requests(self) -> list[DingTalkRequest]:
        """Every request received, accepted or not, with the answer given."""
        with self._cond:
            return list(self._requests)

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[Json]:
        """Block until ``count`` messages were accepted; return them, else raise TimeoutError."""
        return self._wait(lambda: list(self._messages), count, timeout, "accepted messages")

    async def async_wait_for(self, count: int = 1, timeout: float = 5.0) -> list[Json]:
        """Like :meth:`wait_for`, but polls with ``asyncio.sleep`` for use inside a running loop."""
        return await self._async_wait(lambda: list(self._messages), count, timeout, "accepted messages")

    def wait_for_requests(self, count: int = 1, timeout: float = 5.0) -> list[DingTalkRequest]:
        """Block until ``count`` requests (any outcome) were received; return them."""
        return self._wait(lambda: list(self._requests), count, timeout, "requests")

    # ------------------------------------------------------------------ failure injection
    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """Answer the next ``times`` requests with HTTP ``status`` (e.g. 500 or 429)."""
        with self._cond:
            self._http_failures.extend([status] * times)

    def errcode_next(self, errcode: int, errmsg: str = "injected error", times: int = 1) -> None:
        """Answer the next ``times`` requests with HTTP 200 ``{"errcode": errcode, "errmsg": errmsg}``."""
        with self._cond:
            self._errcodes.extend([(errcode, errmsg)] * times)

    # ------------------------------------------------------------------ HTTP handler
    async def _handle_send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        query = dict(request.query)
        with self._cond:
            status, errcode, errmsg = self._answer(query, raw, body)
            self._requests.append(
                DingTalkRequest(query, CIMultiDict(request.headers), raw, body, status, errcode, errmsg)
            )
            self._notify()
        return web.json_response({"errcode": errcode, "errmsg": errmsg}, status=status)

    def _answer(self, query: dict[str, str], raw: bytes, body: Any) -> tuple[int, int, str]:
        """Decide ``(http_status, errcode, errmsg)``; records accepted messages. Caller holds the lock."""
        if self._http_failures:
            return self._http_failures.pop(0), -1, "system busy"
        if self._errcodes:
            return (200, *self._errcodes.pop(0))
        if not _same(query.get("access_token", ""), self.access_token):
            return 200, 300001, "token is not exist"
        if self.secret is not None:
            ts = query.get("timestamp", "")
            if not ts.isdigit() or abs(time.time() * 1000 - int(ts)) > 3600 * 1000:
                return 200, 310000, "invalid timestamp"
            if not _same(query.get("sign", ""), self._raw_sign(self.secret, int(ts))):
                return 200, 310000, "sign not match"
        if len(raw) > MAX_BODY_BYTES:
            return 200, 460101, "message too large"
        if body is None:
            return 200, 40035, "missing parameter: body is not valid JSON"
        problem = shape_problem(body)
        if problem is not None:
            return 200, 40035, f"missing or invalid parameter: {problem}"
        now = time.monotonic()
        while self._accepted_at and now - self._accepted_at[0] >= 60:
            self._accepted_at.popleft()
        if len(self._accepted_at) >= self.per_minute:
            return 200, 130101, f"send too fast, exceed {self.per_minute} times per minute"
        self._accepted_at.append(now)
        self._messages.append(body)
        return 200, 0, "ok"
