"""`/incident …` from chat: every incident action and change by command, as the person who typed it
(core/incident_commands.py reads the words; docs/incidents.md lists them). Answers are private to that person."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.db.database import Database
from bot.directory import Directory
from bot.services import incident_changes as changes
from bot.services.incident_changes import ChangeRefused, Reassignment
from bot.services.incidents import act
from cards.build import local_time
from cards.i18n import Translator
from core.incident import snooze_length
from core.incident_commands import Command, parse
from core.model import Action
from core.ports import ActionReply, InboundCommand

MENTION = re.compile(r"^<@([A-Za-z0-9_.-]+)(?:\|[^>]*)?>$")
LIFECYCLE = {"ack": Action.ACKNOWLEDGE, "unack": Action.UNACKNOWLEDGE, "snooze": Action.SNOOZE, "wake": Action.WAKE,
             "resolve": Action.RESOLVE, "reopen": Action.REOPEN, "comment": Action.COMMENT}


class _Unknown(Exception):
    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


async def run(db: Database, directory: Directory, inbound: InboundCommand, now: datetime) -> ActionReply:
    """Do what the command asks, or say in the person's catalog language why nothing was changed."""
    t = Translator(directory.locale)
    user = directory.user_by_im(inbound.platform, inbound.account)
    if user is None:
        return ActionReply(text=t("chat.not_bound", platform=inbound.platform, account=inbound.account), ok=False)
    command = parse(inbound.text)
    if command is None:
        return ActionReply(text=t("incident_cmd.usage"), ok=False)
    try:
        people = tuple(_person(directory, inbound.platform, token) for token in command.people)
    except _Unknown as unknown:
        return ActionReply(text=t("change.unknown_user", user=unknown.token), ok=False)
    try:
        if command.verb in LIFECYCLE:
            return await _lifecycle(db, command, user.id, inbound.platform, now, t, directory.timezone)
        async with db.transaction() as session:
            return await _change(session, directory, command, people, user.id, inbound.platform, now, t)
    except ChangeRefused as refused:
        return ActionReply(text=t(f"change.{refused.reason}", **refused.values), ok=False)


def _person(directory: Directory, platform: str, token: str) -> str:
    """A Dutybot user id from a mention (`<@U123|bob>`), an `@name`, a user id or a chat account."""
    mention = MENTION.match(token)
    written = mention.group(1) if mention else token.removeprefix("@")
    if written in directory.users:
        return written
    found = directory.user_by_im(platform, written)
    if found is None:
        raise _Unknown(token)
    return found.id


async def _lifecycle(db: Database, command: Command, user_id: str, via: str, now: datetime, t: Translator,
                     timezone: str) -> ActionReply:
    assert command.number is not None
    snooze_for = None
    if command.verb == "snooze":
        try:
            snooze_for = snooze_length(command.duration or "")
        except ValueError:
            return ActionReply(text=t("incident_cmd.bad_duration", duration=command.duration or ""), ok=False)
    details = {"resolution": command.text} if command.verb == "resolve" and command.text else None
    async with db.transaction() as session:
        result = await act(session, command.number, LIFECYCLE[command.verb], user_id, now,
                           comment=command.text if command.verb == "comment" else None, via=via,
                           snooze_for=snooze_for, details=details)
    if not result.found:
        return ActionReply(text=t("chat.incident_missing", number=command.number), ok=False)
    if command.verb == "comment":
        return ActionReply(text=t("chat.comment_added", number=command.number))
    assert result.status is not None
    if not result.changed:
        return ActionReply(text=t("chat.unchanged", number=command.number, status=t(f"status.{result.status.value}")))
    if snooze_for is not None:
        return ActionReply(text=t("chat.snoozed", number=command.number, until=local_time(now + snooze_for, timezone)))
    return ActionReply(text=t("incident_cmd.done", number=command.number, status=t(f"status.{result.status.value}")))


async def _change(session: AsyncSession, directory: Directory, command: Command, people: tuple[str, ...], user_id: str,
                  via: str, now: datetime, t: Translator) -> ActionReply:
    number = command.number
    if command.verb == "new":
        assert command.service is not None and command.severity is not None
        created = await changes.create(session, directory, command.service, command.text,
                                       command.severity, None, user_id, now, via=via)
        return ActionReply(text=t("incident_cmd.created", number=created))
    assert number is not None
    if command.verb == "escalate":
        level = await changes.escalate_now(session, number, user_id, now, command.level, via)
        return ActionReply(text=t("incident_cmd.escalated", number=number, level=level))
    if command.verb == "reassign":
        to = Reassignment(users=people, team=command.team, schedule=command.schedule, role=command.role)
        await changes.reassign(session, directory, number, user_id, now, to, via)
        return ActionReply(text=t("incident_cmd.reassigned", number=number))
    if command.verb == "add":
        unreachable = await changes.add_responders(session, directory, number, user_id, now,
                                                   people, via)
        text = t("incident_cmd.added", number=number, names=_names(directory, people))
        if unreachable:
            text += "\n" + t("incident_cmd.unreachable", names=_names(directory, unreachable))
        return ActionReply(text=text)
    if command.verb == "merge":
        moved = await changes.merge(session, number, command.sources, user_id, now, via)
        return ActionReply(text=t("incident_cmd.merged", number=number, alerts=moved))
    changed = await changes.edit(session, number, user_id, now, via=via,
                                 title=command.text if command.verb == "title" else None,
                                 severity=command.severity if command.verb == "severity" else None)
    return ActionReply(text=t("incident_cmd.edited" if changed else "incident_cmd.edit_unchanged", number=number))


def _names(directory: Directory, user_ids: tuple[str, ...] | list[str]) -> str:
    return ", ".join(directory.display_name(user_id) for user_id in user_ids)
