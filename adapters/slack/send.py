"""Posting and updating cards with slack-sdk's AsyncWebClient; errors say whether to retry."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientError
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.render import card_blocks
from cards.model import Card
from core.ports import Destination, MessageRef, PermanentSendError, RetryableSendError

RETRYABLE_ERRORS = {"ratelimited", "rate_limited", "service_unavailable", "internal_error", "fatal_error",
                    "request_timeout"}


class SlackSender:
    """ChatSender for Slack: DMs through conversations.open, channels by their C… id."""

    platform = "slack"

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def send(self, destination: Destination, card: Card) -> MessageRef:
        channel = await self._channel(destination)
        posted = await self._call("chat_postMessage", channel=channel, text=card.fallback, blocks=card_blocks(card))
        return MessageRef(platform=self.platform, channel=str(posted["channel"]), message_id=str(posted["ts"]))

    async def send_text(self, destination: Destination, text: str) -> MessageRef:
        """A plain message (reminders); Slack renders its mrkdwn."""
        channel = await self._channel(destination)
        posted = await self._call("chat_postMessage", channel=channel, text=text)
        return MessageRef(platform=self.platform, channel=str(posted["channel"]), message_id=str(posted["ts"]))

    async def _channel(self, destination: Destination) -> str:
        """A DM is posted to the conversation id `conversations.open` gives (kept for chat.update)."""
        if destination.kind != "dm":
            return destination.address
        opened = await self._call("conversations_open", users=destination.address)
        return str(opened["channel"]["id"])

    async def update(self, ref: MessageRef, card: Card) -> None:
        await self._call("chat_update", channel=ref.channel, ts=ref.message_id, text=card.fallback,
                         blocks=card_blocks(card))

    async def _call(self, method: str, **arguments: Any) -> Any:
        try:
            return await getattr(self._client, method)(**arguments)
        except SlackApiError as error:
            raise classify(method, error) from None
        except (ClientError, TimeoutError) as error:
            raise RetryableSendError(f"slack {method}: {type(error).__name__}") from None


def classify(method: str, error: SlackApiError) -> RetryableSendError | PermanentSendError:
    """Slack answers 429 with Retry-After, 5xx when it is down, and ok=false with an error code."""
    response = error.response
    status = response.status_code
    code = response.get("error") if isinstance(response.data, dict) else None
    detail = f"slack {method}: HTTP {status}" + (f", {code}" if code else "")
    if status == 429 or code in RETRYABLE_ERRORS:
        retry_after = response.headers.get("Retry-After") or response.headers.get("retry-after")
        return RetryableSendError(detail, retry_after=float(retry_after) if retry_after else None)
    if status >= 500:
        return RetryableSendError(detail)
    return PermanentSendError(detail)
