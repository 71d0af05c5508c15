"""URLs that carry their own credential: calendar feeds and the schedule pages the bot hands out in chat.

One place builds them and one checks them, so a feed and a page are opened the same way: by a token signed for
exactly that subject (`core.feeds`), or by any of the config's API tokens.
"""

from __future__ import annotations

from urllib.parse import quote

from bot.bootstrap import Container
from bot.directory import Directory
from bot.web.api import token_user
from core.feeds import InvalidFeedToken, issue_feed_token, page_subject, read_feed_token, schedule_subject, user_subject


async def token_opens(container: Container, token: str | None, subject: str) -> bool:
    """A token signed for `subject`, or any known API token."""
    if not token:
        return False
    try:
        read_feed_token(container.link_key, token, subject)
        return True
    except InvalidFeedToken:
        return await token_user(container, token) is not None


def signed_url(container: Container, directory: Directory, path: str, subject: str) -> str:
    """`<public_url><path>?token=<a token for subject>`."""
    return f"{directory.public_url}{quote(path)}?token={issue_feed_token(container.link_key, subject)}"


def schedule_feed_path(schedule_id: str) -> str:
    return f"/calendar/{schedule_id}.ics"


def user_feed_path(user_id: str) -> str:
    return f"/calendar/users/{user_id}.ics"


def schedule_page_path(schedule_id: str) -> str:
    return f"/schedules/{schedule_id}"


def user_page_path(user_id: str) -> str:
    return f"/people/{user_id}"


def schedule_feed_url(container: Container, directory: Directory, schedule_id: str) -> str:
    """The subscription URL of a schedule's iCalendar feed."""
    return signed_url(container, directory, schedule_feed_path(schedule_id), schedule_subject(schedule_id))


def user_feed_url(container: Container, directory: Directory, user_id: str) -> str:
    """The subscription URL of one person's iCalendar feed."""
    return signed_url(container, directory, user_feed_path(user_id), user_subject(user_id))


def schedule_page_url(container: Container, directory: Directory, schedule_id: str) -> str:
    """The link to a schedule's calendar page."""
    subject = page_subject(schedule_subject(schedule_id))
    return signed_url(container, directory, schedule_page_path(schedule_id), subject)


def user_page_url(container: Container, directory: Directory, user_id: str) -> str:
    """The link to one person's schedule page."""
    return signed_url(container, directory, user_page_path(user_id), page_subject(user_subject(user_id)))
