"""`POST /hooks/{source}/{integration_key}`: alert ingest. 2xx only after the alerts are committed."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError

from bot.bootstrap import Container
from bot.config import IntegrationConfig
from bot.pipeline import acknowledgement_targets, admit
from bot.services.ingest import Submission, ingest_group
from core.sources import (
    Parser,
    PayloadError,
    alertmanager,
    generic,
    grafana,
    nightingale,
    pagerduty,
    robots,
    uptime_kuma,
    zabbix,
)

MAX_BODY_BYTES = 5 * 1024 * 1024
STORE_RETRY_SECONDS = 5
log = logging.getLogger(__name__)
PARSERS: dict[str, Parser] = {
    "alertmanager": alertmanager.parse,
    "grafana": grafana.parse,
    "nightingale": nightingale.parse,
    "uptime-kuma": uptime_kuma.parse,
    "zabbix": zabbix.parse,
    "pagerduty": pagerduty.parse,
    "generic": generic.parse,
    "feishu-robot": robots.parse_feishu,
    "dingtalk-robot": robots.parse_dingtalk,
    "wecom-robot": robots.parse_wecom,
}


def error(status: int, message: str, **extra: Any) -> JSONResponse:
    """The JSON error answer; with `retry_after` also the Retry-After header senders read."""
    response = JSONResponse({"error": message, **extra}, status_code=status)
    if "retry_after" in extra:
        response.headers["Retry-After"] = str(extra["retry_after"])
    return response


def hooks_router(container: Container) -> APIRouter:
    router = APIRouter()

    @router.post("/hooks/{source}/{integration_key}", include_in_schema=True, tags=["ingest"])
    async def receive(source: str, integration_key: str, request: Request) -> JSONResponse:
        """Accept a monitoring tool's webhook for one integration of a service."""
        parser = PARSERS.get(source)
        if parser is None:
            return error(404, f"unknown source {source!r}; supported: {', '.join(sorted(PARSERS))}")
        directory = await container.directory()  # the applied config, re-read every couple of seconds
        found = directory.integration(integration_key)
        if found is None or found[1].kind != source:
            return error(401, "unknown integration key for this source")
        service, integration_config = found
        refused = await _over_limit(container, integration_config)
        if refused is not None:
            return refused
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
        except (ValueError, UnicodeDecodeError, RecursionError) as problem:
            if isinstance(problem, PayloadError):
                return error(400, problem.message, path=problem.path)
            if isinstance(problem, RecursionError):
                return error(400, "body nests too deeply")
            return error(400, f"body is not valid JSON: {problem}")
        started = time.perf_counter()
        now = container.clock()
        passages = await admit(container.db, directory, service, integration_config, parsed.events, now,
                               container.lookups)
        acknowledged = acknowledgement_targets(directory, service, integration_config, parsed.acknowledged)
        submission = Submission(passages, now, acknowledged, source)
        try:
            if container.ingest_queue is not None:
                result = await container.ingest_queue.submit(directory, submission)
            else:
                result = (await ingest_group(container.db, directory, [submission]))[0]
        except (SQLAlchemyError, OSError) as problem:  # the database is down or refused: the sender must retry
            log.warning("storing %s alerts failed (%s); answered 503 so the sender retries", source,
                        type(problem).__name__)
            return error(503, "the alerts could not be stored; nothing was kept, send them again",
                         retry_after=STORE_RETRY_SECONDS)
        for passage in passages:
            if passage.dropped_by is not None:
                container.metrics.alerts_dropped.labels(passage.dropped_by).inc()
        container.metrics.ingest_seconds.observe(time.perf_counter() - started)
        container.metrics.alerts_received.labels(source).inc(result.alerts)
        container.metrics.incidents_created.inc(len(result.created))
        container.worker.wake()
        if parsed.reply is not None:
            return JSONResponse(parsed.reply, status_code=parsed.status)
        return JSONResponse({"alerts": result.alerts, "dropped": result.dropped, "muted": result.muted,
                             "incidents_created": result.created,
                             "incidents_resolved": result.resolved,
                             "incidents_acknowledged": result.acknowledged}, status_code=parsed.status)

    return router


async def _over_limit(container: Container, integration: IntegrationConfig) -> JSONResponse | None:
    """429 with Retry-After when the integration used up its rate limit (counted per request)."""
    wait = await container.rate_wait(integration)
    if wait is None or integration.rate_limit == "off":
        return None
    limit = integration.rate_limit
    container.metrics.ingest_throttled.inc()
    return error(429, f"rate limit of this integration reached ({limit.per_second}/s, {limit.per_minute}/min); "
                      f"retry after {wait} s", retry_after=wait)
