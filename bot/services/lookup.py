"""Enrichment lookups (docs/enrichment.md): the GETs `core.stages.enrich.lookups_needed` asks for, made before the
pipeline runs, with a bounded in-process cache.

Time: a lookup takes at most its timeout of wall time, its one retry included. The first attempt may spend at most
half the timeout connecting, so that a lost connection attempt leaves time for the retry; the retry (after a
connection error, a timeout or a 5xx answer) gets whatever is left, and is not tried when less than
MIN_RETRY_SECONDS is. The lookups of one event run concurrently, so the ingest waits at most the longest timeout.

Answers: a 2xx JSON object, flattened to string fields (nested keys joined with ".", lists as JSON text, null
left out). Anything else is a failure: it yields nothing, is logged without the URL's query string (URLs may hold
keys), and is cached for FAILURE_TTL_SECONDS, even when the lookup's cache is off, so that an alert storm does
not hammer a dead CMDB nor wait on it for every alert. Concurrent fetches of one URL share one request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

import httpx

from core.stages.enrich import LookupRequest

log = logging.getLogger(__name__)

MAX_CACHE_ENTRIES = 10_000
FAILURE_TTL_SECONDS = 30.0
MIN_RETRY_SECONDS = 0.05
MAX_BODY_BYTES = 1_000_000
MAX_FIELDS = 1000  # fields kept of one answer (only the requested ones when the request names them)
MAX_DEPTH = 16  # deeper objects are kept as JSON text
MAX_VALUE = 1000  # characters of a field kept (the stage writes no longer label value)

Found = dict[str, dict[str, dict[str, str]]]  # lookup name → URL → fields, as `Context.lookups` holds them
_Key = tuple[str, str, tuple[str, ...]]
_RETRYABLE = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class LookupFailed(Exception):
    """An attempt without an answer; `retryable` after connection errors, timeouts and 5xx answers."""

    def __init__(self, reason: str, retryable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


class Lookups:
    """Makes the enrichment GETs with `client` and caches their answers (and failures) by lookup name and URL."""

    def __init__(self, client: httpx.AsyncClient, *, max_entries: int = MAX_CACHE_ENTRIES,
                 failure_ttl: float = FAILURE_TTL_SECONDS) -> None:
        self._client = client
        self._max_entries = max_entries
        self._failure_ttl = failure_ttl
        # key → (expires at, fields or None for a failure); least recently used first
        self._cache: OrderedDict[_Key, tuple[float, dict[str, str] | None]] = OrderedDict()
        self._in_flight: dict[_Key, asyncio.Task[dict[str, str] | None]] = {}

    async def fetch(self, requests: Sequence[LookupRequest], now_monotonic: float | None = None) -> Found:
        """The answers to `requests`, concurrently; a failed lookup is missing. Never raises.

        `now_monotonic` is the cache's clock (time.monotonic() when None); timeouts always use the real clock."""
        now = time.monotonic() if now_monotonic is None else now_monotonic
        unique = {_key(request): request for request in requests}
        answers = await asyncio.gather(*(self._answer(key, request, now) for key, request in unique.items()))
        found: Found = {}
        for request, answer in zip(unique.values(), answers, strict=True):
            if answer is not None:
                found.setdefault(request.name, {})[request.url] = answer
        return found

    async def _answer(self, key: _Key, request: LookupRequest, now: float) -> dict[str, str] | None:
        cached = self._cache.get(key)
        if cached is not None:
            expires, answer = cached
            if now < expires:
                self._cache.move_to_end(key)
                return answer
            del self._cache[key]
        task = self._in_flight.get(key)
        if task is None:
            task = asyncio.create_task(self._get_and_keep(key, request, now))
            self._in_flight[key] = task
            task.add_done_callback(lambda _: self._in_flight.pop(key, None))
        # shielded: an ingest that is cancelled does not cancel the request others wait on
        return await asyncio.shield(task)

    async def _get_and_keep(self, key: _Key, request: LookupRequest, now: float) -> dict[str, str] | None:
        answer: dict[str, str] | None
        try:
            answer = flatten(await get_json(self._client, request.url, request.timeout_seconds), request.fields)
            ttl = request.cache_seconds
        except LookupFailed as failure:
            answer, ttl = None, self._failure_ttl
            log.warning("enrichment lookup %s failed for %s: %s", request.name, safe_url(request.url), failure.reason)
        except Exception as error:  # a lookup must never fail the ingest it serves
            answer, ttl = None, self._failure_ttl
            log.warning("enrichment lookup %s failed for %s: %s", request.name, safe_url(request.url),
                        type(error).__name__)
        if ttl > 0:
            self._cache[key] = (now + ttl, answer)
            self._cache.move_to_end(key)
            while len(self._cache) > self._max_entries:
                self._cache.popitem(last=False)
        return answer


