"""The inbound handler behind every chat adapter: who clicked, may they act, and what to say back."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from bot.db.database import Database
from bot.db.tables import Incident
from bot.directory import Directory
from bot.services import chat_incidents
from bot.services.chat_overrides import create_from_chat, override_form, parse_command
from bot.services.incident_changes import ChangeRefused, edit, escalate_now
from bot.services.incidents import act
from bot.services.records import enqueue_update
from bot.services.silences import SilenceRefused, silence_incident
from cards.build import (
    EDIT_ACTION,
    ESCALATE_ACTION,
    MERGE_ACTION,
    PEOPLE_ADD,
    PEOPLE_REASSIGN,
    SILENCE_ACTION,
    SNOOZE_ACTION,
    labels_line,
    local_time,
    silence_duration,
)
from cards.i18n import Translator
from core.incident import SNOOZE_PRESETS, snooze_length
from core.model import Action, Severity
from core.ports import ActionReply, InboundAction, InboundCommand, InboundOverride
from core.schedule import next_change, on_call
from core.stages.mute import QUICK_PRESETS

log = logging.getLogger(__name__)


class ChatInbound:
    """Implements core.ports.InboundHandler over the database."""

    def __init__(self, db: Database, directory: Callable[[], Awaitable[Directory]], clock: Callable[[], datetime],
                 on_change: Callable[[], None], forget: Callable[[], None] = lambda: None,
                 page_url: Callable[[Directory, str], str] | None = None) -> None:
        self._db = db
        self._page_url = page_url  # a signed link to a schedule's calendar page, handed out with /oncall
        self._forget = forget  # drop the cached directory after a schedule change
        self._directory = directory
        self._now = clock
        self._on_change = on_change

    async def on_action(self, action: InboundAction) -> ActionReply:
        try:
            return await self._on_action(action)
        except Exception:  # noqa: BLE001 - the person gets an answer, never a platform error page
            log.exception("chat action %s on incident %s failed", action.action, action.incident_id)
            t = Translator((await self._directory()).locale)
            return ActionReply(text=t("chat.failed"), ok=False)

    async def _on_action(self, action: InboundAction) -> ActionReply:
        directory = await self._directory()
        t = Translator(directory.locale)
        user = directory.user_by_im(action.platform, action.account)
        if user is None:
            return ActionReply(text=t("chat.not_bound", platform=action.platform, account=action.account), ok=False)
        if action.action in (PEOPLE_REASSIGN, PEOPLE_ADD):  # the people picker; its answer comes as a command
            if action.action == PEOPLE_REASSIGN:
                form = {"title": t("modal.reassign.title"), "label": t("modal.reassign.label"),
                        "submit": t("modal.reassign.submit")}
            else:
                form = {"title": t("modal.responders.title"), "label": t("modal.responders.label"),
                        "submit": t("modal.responders.submit")}
            return ActionReply(form={**form, "cancel": t("modal.comment.cancel")})
        if action.action == EDIT_ACTION:
            return await self._edit(action, user.id, t)
        if action.action == MERGE_ACTION:  # the form; its answer comes as `/incident merge <this> into <that>`
            return ActionReply(form={"title": t("modal.merge.title"), "label": t("modal.merge.label",
                                                                                 number=action.incident_id),
                                     "hint": t("modal.merge.hint", number=action.incident_id),
                                     "submit": t("modal.merge.submit"), "cancel": t("modal.comment.cancel")})
        if action.action == "comment" and action.text is None:
            return ActionReply(form={"title": t("modal.comment.title"), "label": t("modal.comment.label"),
                                     "submit": t("modal.comment.submit"), "cancel": t("modal.comment.cancel")})
        if action.action == SILENCE_ACTION:
            return await self._silence(action, user.id, directory, t)
        if action.action == ESCALATE_ACTION:
            return await self._escalate(action, user.id, t)
        snooze_for = None
        if action.action == SNOOZE_ACTION:
            if action.option not in SNOOZE_PRESETS:
                return ActionReply(text=t("chat.snooze.bad_preset", preset=action.option or "",
                                          presets=", ".join(SNOOZE_PRESETS)), ok=False)
            snooze_for = snooze_length(action.option)
        now = self._now()
        async with self._db.transaction() as session:
            result = await act(session, action.incident_id, Action(action.action), user.id, now,
                               comment=action.text, via=action.platform, snooze_for=snooze_for)
        if not result.found:
            return ActionReply(text=t("chat.incident_missing", number=action.incident_id), ok=False)
        self._on_change()
        if action.action == "comment":
            return ActionReply(text=t("chat.comment_added", number=action.incident_id))
        if snooze_for is not None and result.changed:
            until = local_time(now + snooze_for, directory.timezone)
            return ActionReply(text=t("chat.snoozed", number=action.incident_id, until=until))
        if not result.changed and result.status is not None:
            return ActionReply(text=t("chat.unchanged", number=action.incident_id,
                                      status=t(f"status.{result.status.value}")))
        return ActionReply()

    async def _edit(self, action: InboundAction, user_id: str, t: Translator) -> ActionReply:
        """Edit… on a card: the form filled in with the incident as it is now, or, once submitted, the change
        (only what differs is written, and it stays: later alerts do not overwrite it)."""
        if action.text is None:
            async with self._db.transaction() as session:
                incident = await session.get(Incident, action.incident_id)
                if incident is None:
                    return ActionReply(text=t("chat.incident_missing", number=action.incident_id), ok=False)
                now_as = {"value_title": incident.title, "value_severity": incident.severity,
                          "value_description": incident.description or ""}
            form = {"title": t("modal.edit.title"), "title_label": t("modal.edit.title_label"),
                    "severity_label": t("modal.edit.severity_label"),
                    "description_label": t("modal.edit.description_label"),
                    "description_note": t("modal.edit.description_too_long"),
                    "submit": t("modal.edit.submit"), "cancel": t("modal.comment.cancel"), **now_as}
            return ActionReply(form=form, choices=tuple((severity.value, t(f"severity.{severity.value}"))
                                                        for severity in Severity))
        severity = Severity(action.option) if action.option in {item.value for item in Severity} else None
        try:
            async with self._db.transaction() as session:
                changed = await edit(session, action.incident_id, user_id, self._now(), title=action.text,
                                     severity=severity, description=dict(action.fields).get("description"),
                                     via=action.platform)
        except ChangeRefused as refused:
            return ActionReply(text=t(f"change.{refused.reason}", **refused.values), ok=False)
        if changed:
            self._on_change()
        return ActionReply(text=t("incident_cmd.edited" if changed else "incident_cmd.edit_unchanged",
                                  number=action.incident_id))

    async def _escalate(self, action: InboundAction, user_id: str, t: Translator) -> ActionReply:
        """Page the chosen level of the incident's own policy now, as the person who chose it."""
        level = int(action.option) if action.option and action.option.isdecimal() else 0
        try:
            async with self._db.transaction() as session:
                paged = await escalate_now(session, action.incident_id, user_id, self._now(), level,
                                           via=action.platform)
        except ChangeRefused as refused:
            return ActionReply(text=t(f"change.{refused.reason}", **refused.values), ok=False)
        self._on_change()
        return ActionReply(text=t("incident_cmd.escalated", number=action.incident_id, level=paged))

    async def _silence(self, action: InboundAction, user_id: str, directory: Directory,
                       t: Translator) -> ActionReply:
        """Quick-silence the incident's labels for the chosen preset, as the person who chose it."""
        preset = action.option or ""
        if preset not in QUICK_PRESETS:
            return ActionReply(text=t("chat.silence.bad_preset", preset=preset, presets=", ".join(QUICK_PRESETS)),
                               ok=False)
        now = self._now()
        try:
            async with self._db.transaction() as session:
                row = await silence_incident(session, action.incident_id, preset, user_id, now, via=action.platform)
                if row is None:
                    return ActionReply(text=t("chat.incident_missing", number=action.incident_id), ok=False)
                until, service_id, labels = row.ends_at, row.service_id, dict(row.labels)
                enqueue_update(session, action.incident_id, now)  # every copy of the card shows its menu afresh
        except SilenceRefused:  # the preset is known, so the incident has no labels
            return ActionReply(text=t("chat.silence.no_labels", number=action.incident_id), ok=False)
        self._forget()  # this process applies the silence at once; the others within seconds
        self._on_change()
        service = directory.services.get(service_id)
        return ActionReply(text=t("chat.silenced", duration=silence_duration(preset, t),
                                  until=local_time(until, directory.timezone),
                                  service=(service.name or service.id) if service else service_id,
                                  labels=labels_line(labels), number=action.incident_id))

    async def on_command(self, command: InboundCommand) -> ActionReply:
        """`/oncall`: who is on call now (for the schedules linked to this channel, or all);
        `/oncall override …` covers a shift, and `/oncall override` alone opens the form."""
        directory = await self._directory()
        t = Translator(directory.locale)
        if command.command == "incident":
            return await self._incident_command(command, directory, t)
        try:
            if command.text.split()[:1] == ["override"]:
                if command.text.strip() == "override":
                    return override_form(directory, t)
                parsed = parse_command(directory, command, t)
                if isinstance(parsed, str):
                    return ActionReply(text=parsed, ok=False)
                return await self.on_override(parsed)
            text = oncall_text(directory, command.platform, command.channel, self._now(), self._page_url)
            return ActionReply(text=text,
                               buttons=(("override", t("override.button")),))
        except Exception:  # noqa: BLE001 - answer the command even when a schedule is broken
            log.exception("/%s failed", command.command)
            return ActionReply(text=t("chat.failed"), ok=False)

    async def _incident_command(self, command: InboundCommand, directory: Directory, t: Translator) -> ActionReply:
        """`/incident …`: an action or change on an incident (bot/services/chat_incidents.py)."""
        try:
            reply = await chat_incidents.run(self._db, directory, command, self._now())
        except Exception:  # noqa: BLE001 - answer the command even when something broke
            log.exception("/%s failed", command.command)
            return ActionReply(text=t("chat.failed"), ok=False)
        if reply.ok:
            self._on_change()
        return reply

    async def on_override(self, request: InboundOverride) -> ActionReply:
        directory = await self._directory()
        t = Translator(directory.locale)
        reply = await create_from_chat(self._db, directory, request, self._now(), t)
        if reply.ok:
            self._forget()
            self._on_change()
        return reply


