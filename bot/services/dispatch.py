"""The outbox dispatcher: claims due notifications, renders the card as it is now, sends, records.

A row is leased before sending and marked after, so a crash in between repeats at most the
in-flight message once the lease runs out. Updates of one incident pending together are sent once.

Every send first asks the destination's rate limit (`core.delivery.LIMITS`, counted in this process or in
Redis for several): a destination over its limit makes the row wait, without counting an attempt. When the
oldest card waiting for a group chat or robot has waited `DIGEST_WAIT` and more are queued behind it, they all
go as one digest message instead (each incident's timeline says so), so a storm reaches the channel at once
and the robot is never blocked for going over.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from adapters.email.send import EmailSender
from adapters.robots.config import ROBOT_PLATFORMS, RobotTarget
from adapters.robots.render import robot_message, robot_text
from adapters.robots.send import RobotSender
from adapters.slack.send import SlackSender
from bot.coordination import MemoryRollingLimiter, RateLimiter
from bot.db.bulk import insert_pending
from bot.db.database import Database
from bot.db.tables import CardMessage, Incident, OutboxMessage, TimelineEntry, WorkerProcess
from bot.directory import Directory
from bot.services.records import add_timeline, incident_view
from bot.services.webhooks import WebhookSender, incident_json, subscribed
from cards.build import LINK_SILENCE_PRESET, incident_card, silence_offered
from cards.email import EmailText, email_text
from cards.i18n import Translator
from cards.model import Card
from core.delivery import fold_digest, limit_for, limit_key
from core.incident import stops_escalation
from core.links import issue_link, silence_action
from core.model import IncidentStatus, IncidentView
from core.ports import Destination, MessageRef, PermanentSendError, RetryableSendError, SendError

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=60)
# PostgreSQL, several workers: each says it is alive every HEARTBEAT; the leases of one silent for STALE_AFTER
# (killed, its host gone) are taken back by the others instead of waiting out LEASE. A live worker is never
# silent that long: the heartbeat runs beside the sends, and a send is cut off at its client timeout anyway.
HEARTBEAT = timedelta(seconds=3)
STALE_AFTER = timedelta(seconds=15)
DIGEST_WAIT = timedelta(seconds=10)  # a card that waited this long for its channel's limit starts a digest
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 2.0
BACKOFF_CAP_SECONDS = 300.0
CLAIM_BATCH = 20
DIGEST_MAX_ROWS = 1000  # rows folded into one digest at most; the rest go in the next one


@dataclass(frozen=True)
class Claimed:
    id: int
    kind: str
    incident_id: int | None
    destination: dict[str, Any]
    attempts: int
    payload: dict[str, Any] | None = None
    destination_key: str | None = None  # posts: their destination's rate-limit key


class Dispatcher:
    """Sends outbox rows through the platform senders it was built with."""

    def __init__(self, db: Database, slack: SlackSender | None, robot: RobotSender, link_key: bytes,
                 on_sent: Any = None, limiter: RateLimiter | None = None,
                 webhooks: WebhookSender | None = None, email: EmailSender | None = None) -> None:
        self._db = db
        self._webhooks = webhooks
        self._email = email
        self._limiter: RateLimiter = limiter or MemoryRollingLimiter()
        self._digested: set[int] = set()
        self.identity = uuid.uuid4().hex
        self._blocked: dict[str, datetime] = {}
        self._slack = slack
        self._robot = robot
        self._link_key = link_key
        self._on_sent = on_sent or (lambda platform, ok: None)

    async def recover(self, now: datetime) -> int:
        """Take back at once the rows a dispatcher that is gone leased and never finished, instead of letting
        their pages wait out the lease. SQLite has one dispatcher, this one: every lease not its own is an
        earlier, killed process's. On PostgreSQL a lease is taken back when its holder has not written its
        heartbeat for STALE_AFTER (or never did). The page that was being sent when the holder died may go
        twice: the outbox's at-most-once-more bound."""
        held = (OutboxMessage.status == "pending", OutboxMessage.leased_by.is_not(None),
                OutboxMessage.leased_by != self.identity)
        async with self._db.transaction() as session:
            if not self._db.is_sqlite:
                alive = select(WorkerProcess.identity).where(WorkerProcess.seen_at >= now - STALE_AFTER)
                held = (*held, OutboxMessage.leased_by.not_in(alive))
            result = await session.execute(update(OutboxMessage).where(*held)
                                           .values(next_attempt_at=now, leased_by=None))
            if not self._db.is_sqlite:
                await session.execute(delete(WorkerProcess).where(WorkerProcess.seen_at < now - STALE_AFTER))
        return int(getattr(result, "rowcount", 0) or 0)

    async def beat(self, now: datetime) -> None:
        """Say that this dispatcher is alive (the first beat registers it with its host and pid)."""
        async with self._db.transaction() as session:
            me = await session.get(WorkerProcess, self.identity)
            if me is None:
                session.add(WorkerProcess(identity=self.identity, host=socket.gethostname()[:255], pid=os.getpid(),
                                          started_at=now, seen_at=now))
            else:
                me.seen_at = now

    async def retire(self) -> None:
        """Stopping cleanly: no heartbeat is expected any more."""
        async with self._db.transaction() as session:
            await session.execute(delete(WorkerProcess).where(WorkerProcess.identity == self.identity))

    async def run_once(self, directory: Directory, now: datetime) -> int:
        """Claim and deliver what is due; returns how many rows were handled."""
        if not directory.webhooks:  # incident events with nobody to tell: done in one statement, not one each
            async with self._db.transaction() as session:
                await session.execute(update(OutboxMessage).where(OutboxMessage.kind == "event",
                                                                  OutboxMessage.status == "pending")
                                      .values(status="sent", sent_at=now))
        claimed = await self._claim(now)
        self._digested = set()
        self._blocked = {}  # destinations found full in this pass: until when
        held: list[tuple[int, datetime]] = []
        for row in claimed:
            if row.id in self._digested:  # already sent as a line of a digest in this pass
                continue
            if row.destination_key in self._blocked:  # full: back in the queue without asking again
                held.append((row.id, self._blocked[row.destination_key]))
                continue
            await self._deliver(directory, row, now)
        if held:
            async with self._db.transaction() as session:
                for row_id, until in held:
                    await session.execute(update(OutboxMessage).where(
                        OutboxMessage.id == row_id, OutboxMessage.status == "pending").values(
                        attempts=OutboxMessage.attempts - 1, next_attempt_at=until, leased_by=None))
        return len(claimed)

    async def _claim(self, now: datetime) -> list[Claimed]:
        async with self._db.transaction() as session:
            # pages first: a card waking someone must not wait behind a storm's card refreshes and events
            first = case((OutboxMessage.kind == "post", 0), (OutboxMessage.kind == "message", 1), else_=2)
            query = (select(OutboxMessage).where(OutboxMessage.status == "pending",
                                                 OutboxMessage.next_attempt_at <= now)
                     .order_by(first, OutboxMessage.id).limit(CLAIM_BATCH))
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
                row.next_attempt_at, row.leased_by = now + LEASE, self.identity
                claimed.append(Claimed(row.id, row.kind, row.incident_id, dict(row.destination), row.attempts,
                                       dict(row.payload) if row.payload else None, row.destination_key))
            return claimed

    async def _deliver(self, directory: Directory, row: Claimed, now: datetime) -> None:
        try:
            if row.kind == "post":
                await self._post(directory, row, now)
            elif row.kind == "message":
                await self._message(directory, row, now)
            elif row.kind == "event":
                await self._fan_out(directory, row, now)
            elif row.kind == "webhook":
                await self._webhook(directory, row, now)
            else:
                await self._update(directory, row, now)
        except _Wait as wait:
            await self._wait(row, wait.seconds, now)
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
        responder = bool(row.payload and row.payload.get("responder"))
        if destination.kind == "dm" and card.status is not IncidentStatus.TRIGGERED and not responder:
            async with self._db.transaction() as session:
                if row.incident_id not in await _still_paging(session, {row.incident_id}):
                    # someone took the incident between the escalation step and this send: do not wake anyone
                    add_timeline(session, row.incident_id, "not_sent", now, to=destination.label,
                                 reason=f"incident {card.status.value} before delivery")
                    await _mark(session, row.id, "skipped", now)
                    return
        await self._admit(destination, now)
        if await self._digest(directory, row, destination, now):
            return
        if destination.platform == "email":  # a mail cannot be updated later: no card handle is kept
            await self._email_sender().send(destination.address, email_text(card), f"dutybot.{row.id}")
            async with self._db.transaction() as session:
                add_timeline(session, row.incident_id, "notified", now, platform="email", channel_kind="dm",
                             to=destination.label)
                await _mark(session, row.id, "sent", now)
            return
        if destination.platform == "slack":
            if self._slack is None:
                raise PermanentSendError("slack is not configured (platforms.slack)")
            ref = await self._slack.send(destination, card)
        else:
            await self._robot.post(_robot_target(directory, destination.address),
                                   robot_message(destination.platform, card))
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
        await self._admit(destination, now)
        await self._send_text(directory, destination, text)
        async with self._db.transaction() as session:
            await _mark(session, row.id, "sent", now)

    def _email_sender(self) -> EmailSender:
        if self._email is None:
            raise PermanentSendError("email is not configured (platforms.email)")
        return self._email

    async def _send_text(self, directory: Directory, destination: Destination, text: str) -> None:
        if destination.platform == "email":
            first = text.splitlines()[0] if text else "Dutybot"
            await self._email_sender().send(destination.address, EmailText(subject=" ".join(first.split())[:200],
                                                                           body=text + "\n"),
                                            f"dutybot.text.{hashlib.sha256(text.encode()).hexdigest()[:16]}")
            return
        if destination.platform == "slack":
            if self._slack is None:
                raise PermanentSendError("slack is not configured (platforms.slack)")
            await self._slack.send_text(destination, text)
        else:
            robot = _robot_target(directory, destination.address)
            await self._robot.post(robot, robot_text(destination.platform, text))

    async def _fan_out(self, directory: Directory, row: Claimed, now: datetime) -> None:
        """An incident event: one `webhook` row per webhook subscribed to it now, carrying the incident as it
        is now (close to when the event happened); none configured, nothing more is written."""
        event = dict(row.payload or {})
        async with self._db.transaction() as session:
            incident = await session.get(Incident, row.incident_id) if row.incident_id is not None else None
            hooks = [hook for hook in directory.webhooks.values()
                     if incident is not None and subscribed(hook, str(event.get("event")), incident.service_id)]
            if hooks and incident is not None:
                view = await incident_view(session, incident, directory)
                delivery = {**event, "incident": incident_json(view, incident.acknowledged_by)}
                for hook in hooks:
                    session.add(OutboxMessage(
                        incident_id=row.incident_id, kind="webhook", payload=delivery, status="pending",
                        destination={"platform": "webhook", "kind": "webhook", "address": hook.id, "label": hook.id},
                        attempts=0, created_at=now, next_attempt_at=now))
            await _mark(session, row.id, "sent", now)

    async def _webhook(self, directory: Directory, row: Claimed, now: datetime) -> None:
        hook = directory.webhooks.get(str(row.destination.get("address")))
        if hook is None or self._webhooks is None:  # removed from the config since: nobody to tell
            async with self._db.transaction() as session:
                await _mark(session, row.id, "skipped", now)
            return
        await self._webhooks.post(hook, dict(row.payload or {}), int(now.timestamp()))
        async with self._db.transaction() as session:
            await _mark(session, row.id, "sent", now)

    async def _update(self, directory: Directory, row: Claimed, now: datetime) -> None:
        async with self._db.transaction() as session:
            handles = (await session.scalars(select(CardMessage).where(CardMessage.incident_id == row.incident_id)
                                             .order_by(CardMessage.id))).all()
        waits: list[float] = []
        for handle in handles:
            destination = Destination(handle.platform, "robot" if handle.platform != "slack" else "channel",
                                      handle.channel)
            card = await self._card(directory, row.incident_id, destination, now)
            if handle.platform == "slack" and self._slack is not None:
                await self._slack.update(MessageRef(handle.platform, handle.channel, handle.message_id), card)
            elif handle.platform in ROBOT_PLATFORMS and handle.message_id != card.status.value:
                # robots cannot edit what they posted: post the new state once per change, within the limit
                try:
                    await self._admit(destination, now)
                except _Wait as wait:
                    waits.append(wait.seconds)  # the other cards are updated now; this one when there is room
                    continue
                await self._robot.post(_robot_target(directory, handle.channel), robot_message(handle.platform, card))
                async with self._db.transaction() as session:
                    stored = await session.get(CardMessage, handle.id)
                    if stored is not None:
                        stored.message_id = card.status.value
        if waits:
            raise _Wait(max(waits))
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

    async def _admit(self, destination: Destination, now: datetime) -> None:
        """Count one send against the destination's limit, or raise `_Wait` with the seconds until there is room."""
        wait = await self._limiter.admit(limit_key(destination), limit_for(destination), now.timestamp())
        if wait is not None:
            raise _Wait(float(wait))

    async def _wait(self, row: Claimed, seconds: float, now: datetime) -> None:
        """Back in the queue until the destination has room; a wait for a rate limit is not a failed attempt.

        Every other due post to the same destination waits with it (one statement), so a storm's backlog is not
        claimed and put back again every second, ahead of pages to other people."""
        until = now + timedelta(seconds=seconds)
        async with self._db.transaction() as session:
            message = await session.get(OutboxMessage, row.id)
            if message is not None and message.status == "pending":
                message.attempts = max(0, message.attempts - 1)
                message.next_attempt_at, message.leased_by = until, None
            if row.destination_key is not None:
                self._blocked[row.destination_key] = until
                await session.execute(update(OutboxMessage).where(
                    OutboxMessage.destination_key == row.destination_key, OutboxMessage.status == "pending",
                    OutboxMessage.kind == "post", OutboxMessage.next_attempt_at <= now,
                    OutboxMessage.id != row.id).values(next_attempt_at=until))

    async def _digest(self, directory: Directory, row: Claimed, destination: Destination, now: datetime) -> bool:
        """When this card waited `DIGEST_WAIT` for its channel and more are queued behind it: send one digest
        naming them all, mark them sent as part of it, and return True. Otherwise False (send the card)."""
        async with self._db.transaction() as session:
            message = await session.get(OutboxMessage, row.id)
            if message is None or message.destination_key is None or now - message.created_at < DIGEST_WAIT:
                return False
            query = (select(OutboxMessage).where(OutboxMessage.destination_key == message.destination_key,
                                                 OutboxMessage.status == "pending", OutboxMessage.kind == "post",
                                                 OutboxMessage.id != row.id)
                     .order_by(OutboxMessage.id).limit(DIGEST_MAX_ROWS))
            if not self._db.is_sqlite:
                query = query.with_for_update(skip_locked=True)
            behind = list((await session.scalars(query)).all())
            if destination.kind == "dm":  # as for one DM: never wake anyone for an incident somebody holds
                behind = await _drop_held(session, behind, destination, now)
            incident_ids = [row.incident_id, *(other.incident_id for other in behind)]
            listed, more = fold_digest([i for i in incident_ids if i is not None])
            if not listed:
                return False
            for other in behind:  # leased like a claim: a crash before the digest is marked repeats them once
                other.next_attempt_at, other.leased_by = now + LEASE, self.identity
            folded = [other.id for other in behind]
            views = [await incident_view(session, incident, directory)
                     for incident_id in listed if (incident := await session.get(Incident, incident_id)) is not None]
        channel = directory.channels.get(destination.label or destination.address)
        translator = Translator((channel.locale if channel else None) or directory.locale)
        await self._send_text(directory, destination, digest_text(views, more, translator))
        async with self._db.transaction() as session:  # one statement per table: a storm's digest folds hundreds
            await session.execute(update(OutboxMessage).where(OutboxMessage.id.in_((row.id, *folded)))
                                  .values(status="digested", sent_at=now))
            for incident_id in dict.fromkeys(incident_ids):
                if incident_id is not None:
                    add_timeline(session, incident_id, "notified", now, platform=destination.platform,
                                 channel_kind=destination.kind, to=destination.label, digest=len(listed) + more)
            await insert_pending(session, TimelineEntry, OutboxMessage)
        self._digested.update(folded)
        return True

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
                message.leased_by = None


