"""`POST /hooks/{source}/{integration_key}`: alert ingest. 2xx only after the alerts are committed."""

from __future__ import annotations

import json
import re
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.bootstrap import Container
from bot.config import INTEGRATION_KEY_PATTERN
from bot.db.tables import Integration
from bot.services.ingest import ingest
from core.sources import Parser, PayloadError, alertmanager

MAX_BODY_BYTES = 5 * 1024 * 1024
PARSERS: dict[str, Parser] = {"alertmanager": alertmanager.parse}


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status)


def hooks_router(container: Container) -> APIRouter:
    router = APIRouter()

    @router.post("/hooks/{source}/{integration_key}", include_in_schema=True, tags=["ingest"])
    async def receive(source: str, integration_key: str, request: Request) -> JSONResponse:
        """Accept a monitoring tool's webhook for one integration of a service."""
        parser = PARSERS.get(source)
        if parser is None:
            return error(404, f"unknown source {source!r}; supported: {', '.join(sorted(PARSERS))}")
        integration = None
        if re.fullmatch(INTEGRATION_KEY_PATTERN, integration_key):  # anything else cannot be a key
            async with container.db.transaction() as session:
                integration = await session.get(Integration, integration_key)
        if integration is None or integration.kind != source:
            return error(401, "unknown integration key for this source")
        content_type = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
        if content_type not in ("application/json", "text/json", ""):
            return error(415, f"expected application/json, got {content_type}")
        if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
            return error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return error(413, f"body larger than {MAX_BODY_BYTES} bytes")
        try:
            parsed = parser(json.loads(body), container.clock())
        except (ValueError, UnicodeDecodeError) as problem:
            if isinstance(problem, PayloadError):
                return error(400, problem.message, path=problem.path)
            return error(400, f"body is not valid JSON: {problem}")
        started = time.perf_counter()
        directory = await container.directory()
        if integration.service_id not in directory.services:
            return error(401, "the integration's service no longer exists")
        result = await ingest(container.db, directory, integration.service_id, list(parsed.events), container.clock())
        container.metrics.ingest_seconds.observe(time.perf_counter() - started)
        container.metrics.alerts_received.labels(source).inc(result.alerts)
        container.metrics.incidents_created.inc(len(result.created))
        container.worker.wake()
        return JSONResponse({"alerts": result.alerts, "incidents_created": result.created,
                             "incidents_resolved": result.resolved}, status_code=202)

    return router
