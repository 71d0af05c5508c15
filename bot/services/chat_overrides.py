"""Overrides asked for in chat: `/oncall override @user FROM TO [schedule]`, or the form it opens.

The override, its audit row and the DMs to the person covering and the people covered for are written in
one transaction; the DMs leave through the outbox.
"""

from __future__ import annotations

import re
from dataclasses import asdict
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.db.database import Database
from bot.db.tables import OutboxMessage
from bot.directory import Directory
from bot.services import destinations as destinations_for
from bot.services import overrides
from cards.build import local_time
from cards.i18n import Translator
from core.ports import ActionReply, InboundCommand, InboundOverride
from core.schedule import on_call

MENTION = re.compile(r"^<@([A-Z0-9]+)(?:\|[^>]*)?>$")


def override_form(directory: Directory, t: Translator) -> ActionReply:
    """The texts and schedule choices of the override form."""
    form = {key: t(f"override.form.{key}") for key in ("title", "schedule", "user", "start", "end", "submit")}
    form["cancel"] = t("modal.comment.cancel")
    choices = tuple((spec.id, spec.name) for spec in directory.schedules.values())
    return ActionReply(form=form, choices=choices)


def parse_command(directory: Directory, command: InboundCommand, t: Translator) -> InboundOverride | str:
    """`override <@U…> 2026-12-01T09:00 2026-12-01T18:00 [schedule]` → a request, or what is wrong with it."""
    words = command.text.split()[1:]
    if len(words) not in (3, 4):
        return t("override.usage")
    who, start_text, end_text = words[:3]
    schedule_id = _schedule(directory, command, words[3] if len(words) == 4 else None)
    if schedule_id is None:
        return t("override.which_schedule", schedules=", ".join(directory.schedules) or "-")
    zone = directory.schedule_zone(schedule_id)
    try:
        start, end = _time(start_text, zone), _time(end_text, zone)
    except ValueError:
        return t("override.bad_time", start=start_text, end=end_text)
    mention = MENTION.match(who)
    account = mention.group(1) if mention else who.lstrip("@")
    return InboundOverride(command.platform, command.account, schedule_id, account, start, end)


async def create_from_chat(db: Database, directory: Directory, request: InboundOverride, now: datetime,
                           t: Translator) -> ActionReply:
    asker = directory.user_by_im(request.platform, request.account)
    if asker is None:
        return ActionReply(text=t("chat.not_bound", platform=request.platform, account=request.account), ok=False)
    cover = directory.user_by_im(request.platform, request.user_account) or directory.users.get(request.user_account)
    if cover is None or request.schedule_id not in directory.schedules:
        return ActionReply(text=t("override.unknown_user", user=request.user_account), ok=False)
    schedule_id = request.schedule_id
    covered = [person for person in on_call(directory.schedule(schedule_id), request.start).users
               if person != cover.id]
    draft = overrides.Draft(start=request.start, end=request.end, user=cover.id)
    try:
        async with db.transaction() as session:
            row = await overrides.create(session, directory, schedule_id, draft, asker.id, now)
            spec = directory.schedules[schedule_id]
            zone_name = spec.timezone or directory.timezone
            window = t("override.window", start=local_time(request.start, zone_name),
                       end=local_time(request.end, zone_name))
            notices = [(cover.id, t("override.notice.cover", schedule=spec.name, window=window,
                                    names=_names(directory, covered, t)))]
            notices += [(person, t("override.notice.covered", schedule=spec.name, window=window, name=cover.name))
                        for person in covered]
            for person, text in notices:
                target = destinations_for.person(directory, person)
                if target is not None:
                    session.add(OutboxMessage(incident_id=None, kind="message", destination=asdict(target),
                                              payload={"text": text}, dedupe_key=f"override:{row.id}:{person}",
                                              status="pending", attempts=0, created_at=now, next_attempt_at=now))
    except (overrides.OverrideRejected, overrides.OverrideForbidden) as problem:
        return ActionReply(text=t("override.rejected", reason=str(problem)), ok=False)
    return ActionReply(text=t("override.created", name=cover.name, schedule=spec.name, window=window))


def _schedule(directory: Directory, command: InboundCommand, named: str | None) -> str | None:
    if named is not None:
        return named if named in directory.schedules else next(
            (spec.id for spec in directory.schedules.values() if spec.name == named), None)
    linked = [spec.id for spec in directory.schedules_linked_to(command.platform, command.channel)]
    candidates = linked or list(directory.schedules)
    return candidates[0] if len(candidates) == 1 else None


def _time(text: str, zone: ZoneInfo) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _names(directory: Directory, people: list[str], t: Translator) -> str:
    return ", ".join(directory.display_name(person) or person for person in people) or t("oncall.nobody")
