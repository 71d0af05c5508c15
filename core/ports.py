"""The ports the domain talks through; `bot/` and `adapters/` implement them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol


class InvalidSignature(Exception):
    """An inbound callback whose signature, token or timestamp does not check out (answered 401)."""


class SendError(Exception):
    """A message could not be delivered; the message never contains a secret."""


class RetryableSendError(SendError):
    """Try again later: rate limited, platform 5xx, network failure."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(SendError):
    """Retrying cannot help: bad configuration, unknown channel, rejected payload."""


@dataclass(frozen=True)
class RawRequest:
    """An inbound HTTP request as the web layer hands it to an adapter (no framework types)."""

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RawResponse:
    status: int
    body: bytes = b""
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Destination:
    """Where a card goes: `kind` is dm (a person), channel (a group chat) or robot (a webhook)."""

    platform: str
    kind: str
    address: str  # platform user id, chat id, or the config channel id for robots
    label: str = ""  # the Dutybot user or channel id, for the timeline


@dataclass(frozen=True)
class MessageRef:
    """The handle a platform gave a posted card, kept to update it in place."""

    platform: str
    channel: str
    message_id: str


class ChatSender(Protocol):
    """Sends and updates neutral cards on one platform."""

    platform: str

    async def send(self, destination: Destination, card: Any) -> MessageRef | None:
        """Post a card; return its handle when the platform can update it later."""

    async def update(self, ref: MessageRef, card: Any) -> None:
        """Replace a posted card in place."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current aware time."""


class Deduper(Protocol):
    """Remembers keys of callbacks already handled, so platform redeliveries act once."""

    async def first_seen(self, key: str, ttl: timedelta) -> bool:
        """True the first time `key` is offered within `ttl`, False after."""


@dataclass(frozen=True)
class InboundAction:
    """A person clicked a card button or submitted a form on a chat platform."""

    platform: str
    account: str  # the platform's user id (Slack U…), bound to a Dutybot user in the config
    action: str  # ack | resolve | comment | silence
    incident_id: int
    text: str | None = None  # the comment, once the form was submitted
    channel: str | None = None
    option: str | None = None  # what was chosen from a card menu: the preset of a silence (30m, 1h, …)
    fields: tuple[tuple[str, str], ...] = ()  # more values of a submitted form: (("description", "…"),)


@dataclass(frozen=True)
class ActionReply:
    """What the adapter shows the person: a private text, or the comment form with its texts."""

    text: str | None = None
    form: Mapping[str, str] | None = None  # the form's texts: title, label(s), submit, cancel
    ok: bool = True  # False: nothing changed (unbound person, unknown incident)
    choices: tuple[tuple[str, str], ...] = ()  # (value, label) options a form offers, e.g. schedules
    buttons: tuple[tuple[str, str], ...] = ()  # (command text, label): buttons that run a command, e.g. "override"


@dataclass(frozen=True)
class InboundCommand:
    platform: str
    account: str
    command: str  # oncall
    text: str
    channel: str


@dataclass(frozen=True)
class InboundOverride:
    """A person asked, in chat, that someone cover a schedule between two times."""

    platform: str
    account: str  # who asks
    schedule_id: str | None
    user_account: str  # who covers: their platform account id
    start: datetime
    end: datetime


class InboundHandler(Protocol):
    """What adapters call with neutral inbound events; bot/ implements it over the database."""

    async def on_action(self, action: InboundAction) -> ActionReply:
        """Act on a click or form submission and say what to show the person."""

    async def on_command(self, command: InboundCommand) -> ActionReply:
        """Answer a chat command with text, or with a form to open."""

    async def on_override(self, request: InboundOverride) -> ActionReply:
        """Store an override asked for in chat and tell the people it concerns."""
