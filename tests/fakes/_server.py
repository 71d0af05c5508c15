"""Shared plumbing for the fake platform servers (platforms.md §0.4).

Each fake is an aiohttp application served on 127.0.0.1 (random port) from a
daemon thread that owns its own event loop, so that sync SDK clients and async
clients running in the test's loop can both reach it without deadlocking.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from aiohttp import web

_S = TypeVar("_S", bound="ThreadedServer")
_T = TypeVar("_T")


class ThreadedServer:
    """Base class: subclasses add routes in :meth:`_setup_routes` and guard state with ``self._cond``."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._port = 0

    def _setup_routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def start(self: _S) -> _S:
        """Start serving in a background thread; return once the port is bound."""
        if self._thread is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._serve, args=(ready, failure), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        if not ready.wait(10) or failure:
            self.stop()
            raise RuntimeError(f"{type(self).__name__} failed to start") from (
                failure[0] if failure else None
            )
        return self

    def stop(self) -> None:
        """Stop the server and join its thread (idempotent)."""
        if self._thread is None:
            return
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(loop.stop)
        self._thread.join(10)
        self._thread = None

    def __enter__(self: _S) -> _S:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound TCP port (0 before :meth:`start`)."""
        return self._port

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self._port}"

    def _serve(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        app = web.Application()
        self._setup_routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        try:
            loop.run_until_complete(runner.setup())
            loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
            self._port = runner.addresses[0][1]
        except BaseException as exc:  # surfaced by start()
            failure.append(exc)
            ready.set()
            loop.close()
            return
        ready.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(runner.cleanup())
            loop.close()

    def _wait(self, snapshot: Callable[[], list[_T]], count: int, timeout: float, what: str) -> list[_T]:
        """Block until ``snapshot()`` (evaluated under the lock) has ``count`` items."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(snapshot()) >= count, timeout):
                raise TimeoutError(f"got {len(snapshot())}/{count} {what} after {timeout}s")
            return snapshot()

    async def _async_wait(
        self, snapshot: Callable[[], list[_T]], count: int, timeout: float, what: str
    ) -> list[_T]:
        """Poll ``snapshot()`` with ``asyncio.sleep`` so the caller's loop keeps running."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                found = snapshot()
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise TimeoutError(f"got {len(found)}/{count} {what} after {timeout}s")
            await asyncio.sleep(0.01)

    def _notify(self) -> None:
        """Wake threads blocked in :meth:`_wait` (caller holds ``self._cond``)."""
        self._cond.notify_all()
