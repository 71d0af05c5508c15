"""Loopback fake of the Slack Web API for tests (platforms.md §1, testing pattern §0.4).

Serves ``POST /api/{method}`` and fake ``response_url`` endpoints from a background
thread, so sync (``WebClient``) and async (``AsyncWebClient``) SDK clients both work.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from aiohttp import web
from multidict import CIMultiDict

from tests.fakes._blockkit import validate_blocks, validate_view_header
from tests.fakes._server import ThreadedServer

Json = dict[str, Any]
MessageKey = tuple[str, str]
AUTH_TEST: Json = {"team": "Fake", "team_id": "T1", "user": "dutybot", "user_id": "UBOT", "bot_id": "B1"}
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


@dataclass(frozen=True)
class SlackCall:
    """One recorded Web API call: method name, merged query/body params, request headers."""

    method: str
    params: dict[str, Any]
    headers: Mapping[str, str]
    at: float = 0.0  # time.monotonic() when it arrived (benchmarks measure latency with it)


class ResponseUrlPost(NamedTuple):
    """One POST received on a fake ``response_url``."""

    name: str
    body: Any


@dataclass(frozen=True)
class _Injected:
    status: int
    body: Json
    headers: dict[str, str]


@dataclass
class _Faults:
    rng: random.Random
    error_5xx: float
    rate_limited: float
    timeout: float
    hold_seconds: float

    def draw(self) -> str | None:
        roll = self.rng.random()
        if roll < self.error_5xx:
            return "5xx"
        if roll < self.error_5xx + self.rate_limited:
            return "429"
        if roll < self.error_5xx + self.rate_limited + self.timeout:
            return "timeout"
        return None


def _ok(**fields: Any) -> Json:
    return {"ok": True, **fields}


def _error(error: str, errors: list[str] | None = None) -> Json:
    body: Json = {"ok": False, "error": error}
    if errors:
        body["errors"] = errors
        body["response_metadata"] = {"messages": errors}
    return body


def _decode_json_field(params: dict[str, Any], name: str) -> str | None:
    """Parse ``params[name]`` in place when it arrived as a JSON string; return an error or None."""
    if isinstance(params.get(name), str):
        try:
            params[name] = json.loads(params[name])
        except ValueError:
            return f"[ERROR] {name} is not valid JSON [json-pointer:/{name}]"
    return None


class FakeSlack(ThreadedServer):
    """Fake Slack Web API plus ``response_url`` receiver on 127.0.0.1 (random port)."""

    def __init__(self, bot_token: str = "xoxb-test-token") -> None:
        super().__init__()
        self.bot_token = bot_token
        self._calls: list[SlackCall] = []
        self._messages: dict[MessageKey, Json] = {}
        self._history: dict[MessageKey, list[Json]] = {}
        self._ephemeral: list[Json] = []
        self._views: list[Json] = []
        self._responses: list[ResponseUrlPost] = []
        self._injected: dict[str, list[_Injected]] = {}
        self._faults: _Faults | None = None
        self._holds: dict[str, list[float]] = {}
        self.fault_log: list[tuple[str, str]] = []  # (method, "5xx" | "429" | "timeout") for each fault served
        self._seq = 100
        self._handlers: dict[str, Callable[[dict[str, Any]], Json]] = {
            "auth.test": self._auth_test,
            "conversations.open": self._conversations_open,
            "chat.postMessage": self._post_message,
            "chat.update": self._update,
            "chat.postEphemeral": self._post_ephemeral,
            "views.open": self._views_open,
        }

    def _setup_routes(self, app: web.Application) -> None:
        app.router.add_post("/api/{method}", self._handle_api)
        app.router.add_post("/response/{name}", self._handle_response_url)

    @property
    def api_url(self) -> str:
        """Web API base URL for ``WebClient(base_url=...)``: ``http://127.0.0.1:PORT/api/``."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A ``response_url`` whose POSTs are recorded under ``name`` in :attr:`responses`."""
        return f"{self.base_url}/response/{name}"

    # ------------------------------------------------------------------ inspection
    @property
    def calls(self) -> list[SlackCall]:
        """Snapshot of every Web API call received (including rejected ones), in order."""
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[SlackCall]:
        """Recorded calls to ``method`` (e.g. ``"chat.postMessage"``)."""
        with self._cond:
            return self._calls_to(method)

    @property
    def messages(self) -> dict[MessageKey, Json]:
        """Latest version of each posted message (``text``, ``blocks``, ...) keyed by ``(channel, ts)``."""
        with self._cond:
            return dict(self._messages)

    @property
    def history(self) -> dict[MessageKey, list[Json]]:
        """Every version of each message, original first, keyed by ``(channel, ts)``."""
        with self._cond:
            return {key: list(versions) for key, versions in self._history.items()}

    @property
    def ephemeral(self) -> list[Json]:
        """Params of each accepted ``chat.postEphemeral`` call, plus its ``message_ts``."""
        with self._cond:
            return list(self._ephemeral)

    @property
    def views(self) -> list[Json]:
        """Views opened with ``views.open``, as returned (including ``id``)."""
        with self._cond:
            return list(self._views)

    @property
    def responses(self) -> list[ResponseUrlPost]:
        """``(name, body)`` of every POST to a :meth:`response_url`."""
        with self._cond:
            return list(self._responses)

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """Block until ``count`` calls to ``method`` were recorded; return them, else raise TimeoutError."""
        return self._wait(lambda: self._calls_to(method), count, timeout, f"calls to {method}")

    async def async_wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[SlackCall]:
        """Like :meth:`wait_for`, but polls with ``asyncio.sleep`` for use inside a running loop."""
        return await self._async_wait(lambda: self._calls_to(method), count, timeout, f"calls to {method}")

    def wait_for_responses(self, count: int = 1, timeout: float = 5.0) -> list[ResponseUrlPost]:
        """Block until ``count`` response_url POSTs were recorded; return them, else raise TimeoutError."""
        return self._wait(lambda: list(self._responses), count, timeout, "response_url posts")

    async def async_wait_for_responses(self, count: int = 1, timeout: float = 5.0) -> list[ResponseUrlPost]:
        """Async variant of :meth:`wait_for_responses`."""
        return await self._async_wait(lambda: list(self._responses), count, timeout, "response_url posts")

    def _calls_to(self, method: str) -> list[SlackCall]:
        return [call for call in self._calls if call.method == method]

    # ------------------------------------------------------------------ failure injection
    def fail_next(self, method: str, status: int = 429, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP ``status``.

        429 carries ``Retry-After: retry_after`` and ``{"ok": false, "error": "ratelimited"}``;
        other statuses carry ``{"ok": false, "error": "internal_error"}``.
        """
        if status == 429:
            injected = _Injected(429, _error("ratelimited"), {"Retry-After": str(retry_after)})
        else:
            injected = _Injected(status, _error("internal_error"), {})
        self._inject(method, injected, times)

    def faults(self, error_5xx: float = 0.3, rate_limited: float = 0.1, timeout: float = 0.05,
               hold_seconds: float = 2.0, seed: int = 1) -> None:
        """From now on answer each API call at random (seeded): `error_5xx` of them 500/503, `rate_limited` 429
        with `Retry-After: 1`, and `timeout` held for `hold_seconds` (longer than the client waits) and then
        carried out — the worst case, where the platform did the work but the caller never heard."""
        self._faults = _Faults(random.Random(seed), error_5xx, rate_limited, timeout, hold_seconds)

    def hold_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold the next ``times`` calls to ``method`` for ``seconds`` before answering them as usual: the
        caller can be killed while its call hangs."""
        with self._cond:
            self._holds.setdefault(method, []).extend([seconds] * times)

    def error_next(self, method: str, error: str = "channel_not_found", times: int = 1) -> None:
        """Answer the next ``times`` calls to ``method`` with HTTP 200 ``{"ok": false, "error": error}``."""
        self._inject(method, _Injected(200, _error(error), {}), times)

    def _inject(self, method: str, injected: _Injected, times: int) -> None:
        with self._cond:
            self._injected.setdefault(method, []).extend([injected] * times)

    # ------------------------------------------------------------------ signing
    @staticmethod
    def sign(signing_secret: str, body: bytes, timestamp: int) -> dict[str, str]:
        """Slack v0 signing headers (``X-Slack-Request-Timestamp``, ``X-Slack-Signature``) for ``body``."""
        base = f"v0:{timestamp}:".encode() + body
        digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
        return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}

    # ------------------------------------------------------------------ HTTP handlers
    async def _handle_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params: dict[str, Any] = dict(request.query)
        raw = await request.read()
        bad_json = False
        if request.content_type in _FORM_TYPES:
            params.update((await request.post()).items())
        elif raw.strip():
            try:
                loaded = json.loads(raw)
            except ValueError:
                loaded = None
            bad_json = not isinstance(loaded, dict)
            params.update(loaded if isinstance(loaded, dict) else {})
        with self._cond:
            self._calls.append(SlackCall(method, params, CIMultiDict(request.headers), time.monotonic()))
            queued = self._injected.get(method)
            injected = queued.pop(0) if queued else None
            held = self._holds.get(method)
            hold = held.pop(0) if held else 0.0
            fault = self._faults.draw() if self._faults is not None and injected is None else None
            if fault is not None:
                self.fault_log.append((method, fault))
            self._notify()
        if hold:
            await asyncio.sleep(hold)
        if fault == "5xx":
            assert self._faults is not None
            injected = _Injected(self._faults.rng.choice((500, 503)), _error("internal_error"), {})
        elif fault == "429":
            injected = _Injected(429, _error("ratelimited"), {"Retry-After": "1"})
        elif fault == "timeout":
            assert self._faults is not None
            await asyncio.sleep(self._faults.hold_seconds)
        if injected is not None:
            return web.json_response(injected.body, status=injected.status, headers=injected.headers)
        if bad_json:
            return web.json_response(_error("invalid_json"))
        if request.headers.get("Authorization") != f"Bearer {self.bot_token}":
            return web.json_response(_error("invalid_auth"))
        handler = self._handlers.get(method)
        if handler is None:
            return web.json_response(_error("unknown_method"))
        with self._cond:
            return web.json_response(handler(params))

    async def _handle_response_url(self, request: web.Request) -> web.Response:
        if request.content_type in _FORM_TYPES:
            body: Any = dict((await request.post()).items())
        else:
            raw = await request.read()
            try:
                body = json.loads(raw) if raw.strip() else {}
            except ValueError:
                body = raw.decode(errors="replace")
        with self._cond:
            self._responses.append(ResponseUrlPost(request.match_info["name"], body))
            self._notify()
        return web.Response(text="ok")

    # ------------------------------------------------------------------ Web API methods (under the lock)
    def _auth_test(self, params: dict[str, Any]) -> Json:
        return _ok(**AUTH_TEST)

    def _conversations_open(self, params: dict[str, Any]) -> Json:
        if params.get("channel"):
            return _ok(channel={"id": params["channel"]})
        users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if not users:
            return _error("users_list_not_supplied")
        channel_id = "D" + users[0] if len(users) == 1 else "G" + "".join(sorted(users))
        return _ok(channel={"id": channel_id})

    def _check_message(self, params: dict[str, Any]) -> Json | None:
        bad_json = _decode_json_field(params, "blocks")
        if bad_json:
            return _error("invalid_blocks", [bad_json])
        if "blocks" in params and (errors := validate_blocks(params["blocks"])):
            return _error("invalid_blocks", errors)
        if not params.get("text") and not params.get("blocks") and not params.get("attachments"):
            return _error("no_text")
        return None

    def _next_ts(self) -> str:
        self._seq += 1
        return f"{1700000000 + self._seq // 1_000_000}.{self._seq % 1_000_000:06d}"

    def _post_message(self, params: dict[str, Any]) -> Json:
        channel = str(params.get("channel") or "")
        if not channel:
            return _error("channel_not_found")
        if (problem := self._check_message(params)) is not None:
            return problem
        if channel.startswith(("U", "W")):  # posting to a user id lands in the app DM
            channel = "D" + channel
        ts = self._next_ts()
        message: Json = {"type": "message", "user": "UBOT", "bot_id": "B1", "ts": ts, "text": ""}
        message.update({key: params[key] for key in ("text", "blocks", "thread_ts") if params.get(key)})
        self._messages[(channel, ts)] = message
        self._history[(channel, ts)] = [dict(message)]
        return _ok(channel=channel, ts=ts, message=message)

    def _update(self, params: dict[str, Any]) -> Json:
        channel, ts = str(params.get("channel") or ""), str(params.get("ts") or "")
        if not channel or channel.startswith(("U", "W")):
            return _error("channel_not_found")
        if (channel, ts) not in self._messages:
            return _error("message_not_found")
        if (problem := self._check_message(params)) is not None:
            return problem
        message = dict(self._messages[(channel, ts)])
        message.update({k: params[k] for k in ("text", "blocks") if k in params})
        self._messages[(channel, ts)] = message
        self._history[(channel, ts)].append(dict(message))
        return _ok(channel=channel, ts=ts, text=message["text"], message=message)

    def _post_ephemeral(self, params: dict[str, Any]) -> Json:
        if not params.get("channel"):
            return _error("channel_not_found")
        if not params.get("user"):
            return _error("user_not_in_channel")
        if (problem := self._check_message(params)) is not None:
            return problem
        ts = self._next_ts()
        self._ephemeral.append({**params, "message_ts": ts})
        return _ok(message_ts=ts)

    def _views_open(self, params: dict[str, Any]) -> Json:
        if not params.get("trigger_id"):
            return _error("invalid_arguments", ["[ERROR] missing required field [json-pointer:/trigger_id]"])
        bad_json = _decode_json_field(params, "view")
        view = params.get("view")
        if errors := ([bad_json] if bad_json else validate_view_header(view)):
            return _error("invalid_arguments", errors)
        assert isinstance(view, dict)  # guaranteed by validate_view_header
        if errors := validate_blocks(view.get("blocks", []), max_blocks=100, path="/view/blocks"):
            return _error("invalid_blocks", errors)
        opened = {**view, "id": f"V{len(self._views) + 1:08d}"}
        self._views.append(opened)
        return _ok(view=opened)
