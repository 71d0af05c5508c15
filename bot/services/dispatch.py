"""The outbox dispatcher: claims due notifications, renders the card as it is now, sends, records.

A row is leased before sending and marked after, so a crash in between repeats at most the
in-flight message once the lease runs out. Updates of one incident pending together are sent once.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.robots.config import RobotTarget
from adapters.robots.render import dingtalk_message
from adapters.robots.send import DingTalkRobotSender
from adapters.slack.send import SlackSender
from bot.db.database import Database
from bot.db.tables import CardMessage, Incident, OutboxMessage
from bot.directory import Directory
from bot.services.records import add_timeline, incident_view
from cards.build import LINK_SILENCE_PRESET, incident_card, silence_offered
from cards.i18n import Translator
from cards.model import Card
from core.links import issue_link, silence_action
from core.model import IncidentStatus, IncidentView
from core.ports import Destination, MessageRef, PermanentSendError, RetryableSendError, SendError

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
CLAIM_BATCH = 20


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    incident_id: int | None
    destination: dict[str, Any]
    attempts: int
    payload: dict[str, Any] | None = None


class Dispatcher:
    """Sends outbox rows through the platform senders it was built with."""

    def __init__(self, db: Database, slack: SlackSender | None, robot: DingTalkRobotSender, link_key: bytes,
                 on_sent: Any = None) -> None:
        self._db = db
        self._slack = slack
        self._robot = robot
        self._link_key = link_key
        self._on_sent = on_sent or (lambda platform, ok: None)

    async def run_once(self, directory: Directory, now: datetime) -> int:
        """Claim and deliver what is due; returns how many rows were handled."""
        claimed = await self._claim(now)
        for row in claimed:
            await self._deliver(directory, row, now)
        return len(claimed)

    async def _claim(self, now: datetime) -> list[Claimed]:
        async with self._db.transaction() as session:
            query = (select(OutboxMessage).where(OutboxMessage.status == "pending",
                                                 OutboxMessage.next_attempt_at <= now)
                     .order_by(OutboxMessage.id).limit(CLAIM_BATCH))
            if not self._db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            rows = (await session.scalars(query)).all()
            claimed, updating = [], set()
            for row in rows:
                if row.kind == "update" and row.incident_id in updating:
                    row.status, row.sent_at = "coalesced", now  # an earlier update in this batch covers it
                    continue
                if row.kind == "update":
                    updating.add(row.incident_id)
                row.attempts += 1
                row.next_attempt_at = now + LEASE
                claimed.append(Claimed(row.id, row.kind, row.incident_id, dict(row.destination), row.attempts,
                                       dict(row.payload) if row.payload else None))
            return claimed

    async def _deliver(self, directory: Directory, row: Claimed, now: datetime) -> None:
        try:
            if row.kind == "post":
                await self._post(directory, row, now)
            elif row.kind == "message":
                await self._message(directory, row, now)
            else:
                await self._update(directory, row, now)
        except SendError as error:
            await self._failed(row, error, now)
            self._on_sent(row.destination.get("platform", "update"), False)
        except Exception as error:  # noqa: BLE001 - a bug must cost retries, not the whole outbox
            log.exception("notification %s could not be delivered", row.id)
            await self._failed(row, RetryableSendError(f"internal error: {type(error).__name__}"), now)
            self._on_sent(row.destination.get("platform", "update"), False)
        else:
            self._on_sent(row.destination.get("platform", "update"), True)

    async def _post(self, directory: Directory, row: Claimed, now: datetime) -> None:
        destination = Destination(**row.destination)
        card = await self._card(directory, row.incident_id, destination, now)
        if destination.kind == "dm" and card.status is not IncidentStatus.TRIGGERED:
            # someone took the incident between the escalation step and this send: do not wake anyone
            async with self._db.transaction() as session:
                add_timeline(session, row.incident_id, "not_sent", now, to=destination.label,
                             reason=f"incident {card.status.value} before delivery")
                await _mark(session, row.id, "skipped", now)
            return
        if destination.platform == "slack":
            if self._slack is None:
                raise PermanentSendError("slack is not configured (platforms.slack)")
            ref = await self._slack.send(destination, card)
        else:
            await self._robot.post(_robot_target(directory, destination.address), self._robot_message(card))
            ref = MessageRef(destination.platform, destination.address, card.status.value)
        async with self._db.transaction() as session:
            session.add(CardMessage(incident_id=row.incident_id, platform=ref.platform, channel=ref.channel,
                                    message_id=ref.message_id, created_at=now))
            add_timeline(session, row.incident_id, "notified", now, platform=destination.platform,
                         channel_kind=destination.kind, to=destination.label)
            await _mark(session, row.id, "sent", now)

    async def _message(self, directory: Directory, row: Claimed, now: datetime) -> None:
        """A plain text message (shift reminders): no card, no incident, nothing to update later."""
        destination = Destination(**row.destination)
        text = str((row.payload or {}).get("text", ""))
        if destination.platform == "slack":
            if self._slack is None:
                raise PermanentSendError("slack is not configured (platforms.slack)")
            await self._slack.send_text(destination, text)
        else:
            title = text.splitlines()[0] if text else "Dutybot"
            await self._robot.post(_robot_target(directory, destination.address),
                                   {"msgtype": "markdown", "markdown": {"title": title[:100], "text": text}})
        async with self._db.transaction() as session:
            await _mark(session, row.id, "sent", now)

    async def _update(self, directory: Directory, row: Claimed, now: datetime) -> None:
        async with self._db.transaction() as session:
            handles = (await session.scalars(select(CardMessage).where(CardMessage.incident_id == row.incident_id)
                                             .order_by(CardMessage.id))).all()
        for handle in handles:
            destination = Destination(handle.platform, "robot" if handle.platform != "slack" else "channel",
                                      handle.channel)
            card = await self._card(directory, row.incident_id, destination, now)
            if handle.platform == "slack" and self._slack is not None:
                await self._slack.update(MessageRef(handle.platform, handle.channel, handle.message_id), card)
            elif handle.platform == "dingtalk-robot" and handle.message_id != card.status.value:
                # robots cannot edit what they posted: post the new state once per change
                await self._robot.post(_robot_target(directory, handle.channel), self._robot_message(card))
                async with self._db.transaction() as session:
                    stored = await session.get(CardMessage, handle.id)
                    if stored is not None:
                        stored.message_id = card.status.value
        async with self._db.transaction() as session:
            await _mark(session, row.id, "sent", now)

    async def _card(self, directory: Directory, incident_id: int, destination: Destination, now: datetime) -> Card:
        channel = directory.channels.get(destination.label or destination.address)
        translator = Translator((channel.locale if channel else None) or directory.locale)
        async with self._db.transaction() as session:
            incident = await session.get(Incident, incident_id)
            assert incident is not None, "outbox rows reference their incident"
            view = await incident_view(session, incident, directory)
        links = None
        if destination.platform != "slack":
            links = {action: self._link(directory, action, incident_id, destination, now)
                     for action in _link_actions(view)}
        return incident_card(view, translator, directory.timezone, links=links)

    def _link(self, directory: Directory, action: str, incident_id: int, destination: Destination,
              now: datetime) -> str:
        """An absolute one-click URL under the public URL, naming one action on one incident."""
        token = issue_link(self._link_key, action, incident_id, now, channel=destination.address)
        return f"{directory.public_url}/a/{token}"

    def _robot_message(self, card: Card) -> dict[str, Any]:
        return dingtalk_message(card, title=card.fallback)

    async def _failed(self, row: Claimed, error: SendError, now: datetime) -> None:
        permanent = isinstance(error, PermanentSendError) or row.attempts >= MAX_ATTEMPTS
        log.warning("notification %s failed (attempt %s): %s", row.id, row.attempts, error)
        async with self._db.transaction() as session:
            message = await session.get(OutboxMessage, row.id)
            if message is None:
                return
            message.last_error = str(error)[:500]
            if permanent:
                message.status = "failed"
                if row.incident_id is None:
                    return
                add_timeline(session, row.incident_id, "notify_failed", now, error=str(error)[:500],
                             to=row.destination.get("label") or "card update",
                             platform=row.destination.get("platform"))
            else:
                message.next_attempt_at = now + timedelta(seconds=retry_delay(row.attempts, error))


def retry_delay(attempts: int, error: SendError) -> float:
    """Exponential back-off with jitter, never sooner than the platform's Retry-After."""
    backoff = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
    jittered = backoff * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not a secret
    retry_after = error.retry_after if isinstance(error, RetryableSendError) and error.retry_after else 0.0
    return max(jittered, retry_after)


def _link_actions(view: IncidentView) -> tuple[str, ...]:
    silence = (silence_action(LINK_SILENCE_PRESET),) if silence_offered(view) else ()
    if view.status is IncidentStatus.TRIGGERED:
        return ("ack", "resolve", *silence)
    if view.status is IncidentStatus.ACKNOWLEDGED:
        return ("resolve", *silence)
    return ()


def _robot_target(directory: Directory, channel_id: str) -> RobotTarget:
    channel = directory.channels.get(channel_id)
    webhook = channel.read_secret("webhook") if channel else None
    if channel is None or not webhook:
        raise PermanentSendError(f"robot channel {channel_id} is not configured")
    return RobotTarget(platform=channel.platform, webhook=webhook, secret=channel.read_secret("secret"))


async def _mark(session: AsyncSession, row_id: int, status: str, now: datetime) -> None:
    message = await session.get(OutboxMessage, row_id)
    if message is not None:
        message.status, message.sent_at = status, now