class _Wait(Exception):
    """The destination is over its rate limit: try again in `seconds`."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"rate limited for {seconds:g}s")
        self.seconds = seconds


def digest_text(views: list[IncidentView], more: int, t: Translator) -> str:
    """One message for many incidents: a line each (number, severity, title, status), then how many more."""
    lines = [t("digest.title", count=len(views) + more)]
    lines += [t("digest.line", number=view.number, severity=t(f"severity.{view.severity.value}"),
                title=view.title[:200], status=t(f"status.{view.status.value}")) for view in views]
    if more:
        lines.append(t("digest.more", count=more))
    lines.append(t("digest.why"))
    return "\n".join(lines)


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


async def _drop_held(session: AsyncSession, rows: list[OutboxMessage], destination: Destination,
                     now: datetime) -> list[OutboxMessage]:
    """Of DM pages waiting behind a digest, the ones whose incident still pages people; the others are skipped."""
    ids = {row.incident_id for row in rows if row.incident_id is not None}
    statuses = dict((await session.execute(select(Incident.id, Incident.status).where(Incident.id.in_(ids)))).all())
    paging = await _still_paging(session, ids)
    kept = []
    for row in rows:
        status = statuses.get(row.incident_id)
        if row.incident_id in paging or (row.payload or {}).get("responder"):
            kept.append(row)
            continue
        row.status, row.sent_at = "skipped", now
        if row.incident_id is not None and status is not None:
            add_timeline(session, row.incident_id, "not_sent", now, to=destination.label,
                         reason=f"incident {status} before delivery")
    return kept


async def _still_paging(session: AsyncSession, ids: set[int | None]) -> set[int]:
    """The incidents among `ids` that still page people: triggered, or acknowledged (not snoozed) under a
    policy that escalates `until: resolved` (core.incident.stops_escalation)."""
    rows = await session.execute(select(Incident.id, Incident.status, Incident.snoozed_until, Incident.policy)
                                 .where(Incident.id.in_({incident_id for incident_id in ids if incident_id})))
    return {incident_id for incident_id, status, snoozed_until, policy in rows
            if not stops_escalation(IncidentStatus(status), (policy or {}).get("until", "acknowledged"),
                                    snoozed=snoozed_until is not None)}


async def _mark(session: AsyncSession, row_id: int, status: str, now: datetime) -> None:
    message = await session.get(OutboxMessage, row_id)
    if message is not None:
        message.status, message.sent_at = status, now
