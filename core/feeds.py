"""Signed tokens for calendar feeds (`/calendar/{schedule}.ics?token=`, `/calendar/users/{user}.ics?token=`)
and for the web pages the bot links to in chat (`/schedules/{schedule}?token=`, `/people/{user}?token=`).

A calendar app cannot send headers and a chat link cannot either, so the URL carries its credential. The token
is an HMAC-SHA256 over a subject (`schedule:sre`, `user:alice` for feeds; `page:schedule:sre`, `page:user:alice`
for pages): it opens that one feed or page and nothing else, and it has no expiry because a subscription or a
bookmark has to keep working. Rotating the link key revokes every token at once.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

VERSION = "f1"  # a prefix so the format can change without old tokens reading as something else
_DOMAIN = b"dutybot-feed\x00"  # keeps these MACs apart from the one-click links' MACs under the same key


class InvalidFeedToken(ValueError):
    """The token was not signed by us for this feed (tampered, truncated, made up, or for another feed)."""


def schedule_subject(schedule_id: str) -> str:
    """The subject a schedule's feed token is bound to."""
    return f"schedule:{schedule_id}"


def user_subject(user_id: str) -> str:
    """The subject a person's feed token is bound to."""
    return f"user:{user_id}"


def page_subject(subject: str) -> str:
    """The subject of the web page showing what `subject`'s feed shows: a token for the page is not one for
    the feed (a feed URL lives on in calendar apps and the services behind them), nor the other way round."""
    return f"page:{subject}"


def issue_feed_token(key: bytes, subject: str) -> str:
    """A URL-safe token that opens the feed of `subject`; the same key and subject always give the same token."""
    return f"{VERSION}.{_b64(_mac(key, subject))}"


def read_feed_token(key: bytes, token: str, subject: str) -> None:
    """Return if `token` opens the feed of `subject`; raise InvalidFeedToken otherwise."""
    version, _, signature = token.partition(".")
    try:
        given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except ValueError:
        raise InvalidFeedToken("malformed feed token") from None
    # the signature must be exactly the canonical encoding: no padding, no stray characters ignored by the decoder
    if version != VERSION or _b64(given) != signature or not hmac.compare_digest(given, _mac(key, subject)):
        raise InvalidFeedToken("bad feed token")


def _mac(key: bytes, subject: str) -> bytes:
    return hmac.new(key, _DOMAIN + subject.encode(), hashlib.sha256).digest()[:20]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
