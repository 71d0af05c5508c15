"""`POST /slack/events`: verify the signature first (401 on failure or replay), then hand to Bolt."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from adapters.slack.config import SIGNATURE_WINDOW_SECONDS
from adapters.slack.inbound import dispatch
from adapters.slack.verify import verify
from bot.bootstrap import Container
from core.ports import InvalidSignature, RawRequest

REPLAY_TTL = timedelta(seconds=2 * SIGNATURE_WINDOW_SECONDS)


def slack_router(container: Container) -> APIRouter:
    router = APIRouter()

    @router.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        if container.slack_app is None or container.slack_signing_secret is None:
            return JSONResponse({"error": "slack is not configured"}, status_code=404)
        raw = RawRequest(method="POST", path="/slack/events", headers=dict(request.headers),
                         body=await request.body(), query=dict(request.query_params))
        try:
            signature = verify(container.slack_signing_secret, raw, container.clock().timestamp())
        except InvalidSignature:
            return JSONResponse({"error": "invalid signature"}, status_code=401)
        replay_key = "slack:" + hashlib.sha256(signature.encode()).hexdigest()
        if not await container.deduper.first_seen(replay_key, REPLAY_TTL):
            return JSONResponse({"error": "replayed request"}, status_code=401)
        answer = await dispatch(container.slack_app, raw)
        return Response(content=answer.body, status_code=answer.status, headers=dict(answer.headers))

    return router
