"""Liveness, readiness (database reachable, migrations at head) and Prometheus metrics."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from bot import migrate
from bot.bootstrap import Container


def health_router(container: Container) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get("/readyz")
    async def readyz() -> JSONResponse:
        try:
            async with container.db.transaction() as session:
                await session.execute(text("SELECT 1"))
            current = await asyncio.to_thread(migrate.current_revision, container.settings.database_url)
        except Exception as error:  # noqa: BLE001 - any failure means "not ready", said plainly
            return JSONResponse({"status": "unavailable", "database": type(error).__name__}, status_code=503)
        head = migrate.head_revision()
        if current != head:
            return JSONResponse({"status": "unavailable", "migrations": {"current": current, "head": head}},
                                status_code=503)
        return JSONResponse({"status": "ok", "migrations": {"current": current, "head": head}})

    @router.get("/metrics")
    async def metrics() -> Response:
        return Response(generate_latest(container.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return router