def _key(request: LookupRequest) -> _Key:
    return request.name, request.url, request.fields


async def get_json(client: httpx.AsyncClient, url: str, timeout_seconds: float) -> dict[str, Any]:
    """GET `url` for a JSON object within `timeout_seconds` of wall time, with one retry; raises LookupFailed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_seconds
    try:
        return await _attempt(client, url, deadline, connect_budget=timeout_seconds / 2)
    except LookupFailed as failure:
        left = deadline - loop.time()
        if not failure.retryable or left < MIN_RETRY_SECONDS:
            raise
        try:
            return await _attempt(client, url, deadline, connect_budget=left)
        except LookupFailed as second:
            raise LookupFailed(f"{failure.reason}, then {second.reason} on the retry", retryable=False) from None


async def _attempt(client: httpx.AsyncClient, url: str, deadline: float, connect_budget: float) -> dict[str, Any]:
    left = max(deadline - asyncio.get_running_loop().time(), 0.001)
    timeout = httpx.Timeout(left, connect=min(left, connect_budget))
    try:
        async with asyncio.timeout_at(deadline):
            async with client.stream("GET", url, timeout=timeout, headers={"Accept": "application/json"}) as response:
                if response.status_code >= 500:
                    raise LookupFailed(f"HTTP {response.status_code}", retryable=True)
                if not 200 <= response.status_code < 300:
                    raise LookupFailed(f"HTTP {response.status_code}", retryable=False)
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        raise LookupFailed(f"answer longer than {MAX_BODY_BYTES} bytes", retryable=False)
    except TimeoutError:
        raise LookupFailed("timed out", retryable=True) from None
    except _RETRYABLE as error:
        raise LookupFailed(type(error).__name__, retryable=True) from None
    except (httpx.HTTPError, httpx.InvalidURL) as error:  # the message may hold the URL: only the kind is told
        raise LookupFailed(type(error).__name__, retryable=False) from None
    try:
        answer = json.loads(bytes(body))
    except (ValueError, RecursionError):
        raise LookupFailed("the answer is not JSON", retryable=False) from None
    if not isinstance(answer, dict):
        raise LookupFailed("the answer is not a JSON object", retryable=False)
    return answer


def flatten(answer: dict[str, Any], wanted: Sequence[str] = ()) -> dict[str, str]:
    """String fields of a JSON object: `{"owner": {"team": "db"}}` → `{"owner.team": "db"}`.

    Strings as they are, true/false, numbers and lists as JSON text, null left out; objects nested deeper than
    MAX_DEPTH as JSON text. Only the `wanted` fields when given; at most MAX_FIELDS of MAX_VALUE characters."""
    fields: dict[str, str] = {}
    keep = frozenset(wanted)

    def visit(value: Any, name: str, depth: int) -> None:
        if len(fields) >= MAX_FIELDS or value is None:
            return
        if isinstance(value, dict) and depth < MAX_DEPTH:
            for key, item in value.items():
                visit(item, f"{name}.{key}" if depth else str(key), depth + 1)
            return
        if keep and name not in keep:
            return
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        fields[name] = text[:MAX_VALUE]

    visit(answer, "", 0)
    return fields


def safe_url(url: str) -> str:
    """The URL for a log line: scheme, host, port and path; no user, password, query or fragment."""
    try:
        parts = urlsplit(url)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"
    except ValueError:
        return "<unreadable URL>"
