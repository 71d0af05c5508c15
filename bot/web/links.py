"""`GET /a/{token}` shows a confirm page and changes nothing; `POST /a/{token}` acts, once.

The action is ack, resolve, or `silence:<preset>`: a quick silence of the incident's labels (bot/services/silences.py).
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import IntegrityError

from bot.bootstrap import Container
from bot.db.tables import Incident, UsedLink
from bot.services.incidents import act
from bot.services.records import incident_view
from bot.services.silences import SilenceRefused, silence_incident
from bot.web.html import templates
from cards.build import labels_line, local_time, silence_duration
from cards.i18n import Translator
from core.links import ExpiredLink, InvalidLink, LinkClaim, read_link, silence_preset
from core.model import Action, IncidentView
from core.stages.mute import QUICK_PRESETS


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
        if claim.action not in ("ack", "resolve") and silence_preset(claim.action) not in QUICK_PRESETS:
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
        preset = silence_preset(claim.action)
        if preset is not None:
            return silence_confirm(t, view, preset)
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
            preset = silence_preset(claim.action)
            if preset is not None:
                return await silence(claim, preset, t, directory.timezone)
            async with container.db.transaction() as session:
                session.add(UsedLink(jti=claim.jti, used_at=container.clock()))
                await session.flush()  # a second POST of the same link fails here
                result = await act(session, claim.incident_id, Action(claim.action), _actor(claim), container.clock(),
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

    async def silence(claim: LinkClaim, preset: str, t: Translator, timezone: str) -> HTMLResponse:
        """Quick-silence the incident's labels; the link is used up only when the silence is made."""
        now = container.clock()
        try:
            async with container.db.transaction() as session:
                session.add(UsedLink(jti=claim.jti, used_at=now))
                await session.flush()  # a second POST of the same link fails here (IntegrityError)
                row = await silence_incident(session, claim.incident_id, preset, _actor(claim), now, via="link")
                if row is None:
                    raise _Gone(404, t("link.invalid.title"), t("chat.incident_missing", number=claim.incident_id))
                until = row.ends_at
        except SilenceRefused:  # the preset was checked with the token, so the incident has no labels
            return page(t, 409, t("link.silence.refused.title"),
                        [t("chat.silence.no_labels", number=claim.incident_id)])
        container.forget_directory()  # this process applies it at once; the others within seconds
        return page(t, 200, t("link.done.title"),
                    [t("link.silence.done", number=claim.incident_id, until=local_time(until, timezone))])

    return router


def silence_confirm(t: Translator, view: IncidentView, preset: str) -> HTMLResponse:
    """What a silence link would hold, and for how long, before anything is done."""
    if not view.labels:
        return page(t, 409, t("link.silence.refused.title"), [t("chat.silence.no_labels", number=view.number)])
    duration = silence_duration(preset, t)
    return page(t, 200, t("link.confirm.title"),
                [t("link.silence.question", number=view.number, title=view.title, duration=duration),
                 t("link.silence.scope", service=view.service_name, labels=labels_line(view.labels),
                   duration=duration),
                 t("link.confirm.status", status=t(f"status.{view.status.value}"))],
                action_label=t("link.silence.button", duration=duration), note=t("link.confirm.note"))


def _actor(claim: LinkClaim) -> str:
    return f"link:{claim.channel or 'robot'}"  # shown as "one-click link (channel)"