def oncall_text(directory: Directory, platform: str, chat_id: str, now: datetime,
                page_url: Callable[[Directory, str], str] | None = None) -> str:
    t = Translator(directory.locale)
    schedules = directory.schedules_linked_to(platform, chat_id) or list(directory.schedules.values())
    if not schedules:
        return t("oncall.no_schedules")
    lines = [t("oncall.header", at=local_time(now, directory.timezone))]
    for spec in schedules:
        schedule = directory.schedule(spec.id)
        lines.append(t("oncall.line", schedule=spec.name,
                       users=_names(directory, platform, on_call(schedule, now).users, t)))
        upcoming = next_change(schedule, now)
        if upcoming is not None:
            lines.append(t("oncall.next", at=local_time(upcoming.start, schedule.timezone),
                           users=_names(directory, platform, upcoming.users, t)))
        if page_url is not None:
            lines.append(t("oncall.calendar", url=page_url(directory, spec.id)))
    return "\n".join(lines)


def _names(directory: Directory, platform: str, people: tuple[str, ...], t: Translator) -> str:
    return ", ".join(_mention(directory, platform, person) for person in people) or t("oncall.nobody")


def _mention(directory: Directory, platform: str, user_id: str) -> str:
    user = directory.users.get(user_id)
    if user is None:
        return user_id
    account = getattr(user.im, platform, None)
    return f"{user.name} (<@{account}>)" if platform == "slack" and account else user.name
