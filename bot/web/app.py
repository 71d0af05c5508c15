"""The FastAPI application, assembled from the routers over one container."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bot.bootstrap import Container
from bot.web.api import api_router
from bot.web.calendars import calendars_router
from bot.web.health import health_router
from bot.web.hooks import hooks_router
from bot.web.links import links_router
from bot.web.overrides import overrides_router
from bot.web.pages import pages_router
from bot.web.schedules import schedules_router
from bot.web.slack import slack_router

log = logging.getLogger(__name__)


def create_app(container: Container) -> FastAPI:
    app = FastAPI(title="Dutybot", version="0.1.0",
                  description="On-call and incident response in your team chat.")
    for router in (hooks_router, slack_router, links_router, api_router, schedules_router, overrides_router,
                   calendars_router, pages_router, health_router):
        app.include_router(router(container))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        # logged with its type only: exception texts can carry URLs with keys; so can paths (integration keys,
        # link and feed tokens), so only the path's first part is named
        log.error("unhandled %s on %s /%s/…", type(error).__name__, request.method,
                  request.url.path.strip("/").split("/", 1)[0])
        return JSONResponse({"error": "internal error"}, status_code=500)

    app.state.container = container
    return app
