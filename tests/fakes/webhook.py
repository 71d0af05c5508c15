"""A local receiver of Dutybot's outbound webhooks: checks each delivery's signature the way docs/webhooks.md
tells a receiver to (its own HMAC, not Dutybot's code), keeps what it accepted, and can be told to fail."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.fakes._server import ThreadedServer


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: dict[str, Any]
    status: int  # what the receiver answered


class FakeWebhookReceiver(ThreadedServer):
    def __init__(self, secret: str, path: str = "/hooks/dutybot") -> None:
        super().__init__()
        self.secret = secret
        self.path = path
        self._deliveries: list[Delivery] = []
        self._answers: list[tuple[int, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"{self.base_url}{self.path}"

    def answer_next(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        headers = {"Retry-After": retry_after} if retry_after else {}
        with self._cond:
            self._answers.extend([(status, headers)] * times)

    @property
    def deliveries(self) -> list[Delivery]:
        """Every request received, in order, with the answer given."""
        with self._cond:
            return list(self._deliveries)

    @property
    def accepted(self) -> list[dict[str, Any]]:
        """Bodies of the deliveries answered 2xx, in order."""
        return [delivery.body for delivery in self.deliveries if delivery.status < 300]

    def _setup_routes(self, app: web.Application) -> None:
        app.router.add_post(self.path, self._receive)

    async def _receive(self, request: web.Request) -> web.Response:
        raw = await request.read()
        timestamp = request.headers.get("X-Dutybot-Timestamp", "")
        expected = "v1=" + hmac.new(self.secret.encode(), timestamp.encode() + b"." + raw, hashlib.sha256).hexdigest()
        signed = hmac.compare_digest(expected, request.headers.get("X-Dutybot-Signature", ""))
        fresh = timestamp.isdigit()  # Dutybot runs on a fake clock in tests: how old it is is not checked here
        with self._cond:
            if not (signed and fresh) or request.content_type != "application/json":
                status, headers = 401, {}
            elif self._answers:
                status, headers = self._answers.pop(0)
            else:
                status, headers = 204, {}
            received = {name.lower(): value for name, value in request.headers.items()}
            self._deliveries.append(Delivery(received, json.loads(raw) if raw else {}, status))
            self._notify()
        return web.Response(status=status, headers=headers)
