"""Plumbing shared by the loopback fakes of the webhook robots (tests/fakes/dingtalk.py, tests/fakes/robots.py):
a request log, accepted messages, failure injection and fixed-window rate limits. Each fake checks its
platform's token, sign and message shape in `_check` and answers in its platform's JSON in `_answer_body`."""

from __future__ import annotations

import collections
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from aiohttp import web

from tests.fakes._server import ThreadedServer

Json = dict[str, Any]


def same(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def is_http_url(value: Any) -> bool:
    parsed = urlparse(value) if isinstance(value, str) else None
    return parsed is not None and parsed.scheme in ("http", "https") and bool(parsed.netloc)


@dataclass(frozen=True)
class RobotRequest:
    """One request and the code the fake answered it with (0: accepted)."""

    path: str
    query: dict[str, str]
    json: Any
    status: int
    code: int
    message: str


class RobotFake(ThreadedServer):
    """Request log, accepted messages, failure injection and fixed-window rate limits."""

    windows: tuple[tuple[float, int], ...] = ()  # (seconds, at most this many accepted)
    rate_limited: tuple[int, str] = (0, "")

    def __init__(self) -> None:
        super().__init__()
        self._requests: list[RobotRequest] = []
        self._messages: list[Json] = []
        self._accepted_at: collections.deque[float] = collections.deque()
        self._http_failures: list[int] = []
        self._codes: list[tuple[int, str]] = []

    @property
    def messages(self) -> list[Json]:
        """Bodies of accepted messages, in order, as `_accepted` keeps them (Feishu drops its timestamp and sign)."""
        with self._cond:
            return list(self._messages)

    @property
    def requests(self) -> list[RobotRequest]:
        with self._cond:
            return list(self._requests)

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[Json]:
        """Block until `count` messages were accepted; return them, else raise TimeoutError."""
        return self._wait(lambda: list(self._messages), count, timeout, "accepted messages")

    async def async_wait_for(self, count: int = 1, timeout: float = 5.0) -> list[Json]:
        """Like `wait_for`, polling with asyncio.sleep for use inside a running loop."""
        return await self._async_wait(lambda: list(self._messages), count, timeout, "accepted messages")

    def wait_for_requests(self, count: int = 1, timeout: float = 5.0) -> list[RobotRequest]:
        """Block until `count` requests (any outcome) were received; return them."""
        return self._wait(lambda: list(self._requests), count, timeout, "requests")

    def fail_next(self, status: int = 500, times: int = 1) -> None:
        """Answer the next `times` requests with HTTP `status` (e.g. 500 or 429)."""
        with self._cond:
            self._http_failures.extend([status] * times)

    def code_next(self, code: int, message: str = "injected error", times: int = 1) -> None:
        """Answer the next `times` requests with HTTP 200 and the platform's error `code`."""
        with self._cond:
            self._codes.extend([(code, message)] * times)

    async def _handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        with self._cond:
            status, code, message = self._answer(request, raw, body)
            self._requests.append(RobotRequest(request.path, dict(request.query), body, status, code, message))
            self._notify()
        return web.json_response(self._answer_body(code, message), status=status)

    def _answer(self, request: web.Request, raw: bytes, body: Any) -> tuple[int, int, str]:
        if self._http_failures:
            return self._http_failures.pop(0), -1, "system busy"
        if self._codes:
            return (200, *self._codes.pop(0))
        problem = self._check(request, raw, body)
        if problem is not None:
            return (200, *problem)
        now = time.monotonic()
        longest = max(seconds for seconds, _ in self.windows)
        while self._accepted_at and now - self._accepted_at[0] >= longest:
            self._accepted_at.popleft()
        for seconds, most in self.windows:
            if sum(1 for at in self._accepted_at if now - at < seconds) >= most:
                return (200, *self.rate_limited)
        self._accepted_at.append(now)
        self._messages.append(self._accepted(body))
        return 200, 0, "ok"

    def _check(self, request: web.Request, raw: bytes, body: Any) -> tuple[int, str] | None:
        raise NotImplementedError

    def _accepted(self, body: Json) -> Json:
        return body

    def _answer_body(self, code: int, message: str) -> Json:
        raise NotImplementedError
