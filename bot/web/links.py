"""`GET /a/{token}` shows a confirm page and changes nothing; `POST /a/{token}` acts, once."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import IntegrityError

from bot.bootstrap import Container
from bot.db.tables import Incident, UsedLink
from bot.services.incidents import act
from bot.services.records import incident_view
from bot.web.html import templates
from cards.i18n import Translator
from core.links import ExpiredLink, InvalidLink, LinkClaim, read_link
from core.model import Action


def page(t: Translator, status: int, heading: str, lines: list[str], action_label: str | None = None,
         note: str | None = None) -> HTMLResponse:
    html = templates.get_template("page.html").render(lang=t.locale, heading=heading, lines=lines,
                                                       action_label=action_label, note=note)
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


class _Gone(Exception):
    def __init__(self, status: int, heading: str, body: str) -> None:
        self.status, self.heading, self.body = status, heading, body


def links_router(container: Container) -> APIRouter:
    router = APIRouter()

    async def claim_of(token: str, t: Translator) -> LinkClaim:
        try:
            claim = read_link(container.link_key, token, container.clock())
        except ExpiredLink:
            raise _Gone(410, t("link.gone.title"), t("link.gone.expired")) from None
        except InvalidLink:
            raise _Gone(401, t("link.invalid.title"), t("link.invalid.body")) from None
        if claim.action not in ("ack", "resolve"):
            raise _Gone(401, t("link.invalid.title"), t("link.invalid.body"))
        async with container.db.transaction() as session:
            if await session.get(UsedLink, claim.jti) is not None:
                raise _Gone(410, t("link.gone.title"), t("link.gone.used"))
        return claim

    @router.get("/a/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def confirm(token: str) -> HTMLResponse:
        directory = await container.directory()
        t = Translator(directory.locale)
        try:
            claim = await claim_of(token, t)
        except _Gone as gone:
            return page(t, gone.status, gone.heading, [gone.body])
        async with container.db.transaction() as session:
            incident = await session.get(Incident, claim.incident_id)
            if incident is None:
                return page(t, 404, t("link.invalid.title"), [t("chat.incident_missing", number=claim.incident_id)])
            view = await incident_view(session, incident, directory)
        action = t(f"action.{claim.action}")
        return page(t, 200, t("link.confirm.title"),
                    [t("link.confirm.question", action=action, number=view.number, title=view.title),
                     t("link.confirm.status", status=t(f"status.{view.status.value}"))],
                    action_label=t("link.confirm.button", action=action), note=t("link.confirm.note"))

    @router.post("/a/{token}", response_class=HTMLResponse, include_in_schema=False)
    async def perform(token: str) -> HTMLResponse:
        directory = await container.directory()
        t = Translator(directory.locale)
        try:
            claim = await claim_of(token, t)
            async with container.db.transaction() as session:
                session.add(UsedLink(jti=claim.jti, used_at=container.clock()))
                await session.flush()  # a second POST of the same link fails here
                actor = f"link:{claim.channel or 'robot'}"  # shown as "one-click link (channel)"
                result = await act(session, claim.incident_id, Action(claim.action), actor, container.clock(),
                                   via="link")
        except _Gone as gone:
            return page(t, gone.status, gone.heading, [gone.body])
        except IntegrityError:
            return page(t, 410, t("link.gone.title"), [t("link.gone.used")])
        if not result.found:
            return page(t, 404, t("link.invalid.title"), [t("chat.incident_missing", number=claim.incident_id)])
        container.worker.wake()
        status = t(f"status.{result.status.value}") if result.status else ""
        key = "link.done.body" if result.changed else "link.unchanged.body"
        return page(t, 200, t("link.done.title"), [t(key, number=claim.incident_id, status=status)])

    return router
