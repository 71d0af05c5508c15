"""bot/services/lookup.py against a real local HTTP server on port 0: answers, cache, timeout, retry, failures."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx
import pytest

from bot.services.lookup import FAILURE_TTL_SECONDS, Lookups, flatten, safe_url
from core.stages.enrich import LookupRequest

HOST = {"name": "db-1", "owner": {"team": "db", "oncall": {"primary": "alice"}}, "tags": ["a", "b"], "cpus": 8,
        "load": 0.5, "virtual": True, "retired": None, "empty": {}}
FLAT = {"name": "db-1", "owner.team": "db", "owner.oncall.primary": "alice", "tags": '["a","b"]', "cpus": "8",
        "load": "0.5", "virtual": "true"}
SLOW_SECONDS = 3.0


class FakeCmdb(ThreadingHTTPServer):
    """A CMDB on 127.0.0.1 that counts the requests to each path; the path says how it answers."""

    daemon_threads = True
    block_on_close = False

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.hits: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.release = threading.Event()  # ends the slow answers at teardown

    def count(self, path: str) -> int:
        with self.lock:
            return self.hits[path]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}{path}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeCmdb

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        with self.server.lock:
            self.server.hits[path] += 1
            hits = self.server.hits[path]
        if path.startswith("/hosts/"):
            self._answer(200, {**HOST, "name": path.rsplit("/", 1)[1]})
        elif path == "/slow":
            self.server.release.wait(SLOW_SECONDS)
            self._answer(200, HOST)
        elif path == "/a-bit-slow":
            time.sleep(0.3)
            self._answer(200, HOST)
        elif path == "/flaky":
            self._answer(503, {"error": "busy"}) if hits == 1 else self._answer(200, HOST)
        elif path == "/down":
            self._answer(503, {"error": "down"})
        elif path == "/list":
            self._answer(200, [HOST])
        elif path == "/text":
            self._send(200, b"<html>not json</html>", "text/html")
        elif path == "/big":
            self._answer(200, {"blob": "x" * 1_100_000})
        else:
            self._answer(404, {"error": "no such host"})

    def _answer(self, status: int, body: object) -> None:
        self._send(status, json.dumps(body).encode(), "application/json")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def cmdb() -> Iterator[FakeCmdb]:
    server = FakeCmdb()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="FakeCmdb",
                              daemon=True)
    thread.start()
    yield server
    server.release.set()
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False) as http:
        yield http


def request(url: str, timeout: float = 2.0, cache: float = 300.0, fields: tuple[str, ...] = (),
            name: str = "cmdb") -> LookupRequest:
    return LookupRequest(name, url, timeout, cache, fields)


async def test_an_answer_is_flattened(cmdb: FakeCmdb, client: httpx.AsyncClient) -> None:
    url = cmdb.url("/hosts/db-1")
    assert await Lookups(client).fetch([request(url)]) == {"cmdb": {url: FLAT}}


async def test_only_the_fields_asked_for_are_kept(cmdb: FakeCmdb, client: httpx.AsyncClient) -> None:
    one, two = cmdb.url("/hosts/db-1"), cmdb.url("/hosts/db-2")
    found = await Lookups(client).fetch([request(one, fields=("owner.team", "missing")),
                                         request(two, fields=("name",), name="names")])
    assert found == {"cmdb": {one: {"owner.team": "db"}}, "names": {two: {"name": "db-2"}}}


async def test_answers_are_cached_for_the_lookups_cache_time(cmdb: FakeCmdb, client: httpx.AsyncClient) -> None:
    lookups, url = Lookups(client), cmdb.url("/hosts/db-1")
    for now in (0.0, 100.0, 299.0):
        assert await lookups.fetch([request(url)], now_monotonic=now) == {"cmdb": {url: FLAT}}
    assert cmdb.count("/hosts/db-1") == 1
    assert await lookups.fetch([request(url)], now_monotonic=300.0) == {"cmdb": {url: FLAT}}
    assert cmdb.count("/hosts/db-1") == 2


async def test_cache_zero_asks_every_time(cmdb: FakeCmdb, client: httpx.AsyncClient) -> None:
    lookups, url = Lookups(client), cmdb.url("/hosts/db-1")
    for now in (0.0, 0.0, 1.0):
        await lookups.fetch([request(url, cache=0)], now_monotonic=now)
    assert cmdb.count("/hosts/db-1") == 3


async def test_the_cache_is_bounded(cmdb: FakeCmdb, client: httpx.AsyncClient) -> None:
    lookups = Lookups(client, max_entries=2)
    urls = [cmdb.url(f"/hosts/h{index}") for index in range(3)]
    for url in [*urls, urls[2], urls[0]]:
        await lookups.fetch([request(url)], now_monotonic=0.0)
    assert [cmdb.count(f"/hosts/h{index}") for index in range(3)] == [2, 1, 1]  # h0 was evicted by h2


async def test_a_slow_answer_is_given_up_within_the_timeout(cmdb: FakeCmdb, client: httpx.AsyncClient) -> None:
    started = time.monotonic()
    found = await Lookups(client).fetch([request(cmdb.url("/slow"), timeout=0.5),
                                         request(cmdb.url("/hosts/db-1"), timeout=0.5)])
    elapsed = time.monotonic() - started
    assert found == {"cmdb": {cmdb.url("/hosts/db-1"): FLAT}}
    assert 0.45 <= elapsed < 0.9  # the retry fits inside the timeout, not after it
    assert cmdb.count("/slow") == 1  # the whole budget went on waiting: no time left for a retry


async def test_one_retry_after_a_503(cmdb: FakeCmdb, client: httpx.AsyncClient) -> None:
    url = cmdb.url("/flaky")
    assert await Lookups(client).fetch([request(url)]) == {"cmdb": {url: FLAT}}
    assert cmdb.count("/flaky") == 2


async def test_a_failure_is_retried_once_then_cached_briefly(cmdb: FakeCmdb, client: httpx.AsyncClient) -> None:
    lookups, url = Lookups(client), cmdb.url("/down")
    assert await lookups.fetch([request(url, cache=0)], now_monotonic=0.0) == {}
    assert cmdb.count("/down") == 2
    assert await lookups.fetch([request(url, cache=0)], now_monotonic=FAILURE_TTL_SECONDS - 1) == {}
    assert cmdb.count("/down") == 2  # a storm does not hammer a dead CMDB, even with the cache off
    assert await lookups.fetch([request(url, cache=0)], now_monotonic=FAILURE_TTL_SECONDS) == {}
    assert cmdb.count("/down") == 4


@pytest.mark.parametrize(("path", "attempts"), [("/missing", 1), ("/list", 1), ("/text", 1), ("/big", 1)])
async def test_answers_that_are_not_a_json_object_yield_nothing(cmdb: FakeCmdb, client: httpx.AsyncClient,
                                                                path: str, attempts: int) -> None:
    assert await Lookups(client).fetch([request(cmdb.url(path))]) == {}
    assert cmdb.count(path) == attempts


async def test_a_refused_connection_fails_fast(client: httpx.AsyncClient) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()
    assert await Lookups(client).fetch([request(f"http://127.0.0.1:{port}/hosts/db-1", timeout=2.0)]) == {}
    assert time.monotonic() - started < 1.0


async def test_concurrent_fetches_share_one_request(cmdb: FakeCmdb, client: httpx.AsyncClient) -> None:
    lookups, url = Lookups(client), cmdb.url("/a-bit-slow")
    first, second = await asyncio.gather(lookups.fetch([request(url)]), lookups.fetch([request(url), request(url)]))
    assert first == second == {"cmdb": {url: FLAT}}
    assert cmdb.count("/a-bit-slow") == 1


async def test_a_failure_is_logged_without_the_query_string(cmdb: FakeCmdb, client: httpx.AsyncClient,
                                                            caplog: pytest.LogCaptureFixture) -> None:
    url = cmdb.url("/down?api_key=s3cret-key").replace("http://", "http://user:pa55@")
    with caplog.at_level(logging.WARNING, logger="bot.services.lookup"):
        assert await Lookups(client).fetch([request(url)]) == {}
    (record,) = [record for record in caplog.records if record.name == "bot.services.lookup"]
    message = record.getMessage()
    assert "/down" in message and "HTTP 503" in message
    assert "s3cret" not in message and "pa55" not in message and "user" not in message


def test_flatten_and_safe_url() -> None:
    deep: dict[str, object] = {"leaf": 1}
    for _ in range(20):
        deep = {"d": deep}
    flat = flatten({"deep": deep})
    ((name, value),) = flat.items()
    assert name == "deep" + ".d" * 15 and value.startswith('{"d":')
    assert safe_url("https://u:p@cmdb:8443/api/hosts/x?key=k#f") == "https://cmdb:8443/api/hosts/x"
    assert safe_url("http://[::1") == "<unreadable URL>"
